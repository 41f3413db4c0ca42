"""Grade a submission: each test's cases are drawn from the seed, run on the
student's package in a subprocess with a time limit, and compared with the
reference's outputs on the same cases.

The expected outputs come from the reference package ``neural_networks`` in
this process, except in a students' starter, whose ``course/expected/`` holds
them for the visible tests of one seed (the starter has no reference).
"""

import importlib
import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .assignments import ASSIGNMENTS

MODULES = ("activations", "layers", "losses", "models")
EXPECTED = Path(__file__).parent / "expected"
TIME_LIMIT = 10  # seconds per test; the reference takes milliseconds
RTOL, ATOL = 1e-5, 1e-6
_names = itertools.count()


def draw_cases(test, seed):
    """The cases of ``test`` for ``seed`` (the same in every process)."""
    return test.cases(np.random.default_rng([seed, zlib.crc32(test.name.encode())]))


def load_package(package_dir, name):
    """Import the package in ``package_dir`` under the module name ``name``;
    return its course modules as attributes of a namespace."""
    spec = importlib.util.spec_from_file_location(
        name, Path(package_dir) / "__init__.py", submodule_search_locations=[str(package_dir)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return SimpleNamespace(**{module: importlib.import_module(f"{name}.{module}") for module in MODULES})


def describe_exception(error, package_dir):
    """``Type: first line (file.py, line N)``, the line being the last one run in
    the student's package."""
    lines = str(error).strip().splitlines()
    text = type(error).__name__ + (f": {lines[0]}" if lines else "")
    root = Path(package_dir).resolve()
    frames = [(frame.filename, frame.lineno) for frame in traceback.extract_tb(error.__traceback__)]
    if isinstance(error, SyntaxError) and error.filename:
        frames.append((error.filename, error.lineno))
    frames = [(name, line) for name, line in frames if root in Path(name).resolve().parents]
    if frames:
        return f"{text} ({Path(frames[-1][0]).name}, line {frames[-1][1]})"
    return f"{text} (raised by the grader reading what the method returned or stored)"


def run_cases(nn, test, seed, package_dir):
    """``(outputs of each case as arrays, None)``, or ``(outputs so far, error text)``
    at the first case that raised."""
    results = []
    for case in draw_cases(test, seed):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                outputs = test.run(nn, case)
                results.append({key: as_array(key, value) for key, value in outputs.items()})
        except Exception as error:  # the student's code may raise anything
            return results, describe_exception(error, package_dir)
    return results, None


def as_array(key, value):
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{key} is {type(value).__name__}, not numbers") from None


def package_of(submission, workdir):
    """The package folder of a submission: ``SUBMISSION/neural_networks``, or
    a package made in ``workdir`` from the ``.py`` files of a flat upload."""
    submission = Path(submission)
    if not submission.is_dir():
        raise FileNotFoundError(f"{submission} is not a folder")
    if (submission / "neural_networks" / "__init__.py").is_file():
        return submission / "neural_networks"
    package = Path(workdir) / "neural_networks"
    package.mkdir()
    for path in submission.glob("*.py"):
        shutil.copy(path, package)
    (package / "__init__.py").touch()
    return package


def run_isolated(assignment, test, seed, package, time_limit):
    """``run_cases`` on the student's package in a subprocess (see worker.py);
    a hang, a crash or output that is not numbers is an error text."""
    out = Path(tempfile.mkdtemp()) / "outputs.npz"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).parent.parent)] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    command = [sys.executable, "-m", "course.worker", assignment.name, test.name if test else "",
               str(seed), str(package), str(out)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=time_limit)
    except subprocess.TimeoutExpired:
        shutil.rmtree(out.parent, ignore_errors=True)
        return [], f"timed out after {time_limit} s (an endless loop?)"
    try:
        with np.load(out, allow_pickle=False) as saved:
            error = str(saved["error"]) if "error" in saved else None
            results = [{} for _ in range(int(saved["cases"]))]
            for key in set(saved.files) - {"cases", "error"}:
                i, name = key.split("/", 1)
                results[int(i)][name] = saved[key]
        return results, error
    except Exception:
        stderr = done.stderr.strip().splitlines()
        return [], f"crashed (exit status {done.returncode}){': ' + stderr[-1] if stderr else ''}"
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def expected_outputs(assignment, test, seed):
    """The reference's outputs of every case, or None for a test this grader has
    no expected values for (a hidden test in a starter)."""
    stored = EXPECTED / f"{assignment.name}.npz"
    if EXPECTED.is_dir() and not stored.exists():
        raise ValueError(f"this grader holds the tests of {', '.join(p.stem for p in EXPECTED.glob('*.npz'))} "
                         f"only; got {assignment.name!r}")
    if not stored.exists():
        reference = SimpleNamespace(**{module: importlib.import_module(f"neural_networks.{module}")
                                       for module in MODULES})
        results, error = run_cases(reference, test, seed, "")
        assert error is None, f"the reference fails {test.name}: {error}"
        return results
    with np.load(stored, allow_pickle=False) as saved:
        if int(saved["seed"]) != seed:
            raise ValueError(f"this grader holds the expected outputs of seed {int(saved['seed'])} only; "
                             f"got --seed {seed}")
        keys = [key for key in saved.files if key.startswith(test.name + "/")]
        if not keys:
            return None
        results = [{} for _ in range(1 + max(int(key.split("/")[1]) for key in keys))]
        for key in keys:
            _, i, name = key.split("/", 2)
            results[int(i)][name] = saved[key]
        return results


