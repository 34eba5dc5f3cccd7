"""The robustness grid in the built book (issue 13): every data-decided claim has ledger fields and a
panel; the grid agrees with separate variant builds; the *what if* explorer works offline in
Debian Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, variant_build

pytestmark = pytest.mark.build

CLAIM = "workforce-fte-fallen"
NOT_REPRODUCIBLE = "not reproducible from public data"


def _grid(root: Path, chapter: str) -> dict:
    files = sorted((root / "_build" / "cache" / "robustness").glob(f"{chapter}-*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text(encoding="utf-8"))


def test_every_data_decided_claim_has_robustness_fields_and_a_panel(book_copy):
    records = json.loads((book_copy / "_build" / "claims.json").read_text(encoding="utf-8"))
    html = book_copy / "_build" / "html"
    missing, no_panel = [], []
    for r in records:
        rob = r.get("robustness")
        assert rob and rob.get("label"), r["id"]
        if r["verdict"] == NOT_REPRODUCIBLE:
            continue
        if "n_specs" not in rob:
            missing.append(r["id"])
            continue
        assert rob["default_verdict"] == r["verdict"], r["id"]
        page = (html / "notebooks" / f"{r['chapter']}.html").read_text(encoding="utf-8")
        if f'id="robustness-{r["id"]}"' not in page:
            no_panel.append(r["id"])
    assert not missing, f"data-decided claims without a declared grid: {missing}"
    assert not no_panel, f"claims without a robustness panel on their page: {no_panel}"
    csv = (book_copy / "_build" / "claims.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "robustness" in csv.split(",")


#: the variant that test_build.py builds (issue 3's check): when it ran first, the grid's matching
#: specification is checked against that build ("Up to date"), not a variant executed again
SHARED = {"measure": "headcount", "include_trainees": True}


def _variant_specs(g: dict) -> list[dict]:
    """Two specifications that differ from the default only in chapter parameters (so a variant
    build can run them), preferring ones the data decide and whose verdicts differ: the first is
    test_build.py's variant (:data:`SHARED`) if the grid has it."""
    params = {c["name"] for c in g["choices"] if c["param"]}
    default = {c["name"]: c["default"] for c in g["choices"]}
    cands = [s for s in g["specs"] if s["choice"] != default
             and all(s["choice"][k] == v for k, v in default.items() if k not in params)]
    shared = dict(default, **SHARED)
    cands.sort(key=lambda s: (s["choice"] != shared, s["verdict"] == NOT_REPRODUCIBLE, json.dumps(s["choice"], sort_keys=True)))
    first = cands[0]
    second = next((s for s in cands[1:] if s["verdict"] != first["verdict"]), cands[1])
    return [first, second]


def _spec_args(g: dict, spec: dict) -> tuple[str, ...]:
    by_name = {c["name"]: c for c in g["choices"]}
    args: list[str] = []
    for name, value in spec["choice"].items():
        c = by_name[name]
        if c["param"] and value != c["default"]:
            args += ["-p", f"{c['param']}={str(value).lower() if isinstance(value, bool) else value}"]
    return tuple(args)


def grid_variant_args(root: Path) -> list[tuple[str, ...]]:
    """The ``-p`` arguments of the variant builds the test below compares with the grid (conftest
    starts them in the background as soon as the book is built)."""
    g = _grid(root, "workforce")["claims"][CLAIM]
    return [_spec_args(g, spec) for spec in _variant_specs(g)]


def test_grid_agrees_with_separate_variant_builds(book_copy):
    g = _grid(book_copy, "workforce")["claims"][CLAIM]
    for spec in _variant_specs(g):
        args = _spec_args(g, spec)
        root, proc = variant_build(*args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        slug = "+".join(sorted(a for a in args if a != "-p"))
        variant = {r["id"]: r for r in json.loads((root / "_build" / "variants" / slug / "claims.json").read_text())}
        rec = variant[CLAIM]
        assert rec["verdict"] == spec["verdict"], (args, rec["verdict"], spec)
        if spec["verdict"] != NOT_REPRODUCIBLE:
            assert rec["reproduced"]["value"] == pytest.approx(spec["value"]), (args, rec["reproduced"], spec)


@pytest.mark.browser
def test_what_if_explorer_changes_the_verdict_offline(site):
    """Pick, in the page's dropdown, a value that changes the verdict (read from the grid) and see
    the new verdict drawn; no request leaves 127.0.0.1 and no console error."""
    from playwright.sync_api import sync_playwright

    base, html = site
    root = html.parents[1]
    g = _grid(root, "workforce")["claims"][CLAIM]
    default = {c["name"]: c["default"] for c in g["choices"]}
    target = None
    for c in g["choices"]:
        for v, text in zip(c["values"], c["labels"]):
            one = dict(default, **{c["name"]: v})
            hit = [s for s in g["specs"] if s["choice"] == one]
            if hit and hit[0]["verdict"] != next(s for s in g["specs"] if s["choice"] == default)["verdict"]:
                target = (c, text, hit[0]["verdict"])
                break
        if target:
            break
    assert target, "no single choice changes this claim's verdict: pick another claim for the test"
    choice, label, expected = target
    outside, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:", "about:")) else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/notebooks/workforce.html")
        panel = page.locator(f"#robustness-{CLAIM}")
        panel.evaluate("el => el.open = true")
        readout = panel.locator("svg text", has_text="This combination:")
        readout.first.wait_for(timeout=15000)
        assert "This combination: " + next(s for s in g["specs"] if s["choice"] == default)["verdict"] in readout.first.text_content()
        select = panel.locator(".vega-bind", has_text=choice["label"]).locator("select")
        select.select_option(label=label)
        page.wait_for_function(
            "([id, want]) => Array.from(document.querySelectorAll('#robustness-' + id + ' svg text'))"
            ".some(t => t.textContent.startsWith('This combination: ' + want))", arg=[CLAIM, expected], timeout=15000)
        browser.close()
    assert not outside, f"requests left 127.0.0.1: {outside[:5]}"
    assert not errors, f"console errors: {errors[:5]}"

