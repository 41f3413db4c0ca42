"""Grade a submission: each test's cases are drawn from the seed, run on the
student's package in a subprocess with a time limit, and compared with the
reference's outputs on the same cases.

The expected outputs come from the reference package ``neural_networks`` in
this process, all computed before any student code runs, except in a
students' starter, whose ``course/expected/`` holds them for the visible
tests of one seed (the starter has no reference).

Each test runs in a worker (worker.py) started in its own session, in a
scratch folder holding only a copy of the upload, with a copy of ``course/``
on its path and not the reference; the worker's process group is killed when
it ends or times out. Run as root (the autograder), workers run as ``nobody``.
"""

import functools
import importlib
import importlib.util
import itertools
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .assignments import ASSIGNMENTS

MODULES = ("activations", "layers", "losses", "models")
EXPECTED = Path(__file__).parent / "expected"
TIME_LIMIT = 4  # seconds per test; the reference takes milliseconds
BUDGET = 40  # seconds for all of a submission's workers, within Gradescope's patience
RTOL = ATOL = 1e-4  # the course compares to 4 decimals
OUTPUT_TAIL = 4096  # bytes of a worker's output kept for a crash's message
FILE_LIMIT = 16 * 2**20  # bytes a worker may write to one file (its output included)
_names = itertools.count()


def draw_cases(test, seed):
    """The cases of ``test`` for ``seed`` (the same in every process)."""
    return test.cases(np.random.default_rng([seed, zlib.crc32(test.name.encode())]))


class UploadError(ImportError):
    """The upload lacks a module, or imports what graded code may not use."""


