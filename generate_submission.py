#!/usr/bin/env python3
"""Gather your implementations for the write-up, and bundle the autograder upload.

    python generate_submission.py                          # Markdown on stdout
    python generate_submission.py -o code.md               # Markdown to a file
    python generate_submission.py -f latex -o code.tex --heading_level 2
    python generate_submission.py -f latex --standalone -o code.tex
    python generate_submission.py --bundle submission      # the flat upload set
    python generate_submission.py --help

The write-up takes the source of every name in ``student_implementations``
(below), read with ``inspect``, one section per entry, followed by the source
of the private helpers it calls (input guards named ``_check...`` and
``__repr__`` left out), so that each excerpt reads on its own. The LaTeX
version is meant to be ``\\input{}`` into a document that loads the
``listings`` package; ``--standalone`` makes it a complete document.

``--bundle DIR`` copies the files the autograder takes into DIR, side by side
(no folders): README.md, train_ffnn.py, every neural_networks/*.py,
check_gradients.ipynb and the predictions.csv of the run that train_ffnn.py
makes with its settings as they are now, when that run was trained. DIR is
``submission`` (which git ignores) or a folder outside the project;
``--overwrite`` replaces only the files an earlier bundle wrote there.
"""

import argparse
import ast
import csv
import importlib
import inspect
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
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
    "Layers": [
        "layers.FullyConnected",
        "layers.Conv2D",
        "layers.Pool2D",
        "layers.BatchNorm1D",
        "layers.Dropout",
    ],
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
    """Return ``(display name, object, owner class or None)`` for one entry of an
    implementations list.

    ``name`` is a dotted name relative to the package, or an object that
    ``inspect.getsource`` accepts (shown under its qualified name). The owner
    is the class a method belongs to: ``self._helper(...)`` is looked up there.
    """
    if not isinstance(name, str):
        return getattr(name, "__qualname__", repr(name)), name, _owner_from_qualname(name)
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
    owner = None
    for depth, attribute in enumerate(parts[1:], start=1):
        owner = obj
        try:
            obj = getattr(obj, attribute)
        except AttributeError:
            where = ".".join([PACKAGE, *parts[:depth]])
            raise SubmissionError(
                f"unknown implementation {name!r}: {where} has no attribute {attribute!r}"
            ) from None
    return name, obj, owner if inspect.isclass(owner) else None


