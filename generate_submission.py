#!/usr/bin/env python3
"""Gather your implementations for the write-up, and bundle the autograder upload.

    python generate_submission.py                                  # Markdown on stdout
    python generate_submission.py -o code.tex --heading_level 2    # LaTeX, from the .tex
    python generate_submission.py --bundle submission              # the flat upload set

The write-up holds the source of each name in ``student_implementations`` (below);
its LaTeX is meant to be ``\\input{}`` into a document that loads ``listings``.
"""

import argparse
import csv
import importlib
import inspect
import io
import os
import re
import runpy
import shutil
import sys
import textwrap
import time
import tokenize
import unicodedata
from pathlib import Path

# ---- what goes into the write-up: add the names of anything else you wrote -------------
# Section title -> names relative to the neural_networks package: a class
# ("layers.Conv2D"), a function ("utils.check_gradients") or a method
# ("models.NeuralNetwork.forward").

student_implementations = {
    "Activations": ["activations.Linear", "activations.Sigmoid", "activations.TanH",
                    "activations.ArcTan", "activations.ReLU", "activations.SoftMax"],
    "Layers": ["layers.FullyConnected", "layers.Conv2D", "layers.Pool2D", "layers.Flatten",
               "layers.BatchNorm1D", "layers.Dropout"],
    "Losses": ["losses.CrossEntropy", "losses.L2"],
    "Model": ["models.NeuralNetwork.forward", "models.NeuralNetwork.backward",
              "models.NeuralNetwork.predict"],
}

ROOT = Path(__file__).resolve().parent
PACKAGE = "neural_networks"
SUFFIX_FORMATS = {".md": "markdown", ".tex": "latex"}
FORMATS = tuple(SUFFIX_FORMATS.values())
HEADING_LEVELS = (1, 2, 3)
SOLUTION_MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")  # course/build.py's, left out of excerpts


class SubmissionError(Exception):
    """A problem the user can fix; ``main`` prints it as one line and exits with 2."""


def excerpt(name):
    """``(display name, dedented source)`` of one entry: a dotted name inside the
    package, or an object that ``inspect`` reads (shown by its qualified name)."""
    obj, parts = name, name.split(".") if isinstance(name, str) else []
    if parts and (len(parts) < 2 or not all(part.isidentifier() for part in parts)):
        raise SubmissionError(f"unknown implementation {name!r}: expected a dotted name inside "
                              f"{PACKAGE}, like 'layers.Conv2D' or 'models.NeuralNetwork.forward'")
    for depth, part in enumerate(parts):
        where = ".".join([PACKAGE, *parts[:depth]])
        try:
            obj = getattr(obj, part) if depth else importlib.import_module(f"{where}.{part}")
        except AttributeError:
            raise SubmissionError(f"unknown implementation {name!r}: {where} has no attribute "
                                  f"{part!r}") from None
        except Exception as error:  # also the student's module failing to import
            if getattr(error, "name", None) in (PACKAGE, f"{where}.{part}"):
                raise SubmissionError(f"unknown implementation {name!r}: there is no module "
                                      f"{PACKAGE}/{part}.py") from None
            raise SubmissionError(f"cannot import {where}.{part} (for {name!r}): "
                                  f"{type(error).__name__}: {error}") from None
    name = name if parts else getattr(name, "__qualname__", repr(name))
    try:  # a property shows its getter
        source = inspect.getsource(getattr(obj, "fget", obj))
    except (TypeError, OSError) as error:
        raise SubmissionError(f"cannot read the source of {name!r}: {error}") from None
    lines = [line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS]
    return name, textwrap.dedent("\n".join(lines)).rstrip()


# ---- LaTeX --------------------------------------------------------------------------------

