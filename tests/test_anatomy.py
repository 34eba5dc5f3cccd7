"""Every chapter has one anatomy (CONTRIBUTING.md): Overview, Prerequisites, Claims examined, the
parameters cell, one imports cell, sections, Methods, Caveats, Summary, What's next, run stamp;
the claims list, the run stamp and the imports come from the toolkit, the same way everywhere."""

from __future__ import annotations

import ast
import re

import pytest

from vertint.runner import load_matrix, read_source

HEADINGS = ["Overview", "Prerequisites", "Claims examined"]
CLOSING = ["Methods", "Caveats", "Summary", "What's next"]


def check_anatomy(nb: dict, name: str) -> None:
    cells = nb["cells"]
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    heads = re.findall(r"^## (.+)$", md, flags=re.M)
    assert heads[:3] == HEADINGS, (name, heads[:3])
    assert heads[-4:] == CLOSING, (name, heads[-4:])
    assert len(re.findall(r"^# ", md, flags=re.M)) == 1, name
    code = [c for c in cells if c["cell_type"] == "code"]
    tags = [c["metadata"].get("tags", []) for c in code]
    assert "parameters" in tags[0], f"{name}: the first code cell must be the parameters cell"
    imports = ast.parse("".join(code[1]["source"])).body
    assert imports and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in imports), f"{name}: the second code cell holds the imports, only"
    assert "remove-cell" in tags[1], f"{name}: the imports cell is tagged remove-cell"
    src = ["".join(c["source"]) for c in code]
    assert sum(f'claims_examined("{name}")' in s for s in src) == 1, f"{name}: claims_examined from the registry"
    assert src[-1].lstrip().startswith(f'run_stamp("{name}"'), f"{name}: the last cell is the run stamp"
    assert "Markdown(" not in "".join(src[-1:]), name
    bare = [s.splitlines()[0] for s, tg in zip(src, tags) if not tg]
    assert not bare, f"{name}: code cells without a tag show their code to readers: {bare}"


@pytest.mark.parametrize("name", list(load_matrix()))
def test_every_chapter_has_the_anatomy(name):
    run = load_matrix()[name]
    check_anatomy(read_source(run.source), name)
