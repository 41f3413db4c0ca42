"""Tests for generate_submission.py: the Markdown and LaTeX write-ups, the
command line, and the flat upload bundle (including importing the bundled
package on its own, as the autograder does).

The LaTeX is compiled with pdflatex when it is installed; without it those
tests skip, except under CI (the ``CI`` environment variable), where they fail.
"""

import importlib.util
import inspect
import io
import os
import re
import shutil
import subprocess
import sys
import time
import tokenize
import zlib
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


def long_lines(layer, kernel_shape, stride):
    """Quote ``double backticks`` as written; the lines below are longer than a page."""
    conv = dict(n_out=5, kernel_shape=kernel_shape, activation="relu", stride=stride, pad="same", weight_init="he")
    message = f"the layer {layer!r} with stride {stride} does not fit an input of this shape at all, sorry"
    return layer.output_shape_for(conv, kernel_shape, layer.stride, layer.pads), message, conv  # why: a comment of many words


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
        compile(code, heading, "exec")


def test_each_block_is_the_one_definition_it_names():
    """A block is the named class or function and nothing else: no helper
    appended after it (every later line is indented or blank)."""
    _, blocks = parse_markdown(gs.render("markdown", 1))
    for heading, _, code in blocks:
        first, *rest = [line for line in code.splitlines() if not line.startswith("@")]
        assert re.match(rf"(class|def) {heading.strip('`').split('.')[-1]}\b", first), heading
        assert all(line == "" or line.startswith(" ") for line in rest), heading


def test_default_mapping_covers_the_course_implementations():
    names = [name for names in gs.student_implementations.values() for name in names]
    for name in ("activations.ReLU", "activations.SoftMax", "layers.FullyConnected",
                 "layers.Conv2D", "layers.Pool2D", "layers.Flatten", "layers.BatchNorm1D",
                 "losses.CrossEntropy", "losses.L2", "models.NeuralNetwork.forward",
                 "models.NeuralNetwork.backward", "models.NeuralNetwork.predict"):
        assert name in names
    # The tuned kernels are part of the package, never of the write-up.
    assert not [name for name in names if name.startswith("fast_layers.")]


def test_method_source_is_dedented():
    _, blocks = parse_markdown(gs.render("markdown", 1, {"Model": ["models.NeuralNetwork.forward"]}))
    assert blocks[0][2].startswith("def forward(self, X")


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


def compile_latex(pdflatex, folder, body, name="main"):
    """``\\input{}`` ``body`` into a minimal document that loads listings, compile it
    and return the log; ``body`` must be pure ASCII."""
    (folder / "code.tex").write_bytes(body.encode("ascii"))
    (folder / f"{name}.tex").write_text(
        "\\documentclass{article}\n\\usepackage{listings}\n"
        "\\begin{document}\n\\input{code.tex}\n\\end{document}\n"
    )
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=folder, capture_output=True, text=True, errors="replace", timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (folder / f"{name}.pdf").stat().st_size > 0
    return (folder / f"{name}.log").read_text(errors="replace")


def overfull_boxes(log):
    """The ``Overfull \\hbox`` warnings of a pdflatex log: text running into the margin."""
    return [line for line in log.splitlines() if line.startswith("Overfull \\hbox")]


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
def test_latex_compiles_without_overfull_boxes(pdflatex, tmp_path, level):
    log = compile_latex(pdflatex, tmp_path, gs.render("latex", level))
    assert overfull_boxes(log) == []


def test_listings_fit_the_page_without_breaks_by_listings(pdflatex, tmp_path):
    """The lines are broken before LaTeX sees them: with listings' own breaking
    (which cuts names and strings anywhere) switched off, nothing is too wide."""
    implementations = {**gs.student_implementations, "Long": [long_lines, awkward_function]}
    text = gs.render("latex", 1, implementations).replace("breaklines=true", "breaklines=false")
    assert overfull_boxes(compile_latex(pdflatex, tmp_path, text)) == []


