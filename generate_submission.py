#!/usr/bin/env python3
"""Gather your implementations for the write-up, and bundle the autograder upload.

    python generate_submission.py                          # Markdown on stdout
    python generate_submission.py -o code.md               # Markdown to a file
    python generate_submission.py -f latex -o code.tex --heading_level 2
    python generate_submission.py --bundle submission      # the flat upload set
    python generate_submission.py --help

The write-up takes the source of every name in ``student_implementations``
(below), read with ``inspect``, one section per entry. The LaTeX version is
meant to be ``\\input{}`` into a document that loads the ``listings`` package.

``--bundle DIR`` copies the files the autograder takes into DIR, side by side
(no folders): README.md, train_ffnn.py, every neural_networks/*.py,
check_gradients.ipynb and the default run's predictions.csv when it exists.
"""

import argparse
import importlib
import inspect
import shutil
import sys
import textwrap
import unicodedata
from pathlib import Path

# ---- what goes into the write-up: add the names of anything else you wrote -------------
# Section title -> names relative to the neural_networks package: a class
# ("layers.Conv2D"), a function ("utils.check_gradients") or a method
# ("models.NeuralNetwork.forward").

student_implementations = {
    "Activations": [
        "activations.Linear",
        "activations.Sigmoid",
        "activations.TanH",
        "activations.ArcTan",
        "activations.ReLU",
        "activations.SoftMax",
    ],
    "Layers": ["layers.FullyConnected", "layers.Conv2D", "layers.Pool2D"],
    "Losses": ["losses.CrossEntropy", "losses.L2"],
    "Model": [
        "models.NeuralNetwork.forward",
        "models.NeuralNetwork.backward",
        "models.NeuralNetwork.predict",
    ],
}

# -------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent
PACKAGE = "neural_networks"
FORMATS = ("markdown", "latex")
HEADING_LEVELS = (1, 2, 3)
# The upload, besides neural_networks/*.py and the optional predictions.csv.
REQUIRED_FILES = ("README.md", "train_ffnn.py", "check_gradients.ipynb")
PREDICTIONS_NAME = "predictions.csv"


class SubmissionError(Exception):
    """A problem the user can fix; ``main`` prints it as one line and exits with 2."""


# ---- finding the source -------------------------------------------------------------------


def resolve(name):
    """Return ``(display name, object)`` for one entry of an implementations list.

    ``name`` is a dotted name relative to the package, or an object that
    ``inspect.getsource`` accepts (shown under its qualified name).
    """
    if not isinstance(name, str):
        return getattr(name, "__qualname__", repr(name)), name
    parts = name.split(".")
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise SubmissionError(
            f"unknown implementation {name!r}: expected a dotted name inside {PACKAGE}, "
            f"like 'layers.Conv2D' or 'models.NeuralNetwork.forward'"
        )
    module_name = f"{PACKAGE}.{parts[0]}"
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name in (PACKAGE, module_name):
            raise SubmissionError(
                f"unknown implementation {name!r}: there is no module {PACKAGE}/{parts[0]}.py"
            ) from None
        raise SubmissionError(f"cannot import {module_name} (for {name!r}): {error}") from None
    except Exception as error:  # the student's module itself fails to import
        raise SubmissionError(
            f"cannot import {module_name} (for {name!r}): {type(error).__name__}: {error}"
        ) from None
    for depth, attribute in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, attribute)
        except AttributeError:
            owner = ".".join([PACKAGE, *parts[:depth]])
            raise SubmissionError(
                f"unknown implementation {name!r}: {owner} has no attribute {attribute!r}"
            ) from None
    return name, obj


def source_of(name, obj):
    """The dedented source of ``obj`` without trailing blank lines."""
    if isinstance(obj, property):
        obj = obj.fget
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise SubmissionError(f"cannot read the source of {name!r}: {error}") from None
    return textwrap.dedent(source).rstrip()


def collect(implementations):
    """``[(section title, [(name, source), ...]), ...]`` in the mapping's order."""
    if not hasattr(implementations, "items"):
        raise SubmissionError(
            "implementations must map section titles to lists of names; "
            f"got {type(implementations).__name__}"
        )
    sections = []
    for title, names in implementations.items():
        if isinstance(names, str):
            names = [names]
        items = []
        for name in names:
            display, obj = resolve(name)
            items.append((display, source_of(display, obj)))
        sections.append((str(title), items))
    return sections


# ---- Markdown -----------------------------------------------------------------------------


