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