def listing_lines(text):
    """The lines of every listing in ``text``, a continuation joined to its line
    (the arrow and the escapes around it dropped)."""
    lines = []
    for options, body in re.findall(r"\\begin\{lstlisting\}\[([^\n]*)\]\n(.*?)\n\\end\{lstlisting\}",
                                    text, re.DOTALL):
        begin, end = re.search(r"escapeinside=\{(.*?)\}\{(.*?)\}", options).groups()
        arrow = re.escape(f"{begin}$\\hookrightarrow${end}")
        for line in body.replace(begin + end, "").split("\n"):
            piece = re.fullmatch(rf" *{arrow} (.*)", line)
            if piece:
                lines[-1].append(piece.group(1))
            else:
                lines.append([line])
    return lines


@pytest.mark.parametrize("source", [long_lines, awkward_function, "layers.Conv2D", "layers.Pool2D",
                                    "layers.BatchNorm1D"])
def test_latex_breaks_lines_between_names_and_strings(source):
    """Each line of a listing fits 80 columns (a continuation counts its
    indentation and 5 for the arrow), every name and string of the source that
    a continuation can hold stays whole, and the pieces join back to the line."""
    text = gs.render("latex", 1, {"S": [source]})
    code = gs.to_ascii(gs.excerpt(source)[1]).expandtabs(4)
    lines = listing_lines(text)
    assert len(lines) == len(code.split("\n"))
    for pieces, original in zip(lines, code.split("\n")):
        indent = len(original) - len(original.lstrip())
        assert len(pieces[0]) <= 80 and all(indent + 5 + len(p) <= 80 for p in pieces[1:]), pieces
        assert "".join(pieces).replace(" ", "") == original.replace(" ", "")
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        line = token.line.split("\n")[0]
        room = 80 - (len(line) - len(line.lstrip())) - 5  # what a continuation can hold
        if token.type in (tokenize.NAME, tokenize.STRING) and token.start[0] == token.end[0] \
                and len(token.string) <= room:
            assert any(token.string in piece for piece in lines[token.start[0] - 1]), token.string


def shown_text(pdf):
    """The text-showing operands of every page of ``pdf``, as raw bytes."""
    streams = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf.read_bytes(), re.DOTALL):
        try:
            streams.append(zlib.decompress(stream))
        except zlib.error:
            continue  # not a compressed content stream
    return b"".join(b"".join(re.findall(rb"\[(.*?)\]\s*TJ", s)) for s in streams)


def test_latex_prints_backticks_as_written(pdflatex, tmp_path):
    """Typewriter type turns a backtick into an opening quote (its glyph at the
    backtick's code); the listing prints the grave accent instead."""
    compile_latex(pdflatex, tmp_path, gs.render("latex", 1, {"S": [long_lines]}))
    shown = shown_text(tmp_path / "main.pdf")
    assert b"double" in shown and b"backticks" in shown
    assert b"`" not in shown


def test_listings_carry_their_own_layout_options():
    text = gs.render("latex", 1, {"Plain": ["activations.ReLU"]})
    options = re.search(r"^\\begin\{lstlisting\}\[(.*)\]$", text, re.MULTILINE).group(1)
    for option in ("language=Python", "breaklines=true", "columns=fullflexible",
                   "keepspaces=true", "basicstyle=\\ttfamily"):
        assert option in options


def test_standalone_latex_compiles_on_its_own(pdflatex, tmp_path):
    text = gs.render("latex", 1, standalone=True)
    assert text.startswith("%") and "\\documentclass{article}" in text
    assert text.rstrip().endswith("\\end{document}")
    # The body is the \\input{} version, unchanged.
    assert gs.render("latex", 1).split("\n", 2)[2].strip() in text
    (tmp_path / "code.tex").write_bytes(text.encode("ascii"))
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "code.tex"],
        cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert overfull_boxes((tmp_path / "code.log").read_text(errors="replace")) == []