def _owner_from_qualname(obj):
    """The class that defines the method ``obj``, found through its qualified name."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    parts = getattr(obj, "__qualname__", "").split(".")[:-1]
    if module is None or not parts or "<locals>" in parts:
        return None
    owner = module
    for part in parts:
        owner = getattr(owner, part, None)
    return owner if inspect.isclass(owner) else None


def source_of(name, obj):
    """The dedented source of ``obj`` without trailing blank lines (and, for a
    class, without its ``__repr__``)."""
    obj = _unwrap(obj)
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise SubmissionError(f"cannot read the source of {name!r}: {error}") from None
    source = textwrap.dedent(source).rstrip()
    if inspect.isclass(obj):
        source = drop_methods(source, LEFT_OUT_METHODS)
    return source


# ---- the private helpers an excerpt calls -------------------------------------------------
#
# An excerpt must read on its own: when forward calls self._pad(...) or a
# module-level _output_size(...), their source follows the excerpt (and so,
# in turn, does the source of the private helpers they call). Input guards
# (names starting with _check) and __repr__ only make the excerpt longer.

LEFT_OUT_METHODS = ("__repr__",)
LEFT_OUT_PREFIX = "_check"


def _unwrap(obj):
    """The function behind a staticmethod, classmethod or property."""
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    if isinstance(obj, property):
        return obj.fget
    return obj


def is_private_helper_name(name):
    """``_helper`` but not a dunder (``__init__``) or an input guard (``_check...``)."""
    return (len(name) > 1 and name.startswith("_") and not name.startswith("__")
            and not name.startswith(LEFT_OUT_PREFIX))


def drop_methods(class_source, names):
    """``class_source`` without the methods called ``names`` (their decorators,
    comment lines right above them and the blank lines before them go too)."""
    lines = class_source.split("\n")
    tree = ast.parse(class_source)
    if not tree.body or not isinstance(tree.body[0], ast.ClassDef):
        return class_source
    cls = tree.body[0]
    doomed = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            while first > 0 and lines[first - 1].strip().startswith("#"):
                first -= 1
            while first > 0 and not lines[first - 1].strip():
                first -= 1
            doomed.update(range(first, node.end_lineno))
    if not doomed:
        return class_source
    kept = [line for i, line in enumerate(lines) if i not in doomed]
    if len(kept) == cls.lineno:  # nothing but the class line is left
        indent = cls.body[0].col_offset
        kept.append(" " * indent + "pass")
    return "\n".join(kept).rstrip()


def _functions_of(cls):
    """Every function defined in the body of ``cls`` (methods, static methods,
    properties), unwrapped."""
    functions = []
    for value in vars(cls).values():
        value = _unwrap(value)
        if inspect.isfunction(value):
            functions.append(value)
    return functions


def _top_package(obj):
    return (getattr(obj, "__module__", None) or "").split(".")[0]


def _short_module(obj):
    """The module's name inside its package: ``layers`` for ``neural_networks.layers``
    (as in ``student_implementations``)."""
    package, _, rest = obj.__module__.partition(".")
    return rest or package


def _lookup_in_class(cls, attribute, after=None):
    """``(defining class, function)`` for ``cls.<attribute>`` through the MRO
    (starting after the class ``after``, for ``super()``), or None when it is
    not a function (a data attribute, an instance attribute)."""
    mro = list(getattr(cls, "__mro__", ()))
    if after is not None and after in mro:
        mro = mro[mro.index(after) + 1:]
    for klass in mro:
        if attribute in vars(klass):
            value = _unwrap(vars(klass)[attribute])
            return (klass, value) if inspect.isfunction(value) else None
    return None


def _defining_class(cls, function):
    for klass in getattr(cls, "__mro__", ()):
        if function in _functions_of(klass):
            return klass
    return None


def _project_classes(package):
    """Every class defined in an imported module of ``package``."""
    classes = []
    for module_name, module in list(sys.modules.items()):
        if module is None or (module_name != package and not module_name.startswith(package + ".")):
            continue
        for value in list(vars(module).values()):
            if inspect.isclass(value) and value.__module__ == module_name:
                classes.append(value)
    return classes


def _references(node):
    """The private names ``node`` uses, in source order: ``("self", attr)``,
    ``("super", attr)``, ``("name", name)``, ``("dotted", base, attr)`` (a
    module or class attribute) and ``("other", attr)`` (an attribute of some
    other object, such as another layer)."""
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and is_private_helper_name(child.attr):
            value = child.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls"):
                ref = ("self", child.attr)
            elif (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                  and value.func.id == "super"):
                ref = ("super", child.attr)
            elif isinstance(value, ast.Name):
                ref = ("dotted", value.id, child.attr)
            else:
                ref = ("other", child.attr)
        elif (isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)
              and is_private_helper_name(child.id)):
            ref = ("name", child.id)
        else:
            continue
        found.append(((child.lineno, child.col_offset), ref))
    return [ref for _, ref in sorted(found, key=lambda item: item[0])]


def _body_nodes(obj):
    """The parsed source of ``obj``: a function, or a class's body without its
    bases and without the methods left out of excerpts."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (TypeError, OSError, SyntaxError):
        return []
    node = tree.body[0] if tree.body else None
    if isinstance(node, ast.ClassDef):
        return [child for child in node.body
                if not (isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and child.name in LEFT_OUT_METHODS)]
    return [node] if node is not None else []


