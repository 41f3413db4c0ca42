"""Run check_gradients.ipynb headless, as a student would, and read its report.

The notebook prints one row per gradient check ("<what>  <relative error>  PASS",
or "<what>  raised  FAIL  <error message>" when the check's code raised) and a
summary line; these tests execute it with nbclient from the repository root and
check that every section ran and every check passed. Further runs with a
deliberately broken backward (patched in by a cell inserted after the setup
cell, through the public API only) make sure a wrong gradient, and a backward
that raises or returns the wrong shape, are reported while every later check
still runs.
"""

import math
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from neural_networks.activations import ACTIVATIONS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "check_gradients.ipynb"
ROW = re.compile(r"^(?P<what>\S.*?)\s+(?P<error>[-+0-9.e]+|nan|inf|raised)\s+"
                 r"(?P<verdict>PASS|FAIL)(?:  (?P<message>\S.*))?$")


def run_notebook(extra_cell=None):
    """Execute the notebook (optionally with a cell inserted after the setup cell).

    Returns ``(rows, summary_lines, messages)``: the parsed check rows
    ``(what, relative error or nan if it raised, verdict)``, the output lines
    of the last code cell, and ``{what: error message}`` for the rows of
    checks that raised.
    """
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if extra_cell is not None:
        first_code = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
        nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(extra_cell))
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()

    rows, messages = [], {}
    for cell in nb.cells:
        for line in _stdout_lines(cell):
            match = ROW.match(line)
            if match:
                error = math.nan if match["error"] == "raised" else float(match["error"])
                rows.append((match["what"], error, match["verdict"]))
                if match["message"]:
                    messages[match["what"]] = match["message"]
    last_code = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    return rows, _stdout_lines(last_code), messages


def _stdout_lines(cell):
    if cell.cell_type != "code":
        return []
    text = "".join(
        out.get("text", "") for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    )
    return text.splitlines()


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
    rows, _, _ = clean_run
    assert rows, "the notebook printed no check rows"
    failed = [row for row in rows if row[2] != "PASS" or not row[1] < 1e-7]
    assert not failed, f"failed checks: {failed}"


def test_summary_says_all_below_threshold(clean_run):
    rows, summary, _ = clean_run
    assert summary == [f"{len(rows)} checks, all below 1e-7"]


def test_every_section_ran(clean_run):
    rows, _, _ = clean_run
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
    rows, summary, _ = run_notebook(broken)
    verdicts = {what: verdict for what, _, verdict in rows}
    assert verdicts["activation tanh: dL/dZ"] == "FAIL"
    assert verdicts["activation relu: dL/dZ"] == "PASS"
    assert verdicts["FullyConnected tanh: dL/dW"] == "FAIL"
    n_failed = sum(verdict == "FAIL" for verdict in verdicts.values())
    assert summary[0] == f"{n_failed} of {len(rows)} checks failed (threshold 1e-7):"
    assert any("activation tanh: dL/dZ" in line for line in summary[1:])
    assert len(summary) == 1 + n_failed


# A FullyConnected.backward with the course's classic shape bug, written against
# the public API only (activation.backward, cache["Z"], parameters["W"]), so it
# does not depend on how layers.py spells its backward pass.
DROPPED_TRANSPOSE = """
_original_backward = layers.FullyConnected.backward


def _backward_without_transpose(self, dLdY):
    _original_backward(self, dLdY)  # fills dL/dW and dL/db as usual
    dZ = self.activation.backward(self.cache["Z"], dLdY)
    return dZ @ self.parameters["W"]  # should be W.T: (batch, n_out) @ (n_in, n_out)


layers.FullyConnected.backward = _backward_without_transpose
print("FullyConnected.backward without its transpose, on purpose")
"""

WRONG_SHAPE = """
_original_backward = layers.FullyConnected.backward


def _backward_transposed_result(self, dLdY):
    return _original_backward(self, dLdY).T  # (n_in, batch) instead of (batch, n_in)


layers.FullyConnected.backward = _backward_transposed_result
print("FullyConnected.backward returns dL/dX transposed, on purpose")
"""


@pytest.fixture(scope="module")
def dropped_transpose_run():
    return run_notebook(DROPPED_TRANSPOSE)


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
    rows, summary, messages = dropped_transpose_run
    check_later_sections_ran(rows, clean_run[0])
    failed = [what for what, _, verdict in rows if verdict == "FAIL"]
    fully_connected = [what for what, _, _ in rows if what.startswith("FullyConnected")]
    # Every network ends in a FullyConnected layer whose backward now raises.
    networks = [what for what, _, _ in rows if what.startswith("network")]
    assert len(fully_connected) == 12 and len(networks) >= 4
    assert failed == fully_connected + networks
    for what in failed:
        assert math.isnan(dict((w, e) for w, e, _ in rows)[what])
        # The error's first line, after the step that raised it.
        assert messages[what].startswith("backward raised ValueError: matmul"), messages[what]
        assert "\n" not in messages[what]
    assert summary[0] == f"{len(failed)} of {len(rows)} checks failed (threshold 1e-7):"
    assert summary[1:] == [f"  {what}: {messages[what]}" for what in failed]


def test_a_backward_that_returns_the_wrong_shape_fails_only_dLdX(clean_run):
    rows, summary, messages = run_notebook(WRONG_SHAPE)
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
    assert len(summary) == 1 + n_failed


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
