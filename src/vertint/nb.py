"""The chapter toolkit: what every chapter notebook uses to put numbers, tables and the standard
sections on its page.

- :func:`glue_text` / :func:`glue_all`: one glue idiom. Keys are literal, greppable strings written
  next to the code that computes the value (``glue_text("context_rwt_low", spread["low"])``).
- :data:`NA`: the one value shown for a figure that does not exist.
- :func:`fmt`: a number formatted, or :data:`NA` for a missing one.
- :class:`Table`: the one table renderer (plain, deterministic HTML; links written as
  ``[text](https://...)`` become anchors).
- :func:`claims_examined`, :func:`summary` and :func:`run_stamp`: the *Claims examined* list, the
  verdict summary and the run stamp, generated from the claims registry, the records the chapter
  emitted and ``runs.yml`` (never hand-listed in a notebook).
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pandas as pd

from . import data

#: The one text shown for a figure that does not exist (in glued text and in tables).
NA = "not available"
_LINK = re.compile(r"^\[([^\]]+)\]\((https?://[^)\s]+)\)$")


class _Markdown:
    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return self.text


# --------------------------------------------------------------------------- glue


def glue_text(key: str, value, fmt: str = "{:,}") -> str:
    """Glue ``value`` already formatted as text (UBC style) under the literal ``key``; return the text."""
    from myst_nb import glue

    text = fmt.format(value)
    glue(key, text, display=False)
    return text


def glue_all(facts: dict[str, str], prefix: str) -> dict[str, str]:
    """Glue already formatted strings under ``prefix + key``; return them."""
    for key, text in facts.items():
        glue_text(prefix + key, text, "{}")
    return facts


def fmt(x, spec: str = "{:,.0f}") -> str:
    """``spec.format(x)``, or :data:`NA` when ``x`` is missing (None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return NA
    return spec.format(x)


# --------------------------------------------------------------------------- tables


class Table:
    """A DataFrame shown as a plain, deterministic HTML table: no index, no random ids, numbers
    formatted with thousands separators, missing values as :data:`NA`, columns named in ``signed``
    shown with a sign, and cells written ``[text](https://...)`` shown as links."""

    def __init__(self, df: pd.DataFrame, signed: tuple[str, ...] = ("change",), caption: str | None = None):
        self.df = df
        self.signed = signed
        self.caption = caption

    @staticmethod
    def _cell(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return NA
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        if isinstance(v, (float, np.floating)):
            return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
        return str(v)

    def formatted(self) -> pd.DataFrame:
        out = self.df.astype(object).map(self._cell)
        for col in self.signed:
            if col in self.df:
                vals = pd.to_numeric(self.df[col], errors="coerce")
                out[col] = [("+" + t if v > 0 else t) if pd.notna(v) else t for v, t in zip(vals, out[col])]
        return out

    @staticmethod
    def _html(text: str) -> str:
        m = _LINK.match(text)
        if m:
            return f'<a href="{html.escape(m.group(2))}">{html.escape(m.group(1))}</a>'
        return html.escape(text)

    def _repr_html_(self) -> str:
        df = self.formatted()
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        body = "".join("<tr>" + "".join(f"<td>{self._html(v)}</td>" for v in row) + "</tr>"
                       for row in df.itertuples(index=False))
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f'<table class="table vertint-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __repr__(self) -> str:
        return self.formatted().to_string(index=False)


# --------------------------------------------------------------------------- standard sections


def claims_examined(chapter: str):
    """The *Claims examined* section's list: every registered claim of ``chapter``, quoted, with a
    link to the section that judges it (who said it, and when, is in the claim's box there)."""
    from .claims import registry

    lines = [f"- {{ref}}`{cid} <{rec['section']}>`: \u201c{rec['claim']}\u201d"
             for cid, rec in registry().items() if rec["chapter"] == chapter]
    return _Markdown("\n".join(lines))


def summary(records: list[dict]):
    """One line per emitted claim for a chapter's summary: the claim, its verdict and the reason."""
    from .claims import registry

    reg = registry()
    lines = []
    for r in records:
        reason = str(r.get("reason") or "").strip()
        reason = reason[:1].upper() + reason[1:]
        lines.append(f"- \u201c{reg[r['id']]['claim']}\u201d: **{r['verdict']}**." + (f" {reason}." if reason else ""))
    return _Markdown("\n".join(lines))


def run_stamp(notebook: str, parameters: dict):
    """A short record of what this page was computed from (shown at the foot of each chapter):
    the source notebook named in ``runs.yml``, the data manifest's hash and the parameter values."""
    from .runner import load_matrix

    runs = load_matrix()
    path = runs[notebook].path if notebook in runs else f"notebooks/{notebook}"
    rows = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in parameters.items())
    text = (
        f"**Run stamp.** Notebook `{path}`, data manifest "
        f"`{data.manifest_hash()[:12]}` (`data/datapackage.yaml`), parameters:\n\n"
        f"| parameter | value |\n|---|---|\n{rows}\n"
    )
    return _Markdown(text)


def robustness_panel(claim_id: str):
    """The claim's robustness panel (:func:`vertint.robustness.panel`): put it in a ``remove-input``
    cell right after the claim's ``emit``."""
    from .robustness import panel

    return panel(claim_id)