def _resolve_reference(ref, function, self_class, package):
    """The helper a reference names, as ``(display name, object, class of self
    inside it or None)``, or None."""
    namespace = getattr(function, "__globals__", None)
    if namespace is None and inspect.isclass(function):
        namespace = vars(sys.modules.get(function.__module__)) if function.__module__ in sys.modules else {}
    namespace = namespace or {}
    kind, *names = ref
    found = None
    if kind in ("self", "super") and self_class is not None:
        after = _defining_class(self_class, function) if kind == "super" else None
        if kind == "super" and after is None:
            return None
        found = _lookup_in_class(self_class, names[0], after)
    elif kind == "name":
        value = namespace.get(names[0])
        if inspect.isfunction(value) or inspect.isclass(value):
            found = (None, value)
    elif kind == "dotted" and (inspect.ismodule(namespace.get(names[0]))
                               or inspect.isclass(namespace.get(names[0]))):
        base = namespace[names[0]]
        if inspect.ismodule(base):
            value = getattr(base, names[1], None)
            if inspect.isfunction(value) or inspect.isclass(value):
                found = (None, value)
        else:
            found = _lookup_in_class(base, names[1])
    elif kind in ("dotted", "other"):
        # Another object's private method (another layer's, say): shown when
        # exactly one class of the package defines it.
        attribute = names[-1]
        candidates = {}
        for klass in _project_classes(package):
            if attribute in vars(klass):
                value = _unwrap(vars(klass)[attribute])
                if inspect.isfunction(value):
                    candidates[value] = klass
        if len(candidates) == 1:
            value, klass = next(iter(candidates.items()))
            found = (_defining_class(klass, value) or klass, value)
    if found is None:
        return None
    klass, value = found
    if _top_package(value) != package:
        return None
    # Whose instance ``self`` is inside the helper: the same object for
    # self._helper() and super()._helper(), the class itself for a private
    # class, the defining class for another object's method.
    if inspect.isclass(value):
        helper_self = value
    elif kind in ("self", "super"):
        helper_self = self_class
    else:
        helper_self = klass
    display = f"{_short_module(value)}.{value.__qualname__}"
    return display, value, helper_self


def private_helpers(obj, owner=None):
    """``[(display name, object), ...]``: the private functions, methods and
    classes that ``obj`` calls (and those they call, and so on), in the order
    they are first met, without those already in the excerpt of ``obj``.

    ``owner`` is the class whose instance ``self`` is, for a method.
    Helpers are looked up only inside the package that defines ``obj``.
    """
    obj = _unwrap(obj)
    package = _top_package(obj)
    self_class = obj if inspect.isclass(obj) else owner
    shown = set(_functions_of(obj)) if inspect.isclass(obj) else {obj}
    shown.add(obj)
    helpers = []
    queue = [(obj, self_class)]
    while queue:
        current, current_self = queue.pop(0)
        context = current
        for node in _body_nodes(current):
            for ref in _references(node):
                if inspect.isclass(current):
                    context = _function_at(current, node) or current
                found = _resolve_reference(ref, context, current_self, package)
                if found is None:
                    continue
                display, value, helper_self = found
                if value in shown or (inspect.isfunction(value) and _in_shown_class(value, shown)):
                    continue
                shown.add(value)
                if inspect.isclass(value):
                    shown.update(_functions_of(value))
                helpers.append((display, value))
                queue.append((value, helper_self))
    return helpers


