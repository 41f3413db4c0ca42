"""Tests for generate_submission.py: the Markdown and LaTeX write-ups, the
command line, and the flat upload bundle (including importing the bundled
package on its own, as the autograder does).

The LaTeX is compiled with pdflatex when it is installed; without it those
tests skip, except under CI (the ``CI`` environment variable), where they fail.
"""

import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "generate_submission.py"


def load_script():
    spec = importlib.util.spec_from_file_location("generate_submission", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gs = load_script()


def run_script(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def expected_items(implementations):
    """``[(section, [display names])]`` for a mapping of names and objects."""
    return [(title, [name if isinstance(name, str) else name.__qualname__ for name in names])
            for title, names in implementations.items()]


# ---------------------------------------------------------------------------
# Awkward source: what lstlisting and LaTeX headings cannot take as it is
# ---------------------------------------------------------------------------


def awkward_function(x_1, y_2):
    """Return x_1 → y_2 when x ≤ 1 (naïve café résumé, α ≥ β, ½ × 2 − 1 … “quoted”).

    Special characters: 100% & #1 $5 ~ ^ {braces} \\ back_slash.
    """
    ending = "\\end{lstlisting}"  # a literal end of a listing, then more code
    fence = "```"  # a Markdown fence inside the code
    percent = "%d%%" % 3  # comment with # and %
    return {"é": x_1 ** 2, "λ": y_2, "text": ending + fence + percent}


class Awkward:
    """A class whose method is indented in the file."""

    def method(self, value_):
        """A tab	is kept; ¬ and ✓ are not ASCII."""
        return value_ * 2  # 50% of #things & more_things


AWKWARD = {
    "Odd_section #1: 100% & $5 ~ ^ {x} \\ <é>": [awkward_function, Awkward.method, "layers.Flatten"],
    "Plain": ["activations.ReLU"],
}


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def parse_markdown(text):
    """``(headings, blocks)``: ``[(level, text)]`` and ``[(heading, info, code)]``,
    each code block under the heading that precedes it."""
    headings, blocks = [], []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = re.fullmatch(r"(`{3,})(\w*)", line)
        if opening:
            fence, body = opening.group(1), []
            i += 1
            while lines[i] != fence:
                body.append(lines[i])
                i += 1
            blocks.append((headings[-1][1], opening.group(2), "\n".join(body)))
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            headings.append((level, line[level:].strip()))
        else:
            assert line == "", f"unexpected text outside headings and code: {line!r}"
        i += 1
    return headings, blocks


@pytest.mark.parametrize("level", [1, 2, 3])
def test_markdown_has_every_implementation_under_its_heading(level):
    text = gs.render("markdown", level)
    headings, blocks = parse_markdown(text)
    expected_headings, expected_blocks = [], []
    for title, names in expected_items(gs.student_implementations):
        expected_headings.append((level, title))
        for name in names:
            expected_headings.append((level + 1, f"`{name}`"))
            expected_blocks.append(f"`{name}`")
    assert headings == expected_headings
    assert [heading for heading, _, _ in blocks] == expected_blocks
    for heading, info, code in blocks:
        assert info == "python"
        compile(textwrap.dedent(code), heading, "exec")
        last = heading.strip("`").split(".")[-1]
        assert re.search(rf"^(class|def) {last}\b", code, re.MULTILINE), heading


def test_default_mapping_covers_the_course_implementations():
    names = [name for names in gs.student_implementations.values() for name in names]
    for name in ("activations.SoftMax", "layers.Conv2D", "layers.Pool2D", "losses.CrossEntropy",
                 "losses.L2", "models.NeuralNetwork.backward"):
        assert name in names


def test_method_source_is_dedented():
    text = gs.render("markdown", 1, {"Model": ["models.NeuralNetwork.forward"]})
    _, blocks = parse_markdown(text)
    assert blocks[0][2].startswith("def forward(self, X, mode=\"test\"):")


def test_markdown_keeps_awkward_source_intact():
    text = gs.render("markdown", 2, AWKWARD)
    headings, blocks = parse_markdown(text)
    assert headings[1] == (3, "`awkward_function`")
    assert headings[2] == (3, "`Awkward.method`")
    # The source holds ``` so its fence is longer, and the text is unchanged.
    assert "````python" in text
    assert blocks[0][2] == inspect.getsource(awkward_function).rstrip()
    assert "→" in blocks[0][2]
    for heading, _, code in blocks:
        compile(code, heading, "exec")


# ---------------------------------------------------------------------------
# LaTeX
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pdflatex():
    path = shutil.which("pdflatex")
    if path is None:
        message = ("pdflatex is not installed (Debian: apt-get install --no-install-recommends "
                   "texlive-latex-base texlive-latex-recommended)")
        if "CI" in os.environ:
            pytest.fail(message + "; CI is set, so the LaTeX tests must run")
        pytest.skip(message)
    return path


def compile_latex(pdflatex, folder, body):
    """``\\input{}`` ``body`` into a minimal document that loads listings and compile it."""
    (folder / "code.tex").write_bytes(body.encode("ascii"))  # also: pure ASCII
    (folder / "main.tex").write_text(
        "\\documentclass{article}\n\\usepackage{listings}\n"
        "\\begin{document}\n\\input{code.tex}\n\\end{document}\n"
    )
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
        cwd=folder, capture_output=True, text=True, errors="replace", timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (folder / "main.pdf").stat().st_size > 0
    return (folder / "main.log").read_text(errors="replace")


@pytest.mark.parametrize("level", [1, 2, 3])
def test_latex_structure(level):
    text = gs.render("latex", level)
    commands = ["section", "subsection", "subsubsection", "paragraph"]
    section, item = commands[level - 1], commands[level]
    items = expected_items(gs.student_implementations)
    found_sections = re.findall(rf"^\\{section}\{{(.*)\}}$", text, re.MULTILINE)
    assert found_sections == [title for title, _ in items]
    found_items = re.findall(rf"^\\{item}\{{\\texttt\{{(.*)\}}\}}$", text, re.MULTILINE)
    assert found_items == [gs.escape_latex(name) for _, names in items for name in names]
    n_items = sum(len(names) for _, names in items)
    assert text.count("\\begin{lstlisting}[language=Python") == n_items
    assert text.count("\\end{lstlisting}") == n_items
    assert f"\\{item}{{\\texttt{{activations.SoftMax}}}}" in text
    text.encode("ascii")


@pytest.mark.parametrize("level", [1, 2, 3])
def test_latex_compiles(pdflatex, tmp_path, level):
    compile_latex(pdflatex, tmp_path, gs.render("latex", level))


@pytest.mark.parametrize("level", [1, 3])
def test_latex_with_awkward_source_compiles(pdflatex, tmp_path, level):
    text = gs.render("latex", level, AWKWARD)
    n_listings = 4
    assert text.count("\\begin{lstlisting}") == n_listings
    # Exactly one literal \end{lstlisting} per listing: the one in the source is broken up.
    assert text.count("\\end{lstlisting}") == n_listings
    assert "escapeinside" in text
    compile_latex(pdflatex, tmp_path, text)


def test_headings_escape_every_special_character():
    assert gs.escape_latex("a_b%c&d#e$f{g}h~i^j\\k") == (
        "a\\_b\\%c\\&d\\#e\\$f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k"
    )


def test_non_ascii_is_transliterated():
    assert gs.to_ascii("x → y ≤ z, café, α, λ") == "x -> y <= z, cafe, alpha, lambda"
    assert gs.to_ascii("a\tb\r\nc\fd") == "a\tb\ncd"
    assert gs.to_ascii("\N{SNOWMAN}") == "<U+2603>"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def test_help():
    result = run_script("--help")
    assert result.returncode == 0
    for option in ("--format", "--output", "--heading_level", "--bundle", "--overwrite"):
        assert option in result.stdout


def test_markdown_on_stdout_by_default():
    result = run_script()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Activations\n")
    assert result.stdout == gs.render("markdown", 1)


def test_latex_to_a_file(tmp_path):
    out = tmp_path / "code.tex"
    result = run_script("-f", "latex", "-o", str(out), "--heading_level", "2")
    assert result.returncode == 0, result.stderr
    assert out.read_text() == gs.render("latex", 2)
    assert "\\subsection{Activations}" in out.read_text()


def test_bad_heading_level_is_a_usage_error():
    result = run_script("--heading_level", "4")
    assert result.returncode == 2
    assert "heading_level" in result.stderr


def test_unknown_name_fails_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(gs.student_implementations, "Layers",
                        ["layers.FullyConnected", "layers.NoSuchLayer"])
    assert gs.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert "layers.NoSuchLayer" in lines[0]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("name, hint", [
    ("nosuchmodule.Thing", "no module"),
    ("losses", "dotted name"),
    ("activations.ACTIVATIONS", "source"),
])
def test_other_bad_names_are_explained(name, hint):
    with pytest.raises(gs.SubmissionError, match=hint) as info:
        gs.render("markdown", 1, {"Section": [name]})
    assert name in str(info.value)


def test_unknown_name_in_a_subprocess():
    code = ("import sys, generate_submission as g; "
            "g.student_implementations['Losses'].append('losses.Huber'); "
            "sys.exit(g.main(['-f', 'latex']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "losses.Huber" in result.stderr


# ---------------------------------------------------------------------------
# The upload bundle
# ---------------------------------------------------------------------------


def upload_names(root):
    names = {"README.md", "train_ffnn.py", "check_gradients.ipynb"}
    return names | {path.name for path in (root / "neural_networks").glob("*.py")}


@pytest.fixture
def fake_root(tmp_path):
    """A small project: the upload's files plus things that must stay out."""
    root = tmp_path / "project"
    (root / "neural_networks" / "__pycache__").mkdir(parents=True)
    (root / "datasets").mkdir()
    for name in ("README.md", "train_ffnn.py", "check_gradients.ipynb", "generate_submission.py"):
        (root / name).write_text(f"# {name}\n")
    for name in ("__init__.py", "layers.py"):
        (root / "neural_networks" / name).write_text(f"# {name}\n")
    (root / "neural_networks" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"\0")
    (root / "neural_networks" / "notes.txt").write_text("not code\n")
    (root / "datasets" / "iris.csv").write_text("data\n")
    return root


def add_runs(root):
    """The default train_ffnn.py run with predictions, and a newer other run."""
    for i, run in enumerate((gs.DEFAULT_RUN, "cnn_run_newer")):
        path = root / "experiments" / run / "predictions.csv"
        path.parent.mkdir(parents=True)
        path.write_text(f"index,predicted\n0,{i}\n")
        os.utime(path, (1_000_000 + i * 1000, 1_000_000 + i * 1000))


def test_bundle_writes_exactly_the_flat_upload_set(tmp_path):
    predictions = tmp_path / "my_predictions.csv"
    predictions.write_text("index,predicted\n0,1\n")
    dest = tmp_path / "submission"
    written = gs.bundle(dest, predictions=predictions)
    expected = upload_names(ROOT) | {"predictions.csv"}
    assert {path.name for path in dest.iterdir()} == expected
    assert all(path.is_file() for path in dest.iterdir())
    assert {(path.name, size) for path, size in written} == {
        (path.name, path.stat().st_size) for path in dest.iterdir()
    }
    for path in (ROOT / "neural_networks").glob("*.py"):
        assert (dest / path.name).read_bytes() == path.read_bytes()
    assert (dest / "predictions.csv").read_bytes() == predictions.read_bytes()


def test_bundle_picks_the_default_runs_predictions_not_the_newest(fake_root, tmp_path):
    add_runs(fake_root)
    dest = tmp_path / "out"
    gs.bundle(dest, root=fake_root)
    assert sorted(path.name for path in dest.iterdir()) == sorted(
        ["README.md", "train_ffnn.py", "check_gradients.ipynb", "__init__.py", "layers.py",
         "predictions.csv"]
    )
    assert (dest / "predictions.csv").read_text().endswith("0,0\n")


def test_bundle_without_predictions(fake_root, tmp_path):
    gs.bundle(tmp_path / "a", root=fake_root)
    assert not (tmp_path / "a" / "predictions.csv").exists()
    add_runs(fake_root)
    gs.bundle(tmp_path / "b", predictions=False, root=fake_root)
    assert not (tmp_path / "b" / "predictions.csv").exists()


def test_bundle_needs_every_required_file(fake_root, tmp_path):
    (fake_root / "check_gradients.ipynb").unlink()
    with pytest.raises(gs.SubmissionError, match="check_gradients.ipynb"):
        gs.bundle(tmp_path / "out", root=fake_root)
    assert not (tmp_path / "out").exists()


def test_bundle_refuses_a_non_empty_folder(fake_root, tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    with pytest.raises(gs.SubmissionError, match="--overwrite"):
        gs.bundle(dest, root=fake_root)
    assert [path.name for path in dest.iterdir()] == ["notes.txt"]


def test_bundle_overwrite_replaces_an_earlier_bundle(fake_root, tmp_path):
    dest = tmp_path / "out"
    add_runs(fake_root)
    gs.bundle(dest, root=fake_root)
    (dest / "stale_module.py").write_text("# removed since\n")
    gs.bundle(dest, overwrite=True, predictions=False, root=fake_root)
    assert sorted(path.name for path in dest.iterdir()) == sorted(
        ["README.md", "train_ffnn.py", "check_gradients.ipynb", "__init__.py", "layers.py"]
    )


def test_bundle_overwrite_leaves_folders_with_subfolders_alone(fake_root, tmp_path):
    dest = tmp_path / "out"
    (dest / "sub").mkdir(parents=True)
    (dest / "keep.txt").write_text("mine\n")
    with pytest.raises(gs.SubmissionError, match="folders"):
        gs.bundle(dest, overwrite=True, root=fake_root)
    assert (dest / "keep.txt").exists()


@pytest.mark.parametrize("where", ["root", "parent", "package"])
def test_bundle_never_writes_over_the_project(fake_root, where):
    dest = {"root": fake_root, "parent": fake_root.parent,
            "package": fake_root / "neural_networks"}[where]
    before = sorted(str(path) for path in fake_root.rglob("*"))
    with pytest.raises(gs.SubmissionError, match="refusing"):
        gs.bundle(dest, overwrite=True, root=fake_root)
    assert sorted(str(path) for path in fake_root.rglob("*")) == before


def test_bundle_command_line(tmp_path):
    dest = tmp_path / "submission"
    result = run_script("--bundle", str(dest), "--no-predictions")
    assert result.returncode == 0, result.stderr
    names = upload_names(ROOT)
    assert {path.name for path in dest.iterdir()} == names
    listed = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"\s+([\d,]+)\s+(\S+)", line)
        if match:
            listed[match.group(2)] = int(match.group(1).replace(",", ""))
    assert listed == {name: (dest / name).stat().st_size for name in names}

    again = run_script("--bundle", str(dest))
    assert again.returncode == 2
    assert len(again.stderr.splitlines()) == 1
    assert "not empty" in again.stderr and "--overwrite" in again.stderr

    overwritten = run_script("--bundle", str(dest), "--overwrite", "--no-predictions")
    assert overwritten.returncode == 0, overwritten.stderr
    assert {path.name for path in dest.iterdir()} == names


def test_bundle_missing_predictions_file(tmp_path):
    result = run_script("--bundle", str(tmp_path / "out"), "--predictions",
                        str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert "nope.csv" in result.stderr
    assert not (tmp_path / "out").exists()


def test_overwrite_needs_bundle():
    result = run_script("--overwrite")
    assert result.returncode == 2
    assert "--bundle" in result.stderr


GRADER_SCRIPT = """
import importlib
from pathlib import Path

import numpy as np

import neural_networks
from neural_networks.layers import Conv2D, Flatten, FullyConnected, Pool2D
from neural_networks.losses import CrossEntropy

here = Path.cwd().resolve()
assert Path(neural_networks.__file__).resolve() == here / "neural_networks" / "__init__.py", \\
    neural_networks.__file__
# Every module imports without the rest of the repository (no data, no scripts).
for path in sorted((here / "neural_networks").glob("*.py")):
    module = importlib.import_module("neural_networks." + path.stem)
    assert Path(module.__file__).resolve() == path, module.__file__

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 8, 8, 3))
Y = np.eye(3)[[0, 1, 2, 0]]
stack = [
    (Conv2D(n_out=5, kernel_shape=3, activation="relu", stride=1, pad="same"), (4, 8, 8, 5)),
    (Pool2D(kernel_shape=2, mode="max", stride=2), (4, 4, 4, 5)),
    (Pool2D(kernel_shape=3, mode="average", stride=1, pad=1), (4, 4, 4, 5)),
    (Flatten(), (4, 80)),
    (FullyConnected(n_out=3, activation="softmax"), (4, 3)),
]
inputs = []
out = X
for layer, shape in stack:
    inputs.append(out)
    out = layer.forward(out)
    assert out.shape == shape, (layer, out.shape)
    assert np.all(np.isfinite(out))
loss = CrossEntropy("cross_entropy")
value = loss.forward(Y, out)
assert np.isfinite(value) and value > 0
grad = loss.backward(Y, out)
for (layer, _), layer_input in zip(reversed(stack), reversed(inputs)):
    grad = layer.backward(grad)
    assert grad.shape == layer_input.shape, (layer, grad.shape)
    assert np.all(np.isfinite(grad))
    for name, parameter in layer.parameters.items():
        assert layer.gradients[name].shape == parameter.shape
        assert np.all(np.isfinite(layer.gradients[name]))
print("grader import OK", value)
"""


def test_bundled_package_imports_on_its_own(tmp_path):
    """Rebuild the package from the flat upload alone and use it, as a grader would."""
    upload = tmp_path / "upload"
    gs.bundle(upload, predictions=False)
    grader = tmp_path / "grader"
    package = grader / "neural_networks"
    package.mkdir(parents=True)
    for path in upload.glob("*.py"):
        if path.name != "train_ffnn.py":
            shutil.copyfile(path, package / path.name)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(grader)
    result = subprocess.run([sys.executable, "-c", GRADER_SCRIPT], cwd=grader, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "grader import OK" in result.stdout