LATEX_HEADINGS = ("section", "subsection", "subsubsection", "paragraph")
# What pdflatex's listings cannot print, and the ASCII shown instead. Other
# letters lose their accents (an e with an acute accent becomes e), Greek
# letters are spelled out (alpha), and anything else becomes <U+XXXX>.
ASCII_REPLACEMENTS = {
    "→": "->", "←": "<-", "⇒": "=>", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~=", "±": "+/-",
    "×": "x", "÷": "/", "⁄": "/", "·": "*", "•": "*", "−": "-", "–": "-", "—": "--", "‘": "'",
    "’": "'", "“": '"', "”": '"', "∑": "sum", "√": "sqrt", "∞": "inf", "∂": "d", "∇": "grad",
    "∈": "in", "¬": "not", "λ": "lambda", "Λ": "Lambda", "✓": "v", "✗": "x", "\ufeff": "",
}
LATEX_SPECIALS = {**{char: "\\" + char for char in "{}_%&#$"}, "\\": r"\textbackslash{}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
                  ">": r"\textgreater{}", "|": r"\textbar{}"}


def to_ascii(text):
    """Transliterate ``text`` to printable ASCII; tabs and newlines are kept,
    other control characters (a carriage return, a form feed) dropped."""
    return "".join(char if char in "\t\n" or " " <= char <= "~" else _transliterate(char)
                   for char in text)


def _transliterate(char):
    if char in ASCII_REPLACEMENTS or unicodedata.category(char) == "Cc":
        return ASCII_REPLACEMENTS.get(char, "")
    # The compatibility decomposition without accents: a superscript two becomes 2.
    plain = "".join(ASCII_REPLACEMENTS.get(c, c) for c in unicodedata.normalize("NFKD", char)
                    if not unicodedata.combining(c))
    if plain and all(" " <= c <= "~" for c in plain):
        return plain
    greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", unicodedata.name(char, ""))
    if greek:
        return greek[2].lower() if greek[1] == "SMALL" else greek[2].title()
    return f"<U+{ord(char):04X}>"


def escape_latex(text):
    """``text`` as ASCII LaTeX that typesets the same characters (for headings)."""
    return "".join(LATEX_SPECIALS.get(char, char) for char in to_ascii(text))


# An article's text width holds 81 characters of \footnotesize typewriter type. Longer
# lines are broken here, never inside a name or a string; a continuation starts with
# a hooked arrow (about three characters wide, counted as four) after the indentation.
LISTING_COLUMNS = 80
ARROW_COLUMNS = 4
BREAK_AFTER = ",;([{"
# Each listing carries its options, so that it typesets the same in any document: a small
# monospaced font, spaces kept, a backtick printed as a backtick (not as an opening
# quote) and, in a document narrower than an article, lines broken by listings at spaces.
LISTING_OPTIONS = ",".join([
    "language=Python", r"basicstyle=\ttfamily\footnotesize", "columns=fullflexible",
    "keepspaces=true", "showstringspaces=false", "tabsize=4", r"literate={`}{{\`{}}}1",
    "breaklines=true", "breakatwhitespace=true", r"postbreak=\mbox{$\hookrightarrow$\space}",
])
LISTING_END = r"\end{lstlisting}"


def string_columns(text):
    """``{line number: [(start, end), ...]}``: the columns of each line of the
    Python source ``text`` that string literals cover (docstrings included)."""
    spans, starts = {}, []  # f-strings arrive in parts from Python 3.12 on
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tokenize.tok_name[token.type]
            if kind == "FSTRING_START":
                starts.append(token.start)
            elif kind in ("STRING", "FSTRING_END"):
                first, start = starts.pop() if kind == "FSTRING_END" else token.start
                last, end = token.end
                for row in range(first, last + 1):
                    spans.setdefault(row, []).append((start if row == first else -1,
                                                      end if row == last else float("inf")))
    except (tokenize.TokenError, SyntaxError):
        pass  # not Python as it stands: the spans found so far
    return spans


