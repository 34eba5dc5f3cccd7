"""Every bibliography entry carries a DOI or a URL, keys are unique, and every cited key exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", re.S)


def _entries():
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    return [(kind, key, body) for kind, key, body in ENTRY.findall(text)]


def test_every_entry_has_doi_or_url():
    entries = _entries()
    assert len(entries) > 20
    missing = [key for _, key, body in entries if not re.search(r"^\s*(doi|url)\s*=", body, re.M | re.I)]
    assert not missing, f"entries without doi or url: {missing}"


def test_keys_are_unique():
    keys = [key for _, key, _ in _entries()]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    assert not dup, dup


def test_every_cited_key_exists():
    keys = {key for _, key, _ in _entries()}
    cite = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "book").glob("*.md")]
    from vertint.runner import read_source

    for nb in (ROOT / "notebooks").glob("*.md"):
        for cell in read_source(nb)["cells"]:
            sources.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
    cited = {k.strip() for text in sources for group in cite.findall(text) for k in group.split(",")}
    assert cited, "no citations found"
    assert not cited - keys, f"cited but not in references.bib: {sorted(cited - keys)}"