def _fence(source):
    """A backtick fence longer than any run of backticks inside ``source``."""
    longest = run = 0
    for char in source:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def render_markdown(sections, heading_level):
    lines = []
    for title, items in sections:
        lines += ["#" * heading_level + " " + title, ""]
        for name, source in items:
            fence = _fence(source)
            lines += ["#" * (heading_level + 1) + f" `{name}`", "",
                      fence + "python", source, fence, ""]
    return "\n".join(lines).rstrip() + "\n"


# ---- LaTeX --------------------------------------------------------------------------------

LATEX_HEADINGS = ("section", "subsection", "subsubsection", "paragraph")

# Characters that pdflatex and lstlisting cannot take as they are, and the ASCII
# shown instead. Accented letters lose their accents, Greek letters are spelled
# out (alpha) and anything else becomes <U+XXXX>; see to_ascii.
ASCII_REPLACEMENTS = {
    "\N{RIGHTWARDS ARROW}": "->",
    "\N{LEFTWARDS ARROW}": "<-",
    "\N{LEFT RIGHT ARROW}": "<->",
    "\N{RIGHTWARDS DOUBLE ARROW}": "=>",
    "\N{LEFTWARDS DOUBLE ARROW}": "<=",
    "\N{LEFT RIGHT DOUBLE ARROW}": "<=>",
    "\N{RIGHTWARDS ARROW FROM BAR}": "|->",
    "\N{LESS-THAN OR EQUAL TO}": "<=",
    "\N{GREATER-THAN OR EQUAL TO}": ">=",
    "\N{NOT EQUAL TO}": "!=",
    "\N{ALMOST EQUAL TO}": "~=",
    "\N{IDENTICAL TO}": "==",
    "\N{PLUS-MINUS SIGN}": "+/-",
    "\N{MULTIPLICATION SIGN}": "x",
    "\N{DIVISION SIGN}": "/",
    "\N{FRACTION SLASH}": "/",
    "\N{DOT OPERATOR}": "*",
    "\N{MIDDLE DOT}": "*",
    "\N{BULLET}": "*",
    "\N{MINUS SIGN}": "-",
    "\N{HYPHEN}": "-",
    "\N{NON-BREAKING HYPHEN}": "-",
    "\N{EN DASH}": "-",
    "\N{EM DASH}": "--",
    "\N{LEFT SINGLE QUOTATION MARK}": "'",
    "\N{RIGHT SINGLE QUOTATION MARK}": "'",
    "\N{LEFT DOUBLE QUOTATION MARK}": '"',
    "\N{RIGHT DOUBLE QUOTATION MARK}": '"',
    "\N{LEFT-POINTING DOUBLE ANGLE QUOTATION MARK}": "<<",
    "\N{RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK}": ">>",
    "\N{N-ARY SUMMATION}": "sum",
    "\N{N-ARY PRODUCT}": "prod",
    "\N{SQUARE ROOT}": "sqrt",
    "\N{INFINITY}": "inf",
    "\N{PARTIAL DIFFERENTIAL}": "d",
    "\N{NABLA}": "grad",
    "\N{ELEMENT OF}": "in",
    "\N{NOT AN ELEMENT OF}": "not in",
    "\N{FOR ALL}": "for all",
    "\N{THERE EXISTS}": "exists",
    "\N{LOGICAL AND}": "and",
    "\N{LOGICAL OR}": "or",
    "\N{NOT SIGN}": "not",
    "\N{DEGREE SIGN}": "deg",
    "\N{MICRO SIGN}": "mu",
    "\N{GREEK SMALL LETTER LAMDA}": "lambda",  # Unicode spells it "lamda"
    "\N{GREEK CAPITAL LETTER LAMDA}": "Lambda",
    "\N{CHECK MARK}": "v",
    "\N{BALLOT X}": "x",
    "\N{SECTION SIGN}": "S",
    "\N{COPYRIGHT SIGN}": "(c)",
    "\N{ZERO WIDTH SPACE}": "",
    "\N{ZERO WIDTH NO-BREAK SPACE}": "",
    "\N{SOFT HYPHEN}": "",
}


def to_ascii(text):
    """Transliterate ``text`` to printable ASCII; tabs and newlines are kept,
    other control characters (a carriage return, a form feed) dropped."""
    out = []
    for char in text:
        if char in "\t\n" or " " <= char <= "~":
            out.append(char)
        elif unicodedata.category(char) == "Cc":
            continue
        else:
            out.append(_transliterate(char))
    return "".join(out)


