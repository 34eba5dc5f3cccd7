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

#: The house palette, on a light page. Every pair of roles stays at least :data:`MIN_DELTA_E`
#: (CIEDE2000) apart for normal vision and under simulated protanopia, deuteranopia and tritanopia
#: (:func:`cvd_report`), and each colour has at least 3:1 contrast with the page (WCAG 1.4.11).
#: The 2025 palette (#1f5f8b #d1603d #4d8b31 #8c6bb1 #b8860b #5f6b73) failed: GREEN and GOLD were
#: 4.7 apart under protanopia, ORANGE and GOLD 5.7 under deuteranopia.
PALETTE = ["#1c6784", "#ac4121", "#66976e", "#7f60d3", "#d0830f", "#3d4a50"]
#: the same roles for dark mode: lighter, at least 4.5:1 against the dark page, same CVD check
PALETTE_DARK = ["#378bb5", "#ca6248", "#57c992", "#b4b3fd", "#d5a300", "#818181"]
#: named roles in the palette, for chapter charts (no chapter module types a colour)
BLUE, ORANGE, GREEN, PURPLE, GOLD, GREY = PALETTE
INK = "#222222"  # near-black, for fitted lines drawn over data
INK_DARK = "#e6e6e6"  # what INK becomes in dark mode
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
#: page backgrounds of the theme (pydata-sphinx-theme 0.17 --pst-color-background, light and dark)
BACKGROUND = {"light": "#ffffff", "dark": "#14181e"}
#: text, axes and gridlines of charts in dark mode (the theme's dark text colour is #ced6dd)
DARK_TEXT, DARK_DOMAIN, DARK_GRID = "#ced6dd", "#9aa4ab", "#343b44"
MIN_DELTA_E = 12.0


def _theme():
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 620, "continuousHeight": 320, "stroke": None},
            "range": {"category": PALETTE},
            "mark": {"color": BLUE},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": "normal", "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "title": {"anchor": "start", "fontSize": 14},
        }
    }


alt.theme.register("vertint", enable=True)(_theme)
alt.data_transformers.disable_max_rows()

def dark_config() -> dict:
    """Vega-Lite config merged over a chart's own config when the page is in dark mode."""
    text = {"labelColor": DARK_TEXT, "titleColor": DARK_TEXT}
    return {
        "background": "transparent",
        "range": {"category": PALETTE_DARK},
        "mark": {"color": PALETTE_DARK[0]},
        "axis": {**text, "domainColor": DARK_DOMAIN, "tickColor": DARK_DOMAIN, "gridColor": DARK_GRID},
        "legend": text,
        "header": text,
        "title": {"color": DARK_TEXT, "subtitleColor": DARK_TEXT},
        "text": {"color": DARK_TEXT},
        "view": {"stroke": None},
    }


def dark_swaps() -> dict[str, str]:
    """Colours typed into chart specs (palette roles, INK, black) and what they become in dark mode."""
    swaps = dict(zip(PALETTE, PALETTE_DARK))
    swaps.update({INK: INK_DARK, "#222": INK_DARK, "black": INK_DARK, "#000000": INK_DARK})
    return {k.lower(): v for k, v in swaps.items()}


# --------------------------------------------------------------------------- colour checks

