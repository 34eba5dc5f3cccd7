"""Small helpers every chapter notebook calls: the run stamp and formatted glue."""

from __future__ import annotations

from . import data


class _Markdown:
    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return self.text


def run_stamp(notebook: str, parameters: dict):
    """A short record of what this page was computed from (shown at the foot of each chapter)."""
    rows = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in parameters.items())
    text = (
        f"**Run stamp.** Notebook `notebooks/{notebook}.ipynb`, data manifest "
        f"`{data.manifest_hash()[:12]}` (`data/datapackage.yaml`), parameters:\n\n"
        f"| parameter | value |\n|---|---|\n{rows}\n"
    )
    return _Markdown(text)


def glue_text(key: str, value, fmt: str = "{:,}") -> str:
    """Glue ``value`` already formatted as text (UBC style); return the text."""
    from myst_nb import glue

    text = fmt.format(value)
    glue(key, text, display=False)
    return text