def _transliterate(char):
    if char in ASCII_REPLACEMENTS:
        return ASCII_REPLACEMENTS[char]
    # Compatibility decomposition without the accents: an e with an acute accent
    # becomes e, a superscript two becomes 2, a no-break space a space.
    decomposed = unicodedata.normalize("NFKD", char)
    parts = [ASCII_REPLACEMENTS.get(c, c) for c in decomposed if not unicodedata.combining(c)]
    if parts and all(" " <= c <= "~" for part in parts for c in part):
        return "".join(parts)
    name = unicodedata.name(char, "")
    for prefix, case in (("GREEK SMALL LETTER ", str.lower), ("GREEK CAPITAL LETTER ", str.title)):
        if name.startswith(prefix) and name[len(prefix):].isalpha():
            return case(name[len(prefix):])
    return f"<U+{ord(char):04X}>"


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def escape_latex(text):
    """``text`` as ASCII LaTeX that typesets the same characters (for headings)."""
    return "".join(LATEX_SPECIALS.get(char, char) for char in to_ascii(text))


LISTING_END = r"\end{lstlisting}"
# Each pair delimits a (here empty) stretch of LaTeX inside a listing; the first
# pair that does not occur in the source is used.
ESCAPE_PAIRS = [("(*" + c, c + "*)") for c in "@!|?;:"]


def listing(source):
    """An ``lstlisting`` block holding ``source``.

    The text becomes ASCII (pdflatex's listings cannot take multi-byte
    characters), and a literal ``\\end{lstlisting}``, which would end the
    listing early, is broken up by an empty escape to LaTeX: it still reads
    ``\\end{lstlisting}`` in the output.
    """
    text = to_ascii(source)
    options = "language=Python"
    if LISTING_END in text:
        for begin, end in ESCAPE_PAIRS:
            if begin not in text and end not in text:
                break
        else:
            raise SubmissionError("cannot find an escape for \\end{lstlisting} in the source")
        text = text.replace(LISTING_END, LISTING_END[:3] + begin + end + LISTING_END[3:])
        options += f",escapeinside={{{begin}}}{{{end}}}"
    return f"\\begin{{lstlisting}}[{options}]\n{text}\n\\end{{lstlisting}}"


def render_latex(sections, heading_level):
    section = LATEX_HEADINGS[heading_level - 1]
    item = LATEX_HEADINGS[heading_level]
    lines = ["% Generated by generate_submission.py; \\input{} this file into a document",
             "% that loads the listings package.", ""]
    for title, items in sections:
        lines += [f"\\{section}{{{escape_latex(title)}}}", ""]
        for name, source in items:
            lines += [f"\\{item}{{\\texttt{{{escape_latex(name)}}}}}", listing(source), ""]
    return "\n".join(lines).rstrip() + "\n"


def render(fmt="markdown", heading_level=1, implementations=None):
    """The write-up as a string.

    Parameters
    ----------
    fmt : {"markdown", "latex"}
    heading_level : {1, 2, 3}
        The level of the section headings; each implementation is one deeper.
    implementations : mapping of str to list, optional
        Section title -> dotted names (or objects); by default
        ``student_implementations``.
    """
    if fmt not in FORMATS:
        raise SubmissionError(f"format must be one of {list(FORMATS)}; got {fmt!r}")
    if heading_level not in HEADING_LEVELS:
        raise SubmissionError(
            f"heading_level must be one of {list(HEADING_LEVELS)}; got {heading_level!r}"
        )
    sections = collect(student_implementations if implementations is None else implementations)
    renderer = render_markdown if fmt == "markdown" else render_latex
    return renderer(sections, heading_level)


# ---- the upload bundle --------------------------------------------------------------------


# The run that train_ffnn.py makes with its defaults: the course's homework run.
DEFAULT_RUN = "feed_forward_2layers_25-lr0.01_mom0.9_seed0"


def default_predictions(root=ROOT):
    """``experiments/<DEFAULT_RUN>/predictions.csv`` if that run exists, else None."""
    path = Path(root) / "experiments" / DEFAULT_RUN / PREDICTIONS_NAME
    return path if path.is_file() else None


def upload_files(root=ROOT, predictions=None):
    """``[(name in the upload, source path), ...]``: the flat set the autograder takes.

    ``predictions`` is a path, None for the default ``train_ffnn.py`` run's
    ``experiments/<DEFAULT_RUN>/predictions.csv`` (if it exists), or False for none.
    """
    root = Path(root)
    files = []
    for name in REQUIRED_FILES:
        path = root / name
        if not path.is_file():
            raise SubmissionError(f"missing {name}: the upload needs it (looked in {root})")
        files.append((name, path))
    modules = sorted((root / PACKAGE).glob("*.py"))
    if not modules:
        raise SubmissionError(f"no {PACKAGE}/*.py files in {root}")
    files += [(path.name, path) for path in modules]
    if predictions is None:
        predictions = default_predictions(root)
    if predictions:
        predictions = Path(predictions)
        if not predictions.is_file():
            raise SubmissionError(f"--predictions: no such file {predictions}")
        files.append((PREDICTIONS_NAME, predictions))
    names = [name for name, _ in files]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise SubmissionError(f"two files would share a name in the flat upload: {clashes}")
    return files


