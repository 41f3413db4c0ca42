"""Run check_gradients.ipynb headless, as a student would, and read its report.

The notebook first prints one row per course method ("<Class.method>  ok", "not
implemented yet", or the error's first line and where it was raised), then one
row per gradient check ("<what>  <relative error>  PASS", or "<what>  raised
FAIL  <error message>" when the check's code raised) and a summary; these tests
execute it with nbclient (which fails on a cell that ends in a traceback) and
check that every section ran and every check passed. Further runs with a
deliberately broken backward (patched in by a cell inserted after the setup
cell, or edited into a copy of the package) and on the students' starter make
sure a wrong gradient, a backward that raises or returns the wrong shape, and a
method not written yet are reported while every later check still runs.
"""

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

import check_gradients  # noqa: E402
from course import build  # noqa: E402
from course.assignments import ASSIGNMENTS  # noqa: E402
from neural_networks.activations import ACTIVATIONS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "check_gradients.ipynb"
ROW = re.compile(r"^(?P<what>\S.*?)\s+(?P<error>[-+0-9.e]+|nan|inf|raised)\s+"
                 r"(?P<verdict>PASS|FAIL)(?:  (?P<message>\S.*))?$")
METHOD_ROW = re.compile(r"^(?P<method>\w+\.\w+) +(?P<status>\S.*)$")


def run_notebook(extra_cell=None, folder=ROOT):
    """Execute ``folder``'s notebook in ``folder`` (optionally with a cell
    inserted after the setup cell; the repository's notebook if ``folder`` has none).

    Returns ``(rows, summary_lines, messages, methods)``: the parsed check rows
    ``(what, relative error or nan if it raised, verdict)``, the output lines
    of the last code cell, ``{what: error message}`` for the rows of checks
    that raised, and the method rows ``[(Class.method, status)]``.
    """
    nb = check_gradients.run(folder, extra_cell)

    rows, messages, methods = [], {}, []
    for cell in nb.cells:
        for line in _stdout_lines(cell):
            if METHOD_ROW.match(line):
                methods.append(METHOD_ROW.match(line).group("method", "status"))
            match = ROW.match(line)
            if match:
                error = math.nan if match["error"] == "raised" else float(match["error"])
                rows.append((match["what"], error, match["verdict"]))
                if match["message"]:
                    messages[match["what"]] = match["message"]
    last_code = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    return rows, _stdout_lines(last_code), messages, methods


def _stdout_lines(cell):
    return check_gradients.printed(cell).splitlines() if cell.cell_type == "code" else []


@pytest.fixture(scope="module")
def clean_run():
    return run_notebook()


