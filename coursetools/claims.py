"""Nothing hidden: every number in a lesson's prose is shown by its own run, quoted, or set.

`unshown_numbers(notebook)` reads an *executed* notebook and returns each number in a
markdown cell that is none of:

- **shown**: some number in the notebook's outputs equals it at the precision the prose
  writes it with (prose "0.93" is shown by an output "0.9312"; "93 %" by "0.9312" too);
- **quoted**: its sentence cites a source — a link, a year of publication "(Cho et al.,
  2014)", a book chapter or section ("fastbook ch. 12", "§9.7", "Table 2"), or library
  documentation ("Keras's documentation", "docs");
- **a setting**: it equals a number literal in one of the notebook's code cells (a
  constant such as `EPOCHS = 8`, `units=64`, `clipnorm=1.0`), or is a year;
- **not a figure at all**: inside LaTeX math, inline code or a code block (formulas,
  names), part of a name (`float32`, `Conv1D`, `3-D`), or a reference ("notebook 10",
  "exercise 2", "cell 5", "Python 3.11").

A figure from a larger run belongs in a cell the learner can run behind a flag, never in
prose; a verdict that can change with the run is printed by `lstmkit.verdict`.
"""

import dataclasses
import io
import json
import math
import re
import tokenize

SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

# What is removed from markdown before numbers are read: not prose figures.
_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),  # fenced code and Mermaid diagrams
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"\\\[.*?\\\]", re.S),
    re.compile(r"\\\(.*?\\\)", re.S),
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),  # inline math
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"<[^>\n]+>"),  # HTML tags (their attributes)
    re.compile(r"(?m)^[ \t]*\d+[.)](?=[ \t])"),  # numbered-list markers
]
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
# A sentence that cites a source: a link, a year, a chapter/section/table, documentation.
_CITATION = re.compile(
    r"\]\((?:https?://|www\.)"
    # A year as a citation gives it: "(Cho et al., 2014)", "(2015b)", "(IEEE 754, 2019)",
    # "Hutter (2019)". A bare 4-digit number ("2048 sequences", "1950 to 2049") does not.
    r"|\((?:[^()]*?[,\s])?(?:1[89]|20)\d\d[a-z]?\s*[;,)]"
    r"|[A-Z]\w+ \((?:1[89]|20)\d\d[a-z]?\)"
    r"|\b(?:ch\.|chapter|§|section|Table|Fig\.|Figure|Eq\.|Equation)\s*\d"
    r"|§\s*\d"
    r"|\bdocumentation\b|\bdocs\b|\bdocstring\b|\bsource code\b"
    r"|\bpaper\b|\bet al\.",
    re.I,
)
# A unit written against its number ("3.4x faster", "40ms", "2GB"): a figure, not a name.
_GLUED_UNIT = re.compile(r"(?:x|ms|µs|us|ns|GB|MB|KB|GiB|MiB|KiB)(?![\w])")
_YEAR_RANGE = re.compile(r"\b(?:1[89]|20)\d\d[–-]$")
# A sentence that gives an example, not a result: "for example, a batch of 32 sentences".
_ILLUSTRATION = re.compile(
    r"\bfor example\b|\bfor instance\b|\be\.g\.|\bimagine\b|\bsuppose\b", re.I
)
_HEADING_NUMBER = re.compile(r"(?m)^(#+\s*)\d+(?:\.\d+)*\.?(?=\s)")
# Words after which a number names something instead of measuring it.
_REFERENCE_WORDS = (
    r"notebook|notebooks|lesson|lessons|exercise|exercises|cell|cells|part|chapter|ch\.|"
    r"section|§|table|fig\.|figure|eq\.|equation|issue|page|p\.|pp\.|version|python|keras|"
    r"tensorflow|jax|pytorch|torch|numpy|cuda|cudnn|jupyterlab|layer|item|row|rows|column|"
    r"block"
)
_NUMBER = re.compile(
    r"(?P<sign>[-−+])?"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<exp>[eE][-−+]?\d+|\s*[×x·]\s*10(?P<sup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))?"
    r"(?P<suffix>[kKM](?![\w]))?"
)


