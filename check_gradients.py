"""Run check_gradients.ipynb headless and print its report: what "Restart & Run
All" shows in Jupyter, without Jupyter.

    pip install -e ".[test]" && python check_gradients.py

The report is the notebook's printed rows, in order: one per course method
(does it run?), one per gradient check, and the summary.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent


def run(folder=ROOT, extra_cell=None):
    """Execute ``folder``'s notebook there (the repository's if ``folder`` has
    none), optionally with ``extra_cell`` inserted after the setup cell, and
    return it with its outputs. A cell that ends in a traceback raises."""
    path = folder / "check_gradients.ipynb"
    notebook = nbformat.read(path if path.exists() else ROOT / "check_gradients.ipynb", as_version=4)
    if extra_cell is not None:
        first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
        notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell(extra_cell))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def printed(cell):
    """What a code cell printed (its stdout)."""
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.output_type == "stream" and out.name == "stdout")


if __name__ == "__main__":
    try:
        notebook = run()
    except CellExecutionError as error:
        sys.exit(f"check_gradients.ipynb stopped at a cell that raised:\n{error}")
    print("".join(printed(cell) for cell in notebook.cells).rstrip("\n"))