def test_notebook_is_valid_nbformat_v4():
    nb = nbformat.read(NOTEBOOK, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"


def test_notebook_uses_the_library_checker():
    """One gradient checker: the library's, not a copy in the notebook."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "from neural_networks.utils import check_gradients" in source
    assert "def check_gradients" not in source
    assert "def numerical_gradient" not in source


def test_every_check_passes(clean_run):
    rows, _, _, methods = clean_run
    stubbed = {method for module in ASSIGNMENTS["cnn"].methods.values() for method in module}
    assert {method for method, _ in methods} >= stubbed
    assert all(status == "ok" for _, status in methods), methods
    assert rows, "the notebook printed no check rows"
    failed = [row for row in rows if row[2] != "PASS" or not row[1] < 1e-7]
    assert not failed, f"failed checks: {failed}"


def test_summary_says_all_below_threshold(clean_run):
    rows, summary, _, _ = clean_run
    assert summary == [f"{len(rows)} checks, all below 1e-7"]


def test_every_section_ran(clean_run):
    rows, _, _, _ = clean_run
    names = [what for what, _, _ in rows]

    def count(prefix):
        return sum(name.startswith(prefix) for name in names)

    for activation in ACTIVATIONS:
        assert f"activation {activation}: dL/dZ" in names
    assert count("loss CrossEntropy") == 1
    assert count("loss L2") == 1
    for suffix in ("dL/dW", "dL/db", "dL/dX"):
        assert any(n.startswith("FullyConnected") and n.endswith(suffix) for n in names)
        assert sum(n.startswith("Conv2D") and n.endswith(suffix) for n in names) >= 4
    # An even kernel and stride 2 are among the Conv2D settings.
    assert any(n.startswith("Conv2D 2x2 stride 2,2") for n in names)
    assert any(n.startswith("Conv2D 4x4 stride 2,2") for n in names)
    for mode in ("max", "average"):
        assert count(f"Pool2D {mode}") >= 3
        assert any(n.startswith(f"Pool2D {mode}") and "pad 1" in n for n in names)
    assert count("Flatten") >= 1
    assert count("network conv-pool-fc") >= 4
    assert count("network dense l2") >= 4
    assert len(rows) == 74  # every check of every section, none lost


def test_a_wrong_backward_is_reported():
    """Break TanH.backward (drop its derivative) and expect FAIL rows and a failure list."""
    broken = (
        "activations.TanH.backward = lambda self, Z, dY: dY.copy()\n"
        "print('TanH.backward broken on purpose')"
    )
    rows, summary, _, _ = run_notebook(broken)
    verdicts = {what: verdict for what, _, verdict in rows}
    assert verdicts["activation tanh: dL/dZ"] == "FAIL"
    assert verdicts["activation relu: dL/dZ"] == "PASS"
    assert verdicts["FullyConnected tanh: dL/dW"] == "FAIL"
    n_failed = sum(verdict == "FAIL" for verdict in verdicts.values())
    assert summary[0] == f"{n_failed} of {len(rows)} checks failed (threshold 1e-7):"
    assert any("activation tanh: dL/dZ" in line for line in summary[1:])
    assert len(summary) == 1 + n_failed


WRONG_SHAPE = """
_original_backward = layers.FullyConnected.backward


def _backward_transposed_result(self, dLdY):
    return _original_backward(self, dLdY).T  # (n_in, batch) instead of (batch, n_in)


layers.FullyConnected.backward = _backward_transposed_result
print("FullyConnected.backward returns dL/dX transposed, on purpose")
"""


@pytest.fixture(scope="module")
def dropped_transpose_run(tmp_path_factory):
    """The notebook on a copy of the package whose FullyConnected.backward has
    the course's classic shape bug; returns the run and the bug's line number."""
    folder = tmp_path_factory.mktemp("dropped_transpose")
    shutil.copytree(ROOT / "neural_networks", folder / "neural_networks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    layers_py = folder / "neural_networks" / "layers.py"
    lines = layers_py.read_text().splitlines(keepends=True)
    (line,) = [i for i, text in enumerate(lines, 1) if text.strip() == "return dZ @ W.T"]
    lines[line - 1] = lines[line - 1].replace("W.T", "W")  # (batch, n_out) @ (n_in, n_out)
    layers_py.write_text("".join(lines))
    return run_notebook(folder=folder), line


def check_later_sections_ran(rows, clean_rows):
    """Every check of the clean run ran again, and those that do not touch
    FullyConnected.backward still pass."""
    assert [what for what, _, _ in rows] == [what for what, _, _ in clean_rows]
    verdicts = {what: verdict for what, _, verdict in rows}
    for what, verdict in verdicts.items():
        if what.startswith(("activation", "loss", "Conv2D", "Pool2D", "Flatten")):
            assert verdict == "PASS", what


def test_a_backward_that_raises_fails_its_rows_and_the_rest_still_run(
        dropped_transpose_run, clean_run):
    (rows, summary, messages, methods), line = dropped_transpose_run
    where = f"(neural_networks/layers.py, line {line})"
    # Tried on its own, only FullyConnected.backward raises, and says where.
    assert [method for method, status in methods if status != "ok"] == ["FullyConnected.backward"]
    status = dict(methods)["FullyConnected.backward"]
    assert status.startswith("FullyConnected.backward raised ValueError: matmul"), status
    assert status.endswith(where), status
    check_later_sections_ran(rows, clean_run[0])
    failed = [what for what, _, verdict in rows if verdict == "FAIL"]
    fully_connected = [what for what, _, _ in rows if what.startswith("FullyConnected")]
    # Every network ends in a FullyConnected layer whose backward now raises.
    networks = [what for what, _, _ in rows if what.startswith("network")]
    assert len(fully_connected) == 12 and len(networks) >= 4
    assert failed == fully_connected + networks
    for what in failed:
        assert math.isnan(dict((w, e) for w, e, _ in rows)[what])
        # The error's first line, after the layer's method that raised it (in
        # "network conv-pool-fc: dL/dW0 (Conv2D)" too).
        assert messages[what].startswith("FullyConnected.backward raised ValueError: matmul"), what
        assert "\n" not in messages[what]
    # The summary shows the error once, with its count and where it was raised.
    assert summary == [f"{len(failed)} of {len(rows)} checks failed (threshold 1e-7):",
                       f"  {len(failed):>3} x {messages[failed[0]]}  {where}"]


def test_a_backward_that_returns_the_wrong_shape_fails_only_dLdX(clean_run):
    rows, summary, messages, _ = run_notebook(WRONG_SHAPE)
    check_later_sections_ran(rows, clean_run[0])
    verdicts = {what: verdict for what, _, verdict in rows}
    for activation in ("linear", "tanh", "relu", "softmax"):
        assert verdicts[f"FullyConnected {activation}: dL/dW"] == "PASS"
        assert verdicts[f"FullyConnected {activation}: dL/db"] == "PASS"
        what = f"FullyConnected {activation}: dL/dX"
        assert verdicts[what] == "FAIL"
        assert messages[what].startswith("ValueError: check_gradients: grad must have the shape")
    n_failed = sum(verdict == "FAIL" for verdict in verdicts.values())
    assert n_failed >= 4
    assert summary[0] == f"{n_failed} of {len(rows)} checks failed (threshold 1e-7):"
    # The four dL/dX rows share one error, raised at one line: one summary row.
    shape_error = messages["FullyConnected linear: dL/dX"]
    utils = (ROOT / "neural_networks" / "utils.py").read_text().splitlines()
    line = next(i for i, text in enumerate(utils, 1) if "grad must have the shape" in text)
    assert [text for text in summary if shape_error in text] == [
        f"    4 x {shape_error}  (neural_networks/utils.py, line {line})"]
    assert sum(int(line.split(" x ")[0]) for line in summary[1:]) == n_failed


def test_the_notebook_explains_raised_rows_as_the_readme_does():
    """The README says an error of 0.1 to 1 means, among others, a transpose; the
    notebook says the same of a square matrix and explains the rows that raise."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = " ".join(" ".join(cell.source.split()) for cell in nb.cells
                    if cell.cell_type == "markdown")
    assert "0.1 to 1: the gradient is wrong outright" in text
    assert "a transposed square matrix" in text
    assert "`raised` instead of a number" in text
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "An error between 0.1 and 1 means the gradient is wrong outright (a sign, a transpose" in readme