def describe_case(case):
    """The settings and input shapes of a case, for a failure message."""
    return ", ".join(f"{key} {value.shape}" if isinstance(value, np.ndarray) else f"{key}={value!r}"
                     for key, value in case.items() if not isinstance(value, list))


def compare(cases, expected, received, error):
    """None when every case matches, else what was wrong in the first that does not."""
    for i, (case, want) in enumerate(zip(cases, expected)):
        where = f"case {i + 1} of {len(cases)} ({describe_case(case)})"
        if i >= len(received):
            return f"{where}: {error or 'no output'}"
        for key, value in want.items():
            got = received[i].get(key)
            if got is None:
                return f"{where}: {key}: missing"
            if got.shape != value.shape:
                return f"{where}: {key}: shape {got.shape}, expected {value.shape}"
            if not np.allclose(got, value, rtol=RTOL, atol=ATOL):
                with np.errstate(invalid="ignore"):
                    worst = np.max(np.abs(got - value)) if got.size else 0.0
                return f"{where}: {key}: largest absolute error {worst:.3g}"
    return None


def grade(assignment_name, submission, seed=0, isolate=True, time_limit=TIME_LIMIT):
    """Grade ``submission`` (a flat upload or a folder holding ``neural_networks/``).

    Returns one dict per test: ``name``, ``max_score``, ``score``, ``hidden``
    and ``output`` (empty when it passed). With ``isolate=False`` the student's
    package runs in this process (the course's own tests use that for speed).
    """
    assignment = ASSIGNMENTS[assignment_name]
    workdir = tempfile.mkdtemp()
    try:
        package = package_of(submission, workdir)
        if isolate:
            _, broken = run_isolated(assignment, None, seed, package, time_limit)
        else:
            try:
                nn, broken = load_package(package, f"submission{next(_names)}"), None
            except Exception as error:
                broken = describe_exception(error, package)
        results = []
        for test in assignment.tests:
            expected = expected_outputs(assignment, test, seed)
            if expected is None:
                continue
            if broken:
                message = f"the upload does not import: {broken}"
            else:
                received, error = (run_isolated(assignment, test, seed, package, time_limit) if isolate
                                   else run_cases(nn, test, seed, package))
                message = compare(draw_cases(test, seed), expected, received, error)
            results.append({"name": test.name, "max_score": test.points, "hidden": test.hidden,
                            "score": 0 if message else test.points, "output": message or ""})
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(results):
    """One row per test and the total, as printed."""
    rows = [f"{r['name']:<46} {r['score']:>2}/{r['max_score']:<2} {'PASS' if not r['output'] else 'FAIL'}"
            + (f"  {r['output']}" if r["output"] else "") for r in results]
    score, total = sum(r["score"] for r in results), sum(r["max_score"] for r in results)
    return "\n".join(rows + [f"Total: {score} / {total}"])


def results_json(results):
    """Gradescope's results.json: hidden tests show once grades are published."""
    tests = [{"name": r["name"], "score": r["score"], "max_score": r["max_score"],
              "status": "failed" if r["output"] else "passed", "output": r["output"] or "passed",
              "visibility": "after_published" if r["hidden"] else "visible"} for r in results]
    return {"score": sum(r["score"] for r in results), "tests": tests}


def write_results(results, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results_json(results), indent=2) + "\n")