def _check_destination(dest, root, overwrite):
    dest_resolved = dest.resolve()
    root_resolved = Path(root).resolve()
    if dest_resolved == root_resolved or dest_resolved in root_resolved.parents:
        raise SubmissionError(f"refusing to bundle into {dest}: it holds the project itself")
    package = root_resolved / PACKAGE
    if dest_resolved == package or package in dest_resolved.parents:
        raise SubmissionError(f"refusing to bundle into {dest}: it is inside {PACKAGE}/")
    if not dest.exists():
        return []
    if not dest.is_dir():
        raise SubmissionError(f"{dest} exists and is not a folder")
    entries = sorted(dest.iterdir())
    if entries and not overwrite:
        raise SubmissionError(
            f"{dest} is not empty ({len(entries)} entries); pass --overwrite to replace "
            f"its contents, or choose a new folder"
        )
    folders = [entry.name for entry in entries if entry.is_dir() and not entry.is_symlink()]
    if folders:
        raise SubmissionError(
            f"{dest} holds folders ({', '.join(folders)}), so it is not an earlier bundle; "
            f"not touching it: choose a new folder"
        )
    return entries


def bundle(dest, overwrite=False, predictions=None, root=ROOT):
    """Copy the flat upload set into the folder ``dest``.

    ``dest`` must be new or empty; with ``overwrite`` an earlier bundle there
    (plain files only) is replaced, so that ``dest`` ends up holding exactly
    the upload. ``predictions`` is as in :func:`upload_files`. Returns
    ``[(path written, size in bytes), ...]``.
    """
    dest = Path(dest)
    files = upload_files(root, predictions)
    old_entries = _check_destination(dest, root, overwrite)
    for entry in old_entries:
        entry.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in files:
        target = dest / name
        shutil.copyfile(source, target)
        written.append((target, target.stat().st_size))
    return written


# ---- command line -------------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(
        prog="generate_submission.py",
        description="Write the source of your implementations as Markdown or LaTeX for the "
                    "write-up, or bundle the flat set of files the autograder takes.",
        epilog="Edit student_implementations at the top of this file to add anything else "
               "you wrote. Examples: 'python generate_submission.py -f latex -o code.tex', "
               "'python generate_submission.py --bundle submission'.",
    )
    parser.add_argument("-f", "--format", choices=FORMATS, default="markdown",
                        help="output format (default: markdown)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the write-up to FILE (default: standard output)")
    parser.add_argument("--heading_level", "--heading-level", dest="heading_level", type=int,
                        choices=HEADING_LEVELS, default=1,
                        help="heading level of the sections; each implementation is one "
                             "level deeper (default: 1)")
    parser.add_argument("--bundle", metavar="DIR",
                        help="copy the upload (README.md, train_ffnn.py, neural_networks/*.py, "
                             "check_gradients.ipynb, predictions.csv) flat into DIR; the "
                             "write-up is then only written if -o is given")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --bundle: replace an earlier bundle in a non-empty DIR")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--predictions", metavar="PATH",
                       help="with --bundle: the predictions.csv to include (default: "
                            f"experiments/{DEFAULT_RUN}/predictions.csv, if it exists)")
    group.add_argument("--no-predictions", action="store_true",
                       help="with --bundle: leave predictions.csv out")
    return parser


def _print_bundle(dest, written):
    total = sum(size for _, size in written)
    print(f"Bundled {len(written)} files into {dest} ({total:,} bytes):")
    for path, size in written:
        print(f"  {size:>10,}  {path.name}")
    print("Upload these files as they are: side by side, no folder, no zip.")


def main(argv=None):
    """Run the command line; returns the exit status (0, or 2 on a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bundle is None and (args.overwrite or args.predictions or args.no_predictions):
        parser.error("--overwrite, --predictions and --no-predictions go with --bundle DIR")
    try:
        if args.bundle is not None:
            predictions = False if args.no_predictions else args.predictions
            written = bundle(args.bundle, args.overwrite, predictions)
            _print_bundle(args.bundle, written)
            source = dict(upload_files(ROOT, predictions)).get(PREDICTIONS_NAME)
            print(f"predictions.csv: {source if source else 'none (pass --predictions PATH to add one)'}")
        if args.bundle is None or args.output:
            text = render(args.format, args.heading_level)
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
                count = sum(len(names) for names in student_implementations.values())
                print(f"Wrote the {args.format} source of {count} implementations to {args.output}")
            else:
                sys.stdout.write(text)
    except SubmissionError as error:
        print(f"generate_submission.py: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"generate_submission.py: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