def test_standalone_needs_latex():
    result = run_script("--standalone", "-o", "code.md")
    assert result.returncode == 2
    assert "--standalone" in result.stderr and "LaTeX" in result.stderr
    with pytest.raises(gs.SubmissionError, match="standalone"):
        gs.render("markdown", 1, standalone=True)


@pytest.mark.parametrize("level", [1, 3])
def test_latex_with_awkward_source_compiles(pdflatex, tmp_path, level):
    text = gs.render("latex", level, AWKWARD)
    n_listings = 4
    assert text.count("\\begin{lstlisting}") == n_listings
    # Exactly one literal \end{lstlisting} per listing: the one in the source is broken up.
    assert text.count("\\end{lstlisting}") == n_listings
    log = compile_latex(pdflatex, tmp_path, text)
    assert overfull_boxes(log) == []


def test_headings_escape_every_special_character():
    assert gs.escape_latex("a_b%c&d#e$f{g}h~i^j\\k") == (
        "a\\_b\\%c\\&d\\#e\\$f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k"
    )


def test_non_ascii_is_transliterated():
    assert gs.to_ascii("x → y ≤ z, café, α, λ, Ω, x²") == "x -> y <= z, cafe, alpha, lambda, Omega, x2"
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


@pytest.mark.parametrize("args, fmt", [
    (["-o", "code.tex"], "latex"),
    (["-o", "CODE.TEX", "--heading_level", "2"], "latex"),
    (["-o", "code.md"], "markdown"),
    (["-o", "code.txt"], "markdown"),
    (["-o", "code.txt", "-f", "latex"], "latex"),
    (["-o", "code.tex", "--format", "latex"], "latex"),
])
def test_the_format_follows_the_file_name(tmp_path, args, fmt):
    result = run_script(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    level = int(args[args.index("--heading_level") + 1]) if "--heading_level" in args else 1
    assert (tmp_path / args[1]).read_text() == gs.render(fmt, level)
    assert f"Wrote the {fmt} source" in result.stdout


@pytest.mark.parametrize("args", [["-o", "code.tex", "-f", "markdown"], ["-f", "latex", "-o", "x.md"]])
def test_a_format_that_contradicts_the_file_name_is_an_error(tmp_path, args):
    result = run_script(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "does not match" in result.stderr and args[args.index("-o") + 1] in result.stderr
    assert list(tmp_path.iterdir()) == []


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
    assert "layers.NoSuchLayer" in lines[0] and "has no attribute 'NoSuchLayer'" in lines[0]


@pytest.mark.parametrize("name, hint", [
    ("nosuchmodule.Thing", "no module"),
    ("losses", "dotted name"),
    ("layers..Conv2D", "dotted name"),
    ("activations.ACTIVATIONS", "source"),
])
def test_other_bad_names_are_explained(name, hint):
    with pytest.raises(gs.SubmissionError, match=hint) as info:
        gs.render("markdown", 1, {"Section": [name]})
    assert name in str(info.value)


def test_a_module_that_fails_to_import_is_named(tmp_path):
    """A student's module that raises on import: one line naming it and the error."""
    (tmp_path / "neural_networks").mkdir()
    (tmp_path / "neural_networks" / "__init__.py").write_text("")
    (tmp_path / "neural_networks" / "layers.py").write_text("import no_such_dependency\n")
    shutil.copyfile(SCRIPT, tmp_path / SCRIPT.name)
    result = subprocess.run([sys.executable, SCRIPT.name], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "cannot import neural_networks.layers" in result.stderr
    assert "no_such_dependency" in result.stderr


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

DEFAULT_RUN = "feed_forward_2layers_25-lr0.01_mom0.9_seed0"  # the README's name for it
PREDICTIONS_HEADER = "index,predicted,label,p0,p1,p2"


def upload_names(root):
    names = {"README.md", "train_ffnn.py", "check_gradients.ipynb"}
    return names | {path.name for path in (root / "neural_networks").glob("*.py")}


def snapshot(folder):
    """Every file under ``folder`` with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def write_predictions(path, predicted, mtime=None):
    """A predictions.csv as NeuralNetwork.test writes it for 3 classes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [PREDICTIONS_HEADER] + [f"{i},{p},{p},0.8,0.1,0.1" for i, p in enumerate(predicted)]
    path.write_text("\n".join(rows) + "\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def set_hyperparameters(root, lr="0.05", hidden="40", seed="3", activation="relu"):
    """Edit the dicts at the top of root/train_ffnn.py as a student would."""
    script = root / "train_ffnn.py"
    text = script.read_text()
    for old, new in (('"lr": 0.01,', f'"lr": {lr},'), ("SEED = 0", f"SEED = {seed}"),
                     ('"xavier_uniform", "n_out": 25}', f'"xavier_uniform", "n_out": {hidden}}}'),
                     ('"activation": "relu"', f'"activation": "{activation}"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    script.write_text(text)


@pytest.fixture
def fake_root(tmp_path):
    """A small project: the real scripts and package, plus things that must stay out."""
    root = tmp_path / "project"
    (root / "neural_networks" / "__pycache__").mkdir(parents=True)
    (root / "datasets").mkdir()
    for name in ("README.md", "check_gradients.ipynb", "generate_submission.py"):
        (root / name).write_text(f"# {name}\n")
    shutil.copyfile(ROOT / "train_ffnn.py", root / "train_ffnn.py")
    for path in (ROOT / "neural_networks").glob("*.py"):
        shutil.copyfile(path, root / "neural_networks" / path.name)
    (root / "neural_networks" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"\0")
    (root / "neural_networks" / "notes.txt").write_text("not code\n")
    (root / "datasets" / "iris.csv").write_text("data\n")
    return root


@pytest.fixture
def project_copy(tmp_path):
    """A copy of the whole project (not git, not Fashion-MNIST) with a finished
    run, so that a command that destroys files destroys only copies."""
    root = tmp_path / "project"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.pyc", ".pytest_cache", "fashion_mnist.npz", "submission",
        "experiments"))
    (root / "experiments").mkdir()
    shutil.copyfile(ROOT / "experiments" / "README.md", root / "experiments" / "README.md")
    run = root / "experiments" / DEFAULT_RUN
    run.mkdir()
    (run / "history.csv").write_text("epoch,train_loss\n1,0.5\n")
    (run / "log").write_bytes(b"\x80\x04pickle")
    write_predictions(run / "predictions.csv", [0, 1, 2])
    return root


def test_bundle_writes_exactly_the_flat_upload_set(tmp_path):
    predictions = write_predictions(tmp_path / "my_predictions.csv", [1, 0])
    dest = tmp_path / "submission"
    written, note = gs.bundle(dest, predictions=predictions)
    expected = upload_names(ROOT) | {"predictions.csv"}
    assert {path.name for path in dest.iterdir()} == expected | {gs.BUNDLE_MARKER}
    assert all(path.is_file() for path in dest.iterdir())
    assert {(path.name, size) for path, size in written} == {
        (name, (dest / name).stat().st_size) for name in expected
    }
    for path in (ROOT / "neural_networks").glob("*.py"):
        assert (dest / path.name).read_bytes() == path.read_bytes()
    assert (dest / "predictions.csv").read_bytes() == predictions.read_bytes()
    assert "given with --predictions" in note
    listed = [line for line in (dest / gs.BUNDLE_MARKER).read_text().splitlines()
              if not line.startswith("#")]
    assert sorted(listed) == sorted(expected)


def test_bundle_takes_the_default_run_of_the_default_settings(fake_root, tmp_path):
    write_predictions(fake_root / "experiments" / DEFAULT_RUN / "predictions.csv", [0, 2],
                      mtime=1_000_000)
    write_predictions(fake_root / "experiments" / "cnn_run_newer" / "predictions.csv", [1, 1],
                      mtime=2_000_000)
    dest = tmp_path / "out"
    _, note = gs.bundle(dest, root=fake_root)
    assert {path.name for path in dest.iterdir()} == (
        upload_names(fake_root) | {"predictions.csv", gs.BUNDLE_MARKER})
    assert (dest / "predictions.csv").read_text().endswith("1,2,2,0.8,0.1,0.1\n")
    assert f"from the run {DEFAULT_RUN}" in note


def test_bundle_takes_the_run_of_the_edited_hyperparameters(fake_root, tmp_path):
    """After editing train_ffnn.py and training, the new run's predictions go in,
    not the old default run's."""
    write_predictions(fake_root / "experiments" / DEFAULT_RUN / "predictions.csv", [0, 0],
                      mtime=time.time() + 100)
    set_hyperparameters(fake_root, lr="0.05", hidden="40", seed="3")
    new_run = "feed_forward_2layers_40-lr0.05_mom0.9_seed3"  # written out by hand
    new = write_predictions(fake_root / "experiments" / new_run / "predictions.csv", [2, 1, 0],
                            mtime=time.time() + 200)
    assert gs.script_run(fake_root)[:2] == (new_run, fake_root / "experiments" / new_run)
    path, note = gs.choose_predictions(fake_root)
    assert path == new
    assert new_run in note
    assert time.strftime("%Y-%m-%d %H:%M", time.localtime(new.stat().st_mtime)) in note
    gs.bundle(tmp_path / "out", root=fake_root)
    assert (tmp_path / "out" / "predictions.csv").read_bytes() == new.read_bytes()


@pytest.mark.parametrize("edit", [False, True])
def test_bundle_fails_without_the_predictions_of_the_script_as_it_is(fake_root, tmp_path, edit):
    """No run of the settings train_ffnn.py has now (none at all, or only one of
    other settings): an error naming the run and the ways out, nothing written."""
    write_predictions(fake_root / "experiments" / DEFAULT_RUN / "predictions.csv", [0, 0])
    run = DEFAULT_RUN
    if edit:
        set_hyperparameters(fake_root, hidden="40")
        run = "feed_forward_2layers_40-lr0.05_mom0.9_seed3"
    else:
        (fake_root / "experiments" / DEFAULT_RUN / "predictions.csv").unlink()
    with pytest.raises(gs.SubmissionError, match="no predictions.csv to upload") as info:
        gs.bundle(tmp_path / "out", root=fake_root)
    for part in (run, "python train_ffnn.py", "--predictions PATH", "--no-predictions"):
        assert part in str(info.value)
    assert not (tmp_path / "out").exists()
    written, note = gs.bundle(tmp_path / "out", predictions=False, root=fake_root)
    assert "predictions.csv" not in {path.name for path, _ in written}
    assert note == "none (--no-predictions)"


def record_run(root, **layer_changes):
    """The recorded arguments of the run train_ffnn.py makes (``model_args`` and
    ``data_args`` pickles, the course format), with the first layer's arguments
    changed as in ``layer_changes``; returns the run folder."""
    import pickle

    name, run_dir, config = gs.script_run(root)
    layers = [dict(config.layer_args[0], **layer_changes), *config.layer_args[1:]]
    model_args = {**config.model_args, "layer_args": layers,
                  "optimizer_args": config.optimizer_args, "epochs": config.epochs}
    write_predictions(run_dir / "predictions.csv", [1], mtime=1_000_000)
    (run_dir / "model_args").write_bytes(pickle.dumps(model_args))
    (run_dir / "data_args").write_bytes(pickle.dumps({**config.data_args, "dtype": "float64"}))
    return run_dir


@pytest.mark.parametrize("recorded, changed", [({}, False), ({"activation": "sigmoid"}, True)])
def test_a_changed_script_is_told_by_its_settings_not_its_file_time(fake_root, recorded, changed):
    """train_ffnn.py newer than the run (a git checkout, say) is no change; a
    setting that differs from the run's record is, whatever the file times."""
    record_run(fake_root, **recorded)
    os.utime(fake_root / "train_ffnn.py", (2_000_000, 2_000_000))
    _, note = gs.choose_predictions(fake_root)
    assert ("train_ffnn.py changed after that run (layer_args differ" in note) == changed
    assert "neural_networks" not in note


def test_the_bundle_names_the_run_the_script_really_trains(tmp_path):
    """Train with the edited script for one epoch, then bundle: the file that
    NeuralNetwork.test wrote for that run is the one in the upload; touching the
    script without changing it is no change."""
    root = tmp_path / "project"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", ".pytest_cache", "fashion_mnist.npz", "submission", "experiments",
        "tests", "benchmarks"))
    set_hyperparameters(root, lr="0.02", hidden="7", seed="1")
    trained = subprocess.run([sys.executable, "train_ffnn.py", "--epochs", "1", "--no-plot",
                              "--quiet"], cwd=root, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    (root / "train_ffnn.py").write_text((root / "train_ffnn.py").read_text().replace(
        "EPOCHS = 100", "EPOCHS = 1"))
    for args in (["--bundle", "submission"], ["--bundle", "submission", "--overwrite"]):
        result = subprocess.run([sys.executable, "generate_submission.py", *args],
                                cwd=root, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "from the run feed_forward_2layers_7-lr0.02_mom0.9_seed1" in result.stdout
        assert "changed after" not in result.stdout
        os.utime(root / "train_ffnn.py")  # as a checkout of the same content does
    run = root / "experiments" / "feed_forward_2layers_7-lr0.02_mom0.9_seed1"
    assert (root / "submission" / "predictions.csv").read_bytes() == (
        run / "predictions.csv").read_bytes()


@pytest.mark.parametrize("content, problem", [
    (b"epoch,train_loss,validate_loss\n1,0.9,0.8\n", "not a predictions file"),  # history.csv
    (b"\x80\x04\x95\xff pickle", "not a predictions file"),  # the log, not text
    (b"index,predicted,label,p0,p1,p2\n", "no predictions"),  # a header only
    (b"index,predicted,label,p0,p1,p2\n0,1,1,0.1,0.8,0.1\n2,1,1,0.1,0.8,0.1\n", "line 3"),
    (b"index,predicted,label,p0,p1,p2\n0,1,1\n", "not a complete predictions file"),
])
def test_bundle_refuses_a_file_that_is_not_predictions(fake_root, tmp_path, content, problem):
    wrong = tmp_path / "history.csv"
    wrong.write_bytes(content)
    with pytest.raises(gs.SubmissionError, match="history.csv") as info:
        gs.bundle(tmp_path / "out", predictions=wrong, root=fake_root)
    assert problem in str(info.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("header", ["index,predicted,p0,p1", "index,y0,y1,y2"])
def test_bundle_takes_predictions_without_labels_or_of_a_regression(fake_root, tmp_path, header):
    good = tmp_path / "predictions.csv"
    good.write_text(header + "\n" + "\n".join(
        f"{i}," + ",".join(["1"] * (header.count(","))) for i in range(3)) + "\n")
    gs.bundle(tmp_path / "out", predictions=good, root=fake_root)
    assert (tmp_path / "out" / "predictions.csv").read_bytes() == good.read_bytes()


def test_bundle_needs_a_script_whose_run_it_can_name(fake_root, tmp_path):
    (fake_root / "train_ffnn.py").write_text("print('hello')\n")
    with pytest.raises(gs.SubmissionError, match="CONFIG or model_name") as info:
        gs.bundle(tmp_path / "out", root=fake_root)
    assert "--predictions" in str(info.value)
    assert not (tmp_path / "out").exists()
    gs.bundle(tmp_path / "out", predictions=False, root=fake_root)


@pytest.mark.parametrize("name, source, line", [
    ("layers.py", "import numpy as np\n\ndef forward(X:\n    return X\n", 3),
    ("train_ffnn.py", "x = 1\nif x:\nprint(x)\n", 3),
    ("losses.py", "def f():\n\treturn 1\n        return 2\n", 3),
])
def test_bundle_refuses_a_file_that_does_not_compile(fake_root, tmp_path, name, source, line):
    path = fake_root / name if name == "train_ffnn.py" else fake_root / "neural_networks" / name
    path.write_text(source)
    with pytest.raises(gs.SubmissionError) as info:
        gs.bundle(tmp_path / "out", root=fake_root)
    message = str(info.value)
    assert name in message and f"line {line}" in message and "compile" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("missing", ["check_gradients.ipynb", "neural_networks"])
def test_bundle_needs_every_required_file(fake_root, tmp_path, missing):
    shutil.rmtree(fake_root / missing) if missing == "neural_networks" else (fake_root / missing).unlink()
    with pytest.raises(gs.SubmissionError, match=f"missing {missing}"):
        gs.bundle(tmp_path / "out", predictions=False, root=fake_root)
    assert not (tmp_path / "out").exists()


def test_bundle_refuses_a_non_empty_folder(fake_root, tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    with pytest.raises(gs.SubmissionError, match="--overwrite"):
        gs.bundle(dest, predictions=False, root=fake_root)
    assert [path.name for path in dest.iterdir()] == ["notes.txt"]


def test_bundle_overwrite_replaces_only_what_the_earlier_bundle_wrote(fake_root, tmp_path):
    dest = tmp_path / "out"
    extra = fake_root / "neural_networks" / "extra_layer.py"
    extra.write_text("# since removed\n")
    gs.bundle(dest, predictions=False, root=fake_root)
    assert (dest / "extra_layer.py").exists()
    (dest / "my_notes.txt").write_text("mine\n")  # the student's own file
    extra.unlink()
    gs.bundle(dest, overwrite=True, predictions=False, root=fake_root)
    assert {path.name for path in dest.iterdir()} == (
        upload_names(fake_root) | {gs.BUNDLE_MARKER, "my_notes.txt"})
    assert (dest / "my_notes.txt").read_text() == "mine\n"


def test_bundle_overwrite_never_replaces_a_file_it_did_not_write(fake_root, tmp_path):
    dest = tmp_path / "out"
    gs.bundle(dest, predictions=False, root=fake_root)
    (dest / "predictions.csv").write_text("my own predictions\n")
    good = write_predictions(tmp_path / "p.csv", [1])
    with pytest.raises(gs.SubmissionError, match="not written by the earlier bundle"):
        gs.bundle(dest, overwrite=True, predictions=good, root=fake_root)
    assert (dest / "predictions.csv").read_text() == "my own predictions\n"


@pytest.mark.parametrize("contents", [["keep.txt"], ["keep.txt", "sub/"], []])
def test_bundle_overwrite_refuses_a_folder_no_bundle_wrote(fake_root, tmp_path, contents):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine\n")
    if "sub/" in contents:
        (dest / "sub").mkdir()
    before = snapshot(dest)
    with pytest.raises(gs.SubmissionError, match="no bundle wrote"):
        gs.bundle(dest, overwrite=True, predictions=False, root=fake_root)
    assert snapshot(dest) == before


def test_bundle_overwrite_deletes_nothing_outside_the_folder(fake_root, tmp_path):
    """A marker that names a file elsewhere (edited by hand): that line is ignored."""
    dest = tmp_path / "out"
    dest.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (dest / gs.BUNDLE_MARKER).write_text("README.md\n../victim.txt\n..\n")
    gs.bundle(dest, overwrite=True, predictions=False, root=fake_root)
    assert victim.read_text() == "mine\n"
    assert {path.name for path in dest.iterdir()} == upload_names(fake_root) | {gs.BUNDLE_MARKER}


@pytest.mark.parametrize("where", ["root", "parent", "package", "datasets", "experiments"])
def test_bundle_never_writes_over_the_project(fake_root, where):
    dest = {"root": fake_root, "parent": fake_root.parent,
            "package": fake_root / "neural_networks", "datasets": fake_root / "datasets",
            "experiments": fake_root / "experiments" / "new_folder"}[where]
    before = snapshot(fake_root)
    with pytest.raises(gs.SubmissionError, match="refusing"):
        gs.bundle(dest, overwrite=True, predictions=False, root=fake_root)
    assert snapshot(fake_root) == before


@pytest.mark.parametrize("dest", ["datasets", "tests", f"experiments/{DEFAULT_RUN}",
                                  "neural_networks", "benchmarks", "experiments", "."])
def test_bundle_overwrite_inside_the_project_deletes_nothing(project_copy, dest):
    """`--bundle <a project folder> --overwrite` on a full copy of the project:
    refused, one line, every file as it was."""
    before = snapshot(project_copy)
    result = subprocess.run(
        [sys.executable, "generate_submission.py", "--bundle", dest, "--overwrite",
         "--no-predictions"], cwd=project_copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "refusing" in result.stderr
    assert snapshot(project_copy) == before


def test_bundle_into_the_default_folder_of_the_project(project_copy):
    """submission/ inside the project (ignored by git) is the one folder
    inside it that the bundle writes, and --overwrite rebuilds it."""
    for args in (["--bundle", "submission"], ["--bundle", "submission", "--overwrite"]):
        result = subprocess.run([sys.executable, "generate_submission.py", *args],
                                cwd=project_copy, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    dest = project_copy / "submission"
    assert {path.name for path in dest.iterdir()} == (
        upload_names(project_copy) | {"predictions.csv", gs.BUNDLE_MARKER})
    run = project_copy / "experiments" / DEFAULT_RUN
    assert (dest / "predictions.csv").read_bytes() == (run / "predictions.csv").read_bytes()
    assert f"from the run {DEFAULT_RUN}" in result.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", "submission/README.md"], cwd=ROOT)
    assert ignored.returncode == 0, "submission/ must be ignored by git"


def test_bundle_command_line(tmp_path):
    dest = tmp_path / "submission"
    result = run_script("--bundle", str(dest), "--no-predictions")
    assert result.returncode == 0, result.stderr
    names = upload_names(ROOT)
    assert {path.name for path in dest.iterdir()} == names | {gs.BUNDLE_MARKER}
    listed = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"\s+([\d,]+)\s+(\S+)", line)
        if match:
            listed[match.group(2)] = int(match.group(1).replace(",", ""))
    assert listed == {name: (dest / name).stat().st_size for name in names}
    assert "predictions.csv: none (--no-predictions)" in result.stdout

    again = run_script("--bundle", str(dest), "--no-predictions")
    assert again.returncode == 2
    assert len(again.stderr.splitlines()) == 1
    assert "not empty" in again.stderr and "--overwrite" in again.stderr

    (dest / "notes.txt").write_text("mine\n")
    overwritten = run_script("--bundle", str(dest), "--overwrite", "--no-predictions")
    assert overwritten.returncode == 0, overwritten.stderr
    assert {path.name for path in dest.iterdir()} == names | {gs.BUNDLE_MARKER, "notes.txt"}
    assert "not written by the bundle" in overwritten.stdout and "notes.txt" in overwritten.stdout


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


def test_excerpts_leave_out_the_course_solution_markers():
    name, source = gs.excerpt("layers.Conv2D.backward")
    assert "SOLUTION" not in source and "dXp[:, rows, cols, :] += dZ @ W[i, j].T" in source