#: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color
#: vision deficiency", IEEE TVCG 15(6): matrices for severity 1.0, applied to linear sRGB.
MACHADO_2009 = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def _linear(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    out = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return tuple(out)


def simulate(hex_colour: str, kind: str = "normal") -> tuple[float, float, float]:
    """Linear sRGB of ``hex_colour`` as seen with colour-vision deficiency ``kind`` (Machado 2009)."""
    rgb = _linear(hex_colour)
    if kind == "normal":
        return rgb
    m = MACHADO_2009[kind]
    return tuple(min(1.0, max(0.0, sum(m[i][j] * rgb[j] for j in range(3)))) for i in range(3))


def lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIELAB (D65) of a linear sRGB triple."""
    r, g, b = rgb
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    from math import atan2, cos, degrees, exp, hypot, radians, sin, sqrt

    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    cbar = (hypot(a1, b1) + hypot(a2, b2)) / 2
    g = 0.5 * (1 - sqrt(cbar ** 7 / (cbar ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = hypot(a1p, b1), hypot(a2p, b2)
    h1p = degrees(atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = degrees(atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0
    if c1p * c2p:
        dh = h2p - h1p
        dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    dhh = 2 * sqrt(c1p * c2p) * sin(radians(dh / 2))
    lbar, cbarp = (l1 + l2) / 2, (c1p + c2p) / 2
    if not c1p * c2p:
        hbar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbar = (h1p + h2p) / 2
    else:
        hbar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * cos(radians(hbar - 30)) + 0.24 * cos(radians(2 * hbar))
         + 0.32 * cos(radians(3 * hbar + 6)) - 0.20 * cos(radians(4 * hbar - 63)))
    rc = 2 * sqrt(cbarp ** 7 / (cbarp ** 7 + 25 ** 7))
    rt = -sin(radians(2 * 30 * exp(-(((hbar - 275) / 25) ** 2)))) * rc
    sl = 1 + 0.015 * (lbar - 50) ** 2 / sqrt(20 + (lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    return sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh))


def cvd_report(palette: list[str]) -> dict[str, tuple[float, str, str]]:
    """For normal vision and each simulated deficiency: the smallest CIEDE2000 difference between
    two colours of ``palette`` and which pair it is."""
    from itertools import combinations

    out = {}
    for kind in ("normal", *MACHADO_2009):
        out[kind] = min(
            (round(delta_e2000(lab(simulate(a, kind)), lab(simulate(b, kind))), 2), a, b)
            for a, b in combinations(palette, 2)
        )
    return out


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    def lum(c):
        r, g, b = _linear(c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# --------------------------------------------------------------------------- embedding

_SAFE = re.compile(r"[^a-z0-9_-]+")
#: the data table under a chart lists at most this many rows (the CSV always has them all)
TABLE_MAX_ROWS = 60
TABLE_MAX_COLS = 12
TABLE_MAX_CHARS = 4000


def chart_id(key: str) -> str:
    return "vertint-fig-" + _SAFE.sub("-", key.lower())


def _json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).replace("</", "<\\/")


# One small registry per page, defined by whichever chart comes first: it draws each chart in the
# page's colour mode (pydata-sphinx-theme's html[data-theme], or the OS preference while that is
# still "auto") and redraws when the reader switches mode.
_RUNTIME = """window.vertintCharts = window.vertintCharts || (function () {
var DARK = %(dark)s, SWAPS = %(swaps)s, charts = [];
var RE = new RegExp('"(' + Object.keys(SWAPS).join("|") + ')"', "gi");
function mode() {
var t = document.documentElement.dataset.theme;
if (t === "dark" || t === "light") return t;
return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}
function merge(a, b) {
Object.keys(b).forEach(function (k) {
var v = b[k];
if (v && typeof v === "object" && !Array.isArray(v)) {
a[k] = merge(a[k] && typeof a[k] === "object" ? a[k] : {}, v);
} else { a[k] = v; }
});
return a;
}
function themed(spec, m) {
if (m !== "dark") return spec;
var s = JSON.parse(JSON.stringify(spec).replace(RE, function (x) { return '"' + SWAPS[x.slice(1, -1).toLowerCase()] + '"'; }));
s.config = merge(s.config || {}, DARK);
return s;
}
function draw(c) {
var m = mode();
if (c.mode === m) return;
c.mode = m;
if (c.view) { c.view.finalize(); c.view = null; }
var el = document.getElementById(c.id);
vegaEmbed(el, themed(c.spec, m), {"actions": false, "renderer": "svg"})
.then(function (r) {
c.view = r;
var svg = el.querySelector("svg");
if (svg) svg.setAttribute("aria-hidden", "true");  // the div's role=img and aria-label describe it
el.dataset.mode = m;
})
.catch(function (err) { console.error("chart " + c.id + ": " + err); });
}
new MutationObserver(function () { charts.forEach(draw); })
.observe(document.documentElement, {attributes: true, attributeFilter: ["data-theme"]});
return {add: function (id, spec) { var c = {id: id, spec: spec, mode: null}; charts.push(c); draw(c); }};
})();"""


def runtime_js() -> str:
    """The page's chart registry (``window.vertintCharts``), with the dark-mode config and colour
    swaps filled in: the build writes it once into the site as ``_static/vertint-charts.js`` (loaded
    after the vega bundle), so each chart's HTML carries only its own spec."""
    return "/* Generated by vertint.charts.runtime_js at build time: draw charts in light or dark mode. */\n" + (
        _RUNTIME % {"dark": _json(dark_config()), "swaps": _json(dark_swaps())}) + "\n"


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    return str(value)


def data_table(data: pd.DataFrame, key: str) -> str:
    """A ``<details>`` with ``data`` as a small HTML table: the text alternative to a chart. At
    most :data:`TABLE_MAX_ROWS` rows, :data:`TABLE_MAX_COLS` columns and about
    :data:`TABLE_MAX_CHARS` characters of rows (pages stay small); the CSV has everything."""
    cols = min(data.shape[1], TABLE_MAX_COLS)
    part = data.iloc[:TABLE_MAX_ROWS, :cols]
    esc = html.escape
    numeric = [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in part.dtypes]
    attr = [' class="num"' if n else "" for n in numeric]
    head = "".join(f'<th scope="col"{a}>{esc(str(c))}</th>' for c, a in zip(part.columns, attr))
    rows: list[str] = []
    size = 0
    for row in part.itertuples(index=False, name=None):
        tr = "<tr>" + "".join(f"<td{a}>{esc(_cell(v))}</td>" for v, a in zip(row, attr)) + "</tr>"
        if rows and size + len(tr) > TABLE_MAX_CHARS:
            break
        rows.append(tr)
        size += len(tr)
    n = len(rows)
    shown = f"{len(data):,} rows" if n == len(data) else f"the first {n} of {len(data):,} rows"
    if cols < data.shape[1]:
        shown += f", {cols} of {data.shape[1]} columns"
    body = "\n".join(rows)
    return (
        f'<details class="vertint-data">\n<summary>Data behind this figure as a table ({shown})</summary>\n'
        f'<div class="vertint-data-scroll" tabindex="0">\n'
        f'<table class="vertint-data-table">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</div>\n</details>'
    )


def embed_html(spec: dict, key: str, alt_text: str, data: pd.DataFrame | None = None) -> str:
    """The HTML for one chart: a div, a call to the local vegaEmbed (themed for light or dark mode),
    and, when ``data`` is given, a table of it and a CSV download link."""
    if not alt_text or not alt_text.strip():
        raise ValueError(f"figure {key!r}: alt text is required")
    div = chart_id(key)
    parts = [
        '<div class="vertint-figure">',
        # tabindex: on a phone the chart keeps a readable size and scrolls sideways in its own box
        f'<div id="{div}" class="vertint-chart" role="img" tabindex="0" aria-label="{html.escape(alt_text, quote=True)}"></div>',
        "<script>",
        f'window.vertintCharts.add("{div}", {_json(spec)});',
        "</script>",
    ]
    if data is not None:
        parts.append(data_table(data, key))
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