@dataclasses.dataclass(frozen=True)
class Unshown:
    """A number in a markdown cell that the run does not show.

    Attributes:
        cell: The cell's index in the notebook (0-based, as in the `.ipynb`).
        text: The number as the prose writes it.
        sentence: The sentence it sits in, shortened.
    """

    cell: int
    text: str
    sentence: str

    def __str__(self):
        return (
            f"cell {self.cell}: {self.text!r} is not in the outputs at its precision, "
            f"not a setting and not quoted with a source — in: {self.sentence!r}"
        )


@dataclasses.dataclass(frozen=True)
class _Figure:
    value: float
    resolution: float  # half a unit in the last written digit
    text: str
    percent: bool


def _parse(match, following=""):
    """The value and written precision of a `_NUMBER` match."""
    body = match.group("body").replace(",", "")
    decimals = len(body.split(".")[1]) if "." in body else 0
    value = float(body)
    scale = 0
    exp = match.group("exp")
    if exp:
        if match.group("sup"):
            scale = int(match.group("sup").translate(SUPERSCRIPTS))
        else:
            scale = int(exp[1:].replace("−", "-"))
    suffix = match.group("suffix") or ""
    scale += {"k": 3, "K": 3, "M": 6}.get(suffix, 0)
    sign = -1.0 if match.group("sign") in ("-", "−") else 1.0
    value = sign * value * 10.0**scale
    if not exp and not suffix and decimals == 0 and body.endswith("000") and value != 0:
        # "300,000" or "1000" may be rounded to its last non-zero digit ("about 300,000").
        stripped = body.rstrip("0")
        resolution = 0.5 * 10.0 ** (len(body) - len(stripped))
    else:
        resolution = 0.5 * 10.0 ** (scale - decimals)
    percent = bool(re.match(r"\s*(?:%|percent|per cent|percentage points?|points?\b)", following))
    return _Figure(value, resolution, match.group(0), percent)


def _numbers_in_text(text):
    """Every plain number in `text` with its precision (for outputs)."""
    text = text.translate({0x2212: "-"})
    figures = []
    for match in _NUMBER.finditer(text):
        before = text[max(0, match.start() - 1) : match.start()]
        if before and (before.isalpha() or before == "_"):
            continue  # part of a name such as float32 or x1
        figures.append(_parse(match))
    return figures


def output_numbers(notebook):
    """Sorted values of every number printed or displayed in the notebook's outputs."""
    values = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            texts = []
            if output.get("output_type") == "stream":
                texts.append(_text(output.get("text", "")))
            for kind in ("text/plain", "text/markdown", "text/html"):
                if kind in output.get("data", {}):
                    texts.append(re.sub(r"<[^>]+>", " ", _text(output["data"][kind])))
            for text in texts:
                values.extend(figure.value for figure in _numbers_in_text(text))
    return sorted(values)


def setting_numbers(notebook):
    """Every number literal in the notebook's code (not in comments or strings)."""
    values = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(
            line for line in _text(cell["source"]).splitlines() if line.lstrip()[:1] not in "%!"
        )
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
        for token in tokens:
            if token.type == tokenize.NUMBER:
                try:
                    values.add(float(token.string.replace("_", "").rstrip("jJ")))
                except ValueError:
                    continue
    return values


def _text(source):
    return "".join(source) if isinstance(source, list) else source


