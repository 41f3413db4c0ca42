"""The course builder and grader: the reference scores 100%, the blank starter
0, every typical mistake loses the points of the method at fault, and broken
uploads are graded in bounded time."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course import build, grader
from course.assignments import ASSIGNMENTS

ROOT = Path(__file__).parent.parent
REFERENCE = ROOT / "neural_networks"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``{assignment: OUT}`` built once for the module."""
    outs = {}
    for name in ASSIGNMENTS:
        outs[name] = tmp_path_factory.mktemp(name)
        build.build(name, outs[name])
    return outs


def copy_reference(tmp_path):
    shutil.copytree(REFERENCE, tmp_path / "neural_networks", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "neural_networks"


def failed(results):
    return {r["name"] for r in results if r["output"]}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_the_reference_scores_full_marks(assignment, seed):
    results = grader.grade(assignment, ROOT, seed=seed, isolate=False)
    assert failed(results) == set()
    assert len(results) == len(ASSIGNMENTS[assignment].tests)


# -- typical mistakes ----------------------------------------------------------------------

# (what the student got wrong, module, method at fault, a line of the reference, its wrong version)
MISTAKES = [
    ("ReLU zeroes Z in place", "activations.py", "ReLU.forward",
     "return np.maximum(Z, 0)", "Z[Z < 0] = 0; return Z"),
    ("ReLU'(0) taken as 0", "activations.py", "ReLU.backward", "(Z >= 0)", "(Z > 0)"),
    ("softmax without the max shift (overflows on large logits)", "activations.py", "SoftMax.forward",
     "np.exp(Z - Z.max(axis=-1, keepdims=True))", "np.exp(Z)"),
    ("softmax normalized over the batch", "activations.py", "SoftMax.forward",
     "e.sum(axis=-1, keepdims=True)", "e.sum(axis=0, keepdims=True)"),
    ("softmax backward element-wise, s(1 - s)", "activations.py", "SoftMax.backward",
     "return s * (dY - np.sum(dY * s, axis=-1, keepdims=True))", "return dY * s * (1 - s)"),
    ("W created as (n_out, n_in)", "layers.py", "FullyConnected._init_parameters",
     "(self.n_in, self.n_out)", "(self.n_out, self.n_in)"),
    ("gradients not created", "layers.py", "FullyConnected._init_parameters", "self.clear_gradients()", "pass"),
    ("bias left out of Z", "layers.py", "FullyConnected.forward", "Z = X @ W + b", "Z = X @ W"),
    ("the activation's output cached as Z", "layers.py", "FullyConnected.forward",
     "return self.activation.forward(Z)",
     'self.cache["Z"] = self.activation.forward(Z)\n        return self.cache["Z"]'),
    ("W not transposed in dX", "layers.py", "FullyConnected.backward", "return dZ @ W.T", "return dZ @ W"),
    ("bias gradient not summed over the batch", "layers.py", "FullyConnected.backward",
     "dZ.sum(axis=0, keepdims=True)", "dZ[:1]"),
    ("the activation's derivative skipped", "layers.py", "FullyConnected.backward",
     "self.activation.backward(Z, dLdY)", "dLdY"),
    ("cross-entropy without the 1/m", "losses.py", "CrossEntropy.forward", ") / m)", "))"),
    ("cross-entropy gradient with the wrong sign", "losses.py", "CrossEntropy.backward",
     "return -Y / (m * P)", "return Y / (m * P)"),
    ("backward runs the layers in order, not in reverse", "models.py", "NeuralNetwork.backward",
     "reversed(self.layers)", "self.layers"),
    ("forward skips the output layer", "models.py", "NeuralNetwork.forward",
     "for layer in self.layers:", "for layer in self.layers[:-1]:"),
    ("predict returns classes instead of probabilities", "models.py", "NeuralNetwork.predict",
     "Y_hat = self.forward(X)", "Y_hat = self.forward(X).argmax(axis=-1)"),
    ("Conv2D's forward skips the activation", "layers.py", "Conv2D.forward",
     "return self.activation.forward(Z)", "return Z"),
    ("Conv2D's backward skips the activation", "layers.py", "Conv2D.backward",
     "self.activation.backward(Z, dLdY)", "dLdY"),
    ("Conv2D's dW divided by the batch (a second 1/m)", "layers.py", "Conv2D.backward",
     ".reshape(W.shape)", ".reshape(W.shape) / len(X)"),
    ("max-pool gradient sent to every cell of the window", "layers.py", "Pool2D.backward",
     "np.where(winner == i * kernel_cols + j, dLdY, 0)", "dLdY"),
    ("Flatten's backward in the wrong order", "layers.py", "Flatten.backward",
     '.reshape(self.cache["X"].shape)', '.reshape(self.cache["X"].shape, order="F")'),
    ("BatchNorm1D with the unbiased variance", "layers.py", "BatchNorm1D.forward",
     "((X - mu) ** 2).mean(", "(len(X) / (len(X) - 1) * (X - mu) ** 2).mean("),
    ("BatchNorm1D in test mode with the batch's statistics", "layers.py", "BatchNorm1D.forward",
     'mu, var = self.cache["running_mu"], self.cache["running_var"]',
     "mu, var = X.mean(axis=0, keepdims=True), X.var(axis=0, keepdims=True)"),
    ("BatchNorm1D's dX without the mean's term", "layers.py", "BatchNorm1D.backward",
     "return dX_hat * inv_std + dvar * 2 * (X - mu) / m + dmu / m",
     "return dX_hat * inv_std + dvar * 2 * (X - mu) / m"),
]


def make_mistake(package, module, method, old, new):
    """Replace ``old`` by ``new`` in ``method`` of ``package/module`` (``old`` must
    occur there once: else the reference changed and this table must follow)."""
    path = package / module
    lines = path.read_text().splitlines()
    first, last = build.methods_of(ast.parse("\n".join(lines)), len(lines))[method]
    body = "\n".join(lines[first - 1:last])
    assert body.count(old) == 1, f"{old!r} is not once in {module} {method}: update MISTAKES"
    lines[first - 1:last] = body.replace(old, new).splitlines()
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("mistake, module, method, old, new", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_loses_the_points_of_its_method(tmp_path, mistake, module, method, old, new):
    make_mistake(copy_reference(tmp_path), module, method, old, new)
    assignment = "mlp" if any(t.name == method for t in ASSIGNMENTS["mlp"].tests) else "cnn"
    results = grader.grade(assignment, tmp_path, isolate=False)
    assert method in failed(results)
    assert {name.split(".")[0] for name in failed(results)} == {method.split(".")[0]}


def write_solution(package, module, method, code):
    """Put ``code`` (indented for a method body) in place of ``method``'s solution."""
    path = package / module
    regions, _ = build.solution_regions(path, build.known_methods()[module])
    begin, end = regions[method]
    lines = path.read_text().splitlines()
    lines[begin + 1:end] = code.strip("\n").splitlines()
    path.write_text("\n".join(lines) + "\n")


# Correct implementations unlike the reference: loops, other cache keys, other formulas,
# answers right to the course's 4 decimals.
VARIANTS = {
    ("activations.py", "SoftMax.forward"): """
        e = np.exp(Z - Z.max(axis=-1, keepdims=True))
        return np.round(e / e.sum(axis=-1, keepdims=True), 5)
""",
    ("activations.py", "SoftMax.backward"): """
        s = self.forward(Z)
        dZ = np.empty_like(dY)
        for n in range(len(Z)):  # the Jacobian of each row, as the handout allows
            dZ[n] = (np.diag(s[n]) - np.outer(s[n], s[n])) @ dY[n]
        return dZ
""",
    ("layers.py", "Conv2D.forward"): """
        (top, bottom), (left, right) = self.pads
        Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))
        (kh, kw), (sh, sw) = self.kernel_shape, self.stride
        rows, cols = (Xp.shape[1] - kh) // sh + 1, (Xp.shape[2] - kw) // sw + 1
        Z = np.empty((len(X), rows, cols, self.n_out))
        for r in range(rows):
            for c in range(cols):
                Z[:, r, c] = np.tensordot(Xp[:, r * sh:r * sh + kh, c * sw:c * sw + kw], W, axes=3) + b
        self.cache = {"X": X, "Z": Z, "padded": Xp}
        return self.activation.forward(Z)
""",
    ("layers.py", "Conv2D.backward"): """
        X, Z, Xp = self.cache["X"], self.cache["Z"], self.cache["padded"]
        W = self.parameters["W"]
        (kh, kw), (sh, sw), ((top, _), (left, _)) = self.kernel_shape, self.stride, self.pads
        dZ = self.activation.backward(Z, dLdY)
        dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
        for r in range(dZ.shape[1]):
            for c in range(dZ.shape[2]):
                rows, cols = slice(r * sh, r * sh + kh), slice(c * sw, c * sw + kw)
                dW += np.tensordot(Xp[:, rows, cols], dZ[:, r, c], axes=([0], [0]))
                dXp[:, rows, cols] += np.tensordot(dZ[:, r, c], W, axes=([1], [3]))
        self.gradients["W"] = dW
        self.gradients["b"] = dZ.sum(axis=(0, 1, 2)).reshape(1, -1)
        return dXp[:, top:top + X.shape[1], left:left + X.shape[2]]
""",
    ("layers.py", "Pool2D.forward"): """
        (top, bottom), (left, right) = self.pads
        fill = -np.inf if self.mode == "max" else 0.0
        Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
        (kh, kw), (sh, sw) = self.kernel_shape, self.stride
        rows, cols = (Xp.shape[1] - kh) // sh + 1, (Xp.shape[2] - kw) // sw + 1
        Y = np.empty((len(X), rows, cols, X.shape[3]))
        for r in range(rows):
            for c in range(cols):
                window = Xp[:, r * sh:r * sh + kh, c * sw:c * sw + kw]
                Y[:, r, c] = window.max(axis=(1, 2)) if self.mode == "max" else window.mean(axis=(1, 2))
        self.cache = {"X": X, "padded": Xp}
        return Y
""",
    ("layers.py", "Pool2D.backward"): """
        X, Xp = self.cache["X"], self.cache["padded"]
        (kh, kw), (sh, sw), ((top, _), (left, _)) = self.kernel_shape, self.stride, self.pads
        dXp = np.zeros(Xp.shape)
        for r in range(dLdY.shape[1]):
            for c in range(dLdY.shape[2]):
                rows, cols = slice(r * sh, r * sh + kh), slice(c * sw, c * sw + kw)
                if self.mode == "average":
                    dXp[:, rows, cols] += dLdY[:, r:r + 1, c:c + 1] / (kh * kw)
                    continue
                first = Xp[:, rows, cols].reshape(len(X), kh * kw, -1).argmax(axis=1)
                winner = np.arange(kh * kw)[None, :, None] == first[:, None, :]
                dXp[:, rows, cols] += (winner * dLdY[:, r, c][:, None]).reshape(len(X), kh, kw, -1)
        return dXp[:, top:top + X.shape[1], left:left + X.shape[2]]
""",
    ("layers.py", "BatchNorm1D.backward"): """
        m = len(X)
        self.gradients["gamma"] = (dLdY * X_hat).sum(axis=0, keepdims=True)
        self.gradients["beta"] = dLdY.sum(axis=0, keepdims=True)
        return gamma / (m * np.sqrt(var + self.eps)) * (
            m * dLdY - self.gradients["beta"] - X_hat * self.gradients["gamma"])
""",
}


def test_any_correct_implementation_gets_full_marks(tmp_path):
    package = copy_reference(tmp_path)
    for (module, method), code in VARIANTS.items():
        write_solution(package, module, method, code)
    assert failed(grader.grade("cnn", tmp_path, isolate=False)) == set()


# -- the starter ---------------------------------------------------------------------------

def after_docstring(source, method):
    """The first line of ``method``'s code after its docstring (the docstring
    may state the formulas: it stays)."""
    cls, name = method.split(".")
    node = next(item for node in ast.parse(source).body if isinstance(node, ast.ClassDef) and node.name == cls
                for item in node.body if getattr(item, "name", None) == name)
    first = node.body[0]
    has_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return first.end_lineno + 1 if has_docstring else node.lineno + 1


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_no_line_of_a_stubbed_solution_survives(built, assignment):
    known = build.known_methods()
    for module, methods in ASSIGNMENTS[assignment].methods.items():
        regions, _ = build.solution_regions(REFERENCE / module, known[module])
        reference = (REFERENCE / module).read_text().splitlines()
        starter = (built[assignment] / "student" / "neural_networks" / module).read_text()
        assert "SOLUTION" not in starter
        lines = starter.splitlines()
        stubbed = build.methods_of(ast.parse(starter), len(lines))
        for method in methods:
            begin, end = regions[method]
            solution = {line.strip() for line in reference[begin + 1:end]} - {""}
            first, last = stubbed[method]
            body = [line.strip() for line in lines[after_docstring(starter, method) - 1:last]]
            assert "### YOUR CODE HERE ###" in body
            assert solution.isdisjoint(body), f"{module} {method} keeps {solution & set(body)}"


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_the_blank_starter_scores_zero_and_the_reference_full_marks_locally(built, assignment,
                                                                            monkeypatch, tmp_path):
    student = built[assignment] / "student"
    blank = grader.grade(assignment, student, isolate=False)
    assert sum(r["score"] for r in blank) == 0
    visibility = {test["name"]: test["visibility"] for test in grader.results_json(blank)["tests"]}
    assert visibility == {test.name: "after_published" if test.hidden else "visible"
                          for test in ASSIGNMENTS[assignment].tests}
    # The starter's grader compares with its stored outputs of the visible tests.
    monkeypatch.setattr(grader, "EXPECTED", student / "course" / "expected")
    results = grader.grade(assignment, ROOT, isolate=False)
    assert failed(results) == set()
    assert {r["name"] for r in results} == {t.name for t in ASSIGNMENTS[assignment].tests if not t.hidden}
    with pytest.raises(ValueError, match="seed 0 only; got --seed 1"):
        grader.grade(assignment, ROOT, seed=1, isolate=False)


def test_the_starter_runs_its_grader_and_write_up(built):
    """It grades to 0 and writes its bundle (tests/test_notebook.py runs its notebook)."""
    student = built["mlp"] / "student"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "course", "grade", "mlp", "."], cwd=student, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "NotImplementedError: ReLU.forward is not implemented yet (activations.py, line" in done.stdout
    assert done.stdout.splitlines()[-1] == "Total: 0 / 32"
    done = subprocess.run([sys.executable, "generate_submission.py"], cwd=student, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'raise NotImplementedError("FullyConnected.backward is not implemented yet")' in done.stdout


# -- broken uploads ------------------------------------------------------------------------

@pytest.mark.parametrize("module_start, message", [
    ("while True:\n    pass\n", "timed out after 2 s (an endless loop?)"),
    ("def broken(:\n", "SyntaxError: invalid syntax (activations.py, line 1)"),
    ("import no_such_module\n", "ModuleNotFoundError: No module named 'no_such_module' (activations.py, line 1)"),
    ("from .im2col import im2col\n", "no im2col.py in the upload (activations.py, line 1)"),
    ("from .fast_layers import FastConv2D\n",
     "fast_layers is not available to graded code: write the method with NumPy (activations.py, line 1)"),
    (None, "no activations.py in the upload"),  # not taken from the installed reference (pip install -e)
])
def test_an_upload_that_does_not_import_scores_zero_in_bounded_time(tmp_path, module_start, message):
    flat = tmp_path / "upload"
    shutil.copytree(REFERENCE, flat, ignore=shutil.ignore_patterns("__pycache__"))
    module = flat / "activations.py"
    if module_start is None:
        module.unlink()
    else:
        module.write_text(module_start + module.read_text())
    start = time.perf_counter()
    results = grader.grade("cnn", flat, time_limit=2)
    assert time.perf_counter() - start < 20
    assert sum(r["score"] for r in results) == 0
    assert {r["output"] for r in results} == {f"the upload does not import: {message}"}


@pytest.mark.parametrize("code, message", [
    ("while True:\n            pass", "timed out after 2 s (an endless loop?)"),
    ("import os; os.write(2, 9999 * b'\\xff' + b'\\nboom\\xff'); os._exit(3)", "crashed (exit status 3): boom\ufffd"),
])
def test_an_endless_loop_or_a_crash_costs_only_its_test(tmp_path, code, message):
    make_mistake(copy_reference(tmp_path), "losses.py", "CrossEntropy.backward", "m = Y.shape[0]", code)
    start = time.perf_counter()
    results = grader.grade("mlp", tmp_path, time_limit=2)
    assert time.perf_counter() - start < 60
    assert failed(results) == {"CrossEntropy.backward"}
    assert next(r["output"] for r in results if r["output"]).endswith(message)


def test_an_upload_that_loops_everywhere_is_graded_within_the_budget(tmp_path):
    package = copy_reference(tmp_path)
    for module, methods in ASSIGNMENTS["mlp"].methods.items():
        for method in methods:
            write_solution(package, module, method, "        while True:\n            pass")
    start = time.perf_counter()
    results = grader.grade("mlp", tmp_path, time_limit=1, budget=3)
    assert time.perf_counter() - start < 10
    assert sum(r["score"] for r in results) == 0
    assert "timed out after 1 s" in results[0]["output"]
    assert results[-1]["output"] == "not run: the upload used up the grader's 3 s"


def test_a_worker_sees_only_the_upload_and_its_process_group_dies_with_it(tmp_path):
    package = copy_reference(tmp_path)
    alive = tmp_path / "alive"
    write_solution(package, "activations.py", "ReLU.forward", f"""
        import os, subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1); open({str(alive)!r}, 'w')"])
        reference = [p for p in sys.path if os.path.isfile(os.path.join(p or ".", "neural_networks", "im2col.py"))]
        raise RuntimeError(f"{{sorted(os.listdir('.'))}} {{reference}}")
""")
    results = grader.grade("mlp", tmp_path, time_limit=3)
    time.sleep(1.5)
    assert not alive.exists()
    assert "RuntimeError: ['neural_networks'] [] (activations.py, line" in results[0]["output"]


def test_expected_outputs_are_computed_before_the_upload_runs(tmp_path, monkeypatch):
    from neural_networks import activations
    monkeypatch.setattr(activations.ReLU, "forward", activations.ReLU.forward)  # restored afterwards
    package = copy_reference(tmp_path)
    make_mistake(package, "activations.py", "ReLU.forward", "return np.maximum(Z, 0)", "return Z")
    with open(package / "activations.py", "a") as module:  # the upload rewrites the reference
        module.write("import neural_networks.activations as reference\nreference.ReLU.forward = ReLU.forward\n")
    assert failed(grader.grade("mlp", tmp_path, isolate=False)) == {"ReLU.forward"}


def test_a_backward_that_runs_a_wrong_forward_says_to_fix_the_forward_first(tmp_path):
    make_mistake(copy_reference(tmp_path), "layers.py", "Flatten.forward",
                 "Y = X.reshape(X.shape[0], int(np.prod(X.shape[1:])))",
                 "X = X.swapaxes(1, -1)\n            Y = X.reshape(len(X), -1)")
    results = {r["name"]: r["output"] for r in grader.grade("cnn", tmp_path, isolate=False)}
    assert results["Flatten.forward"].startswith("case 1 of 3 (X (2, 3, 4, 5)): Y: largest absolute error")
    assert results["Flatten.backward"].startswith("fix Flatten.forward first (this test runs it): case 1 of 3")


def test_run_autograder_grades_a_flat_upload_end_to_end(built, tmp_path):
    with zipfile.ZipFile(built["mlp"] / "autograder.zip") as archive:
        archive.extractall(tmp_path / "source")
        assert {"setup.sh", "run_autograder"} <= set(archive.namelist())
    shutil.copytree(REFERENCE, tmp_path / "submission", ignore=shutil.ignore_patterns("__pycache__"))
    make_mistake(tmp_path / "submission", "layers.py", "FullyConnected.backward", "return dZ @ W.T",
                 "return dZ @ W")
    script = tmp_path / "source" / "run_autograder"
    script.chmod(0o755)
    env = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)  # the grader and the reference come from the zip
    subprocess.run([str(script)], env=env, check=True, capture_output=True, timeout=300)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 32 - 5
    seed = re.fullmatch(r"Graded with seed (\d+): python -m course grade mlp SUBMISSION --seed \1 repeats this run\.",
                        results["output"]).group(1)
    again = grader.grade("mlp", tmp_path / "submission", seed=int(seed), isolate=False)
    assert grader.results_json(again)["tests"] == results["tests"]
    row = next(test for test in results["tests"] if test["name"] == "FullyConnected.backward")
    assert row["status"] == "failed" and row["score"] == 0 and row["max_score"] == 5
    assert "ValueError: matmul" in row["output"] and "(layers.py, line" in row["output"]
    assert {test["visibility"] for test in results["tests"]} == {"visible"}


def test_fixtures_in_the_course_format(tmp_path):
    paths = build.write_fixtures("cnn", tmp_path)
    assert len(paths) == len(ASSIGNMENTS["cnn"].tests)
    data = tmp_path / "tests" / "data"
    relu = np.load(data / "TestReLUForward.npz")
    for i in range(3):
        assert np.array_equal(relu[f"{i}output"], np.maximum(relu[f"{i}input"], 0))
    loss = np.load(data / "TestCrossEntropyForward.npz")
    Y, Y_hat = loss["0input"], loss["0Y_hat"]
    assert np.isclose(loss["0output"], -np.sum(Y * np.log(Y_hat)) / len(Y))
    conv = np.load(data / "TestConv2DBackward.npz")
    assert {"1input", "1W", "1b", "1kernel_shape", "1stride", "1pad", "1activation", "1output",
            "1gradients_W", "1gradients_b"} <= set(conv.files)
    assert conv["1output"].shape == conv["1input"].shape and conv["1stride"] == 2


# -- the builder's checks of the markers ---------------------------------------------------

MODULE = '''class Layer:
    def forward(self, X):
        X = guard(X)
        {forward}

    def backward(self, dY):
        {backward}
'''


@pytest.mark.parametrize("forward, backward, message", [
    ("return X", "return dY", "m.py, line 2: Layer.forward has no solution markers"),
    ("# BEGIN SOLUTION\n        return X", "return dY",
     "m.py, line 4: Layer.forward: '# BEGIN SOLUTION' without '# END SOLUTION'"),
    ("return X\n        # END SOLUTION", "return dY",
     "m.py, line 5: Layer.forward: '# END SOLUTION' without '# BEGIN SOLUTION'"),
    ("# BEGIN SOLUTION\n        # BEGIN SOLUTION\n        return X\n        # END SOLUTION", "return dY",
     "m.py, line 5: Layer.forward: a second '# BEGIN SOLUTION' (one solution region per method)"),
    ("# BEGIN SOLUTION\n        return X\n        # END SOLUTION", "# BEGIN SOLUTION\n        return dY",
     "m.py, line 9: '# BEGIN SOLUTION' outside the assignments' methods (in Layer.backward)"),
    ("# BEGIN SOLUTION: the product\n        return X\n        # END SOLUTION", "return dY",
     "m.py, line 4: a marker must be the whole line, '# BEGIN SOLUTION' or '# END SOLUTION'; "
     "got '# BEGIN SOLUTION: the product'\n"
     "m.py, line 6: Layer.forward: '# END SOLUTION' without '# BEGIN SOLUTION'"),
])
def test_the_builder_names_the_file_method_and_line_of_a_bad_marker(tmp_path, forward, backward, message):
    path = tmp_path / "m.py"
    path.write_text(MODULE.format(forward=forward, backward=backward))
    with pytest.raises(build.BuildError) as error:
        build.stub_module(path, ["Layer.forward"], {"Layer.forward"})
    assert str(error.value) == message


def test_a_stub_keeps_the_guard_and_the_markers_of_other_assignments_go(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(MODULE.format(forward="# BEGIN SOLUTION\n        return X\n        # END SOLUTION",
                                  backward="# BEGIN SOLUTION\n        return dY\n        # END SOLUTION"))
    assert build.stub_module(path, ["Layer.forward"], {"Layer.forward", "Layer.backward"}) == MODULE.format(
        forward='### YOUR CODE HERE ###\n        raise NotImplementedError("Layer.forward is not implemented yet")',
        backward="return dY")
