"""Build an assignment: the students' starter and Gradescope's autograder.zip.

In the reference, the solution of each method that students write sits
between two marker lines::

    # BEGIN SOLUTION
    ...
    # END SOLUTION

The starter keeps everything else of the method (signature, docstring, guard,
scaffolding) and replaces the region by a block that raises
``NotImplementedError``. The markers of methods another assignment stubs are
dropped and their solutions kept.
"""

import ast
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np

from .assignments import ASSIGNMENTS
from .grader import draw_cases, expected_outputs

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
ROOT = Path(__file__).parent.parent
SEED = 0  # the seed of the starter's local tests
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "expected")


class BuildError(ValueError):
    """The reference's markers do not fit the assignments (one line per problem)."""


def methods_of(tree, n_lines):
    """``{"Class.method": (first line, last line)}`` of a module's class methods
    (1-based); a method ends where the next statement of its class or module
    starts, so it owns the comments after its last statement."""
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    starts = sorted({start(node) for node in tree.body}
                    | {start(item) for node in classes for item in node.body} | {n_lines + 1})
    return {f"{node.name}.{item.name}": (start(item), next(s for s in starts if s > item.lineno) - 1)
            for node in classes for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}


def start(node):
    """The first line of a statement, its decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def solution_regions(path, known):
    """``{"Class.method": (begin index, end index)}`` of the marker lines in ``path``
    (0-based), checked: one region in each method of ``known`` that has
    markers, and no marker anywhere else."""
    lines = Path(path).read_text().splitlines()
    methods = methods_of(ast.parse("\n".join(lines)), len(lines))
    regions, open_at, errors = {}, {}, []
    for index, line in enumerate(lines):
        marker = line.strip()
        if "BEGIN SOLUTION" not in marker and "END SOLUTION" not in marker:
            continue
        owner = next((name for name, (first, last) in methods.items() if first <= index + 1 <= last), None)
        where = f"{path.name}, line {index + 1}"
        if marker not in (BEGIN, END):
            errors.append(f"{where}: a marker must be the whole line, {BEGIN!r} or {END!r}; got {marker!r}")
        elif owner not in known:
            errors.append(f"{where}: {marker!r} outside the assignments' methods (in {owner or 'no method'})")
        elif marker == BEGIN and (owner in open_at or owner in regions):
            errors.append(f"{where}: {owner}: a second {BEGIN!r} (one solution region per method)")
        elif marker == BEGIN:
            open_at[owner] = index
        elif owner not in open_at:
            errors.append(f"{where}: {owner}: {END!r} without {BEGIN!r}")
        else:
            regions[owner] = (open_at.pop(owner), index)
    errors += [f"{path.name}, line {begin + 1}: {owner}: {BEGIN!r} without {END!r}"
               for owner, begin in open_at.items()]
    if errors:
        raise BuildError("\n".join(errors))
    return regions, methods


def stub_module(path, stubbed, known):
    """The text of ``path`` with the methods ``stubbed`` stubbed and the markers
    of the other ``known`` methods dropped."""
    regions, methods = solution_regions(path, known)
    lines = Path(path).read_text().splitlines()
    errors = [f"{path.name}: no method {name}" for name in stubbed if name not in methods]
    errors += [f"{path.name}, line {methods[name][0]}: {name} has no solution markers"
               for name in stubbed if name in methods and name not in regions]
    if errors:
        raise BuildError("\n".join(errors))
    for name, (begin, end) in sorted(regions.items(), key=lambda item: -item[1][0]):
        indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
        if name in stubbed:
            lines[begin:end + 1] = [f"{indent}### YOUR CODE HERE ###",
                                    f'{indent}raise NotImplementedError("{name} is not implemented yet")']
        else:
            del lines[end], lines[begin]
    return "\n".join(lines) + "\n"


def known_methods():
    """``{module file: every method some assignment stubs}``."""
    known = {}
    for assignment in ASSIGNMENTS.values():
        for module, names in assignment.methods.items():
            known.setdefault(module, set()).update(names)
    return known


def stubbed_package(assignment):
    """``{module file: text}`` of the starter's package; BuildError lists every
    problem with the reference's markers (each module is checked)."""
    known, texts, errors = known_methods(), {}, []
    for path in sorted((ROOT / "neural_networks").glob("*.py")):
        try:
            texts[path.name] = stub_module(path, assignment.methods.get(path.name, []),
                                           known.get(path.name, set()))
        except BuildError as error:
            errors.append(str(error))
    errors += [f"{module}: no such module in neural_networks/" for module in assignment.methods
               if not (ROOT / "neural_networks" / module).is_file()]
    if errors:
        raise BuildError("\n".join(errors))
    return texts


