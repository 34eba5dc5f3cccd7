"""No hand-typed numbers in prose: every figure in book/*.md and in notebook markdown is glued.

Allowed: years (1900-2099) and dates, numbers inside glue roles, code, links, labels and citations,
and ordinals in headings of lists. Anything else with a digit is a hand-typed number."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STRIP = re.compile(
    r"\{glue(?::[a-z]+)?\}`[^`]*`"      # glued values
    r"|\{(?:ref|numref|doc|cite(?::[a-z]+)?|eq|term|download)\}`[^`]*`"
    r"|```.*?```"                        # fenced blocks
    r"|`[^`]*`"                          # inline code
    r"|\]\([^)]*\)"                      # link targets
    r"|https?://\S+"
    r"|^\([^)]*\)=\s*$"                  # MyST labels
    r"|^:[a-z-]+:.*$"                    # directive options
    r"|<!--.*?-->"
    r"|^\s*\d+\.\s"                       # ordered-list markers
    r"|\b95% (?:confidence|CI|interval|prediction|intervals|low|high|put)"  # the conventional level is a definition
    r"|\bper 10,000\b|\b12-month\b|< 0\.001"  # units, a window's length, the p-value floor of fmt_p
    r"|\bper 100\b|\b30-day\b"            # units of the published outcomes
    r"|\b80% power\b"                      # the conventional power target is a definition
    r"|\bProposition 99\b"                 # a proper name
    r"|\bTable \d+[A-Z]?\b"                # a table in a cited source
    r"|\b12 months\b",                    # a year, as a unit conversion
    re.S | re.M,
)
YEAR_OR_DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d)(?:[-–/](?:\d\d|1[89]\d\d|20\d\d))?\b|\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* (?:19|20)\d\d\b")
NUMBER = re.compile(r"(?<![\w.#-])[£$€]?\d[\d,]*(?:\.\d+)?%?(?![\w])")


def typed_numbers(text: str) -> list[str]:
    text = STRIP.sub(" ", text)
    text = YEAR_OR_DATE.sub(" ", text)
    return NUMBER.findall(text)


def _markdown_sources():
    for page in sorted((ROOT / "book").glob("*.md")):
        yield str(page.relative_to(ROOT)), page.read_text(encoding="utf-8")
    from vertint.runner import read_source

    for nb in sorted((ROOT / "notebooks").glob("*.md")):
        cells = read_source(nb)["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                yield f"{nb.relative_to(ROOT)} cell {i + 1}", src


def test_the_checker_catches_typed_numbers():
    assert typed_numbers("The trust ran 10 practices for 67,402 patients (13%).") == ["10", "67,402", "13%"]
    assert typed_numbers("In 2016 the trust ran {glue:text}`ctx_n` practices ({ref}`table-1 <x>`).") == []


def _findings(check, notebooks_only: bool = False) -> list[str]:
    """``where: hits`` for every markdown source (or only the chapters') in which ``check`` finds something."""
    return [f"{where}: {hits[:6]}" for where, text in _markdown_sources()
            if (not notebooks_only or where.startswith("notebooks/")) and (hits := check(text))]


def test_no_hand_typed_numbers_in_prose():
    found = _findings(typed_numbers)
    assert not found, "numbers typed into prose (glue them from a notebook):\n" + "\n".join(found)


#: number words that state a count (``two`` is left out: "the two groups" is grammar, not a figure;
#: "twelve-month"/"twelve months" is the length of a year)
NUMBER_WORDS = re.compile(r"\b(three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                          r"sixty|seventy|eighty|ninety|hundred|thousand)\b(?![- ]month)", re.I)
#: the verdict words: a verdict is made by a rule over data and glued or shown in a claim box, never typed
VERDICT_WORDS = re.compile(r"\b(?:is|are|was|were|be|judged|rated|stays|remains)\s+(?:\*\*)?(partly supported|not supported|supported|"
                           r"not reproducible from public data)\b(?!\s+(?:only|if|when|unless))", re.I)  # a rule's definition may name its verdicts
QUOTED = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')


def number_words(text: str) -> list[str]:
    text = STRIP.sub(" ", text)
    return NUMBER_WORDS.findall(QUOTED.sub(" ", text))


def test_the_word_checker_catches_number_words():
    assert number_words("The trust ran ten practices for four hundred patients.") == ["ten", "four", "hundred"]
    assert number_words('It "lost four hundred GPs" over a twelve-month window, the two groups.') == []


def test_no_number_words_in_notebook_prose():
    found = _findings(number_words, notebooks_only=True)
    assert not found, "counts written as words in chapter prose (glue them):\n" + "\n".join(found)


def test_no_verdict_typed_in_notebook_prose():
    found = _findings(lambda text: VERDICT_WORDS.findall(QUOTED.sub(" ", STRIP.sub(" ", text))), notebooks_only=True)
    assert not found, "verdicts typed into chapter prose (they come from claims.emit):\n" + "\n".join(found)


def _code_strings():
    """String literals in chapter code cells (captions, alt text, caveats, units), docstrings aside."""
    import ast

    from vertint.runner import read_source

    for nb in sorted((ROOT / "notebooks").glob("*.md")):
        for i, cell in enumerate(read_source(nb)["cells"]):
            if cell["cell_type"] != "code":
                continue
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    yield f"{nb.relative_to(ROOT)} cell {i + 1}", node.value


def test_no_hand_typed_numbers_in_notebook_strings():
    found = [f"{where}: {hits} in {text[:60]!r}" for where, text in _code_strings() if (hits := typed_numbers(text))]
    assert not found, "numbers typed into reader-facing strings (format them from data):\n" + "\n".join(found)


CHAPTER_MODULES = ["context", "models", "admissions", "valencia", "rwt", "rwt_claims", "synth", "prop99", "meta", "workforce"]


def _module_strings():
    """Reader-facing string literals in the chapter modules: not docstrings, not error messages
    (the text of a ``raise``), and with at least one space (not a key, format or column name)."""
    import ast

    files = []
    for name in CHAPTER_MODULES:
        base = ROOT / "src" / "vertint" / name
        files += sorted(base.glob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body \
                    and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
                skip.add(id(node.body[0].value))
            if isinstance(node, ast.Raise):
                skip |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip and " " in node.value \
                    and not node.value.lstrip().startswith("~"):  # a model formula (pyfixest), not prose
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value


def test_no_hand_typed_numbers_in_chapter_module_strings():
    """Sentences, captions and units the chapter modules put on the page are built from data too."""
    found = [f"{where}: {hits} in {text[:60]!r}" for where, text in _module_strings() if (hits := typed_numbers(text))]
    assert not found, "numbers typed into reader-facing strings in chapter modules (format them from data):\n" + "\n".join(found)