def _function_at(cls, node):
    """The function of ``cls`` that the class-body node ``node`` defines, if any."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        value = _unwrap(vars(cls).get(node.name))
        if inspect.isfunction(value):
            return value
    return None


def _in_shown_class(function, shown):
    return any(inspect.isclass(item) and function in _functions_of(item) for item in shown)


def excerpt(name, obj, owner=None):
    """The source of ``obj`` followed by the source of every private helper it
    calls, each under a comment that names it."""
    parts = [source_of(name, obj)]
    for display, helper in private_helpers(obj, owner):
        try:
            parts.append(f"# {display}, called above\n{source_of(display, helper)}")
        except SubmissionError:
            continue  # no source to show (built at run time)
    return "\n\n".join(parts)


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
            display, obj, owner = resolve(name)
            items.append((display, excerpt(display, obj, owner)))
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
# Each listing carries its own options, so that it typesets the same in any
# document that loads listings: a small monospaced font, spaces kept as they
# are (indentation), and lines too long for the text width wrapped with a
# hooked arrow in front of the continuation, instead of running off the page.
LISTING_OPTIONS = ",".join([
    "language=Python",
    r"basicstyle=\ttfamily\footnotesize",
    "columns=fullflexible",
    "keepspaces=true",
    "showstringspaces=false",
    "breaklines=true",
    "breakatwhitespace=false",
    r"postbreak=\mbox{$\hookrightarrow$\space}",
    "tabsize=4",
])
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
    options = LISTING_OPTIONS
    if LISTING_END in text:
        for begin, end in ESCAPE_PAIRS:
            if begin not in text and end not in text:
                break
        else:
            raise SubmissionError("cannot find an escape for \\end{lstlisting} in the source")
        text = text.replace(LISTING_END, LISTING_END[:3] + begin + end + LISTING_END[3:])
        options += f",escapeinside={{{begin}}}{{{end}}}"
    return f"\\begin{{lstlisting}}[{options}]\n{text}\n\\end{{lstlisting}}"


LATEX_PREAMBLE = (
    "\\documentclass{article}\n"
    "\\usepackage{listings}\n"
    "\\begin{document}\n"
)
LATEX_END = "\\end{document}\n"


def render_latex(sections, heading_level, standalone=False):
    section = LATEX_HEADINGS[heading_level - 1]
    item = LATEX_HEADINGS[heading_level]
    if standalone:
        lines = ["% Generated by generate_submission.py: compile it with pdflatex.",
                 LATEX_PREAMBLE]
    else:
        lines = ["% Generated by generate_submission.py; \\input{} this file into a document",
                 "% that loads the listings package.", ""]
    for title, items in sections:
        lines += [f"\\{section}{{{escape_latex(title)}}}", ""]
        for name, source in items:
            lines += [f"\\{item}{{\\texttt{{{escape_latex(name)}}}}}", listing(source), ""]
    text = "\n".join(lines).rstrip() + "\n"
    return text + LATEX_END if standalone else text


def render(fmt="markdown", heading_level=1, implementations=None, standalone=False):
    """The write-up as a string.

    Parameters
    ----------
    fmt : {"markdown", "latex"}
    heading_level : {1, 2, 3}
        The level of the section headings; each implementation is one deeper.
    implementations : mapping of str to list, optional
        Section title -> dotted names (or objects); by default
        ``student_implementations``.
    standalone : bool
        LaTeX only: a complete document (preamble included) that compiles on
        its own, instead of a file to ``\\input{}``.
    """
    if fmt not in FORMATS:
        raise SubmissionError(f"format must be one of {list(FORMATS)}; got {fmt!r}")
    if heading_level not in HEADING_LEVELS:
        raise SubmissionError(
            f"heading_level must be one of {list(HEADING_LEVELS)}; got {heading_level!r}"
        )
    if standalone and fmt != "latex":
        raise SubmissionError(f"standalone goes with the latex format; got format {fmt!r}")
    sections = collect(student_implementations if implementations is None else implementations)
    if fmt == "markdown":
        return render_markdown(sections, heading_level)
    return render_latex(sections, heading_level, standalone)


# ---- the upload bundle --------------------------------------------------------------------

TRAIN_SCRIPT = "train_ffnn.py"
# The bundle folder inside the project (git ignores it); any other folder
# inside the project holds its source, data, tests or runs, and is refused.
DEFAULT_BUNDLE = "submission"
# Written into every bundle: the names of the files the bundle wrote, the only
# ones that --overwrite may replace later.
BUNDLE_MARKER = ".submission-bundle"

# Run in a fresh interpreter inside the project: read train_ffnn.py's settings
# (without training) and name its run the way the script does: its own
# model_name function of its dicts (CONFIG).
_RUN_OF_SCRIPT = """
import json, runpy, sys
from pathlib import Path

script = runpy.run_path(sys.argv[1], run_name="train_ffnn_settings")
missing = [name for name in ("CONFIG", "model_name") if name not in script]
if missing:
    print("RUN " + json.dumps({"missing": missing}))
    sys.exit(0)
