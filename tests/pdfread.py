"""A PDF's page count, title, outline, text and pictures per page, read with pypdf. The whole-book
PDF's job (conftest) runs this as a script, so that reading some 170 pages uses the other core
while the tests go on."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def read(path: Path) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return {"pages": len(reader.pages), "title": reader.metadata.title, "outline": len(reader.outline),
            "text": [p.extract_text() or "" for p in reader.pages], "images": [len(p.images) for p in reader.pages]}


if __name__ == "__main__":
    json.dump(read(Path(sys.argv[1])), sys.stdout)