def test_the_starter_reports_each_stub_once(tmp_path):
    """On the cnn starter every stubbed method has one "not implemented yet" row,
    every other method runs, and each error of the checks is summarized once."""
    build.build("cnn", tmp_path)
    rows, summary, _, methods = run_notebook(folder=tmp_path / "student")
    not_written = sorted(method for method, status in methods if status == "not implemented yet")
    cnn = ASSIGNMENTS["cnn"].methods
    assert not_written == sorted(method for module in cnn.values() for method in module)
    assert all(status == "ok" for method, status in methods if method not in not_written)
    n_failed = sum(verdict == "FAIL" for _, _, verdict in rows)
    assert summary[0] == f"{n_failed} of {len(rows)} checks failed (threshold 1e-7):"
    errors = [line.split(" x ", 1)[1] for line in summary[1:]]
    assert len(set(errors)) == len(errors) and all("is not implemented yet" in e for e in errors)
    assert sum(int(line.split(" x ")[0]) for line in summary[1:]) == n_failed


def test_check_gradients_py_prints_the_report_in_a_terminal():
    result = subprocess.run([sys.executable, str(ROOT / "check_gradients.py")], capture_output=True,
                            text=True, timeout=600, cwd=ROOT.parent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ("ReLU.backward", "ok") in [tuple(line.split()) for line in lines]
    assert lines[-1] == "74 checks, all below 1e-7"