config = script["CONFIG"]
name = script["model_name"](config)
print("RUN " + json.dumps({"name": name, "save_dir": str(config.log_args["save_dir"])}))
"""


def script_run(root=ROOT):
    """``(run name, run folder)`` of the run that ``root/train_ffnn.py`` makes
    when started without options (``python train_ffnn.py`` from ``root``)."""
    root = Path(root)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    hint = "pass --predictions PATH (or --no-predictions)"
    try:
        result = subprocess.run([sys.executable, "-c", _RUN_OF_SCRIPT, TRAIN_SCRIPT], cwd=root,
                                env=env, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SubmissionError(f"cannot read the settings of {TRAIN_SCRIPT}: {error}; {hint}") from None
    lines = [line[4:] for line in result.stdout.splitlines() if line.startswith("RUN ")]
    if result.returncode != 0 or not lines:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SubmissionError(
            f"cannot tell which run {TRAIN_SCRIPT} makes: reading its settings failed "
            f"({last}); {hint}"
        )
    found = json.loads(lines[-1])
    if "missing" in found:
        raise SubmissionError(
            f"cannot tell which run {TRAIN_SCRIPT} makes: it defines no "
            f"{' or '.join(found['missing'])}; {hint}"
        )
    return found["name"], root / found["save_dir"] / found["name"]


def check_predictions_file(path, what):
    """Refuse a file that is not a ``predictions.csv`` as ``NeuralNetwork.test``
    writes it: a header ``index,predicted[,label],p0,p1,...`` (classification)
    or ``index,y0,y1,...``, then rows numbered 0, 1, 2, ... ``what`` names the
    file in the message."""
    expected = ("NeuralNetwork.test writes 'index,predicted,label,p0,p1,...' "
                "(or 'index,y0,y1,...' for a regression)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"{what} is not a predictions file: it is not text; {expected}") from None
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] if rows else []
    columns = header[1:]
    if columns[:1] == ["predicted"]:
        columns = columns[2:] if columns[1:2] == ["label"] else columns[1:]
        prefix = "p"
    else:
        prefix = "y"
    if header[:1] != ["index"] or not columns or columns != [f"{prefix}{k}" for k in range(len(columns))]:
        shown = ",".join(header)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise SubmissionError(
            f"{what} is not a predictions file: its header is {shown!r}; {expected}"
        )
    if len(rows) < 2:
        raise SubmissionError(f"{what} holds a header but no predictions")
    for number, row in enumerate(rows[1:]):
        if len(row) != len(header) or row[0] != str(number):
            raise SubmissionError(
                f"{what} is not a complete predictions file: line {number + 2} is {','.join(row)!r}"
            )


def _when(path):
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))


def _shown_path(path, root):
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def choose_predictions(root=ROOT, predictions=None):
    """``(path or None, note)``: the ``predictions.csv`` to upload and a line
    that says where it came from and when it was written.

    ``predictions`` is a path, None for the predictions of the run that
    ``train_ffnn.py`` makes with its settings as they are now, or False for none.
    """
    root = Path(root)
    if predictions is False:
        return None, "none (--no-predictions)"
    if predictions is not None:
        path = Path(predictions)
        if not path.is_file():
            raise SubmissionError(f"--predictions: no such file {path}")
        check_predictions_file(path, f"--predictions {path}")
        return path, f"{path} (given with --predictions), written {_when(path)}"
    name, run_dir = script_run(root)
    path = run_dir / PREDICTIONS_NAME
    shown = _shown_path(path, root)
    if not path.is_file():
        return None, (f"none: {TRAIN_SCRIPT}, as it is now, trains the run {name}, which has no "
                      f"{shown} yet (train it with 'python {TRAIN_SCRIPT}', or pass "
                      f"--predictions PATH)")
    check_predictions_file(path, f"{shown} (of the run {TRAIN_SCRIPT} makes)")
    note = f"from the run {name} ({shown}), written {_when(path)}"
    sources = [root / TRAIN_SCRIPT, *(root / PACKAGE).glob("*.py")]
    newest = max(sources, key=lambda source: source.stat().st_mtime)
    if newest.stat().st_mtime > path.stat().st_mtime:
        note += (f"; {_shown_path(newest, root)} changed after that ({_when(newest)}): "
                 f"train again if the change matters")
    return path, note


def check_sources_compile(files, root=ROOT):
    """Refuse a bundled ``.py`` file that does not compile, naming the file and line."""
    for name, path in files:
        if not name.endswith(".py"):
            continue
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            raise SubmissionError(
                f"{_shown_path(path, root)}, line {error.lineno}: {error.msg}: the file does "
                f"not compile, so the autograder could not import it; fix it and bundle again"
            ) from None
        except ValueError as error:  # a null byte in the source
            raise SubmissionError(
                f"{_shown_path(path, root)}: {error}: the autograder could not import it"
            ) from None


def plan_upload(root=ROOT, predictions=None):
    """``(files, note)``: ``[(name in the upload, source path), ...]``, the flat
    set the autograder takes, and where ``predictions.csv`` came from.

    ``predictions`` is as in :func:`choose_predictions`. Every ``.py`` file
    must compile.
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
    check_sources_compile(files, root)
    path, note = choose_predictions(root, predictions)
    if path is not None:
        files.append((PREDICTIONS_NAME, path))
    names = [name for name, _ in files]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise SubmissionError(f"two files would share a name in the flat upload: {clashes}")
    return files, note