def load_package(package_dir, name):
    """Import the package in ``package_dir`` under the module name ``name``;
    return its course modules as attributes of a namespace. Its
    ``fast_layers`` is blocked (graded code writes its own kernels), and every
    module must come from ``package_dir`` (not from an installed reference)."""
    sys.modules[f"{name}.fast_layers"] = None
    spec = importlib.util.spec_from_file_location(
        name, Path(package_dir) / "__init__.py", submodule_search_locations=[str(package_dir)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    nn = SimpleNamespace(**{module: importlib.import_module(f"{name}.{module}") for module in MODULES})
    folder = Path(package_dir).resolve()
    for key, module in list(sys.modules.items()):
        if key.startswith(name + ".") and module is not None and Path(module.__file__).resolve().parent != folder:
            raise UploadError(missing(key[len(name) + 1:]))
    return nn


def missing(module):
    if module == "fast_layers":
        return "fast_layers is not available to graded code: write the method with NumPy"
    return f"no {module}.py in the upload"


def describe_exception(error, package_dir):
    """``Type: first line (file.py, line N)``, the line being the last one run in
    the student's package."""
    if isinstance(error, UploadError):
        return str(error)
    root = Path(package_dir).resolve()
    lines = str(error.msg if isinstance(error, SyntaxError) else error).strip().splitlines()
    text = type(error).__name__ + (f": {lines[0]}" if lines else "")
    if isinstance(error, ModuleNotFoundError) and "." in (error.name or ""):
        parent, _, module = error.name.rpartition(".")
        if Path(getattr(sys.modules.get(parent), "__file__", "/")).resolve().parent == root:
            text = missing(module)
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


def package_of(submission):
    """The package folder of a submission: ``SUBMISSION/neural_networks``, or
    ``SUBMISSION`` itself for a flat upload."""
    submission = Path(submission)
    if not submission.is_dir():
        raise FileNotFoundError(f"{submission} is not a folder")
    if (submission / "neural_networks" / "__init__.py").is_file():
        return submission / "neural_networks"
    return submission


def scratch_copy(package, folder):
    """``folder/neural_networks``: the package's ``.py`` files, without
    ``fast_layers.py`` (graded code may not read it either)."""
    copy = Path(folder) / "neural_networks"
    copy.mkdir()
    for path in Path(package).glob("*.py"):
        if path.name != "fast_layers.py":
            shutil.copyfile(path, copy / path.name)  # readable by the worker, whatever the upload's modes
    (copy / "__init__.py").touch()
    return copy


@functools.lru_cache(maxsize=None)
def worker_user():
    """``(uid, gid)`` of ``nobody`` when the grader runs as root and ``nobody``
    can start this Python, else None (workers then run as this user)."""
    if os.geteuid() != 0:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
        ids = dict(user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
        subprocess.run([sys.executable, "-c", ""], check=True, cwd="/", timeout=30, **ids)
    except (KeyError, OSError, subprocess.SubprocessError):
        return None
    return nobody.pw_uid, nobody.pw_gid


def limit_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def run_isolated(assignment, test, seed, package, time_limit, library):
    """``run_cases`` on a copy of the student's package in a worker (see
    worker.py); ``library`` holds the copy of ``course/`` it imports. A hang,
    a crash or output that is not numbers is an error text."""
    scratch = Path(tempfile.mkdtemp())
    log = tempfile.TemporaryFile()
    user = worker_user()
    try:
        scratch_copy(package, scratch)
        if user:
            os.chown(scratch, *user)
        env = dict(os.environ, PYTHONPATH=str(library), PYTHONDONTWRITEBYTECODE="1", HOME=str(scratch))
        command = [sys.executable, "-m", "course.worker", assignment.name, test.name if test else "",
                   str(seed), "neural_networks", "outputs.npz"]
        ids = dict(user=user[0], group=user[1], extra_groups=[]) if user else {}
        worker = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, start_new_session=True, preexec_fn=limit_files, **ids)
        try:
            status = worker.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            return [], f"timed out after {time_limit:.3g} s (an endless loop?)"
        finally:
            try:
                os.killpg(worker.pid, signal.SIGKILL)  # and whatever it started
            except ProcessLookupError:
                pass
            worker.wait()
        try:
            return read_outputs(scratch / "outputs.npz")
        except Exception:
            log.seek(max(0, log.seek(0, os.SEEK_END) - OUTPUT_TAIL))
            tail = log.read().decode(errors="replace").strip().splitlines()
            return [], f"crashed (exit status {status}){': ' + tail[-1] if tail else ''}"
    finally:
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)


def read_outputs(path):
    """``(outputs of each case, error text or None)`` as a worker saved them."""
    with np.load(path, allow_pickle=False) as saved:
        error = str(saved["error"]) if "error" in saved else None
        results = [{} for _ in range(int(saved["cases"]))]
        for key in set(saved.files) - {"cases", "error"}:
            i, name = key.split("/", 1)
            results[int(i)][name] = saved[key]
    return results, error


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


def grade(assignment_name, submission, seed=0, isolate=True, time_limit=TIME_LIMIT, budget=BUDGET):
    """Grade ``submission`` (a flat upload or a folder holding ``neural_networks/``).

    Returns one dict per test: ``name``, ``max_score``, ``score``, ``hidden``
    and ``output`` (empty when it passed). Each worker gets at most
    ``time_limit`` seconds and all of them ``budget``. With ``isolate=False``
    the student's package runs in this process (the course's own tests use
    that for speed).
    """
    assignment = ASSIGNMENTS[assignment_name]
    expected = {test.name: expected_outputs(assignment, test, seed) for test in assignment.tests}
    tests = [test for test in assignment.tests if expected[test.name] is not None]
    package = package_of(submission)
    library = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(Path(__file__).parent, library / "course", ignore=shutil.ignore_patterns(
            "__pycache__", "expected"))
        library.chmod(0o755)
        deadline = time.monotonic() + budget
        if isolate:
            _, broken = run_isolated(assignment, None, seed, package, time_limit, library)
        else:
            copy = scratch_copy(package, library)
            try:
                nn, broken = load_package(copy, f"submission{next(_names)}"), None
            except Exception as error:
                broken = describe_exception(error, copy)
        results, failing = [], set()
        for test in tests:
            if broken:
                message = f"the upload does not import: {broken}"
            elif time.monotonic() >= deadline:
                message = f"not run: the upload used up the grader's {budget} s"
            else:
                received, error = (
                    run_isolated(assignment, test, seed, package, min(time_limit, deadline - time.monotonic()),
                                 library) if isolate else run_cases(nn, test, seed, copy))
                message = compare(draw_cases(test, seed), expected[test.name], received, error)
                if message and test.runs in failing:
                    message = f"fix {test.runs} first (this test runs it): {message}"
            if message:
                failing.add(test.name)
            results.append({"name": test.name, "max_score": test.points, "hidden": test.hidden,
                            "score": 0 if message else test.points, "output": message or ""})
        return results
    finally:
        shutil.rmtree(library, ignore_errors=True)


def report(results):
    """One row per test and the total, as printed."""
    rows = [f"{r['name']:<46} {r['score']:>2}/{r['max_score']:<2} {'PASS' if not r['output'] else 'FAIL'}"
            + (f"  {r['output']}" if r["output"] else "") for r in results]
    score, total = sum(r["score"] for r in results), sum(r["max_score"] for r in results)
    return "\n".join(rows + [f"Total: {score} / {total}"])


def results_json(results, output=""):
    """Gradescope's results.json: hidden tests show once grades are published;
    ``output`` is shown above the tests."""
    tests = [{"name": r["name"], "score": r["score"], "max_score": r["max_score"],
              "status": "failed" if r["output"] else "passed", "output": r["output"] or "passed",
              "visibility": "after_published" if r["hidden"] else "visible"} for r in results]
    return {"score": sum(r["score"] for r in results), "output": output, "tests": tests}


def write_results(results, path, output=""):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results_json(results, output), indent=2) + "\n")
