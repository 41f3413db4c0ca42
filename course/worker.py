"""Run one test on a student's package, in its own process (see grader.py).

``python -m course.worker ASSIGNMENT TEST SEED PACKAGE OUT`` imports the
package in ``PACKAGE`` as ``neural_networks``, runs every case of ``TEST``
(only the import when ``TEST`` is empty) and saves the outputs to ``OUT``,
an ``.npz`` of plain arrays: ``"{case}/{output}"``, ``"cases"`` and ``"error"``.
"""

import sys

import numpy as np

from .assignments import ASSIGNMENTS
from .grader import describe_exception, load_package, run_cases


def main(assignment, test_name, seed, package, out):
    results, error = [], None
    try:
        nn = load_package(package, "neural_networks")
    except BaseException as exception:  # SystemExit from an upload is an import failure too
        error = describe_exception(exception, package)
    if test_name and error is None:
        test = next(test for test in ASSIGNMENTS[assignment].tests if test.name == test_name)
        results, error = run_cases(nn, test, int(seed), package)
    arrays = {f"{i}/{key}": value for i, outputs in enumerate(results) for key, value in outputs.items()}
    if error is not None:
        arrays["error"] = np.array(error)
    np.savez(out, cases=len(results), **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
