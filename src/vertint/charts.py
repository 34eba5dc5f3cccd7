"""Charts: one house theme, and figures that draw offline.

:func:`figure` glues an altair chart as an HTML snippet that calls the page's local ``vegaEmbed``
(served from the site's own ``assets/``), with a deterministic element id, alt text and a link to
download the data behind it as CSV. Paste it in the notebook with a ``{glue:figure}`` directive,
which numbers and captions it.
"""

from __future__ import annotations

import base64
import html
import json
import re

import altair as alt
import pandas as pd

PALETTE = ["#1f5f8b", "#d1603d", "#4d8b31", "#8c6bb1", "#b8860b", "#5f6b73"]
#: named roles in the palette, for chapter charts (no chapter module types a colour)
BLUE, ORANGE, GREEN, PURPLE, GOLD, GREY = PALETTE
INK = "#222222"  # near-black, for fitted lines drawn over data
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _theme():
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 620, "continuousHeight": 320, "stroke": None},
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": "normal", "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "title": {"anchor": "start", "fontSize": 14},
        }
    }


alt.theme.register("vertint", enable=True)(_theme)
alt.data_transformers.disable_max_rows()

_SAFE = re.compile(r"[^a-z0-9_-]+")


def chart_id(key: str) -> str:
    return "vertint-fig-" + _SAFE.sub("-", key.lower())


def embed_html(spec: dict, key: str, alt_text: str, data: pd.DataFrame | None = None) -> str:
    """The HTML for one chart: a div, a call to the local vegaEmbed, and a CSV download link."""
    if not alt_text or not alt_text.strip():
        raise ValueError(f"figure {key!r}: alt text is required")
    div = chart_id(key)
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str).replace("</", "<\\/")
    parts = [
        '<div class="vertint-figure">',
        f'<div id="{div}" class="vertint-chart" role="img" aria-label="{html.escape(alt_text, quote=True)}"></div>',
        "<script>",
        f'vegaEmbed("#{div}", {spec_json}, {{"actions": false, "renderer": "svg"}})'
        f'.catch(function (err) {{ console.error("chart {div}: " + err); }});',
        "</script>",
    ]
    if data is not None:
        csv = data.to_csv(index=False, lineterminator="\n").encode("utf-8")
        href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv).decode("ascii")
        parts.append(
            f'<p class="vertint-download"><a download="{key}.csv" href="{href}">'
            f"Download the data behind this figure (CSV, {len(data):,} rows)</a></p>"
        )
    parts.append("</div>")
    return "\n".join(parts)


class _HTML:
    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self):
        return self.text

    def __repr__(self):
        return "<figure>"


def figure(key: str, chart: alt.TopLevelMixin, alt_text: str, data: pd.DataFrame | None = None):
    """Glue ``chart`` under ``key`` (not displayed in place); paste with ``{glue:figure}``."""
    from myst_nb import glue

    spec = chart.to_dict()
    glue(key, _HTML(embed_html(spec, key, alt_text, data)), display=False)
    return spec