def upload_files(root=ROOT, predictions=None):
    """The ``files`` of :func:`plan_upload`."""
    return plan_upload(root, predictions)[0]


def read_marker(dest):
    """The file names an earlier bundle in ``dest`` wrote, from its marker file."""
    marker = dest / BUNDLE_MARKER
    names = []
    for line in marker.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line in (".", "..") or "/" in line or "\\" in line or line == BUNDLE_MARKER:
            raise SubmissionError(
                f"{marker} lists {line!r}, which is not a file the bundle writes; "
                f"not touching {dest}: choose a new folder"
            )
        names.append(line)
    return names


def check_destination(dest, files, overwrite, root=ROOT):
    """What must go before the bundle is written into ``dest``: the paths of
    the earlier bundle's own files (only with ``overwrite``).

    Refuses the project itself, any folder inside it other than
    ``DEFAULT_BUNDLE``, a folder that is not empty without ``overwrite``, and,
    with it, a folder that no bundle wrote or a file of the new upload that
    the earlier bundle did not write.
    """
    dest = Path(dest)
    dest_resolved = dest.resolve()
    root_resolved = Path(root).resolve()
    if dest_resolved == root_resolved or dest_resolved in root_resolved.parents:
        raise SubmissionError(f"refusing to bundle into {dest}: it holds the project itself")
    if root_resolved in dest_resolved.parents and dest_resolved != root_resolved / DEFAULT_BUNDLE:
        inside = dest_resolved.relative_to(root_resolved)
        raise SubmissionError(
            f"refusing to bundle into {dest}: it is {inside}/ inside the project, with its "
            f"source, data and runs; use {DEFAULT_BUNDLE}/ (which git ignores) or a folder "
            f"outside the project"
        )
    for _, source in files:
        if dest_resolved in source.resolve().parents:
            raise SubmissionError(
                f"refusing to bundle into {dest}: {source} is inside it; copy it elsewhere first"
            )
    if not dest.exists():
        return []
    if not dest.is_dir():
        raise SubmissionError(f"{dest} exists and is not a folder")
    entries = sorted(dest.iterdir())
    if not entries:
        return []
    if not overwrite:
        raise SubmissionError(
            f"{dest} is not empty ({len(entries)} entries); pass --overwrite to replace an "
            f"earlier bundle there, or choose a new folder"
        )
    if not (dest / BUNDLE_MARKER).is_file():
        raise SubmissionError(
            f"{dest} holds files that no bundle wrote (it has no {BUNDLE_MARKER}); "
            f"--overwrite only replaces an earlier bundle: choose a new or empty folder"
        )
    ours = read_marker(dest)
    for name, _ in files:
        target = dest / name
        if (target.exists() or target.is_symlink()) and name not in ours:
            raise SubmissionError(
                f"{target} was not written by the earlier bundle; move it away or choose "
                f"a new folder"
            )
        if target.is_dir() and not target.is_symlink():
            raise SubmissionError(f"{target} is a folder; move it away or choose a new folder")
    return [dest / name for name in ours
            if (dest / name).is_symlink() or (dest / name).is_file()]