STUDENT_README = """# {name}: the starter

Write the methods that raise `NotImplementedError` (each holds a
`### YOUR CODE HERE ###` block): {methods}.

Grade your work locally, on the same visible tests as the autograder (one row
per method, and what was wrong):

```bash
python -m course grade {name} .
```

Once your methods pass, train the network (`python train_ffnn.py`) and make
the upload for the autograder, with that run's predictions; upload the files
in `submission/`, not the folder:

```bash
python generate_submission.py --bundle submission
```

`check_gradients.ipynb` checks every backward pass numerically (open it in
Jupyter and run all cells); `python check_gradients.py` prints the same report
without Jupyter (it needs `pip install nbclient nbformat ipykernel`).
"""

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image.
set -e
apt-get update && apt-get install -y python3 python3-pip
pip3 install {requirements}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every upload (the files in $ROOT/submission) and reads
# $ROOT/results/results.json; AUTOGRADER_ROOT lets it run outside Gradescope.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-python3}}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
# As root, the grader runs the student's code as nobody: it may neither enter the
# reference's folder nor write the results.
if [ "$(id -u)" = 0 ]; then chmod go-rwx "$ROOT/source"; chmod 755 "$ROOT/results"; fi
# A fresh seed for every run: the starter holds the expected outputs of seed {seed}.
SEED=$("$PYTHON" -c 'import os; print(int.from_bytes(os.urandom(4), "big"))')
cd "$ROOT/source" && "$PYTHON" -m course grade {name} "$ROOT/submission" --seed "$SEED" \\
    --results "$ROOT/results/results.json"
if [ ! -s "$ROOT/results/results.json" ]; then
    echo '{{"score": 0, "output": "The grader itself failed on this upload; please tell the course staff."}}' \\
        > "$ROOT/results/results.json"
fi
"""


def requirements():
    """The package's dependencies, from pyproject.toml."""
    block = re.search(r"^dependencies = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.M | re.S)
    return " ".join(f"'{name}'" for name in re.findall(r'"([^"]+)"', block.group(1)))


def write_expected(assignment, path, seed=SEED):
    """The reference's outputs on the visible tests of ``seed``, for a grader
    without the reference (the starter's)."""
    arrays = {"seed": seed}
    for test in assignment.tests:
        if not test.hidden:
            for i, outputs in enumerate(expected_outputs(assignment, test, seed)):
                arrays.update({f"{test.name}/{i}/{key}": value for key, value in outputs.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def fixture_key(name):
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def write_fixtures(name, out, seed=SEED):
    """Fixtures in the course's format, one ``OUT/tests/data/<TestClass>.npz`` per
    test (``TestConv2DBackward``): for case ``i``, ``{i}input`` is its first
    array, ``{i}output`` the first output, and the other inputs, settings and
    outputs are under their names (``{i}W``, ``{i}stride``, ``{i}gradients_W``).
    Returns the paths written."""
    assignment, folder = ASSIGNMENTS[name], Path(out) / "tests" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for test in assignment.tests:
        arrays = {}
        for i, (case, outputs) in enumerate(zip(draw_cases(test, seed), expected_outputs(assignment, test, seed))):
            inputs = {key: value for key, value in case.items() if not isinstance(value, list)}
            inputs.update({f"{key}_{j}": value for key, values in case.items() if isinstance(values, list)
                           for j, value in enumerate(values)})
            first = next((key for key, value in inputs.items() if isinstance(value, np.ndarray)), None)
            named = {("input" if key == first else fixture_key(key)): np.asarray(value)
                     for key, value in inputs.items()}
            named.update({("output" if j == 0 else fixture_key(key)): value
                          for j, (key, value) in enumerate(outputs.items())})
            assert len(named) == len(inputs) + len(outputs), f"{test.name}: two values under one key"
            arrays.update({f"{i}{key}": value for key, value in named.items()})
        words = re.findall(r"[A-Za-z0-9]+", test.name.split(":")[0])
        paths.append(folder / f"Test{''.join(word[0].upper() + word[1:] for word in words)}.npz")
        np.savez(paths[-1], **arrays)
    return paths


def build(name, out):
    """Write ``out/student/`` and ``out/autograder.zip`` for assignment ``name``."""
    assignment, out = ASSIGNMENTS[name], Path(out)
    if out.exists() and any(out.iterdir()):
        raise BuildError(f"{out} is not empty; choose a new folder")
    texts = stubbed_package(assignment)
    student = out / "student"
    shutil.copytree(ROOT / "neural_networks", student / "neural_networks", ignore=IGNORE)
    for module, text in texts.items():
        (student / "neural_networks" / module).write_text(text)
    scripts = ["train_ffnn.py", "generate_submission.py", "check_gradients.ipynb", "check_gradients.py"]
    for script in scripts + (["train_cnn.py"] if name == "cnn" else []):
        shutil.copy(ROOT / script, student / script)
    shutil.copytree(ROOT / "datasets", student / "datasets")
    shutil.copytree(ROOT / "course", student / "course", ignore=IGNORE)
    write_expected(assignment, student / "course" / "expected" / f"{name}.npz")
    methods = ", ".join(f"`{method}`" for names in assignment.methods.values() for method in names)
    (student / "README.md").write_text(STUDENT_README.format(name=name, methods=methods))
    write_autograder(name, out / "autograder.zip")


def write_autograder(name, path):
    """Gradescope's zip: ``setup.sh`` and ``run_autograder`` at its root, next to
    the grader and the reference package."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, text in [("setup.sh", SETUP.format(requirements=requirements())),
                            ("run_autograder", RUN_AUTOGRADER.format(name=name, seed=SEED))]:
            info = zipfile.ZipInfo(entry)
            info.external_attr = 0o755 << 16  # executable
            archive.writestr(info, text)
        for folder in ("course", "neural_networks"):
            for file in sorted((ROOT / folder).rglob("*.py")):
                archive.write(file, file.relative_to(ROOT).as_posix())
