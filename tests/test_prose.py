"""No hand-typed numbers in prose: every figure in book/*.md and in notebook markdown is glued.

Allowed: years (1900-2099) and dates, numbers inside glue roles, code, links, labels and citations,
and ordinals in headings of lists. Anything else with a digit is a hand-typed number."""

from __future__ import annotations

import json
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
    r"|\b95% (?:confidence|CI|interval)"  # the conventional confidence level is a definition
    r"|\bper 100\b|\b30-day\b"            # units of the published outcomes
    r"|\b80% power\b"                      # the conventional power target is a definition
    r"|\bProposition 99\b"                 # a proper name
    r"|\bTable \d+[A-Z]?\b",               # a table in a cited source
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
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                yield f"{nb.relative_to(ROOT)} cell {i + 1}", src


def test_the_checker_catches_typed_numbers():
    assert typed_numbers("The trust ran 10 practices for 67,402 patients (13%).") == ["10", "67,402", "13%"]
    assert typed_numbers("In 2016 the trust ran {glue:text}`ctx_n` practices ({ref}`table-1 <x>`).") == []


def test_no_hand_typed_numbers_in_prose():
    found = []
    for where, text in _markdown_sources():
        hits = typed_numbers(text)
        if hits:
            found.append(f"{where}: {hits[:6]}")
    assert not found, "numbers typed into prose (glue them from a notebook):\n" + "\n".join(found)