def wrap(line, strings, columns=LISTING_COLUMNS):
    """``line`` as pieces that fit ``columns`` (the others after the indentation and the
    arrow), each ending before a space or after ``BREAK_AFTER`` outside the ``strings``
    (column spans), else after a space inside one: a name is cut only if it is too long."""
    indent = len(line) - len(line.lstrip(" "))
    inside = [any(start < i < end for start, end in strings) for i in range(len(line))]
    pieces, pos, room = [], 0, columns
    while len(line) - pos > room:
        window = range(pos + room, max(pos, indent), -1)
        cut = next((i for i in window
                    if not inside[i] and (line[i] == " " or line[i - 1] in BREAK_AFTER)), None)
        if cut is None:
            cut = next((i for i in window if line[i - 1] == " "), pos + room)
            pieces.append(line[pos:cut])
        else:
            pieces.append(line[pos:cut].rstrip())
            cut = len(line) - len(line[cut:].lstrip(" "))
        pos, room = cut, max(columns - indent - ARROW_COLUMNS - 1, columns // 4)
    return pieces + [line[pos:]]


def listing(source):
    """An ``lstlisting`` of ``source`` in ASCII (for pdflatex), its long lines broken. A
    literal ``\\end{lstlisting}`` is broken up by an empty escape, unseen in print."""
    text = to_ascii(source).expandtabs(4)
    # The escape to LaTeX (for the arrows): the shortest (*@...@*) the source lacks.
    ats = next("@" * n for n in range(1, len(text) + 2) if f"(*{'@' * n}" not in text
               and f"{'@' * n}*)" not in text)
    begin, end = f"(*{ats}", f"{ats}*)"
    strings, lines = string_columns(text), []
    for number, line in enumerate(text.split("\n"), start=1):
        first, *rest = wrap(line, strings.get(number, []))
        indent = line[:len(line) - len(line.lstrip(" "))]
        lines += [first] + [f"{indent}{begin}$\\hookrightarrow${end} {piece}" for piece in rest]
    body = "\n".join(lines).replace(LISTING_END, LISTING_END[:3] + begin + end + LISTING_END[3:])
    return (f"\\begin{{lstlisting}}[{LISTING_OPTIONS},escapeinside={{{begin}}}{{{end}}}]\n"
            f"{body}\n{LISTING_END}")


def render(fmt="markdown", heading_level=1, implementations=None, standalone=False):
    """The write-up: section headings at ``heading_level``, each name one deeper.
    ``implementations`` maps section titles to lists of dotted names or objects."""
    if fmt not in FORMATS or heading_level not in HEADING_LEVELS or (standalone and fmt != "latex"):
        raise SubmissionError(f"format must be one of {list(FORMATS)} (latex if standalone) and "
                              f"heading_level one of {list(HEADING_LEVELS)}; got {fmt!r}, "
                              f"{heading_level!r} and standalone={standalone!r}")
    sections = [(str(title), [excerpt(n) for n in ([names] if isinstance(names, str) else names)])
                for title, names in (implementations or student_implementations).items()]
    lines, mark = [], "#" * heading_level
    if fmt == "markdown":
        for title, items in sections:
            lines += [f"{mark} {title}", ""]
            for name, source in items:
                # A fence longer than any run of backticks inside the source.
                fence = "`" * max([3] + [len(run) + 1 for run in re.findall("`+", source)])
                lines += [f"{mark}# `{name}`", "", fence + "python", source, fence, ""]
        return "\n".join(lines).rstrip() + "\n"
    section, item = LATEX_HEADINGS[heading_level - 1:heading_level + 1]
    lines = (["% Generated by generate_submission.py: compile it with pdflatex.",
              "\\documentclass{article}\n\\usepackage{listings}\n\\begin{document}\n"] if standalone
             else ["% Generated by generate_submission.py; \\input{} this file into a document",
                   "% that loads the listings package.", ""])
    for title, items in sections:
        lines += [f"\\{section}{{{escape_latex(title)}}}", ""]
        for name, source in items:
            lines += [f"\\{item}{{\\texttt{{{escape_latex(name)}}}}}", listing(source), ""]
    return "\n".join(lines).rstrip() + "\n" + ("\\end{document}\n" if standalone else "")


# ---- the upload bundle --------------------------------------------------------------------

TRAIN_SCRIPT = "train_ffnn.py"
REQUIRED_FILES = ("README.md", TRAIN_SCRIPT, "check_gradients.ipynb")  # and neural_networks/*.py
DEFAULT_BUNDLE = "submission"  # the one folder inside the project a bundle may go to
# Lists the files a bundle wrote: the only ones --overwrite may replace later.
BUNDLE_MARKER = ".submission-bundle"
HINT = "pass --predictions PATH (or --no-predictions)"


def script_run(root=ROOT):
    """``(run name, run folder, config)`` of the run ``root/train_ffnn.py`` makes when
    started without options, from its CONFIG and model_name (it is loaded, not run)."""
    why = f"cannot tell which run {TRAIN_SCRIPT} makes"
    try:
        script = runpy.run_path(str(Path(root) / TRAIN_SCRIPT), run_name="train_ffnn_settings")
        config = script.get("CONFIG")
        name = script["model_name"](config) if "model_name" in script and config else None
    except Exception as error:
        raise SubmissionError(f"{why}: reading its settings failed ({type(error).__name__}: "
                              f"{error}); {HINT}") from None
    if name is None:
        raise SubmissionError(f"{why}: it defines no CONFIG or model_name; {HINT}")
    return name, Path(root) / config.log_args["save_dir"] / name, config


def changed_settings(config, run_dir):
    """The settings of ``config`` that differ from those the run in ``run_dir``
    recorded in its ``model_args`` and ``data_args`` (as the training script does)."""
    from neural_networks.utils import load_pickle

    try:
        with open(run_dir / "model_args", "rb") as model, open(run_dir / "data_args", "rb") as data:
            model, data = load_pickle(model, ()), load_pickle(data, ())
    except Exception:  # no record to compare with
        return []
    now = [(f'model_args["{key}"]', model, key, value) for key, value in config.model_args.items()]
    now += [(f'data_args["{key}"]', data, key, value) for key, value in config.data_args.items()]
    now += [(key, model, key, getattr(config, key)) for key in ("layer_args", "optimizer_args")]
    now += [("EPOCHS", model, "epochs", config.epochs)]
    return [shown for shown, recorded, key, value in now if recorded.get(key, value) != value]


def check_predictions_file(path, what):
    """Refuse a file (``what`` in the message) that is not a predictions.csv as
    ``NeuralNetwork.test`` writes it: a header, then rows numbered 0, 1, 2, ..."""
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    except UnicodeDecodeError:  # shown as a header that is not text
        rows = [["(not text)"]]
    header = rows[0] if rows else []
    columns = [column for column in header[1:] if column not in ("predicted", "label")]
    prefix = "p" if header[1:2] == ["predicted"] else "y"
    if header[:1] != ["index"] or columns != [f"{prefix}{k}" for k in range(max(len(columns), 1))]:
        raise SubmissionError(f"{what} is not a predictions file: its header is "
                              f"{textwrap.shorten(','.join(header), 60, placeholder='...')!r}; "
                              f"NeuralNetwork.test writes 'index,predicted,label,p0,p1,...' "
                              f"(or 'index,y0,y1,...' for a regression)")
    if len(rows) < 2:
        raise SubmissionError(f"{what} holds a header but no predictions")
    for number, row in enumerate(rows[1:]):
        if len(row) != len(header) or row[0] != str(number):
            raise SubmissionError(f"{what} is not a complete predictions file: line {number + 2} "
                                  f"is {','.join(row)!r}")


def choose_predictions(root=ROOT, predictions=None):
    """``(path or None, note)``: the predictions.csv to upload (given, None for that of the
    run train_ffnn.py makes as it is now, or False for none) and where it came from."""
    if predictions is False:
        return None, "none (--no-predictions)"
    changed, path = [], Path(predictions or "")
    if predictions is None:
        name, run_dir, config = script_run(root)
        path = run_dir / "predictions.csv"
        shown = path.relative_to(root) if Path(root) in path.parents else path
        if not path.is_file():
            raise SubmissionError(f"no predictions.csv to upload: {TRAIN_SCRIPT}, as it is now, "
                                  f"trains the run {name}, which has no {shown} yet; train it "
                                  f"with 'python {TRAIN_SCRIPT}', or {HINT}")
        check_predictions_file(path, f"{shown} (of the run {TRAIN_SCRIPT} makes)")
        note, changed = f"from the run {name} ({shown})", changed_settings(config, run_dir)
    elif not path.is_file():
        raise SubmissionError(f"--predictions: no such file {path}")
    else:
        check_predictions_file(path, f"--predictions {path}")
        note = f"{path} (given with --predictions)"
    note += f", written {time.strftime('%Y-%m-%d %H:%M', time.localtime(path.stat().st_mtime))}"
    if changed:
        note += (f"; {TRAIN_SCRIPT} changed after that run ({', '.join(changed)} differ from the "
                 f"run's): train again if the change matters")
    return path, note


def check_destination(dest, files, overwrite, root=ROOT):
    """The earlier bundle's files in ``dest``, to delete first. Refuses a folder that is,
    holds or is inside the project (but ``DEFAULT_BUNDLE``), a folder that is not empty
    without ``overwrite``, and, with it, files that no bundle wrote in the way."""
    dest, target, project = Path(dest), Path(dest).resolve(), Path(root).resolve()
    if target == project or target in project.parents or (
            project in target.parents and target != project / DEFAULT_BUNDLE):
        raise SubmissionError(f"refusing to bundle into {dest}: it is the project, holds it or is "
                              f"inside it, with its source, data and runs; use {DEFAULT_BUNDLE}/ "
                              f"(which git ignores) or a folder outside the project")
    for _, source in files:
        if target in source.resolve().parents:
            raise SubmissionError(f"refusing to bundle into {dest}: {source} is inside it")
    entries = len(list(dest.iterdir())) if dest.exists() else 0
    if entries and not overwrite:
        raise SubmissionError(f"{dest} is not empty ({entries} entries); pass --overwrite to "
                              f"replace an earlier bundle there, or choose a new folder")
    if entries and not (dest / BUNDLE_MARKER).is_file():
        raise SubmissionError(f"{dest} holds files that no bundle wrote (no {BUNDLE_MARKER}); "
                              f"--overwrite only replaces an earlier bundle: choose a new folder")
    # Only plain file names in the marker count: nothing outside ``dest`` is ever deleted.
    marker = (dest / BUNDLE_MARKER).read_text(encoding="utf-8").splitlines() if entries else []
    ours = [name for name in marker if re.fullmatch(r"[\w.-]+", name) and name.strip(".")
            and name != BUNDLE_MARKER]
    for name, _ in files:
        if os.path.lexists(dest / name) and (name not in ours or (dest / name).is_dir()):
            raise SubmissionError(f"{dest / name} was not written by the earlier bundle; move it "
                                  f"away or choose a new folder")
    return [dest / name for name in ours if (dest / name).is_symlink() or (dest / name).is_file()]


def bundle(dest, overwrite=False, predictions=None, root=ROOT):
    """Copy the flat upload set into the folder ``dest`` (see :func:`check_destination`;
    ``predictions`` as in :func:`choose_predictions`); every ``.py`` file must compile.
    Returns ``[(path written, size in bytes), ...]`` and where predictions.csv came from."""
    root, dest = Path(root), Path(dest)
    modules = sorted((root / PACKAGE).glob("*.py"))
    files = [(name, root / name) for name in REQUIRED_FILES] + [(p.name, p) for p in modules]
    missing = [n for n, path in files if not path.is_file()] + [f"{PACKAGE}/*.py"] * (not modules)
    if missing:
        raise SubmissionError(f"missing {missing[0]}: the upload needs it (looked in {root})")
    for path in [path for name, path in files if name.endswith(".py")]:
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as error:  # ValueError: a null byte
            where = f"line {error.lineno}: {error.msg}" if isinstance(error, SyntaxError) else error
            raise SubmissionError(f"{path.relative_to(root)}, {where}: the file does not compile, "
                                  f"so the autograder could not import it; fix it") from None
    path, note = choose_predictions(root, predictions)
    files += [("predictions.csv", path)] if path else []
    for old in check_destination(dest, files, overwrite, root):
        old.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    # The marker goes first: a bundle stopped half-way can still be replaced.
    (dest / BUNDLE_MARKER).write_text("# Written by generate_submission.py --bundle; --overwrite "
                                      "replaces only these files. Not part of the upload.\n"
                                      + "".join(f"{name}\n" for name, _ in files), encoding="utf-8")
    for name, source in files:
        shutil.copyfile(source, dest / name)
    return [(dest / name, (dest / name).stat().st_size) for name, _ in files], note


# ---- command line -------------------------------------------------------------------------


def main(argv=None):
    """Run the command line; returns the exit status (0, or 2 on a user error)."""
    parser = argparse.ArgumentParser(
        prog="generate_submission.py", epilog="Edit student_implementations at the top of "
        "this file to add anything else you wrote.", description="Write the source of your "
        "implementations as Markdown or LaTeX, or bundle the files the autograder takes.")
    add = parser.add_argument
    add("-f", "--format", choices=FORMATS, help="default: that of -o FILE.tex/.md, else markdown")
    add("-o", "--output", metavar="FILE", help="write the write-up to FILE (default: stdout)")
    add("--heading_level", "--heading-level", type=int, choices=HEADING_LEVELS, default=1,
        help="level of the section headings; each implementation is one deeper (default: 1)")
    add("--standalone", action="store_true", help="LaTeX that compiles on its own")
    add("--bundle", metavar="DIR", help="copy README.md, train_ffnn.py, neural_networks/*.py, "
        "check_gradients.ipynb and predictions.csv flat into DIR (then no write-up unless -o)")
    add("--overwrite", action="store_true", help="with --bundle: replace an earlier bundle")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--predictions", metavar="PATH", help="with --bundle: the predictions.csv "
                       f"to include (default: that of the run {TRAIN_SCRIPT} makes as it is now)")
    group.add_argument("--no-predictions", action="store_true", help="upload no predictions.csv")
    args = parser.parse_args(argv)
    if args.bundle is None and (args.overwrite or args.predictions or args.no_predictions):
        parser.error("--overwrite, --predictions and --no-predictions go with --bundle DIR")
    implied = SUFFIX_FORMATS.get(Path(args.output or "").suffix.lower())
    if args.format and implied and args.format != implied:
        parser.error(f"-f {args.format} does not match -o {args.output} (a {implied} file); "
                     f"drop -f or rename the file")
    fmt = args.format or implied or "markdown"
    if args.standalone and fmt != "latex":
        parser.error(f"--standalone goes with LaTeX (-o FILE.tex or -f latex); got {fmt}")
    try:
        if args.bundle is not None:
            written, note = bundle(args.bundle, args.overwrite,
                                   False if args.no_predictions else args.predictions)
            ours = {path.name for path, _ in written} | {BUNDLE_MARKER}
            others = sorted(set(os.listdir(args.bundle)) - ours)
            print(f"Bundled {len(written)} files into {args.bundle} "
                  f"({sum(size for _, size in written):,} bytes):\n"
                  + "".join(f"  {size:>10,}  {path.name}\n" for path, size in written)
                  + f"predictions.csv: {note}" + (f"\nAlso in {args.bundle}, not written by the "
                  f"bundle and not part of the upload: {', '.join(others)}" if others else ""))
            print(f"Upload the {len(written)} files listed above as they are: side by side, no "
                  f"folder, no zip ({BUNDLE_MARKER} only records what the bundle wrote).")
        if args.bundle is None or args.output:
            text = render(fmt, args.heading_level, standalone=args.standalone)
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
                count = sum(len(names) for names in student_implementations.values())
                print(f"Wrote the {fmt} source of {count} implementations to {args.output}")
            else:
                sys.stdout.write(text)
    except (SubmissionError, OSError) as error:
        print(f"generate_submission.py: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