def _prose(markdown):
    for pattern in _NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def _sentences(markdown):
    """Sentences (and list items, table cells, headings) of one markdown cell."""
    pieces = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)|\n(?=#)|\|", markdown):
        pieces.extend(re.split(r"(?<=[.!?;:])\s+(?=[A-Z(*_\"'])", block))
    return [piece for piece in pieces if piece.strip()]


def _is_reference(prose, start):
    before = prose[max(0, start - 24) : start].lower()
    return re.search(rf"\b(?:{_REFERENCE_WORDS})\s*(?:#|no\.)?\s*$", before) is not None


def _is_year(figure):
    return figure.resolution == 0.5 and 1800 <= figure.value <= 2099 and "," not in figure.text


def _shown(figure, printed):
    """Whether a printed value equals `figure` at the figure's precision (either sign)."""
    targets = [(figure.value, figure.resolution)]
    if figure.percent:
        targets.append((figure.value / 100, figure.resolution / 100))
    for target, resolution in targets:
        tolerance = resolution * (1 + 1e-9) + 1e-12
        for value in (target, -target):
            index = _bisect(printed, value - tolerance)
            if index < len(printed) and printed[index] <= value + tolerance:
                return True
    return False


def _bisect(values, target):
    low, high = 0, len(values)
    while low < high:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle + 1
        else:
            high = middle
    return low


def _is_setting(figure, settings):
    candidates = [figure.value, abs(figure.value)]
    if figure.percent:
        candidates += [figure.value / 100]
    return any(
        math.isclose(candidate, setting, rel_tol=1e-9, abs_tol=1e-12)
        for candidate in candidates
        for setting in settings
    )


def unshown_numbers(notebook, exercise_runs=()):
    """The numbers in `notebook`'s markdown that its outputs do not show (see the module).

    Args:
        notebook: An executed notebook: a dict as `json.load` or `nbformat.read` gives.
        exercise_runs: Executed notebooks whose outputs also show the numbers of the
            lesson's Exercises section (its worked solutions: a hint's prediction is shown
            by the solution that tests it).

    Returns:
        A list of `Unshown`, in cell order; empty when every number is accounted for.
    """
    printed = output_numbers(notebook)
    settings = setting_numbers(notebook)
    printed_with_solutions = sorted(
        printed + [value for run in exercise_runs for value in output_numbers(run)]
    )
    settings_with_solutions = settings.union(*(setting_numbers(run) for run in exercise_runs))
    found = []
    in_exercises = False
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = _text(cell["source"])
        if re.search(r"(?m)^#+\s*Exercises\b", source):
            in_exercises = True
        shown_by = printed_with_solutions if in_exercises else printed
        set_by = settings_with_solutions if in_exercises else settings
        prose = _LINK.sub(lambda m: m.group(1) + " ](http://cite) ", source)
        prose = _HEADING_NUMBER.sub(r"\1", _prose(prose))
        prose = prose.translate({0x2212: "-", 0x2009: " ", 0x202F: " ", 0xA0: " "})
        for sentence in _sentences(prose):
            if _CITATION.search(sentence) or _ILLUSTRATION.search(sentence):
                continue
            for match in _NUMBER.finditer(sentence):
                before = sentence[max(0, match.start() - 1) : match.start()]
                after = sentence[match.end() : match.end() + 1]
                if before and (before.isalpha() or before in "_-/"):
                    continue  # part of a name: float32, x_1, 3-D's D is after
                glued_unit = _GLUED_UNIT.match(sentence, match.end())
                if (
                    after
                    and (after.isalpha() or after == "_")
                    and not match.group("suffix")
                    and not glued_unit
                ):
                    continue  # 3D, 2nd, 1st, 64d; but 3.4x and 40ms are figures
                if after == "-" and sentence[match.end() + 1 : match.end() + 2].isalpha():
                    continue  # 3-D, 12-gram, 2-layer: a name or a setting's adjective
                if _is_reference(sentence, match.start()):
                    continue
                body = match.group("body")
                if len(body) == 2 and _YEAR_RANGE.search(sentence, 0, match.start("body")):
                    continue  # "1959–60": the end of a range of years
                figure = _parse(match, sentence[match.end() :])
                if _is_year(figure) or _is_setting(figure, set_by):
                    continue
                if _shown(figure, shown_by):
                    continue
                shortened = " ".join(sentence.split())
                found.append(Unshown(index, match.group(0).strip(), shortened[:160]))
    return found


def main(argv=None):
    """`python -m coursetools.claims EXECUTED.ipynb ...`: print what each does not show."""
    import sys

    paths = sys.argv[1:] if argv is None else argv
    status = 0
    for path in paths:
        with open(path, encoding="utf-8") as file:
            found = unshown_numbers(json.load(file))
        for item in found:
            print(f"{path}: {item}")
        status = status or bool(found)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
