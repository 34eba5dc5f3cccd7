"""``vertint new-chapter NAME``: the recipe in CONTRIBUTING.md as a command.

It writes a chapter that already has the book's anatomy and passes every build check, so a
contributor starts from something that builds and replaces the placeholders:

- ``notebooks/NAME.md``: MyST markdown notebook (Overview, Prerequisites, Claims examined,
  parameters, imports, one section, Methods, Caveats, Summary, What's next, run stamp);
- ``src/vertint/NAME.py``: the chapter's module, with one function the notebook calls;
- ``claims/NAME.yml``: one registered claim, emitted by the notebook;
- an entry in ``runs.yml``, in ``_toc.yml`` and in ``rubric/certainty.yml`` (``not_applicable``).

Existing files are never overwritten.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import VertintError, paths

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(VertintError):
    pass


NOTEBOOK = '''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

({name})=
# {title}

## Overview
What this chapter asks, and why it matters for the question of the book.

## Prerequisites
The pages a reader should have read first, and the methods they need.

## Claims examined
Each claim links to the section that judges it:

```{{code-cell}}
:tags: [parameters]

smoke: bool = False  # fast run for tests
```

```{{code-cell}}
:tags: [remove-cell]

from vertint import claims, verdicts
from vertint import {name} as chapter
from vertint.nb import claims_examined, glue_text, run_stamp
```

```{{code-cell}}
:tags: [remove-input]

claims_examined("{name}")
```

({name}-first)=
## The first question
Narrative here; every number is glued, never typed: the example count is {{glue:text}}`{name}_example_count`.

```{{code-cell}}
:tags: [remove-cell]

example = chapter.example()
glue_text("{name}_example_count", example["count"])
```

```{{code-cell}}
:tags: [remove-input]

claims.emit("{name}-example",
            reproduced={{"value": example["count"], "unit": "items"}},
            verdict=verdicts.not_reproducible("replace with a rule of the rubric applied to vendored data"),
            caveat="A placeholder claim written by vertint new-chapter.")
```

## Methods
How the figures were computed, and which rules of the rubric judged the claims.

## Caveats
What the data cannot say.

## Summary
What the chapter found.

## What's next
Where the reader goes from here.

```{{code-cell}}
:tags: [remove-input]

run_stamp("{name}", {{"smoke": smoke}})
```
'''

MODULE = '''"""{title}: the logic behind ``notebooks/{name}.md`` (tested in ``tests/test_{name}.py``)."""

from __future__ import annotations


def example() -> dict:
    """A placeholder computation: replace with functions over vendored data (``vertint.data.load``)."""
    return {{"count": 1}}
'''

CLAIMS = '''# Claims examined in notebooks/{name}.md.
- id: {name}-example
  chapter: {name}
  claim: "An example claim, quoted exactly from its source"
  source: "The source document, and where in it"
  made: "2023"
  published: {{value: 1, unit: items}}
  section: {name}-first
'''


def _insert_toc(text: str, name: str) -> str:
    lines = text.splitlines(keepends=True)
    chapters = [i for i, line in enumerate(lines) if re.match(r"^\s*- file: notebooks/", line)]
    if not chapters:
        raise ScaffoldError("_toc.yml: no chapter entry '- file: notebooks/...' to add the new chapter after")
    last = chapters[-1]
    indent = re.match(r"^(\s*)", lines[last]).group(1)
    lines.insert(last + 1, f"{indent}- file: notebooks/{name}\n")
    return "".join(lines)


def new_chapter(name: str, title: str, root: Path | None = None) -> list[str]:
    """Write a new chapter's files and entries; return the paths written or changed."""
    root = root or paths.root()
    if not _NAME.match(name):
        raise ScaffoldError(f"chapter name {name!r}: use lower-case letters, digits and _ (2 to 31 characters, starting with a letter)")
    files = {
        root / "notebooks" / f"{name}.md": NOTEBOOK.format(name=name, title=title),
        root / "src" / "vertint" / f"{name}.py": MODULE.format(name=name, title=title),
        root / "claims" / f"{name}.yml": CLAIMS.format(name=name),
    }
    taken = [str(p.relative_to(root)) for p in files if p.exists()]
    runs_text = (root / "runs.yml").read_text(encoding="utf-8")
    if re.search(rf"^  {name}:\s*$", runs_text, flags=re.M):
        taken.append(f"runs.yml entry {name!r}")
    if taken:
        raise ScaffoldError(f"chapter {name!r} exists already: {', '.join(taken)}")
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    (root / "runs.yml").write_text(
        runs_text.rstrip("\n") + "\n"
        f"  {name}:\n    path: notebooks/{name}.md\n    title: {json.dumps(title)}\n    data: []\n    parameters:\n"
        f"      smoke: {{type: bool, default: false, help: \"Fast run for tests.\"}}\n", encoding="utf-8")
    toc = root / "_toc.yml"
    toc.write_text(_insert_toc(toc.read_text(encoding="utf-8"), name), encoding="utf-8")
    cert = root / "rubric" / "certainty.yml"
    text = cert.read_text(encoding="utf-8")
    if "\nnot_applicable:\n" not in text:
        raise ScaffoldError("rubric/certainty.yml: no 'not_applicable:' list to add the example claim to")
    cert.write_text(text.replace("\nnot_applicable:\n", f"\nnot_applicable:\n- id: {name}-example\n"
                                 "  reason: 'placeholder written by vertint new-chapter: judge the real claim or give the reason'\n", 1),
                    encoding="utf-8")
    return [str(p.relative_to(root)) for p in files] + ["runs.yml", "_toc.yml", "rubric/certainty.yml"]