def write_bundle(dest, files, overwrite=False, root=ROOT):
    """Copy ``files`` (from :func:`plan_upload`) into the folder ``dest``, after
    :func:`check_destination`. Returns ``[(path written, size in bytes), ...]``."""
    dest = Path(dest)
    old_files = check_destination(dest, files, overwrite, root)
    for path in old_files:
        path.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    # The marker goes first: a bundle stopped half-way can still be replaced.
    marker_lines = [f"# Written by generate_submission.py --bundle. --overwrite replaces only",
                    f"# the files listed here. Not part of the upload.",
                    *(name for name, _ in files)]
    (dest / BUNDLE_MARKER).write_text("\n".join(marker_lines) + "\n", encoding="utf-8")
    written = []
    for name, source in files:
        target = dest / name
        shutil.copyfile(source, target)
        written.append((target, target.stat().st_size))
    return written


def bundle(dest, overwrite=False, predictions=None, root=ROOT):
    """Copy the flat upload set into the folder ``dest``.

    ``dest`` must be new or empty, or, with ``overwrite``, hold an earlier
    bundle: only the files that bundle wrote are replaced (others are left
    alone). ``predictions`` is as in :func:`choose_predictions`. Returns
    ``[(path written, size in bytes), ...]``.
    """
    files, _ = plan_upload(root, predictions)
    return write_bundle(dest, files, overwrite, root)


def not_in_bundle(dest, written):
    """Names of the entries in ``dest`` that the bundle did not write."""
    ours = {path.name for path, _ in written} | {BUNDLE_MARKER}
    return sorted(entry.name for entry in Path(dest).iterdir() if entry.name not in ours)


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
    parser.add_argument("--standalone", action="store_true",
                        help="with -f latex: a complete document that compiles on its own "
                             "(default: a file to \\input{} into yours)")
    parser.add_argument("--bundle", metavar="DIR",
                        help="copy the upload (README.md, train_ffnn.py, neural_networks/*.py, "
                             "check_gradients.ipynb, predictions.csv) flat into DIR; the "
                             "write-up is then only written if -o is given")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --bundle: replace an earlier bundle in DIR (only the files "
                             f"it wrote, as listed in its {BUNDLE_MARKER})")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--predictions", metavar="PATH",
                       help="with --bundle: the predictions.csv to include (default: the one "
                            f"of the run that {TRAIN_SCRIPT} makes with its settings as they "
                            "are now, if it was trained)")
    group.add_argument("--no-predictions", action="store_true",
                       help="with --bundle: leave predictions.csv out")
    return parser


def _print_bundle(dest, written, note):
    total = sum(size for _, size in written)
    print(f"Bundled {len(written)} files into {dest} ({total:,} bytes):")
    for path, size in written:
        print(f"  {size:>10,}  {path.name}")
    print(f"predictions.csv: {note}")
    others = not_in_bundle(dest, written)
    if others:
        print(f"Also in {dest}, not written by the bundle and not part of the upload: "
              f"{', '.join(others)}")
    print(f"Upload the {len(written)} files listed above as they are: side by side, no folder, "
          f"no zip ({BUNDLE_MARKER} only records what the bundle wrote).")


def main(argv=None):
    """Run the command line; returns the exit status (0, or 2 on a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bundle is None and (args.overwrite or args.predictions or args.no_predictions):
        parser.error("--overwrite, --predictions and --no-predictions go with --bundle DIR")
    if args.standalone and args.format != "latex":
        parser.error(f"--standalone goes with -f latex (got -f {args.format})")
    try:
        if args.bundle is not None:
            predictions = False if args.no_predictions else args.predictions
            files, note = plan_upload(ROOT, predictions)
            written = write_bundle(args.bundle, files, args.overwrite, ROOT)
            _print_bundle(args.bundle, written, note)
        if args.bundle is None or args.output:
            text = render(args.format, args.heading_level, standalone=args.standalone)
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
