from __future__ import annotations

import base64
import re

import altair as alt
import pandas as pd
import pytest

from vertint import charts


def test_embed_is_deterministic_and_offline():
    df = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})
    spec = alt.Chart(df).mark_line().encode(x="x:Q", y="y:Q").to_dict()
    a = charts.embed_html(spec, "test_fig", "A line going down then up", df)
    b = charts.embed_html(spec, "test_fig", "A line going down then up", df)
    assert a == b
    assert 'id="vertint-fig-test_fig"' in a and 'role="img"' in a
    assert "cdn" not in a and "http://" not in a.split("$schema")[0]
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', a).group(1)
    assert base64.b64decode(href).decode() == "x,y\n1,3\n2,1\n3,2\n"


def test_alt_text_is_required():
    with pytest.raises(ValueError, match="alt text is required"):
        charts.embed_html({}, "k", "  ")


def test_script_cannot_break_out():
    html = charts.embed_html({"description": "</script><script>alert(1)"}, "k", "alt")
    assert "</script><script>alert" not in html


# --------------------------------------------------------------------------- colour and accessibility


def test_ciede2000_matches_sharma_2005_test_data():
    # pairs 1, 7 and 17 of Sharma, Wu & Dalal (2005), Table 1
    assert charts.delta_e2000((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert charts.delta_e2000((50.0, 0.0, 0.0), (50.0, -1.0, 2.0)) == pytest.approx(2.3669, abs=1e-4)
    assert charts.delta_e2000((50.0, 2.5, 0.0), (73.0, 25.0, -18.0)) == pytest.approx(27.1492, abs=1e-4)


def test_cvd_simulation_merges_red_and_green():
    """Sanity of the Machado (2009) matrices: pure red and green, far apart for normal vision, come
    much closer under deuteranopia and protanopia; grey stays grey."""
    red, green = "#cc0000", "#00a000"
    normal = charts.delta_e2000(charts.lab(charts.simulate(red)), charts.lab(charts.simulate(green)))
    for kind in ("deuteranopia", "protanopia"):
        seen = charts.delta_e2000(charts.lab(charts.simulate(red, kind)), charts.lab(charts.simulate(green, kind)))
        assert seen < normal / 2
    grey = charts.simulate("#777777", "deuteranopia")
    assert max(grey) - min(grey) < 0.01


@pytest.mark.parametrize("palette", ["PALETTE", "PALETTE_DARK"])
def test_palette_is_colour_blind_safe(palette):
    """Every pair of roles stays MIN_DELTA_E (CIEDE2000) apart for normal vision and under simulated
    protanopia, deuteranopia and tritanopia (Machado et al. 2009, severity 1)."""
    colours = getattr(charts, palette)
    assert len(colours) == 6 and len(set(colours)) == 6
    report = charts.cvd_report(colours)
    assert set(report) == {"normal", "protanopia", "deuteranopia", "tritanopia"}
    for kind, (de, a, b) in report.items():
        assert de >= charts.MIN_DELTA_E, f"{palette}: {a} and {b} are only {de} apart under {kind}"


def test_the_old_palette_fails_the_check():
    old = ["#1f5f8b", "#d1603d", "#4d8b31", "#8c6bb1", "#b8860b", "#5f6b73"]
    report = charts.cvd_report(old)
    assert report["protanopia"][0] < charts.MIN_DELTA_E and report["deuteranopia"][0] < charts.MIN_DELTA_E


def test_palette_contrast_with_the_page():
    # WCAG 1.4.11: graphical objects at least 3:1 against the page; dark mode keeps 4.5:1 for text marks
    assert all(charts.contrast_ratio(c, charts.BACKGROUND["light"]) >= 3 for c in charts.PALETTE)
    assert all(charts.contrast_ratio(c, charts.BACKGROUND["dark"]) >= 4.5 for c in charts.PALETTE_DARK)
    assert charts.contrast_ratio(charts.INK_DARK, charts.BACKGROUND["dark"]) >= 4.5
    for key in ("DARK_TEXT", "DARK_DOMAIN"):
        assert charts.contrast_ratio(getattr(charts, key), charts.BACKGROUND["dark"]) >= 4.5


def test_roles_keep_their_names():
    assert (charts.BLUE, charts.ORANGE, charts.GREEN, charts.PURPLE, charts.GOLD, charts.GREY) == tuple(charts.PALETTE)
    swaps = charts.dark_swaps()
    assert [swaps[c] for c in charts.PALETTE] == charts.PALETTE_DARK
    assert swaps[charts.INK.lower()] == charts.INK_DARK


def test_embed_has_dark_mode_and_hides_the_svg_behind_its_description():
    df = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    spec = alt.Chart(df).mark_line(color=charts.INK).encode(x="x:Q", y="y:Q").to_dict()
    out = charts.embed_html(spec, "k", "alt", df)
    runtime = charts.runtime_js()  # written once into the site as _static/vertint-charts.js
    assert "prefers-color-scheme: dark" in runtime and "data-theme" in runtime
    assert charts.PALETTE_DARK[0] in runtime and charts.INK_DARK in runtime
    assert 'setAttribute("aria-hidden", "true")' in runtime
    assert "prefers-color-scheme" not in out  # each chart carries only its own spec
    assert out.count("window.vertintCharts.add(") == 1
    assert 'role="img" tabindex="0" aria-label="alt"' in out


def test_table_fallback_is_escaped_and_capped():
    df = pd.DataFrame({"label": ["<b>x</b>"] + [f"r{i}" for i in range(99)], "value": [0.123456789] * 100})
    out = charts.embed_html({}, "k", "alt", df)
    table = re.search(r"<details class=\"vertint-data\">.*?</details>", out, re.S).group(0)
    assert "&lt;b&gt;x&lt;/b&gt;" in table and "<b>x</b>" not in table
    assert table.count("<tr>") == 1 + charts.TABLE_MAX_ROWS
    assert f"the first {charts.TABLE_MAX_ROWS} of 100 rows" in table
    assert '<th scope="col">label</th>' in table and '<td class="num">0.123457</td>' in table
    small = charts.embed_html({}, "k", "alt", df.head(3))
    assert "(3 rows)" in small and small.count("<tr>") == 4
    assert "<details" not in charts.embed_html({}, "k", "alt")  # no data, no table
