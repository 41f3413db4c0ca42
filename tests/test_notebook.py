"""Run check_gradients.ipynb headless, as a student would, and read its report.

The notebook prints one row per gradient check ("<what>  <relative error>  PASS")
and a summary line; these tests execute it with nbclient from the repository
root and check that every section ran and every check passed. A second run
with a deliberately broken backward makes sure a wrong gradient is reported.
"""

import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from neural_networks.activations import ACTIVATIONS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "check_gradients.ipynb"
TIME_BUDGET = 30.0  # seconds, kernel start included
ROW = re.compile(r"^(?P<what>\S.*?)\s+(?P<error>[-+0-9.e]+|nan|inf)\s+(?P<verdict>PASS|FAIL)$")


def run_notebook(extra_cell=None):
    """Execute the notebook (optionally with a cell inserted after the setup cell).

    Returns ``(rows, summary_lines, seconds)``: the parsed check rows, the
    output lines of the last code cell, and the wall time of the run.
    """
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if extra_cell is not None:
        first_code = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
        nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(extra_cell))
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start

    rows = []
    for cell in nb.cells:
        for line in _stdout_lines(cell):
            match = ROW.match(line)
            if match:
                rows.append((match["what"], float(match["error"]), match["verdict"]))
    last_code = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    return rows, _stdout_lines(last_code), seconds


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
    assert len(rows) >= 55


def test_notebook_is_fast(clean_run):
    _, _, seconds = clean_run
    assert seconds < TIME_BUDGET, f"the notebook took {seconds:.1f} s"


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
