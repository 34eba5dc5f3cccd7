"""The context chapter: where trusts run GP practices (the UK sites, Wales, the national mapping), the
NIHR qualitative evidence and the proposals on the table.

Every figure the chapter states is computed here from the vendored files ``data/context_uk_sites.csv``
and ``data/context_qualitative.csv`` and the official payments file (or read from the published
values in ``claims/*.yml``), and tested in ``tests/test_context.py``. The 2013 review of scaled primary
care, the survey series and GPs per patient by deprivation are in :mod:`vertint.models`, which shares
the site names, :func:`published`, :func:`equals_claim` and :func:`other_claims` defined here.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from . import claims, data, rubric, verdicts
from .nb import NA
from .verdicts import not_reproducible

RWT = "Royal Wolverhampton"
SHS = "Symphony Healthcare Services (Yeovil)"
NORTHUMBRIA = "Northumbria Primary Care"
SWINDON = "Great Western Hospitals (Swindon)"
WALES = "Wales: health-board-managed practices"
NORTH_WALES = "North Wales: Betsi Cadwaladr managed practices"
ENGLAND = "England: national mapping"
#: rows that record an event or a date rather than a count (not "figures" in the site table)
EVENT_MEASURES = ("earliest_integration_year", "dhsc_visits", "dhsc_visits_reported")


class ContextError(ValueError):
    pass


# --------------------------------------------------------------------------- loading


def sites() -> pd.DataFrame:
    return data.load("context_uk_sites")








def qualitative() -> pd.DataFrame:
    return data.load("context_qualitative")


def published(claim_id: str):
    """The published value of a registered claim (what was asserted), from ``claims/*.yml``."""
    reg = claims.registry()
    if claim_id not in reg:
        raise ContextError(f"claim {claim_id!r} is not registered")
    return reg[claim_id]["published"]["value"]


# --------------------------------------------------------------------------- site figures


def figure(df: pd.DataFrame, site: str, measure: str, source_id: str, period: str | None = None) -> float:
    """The one figure a source gave for a site and measure (and period, if the source gave several)."""
    sel = df[(df["site"] == site) & (df["measure"] == measure) & (df["source_id"] == source_id)]
    if period is not None:
        sel = sel[sel["period"] == period]
    if len(sel) != 1:
        raise ContextError(f"expected one {measure!r} figure for {site!r} from {source_id!r}, found {len(sel)}")
    return float(sel["value"].iloc[0])


def practice_counts(df: pd.DataFrame, site: str = RWT) -> pd.DataFrame:
    """Every published count of practices for a site, dated ones first in date order."""
    sel = df[(df["site"] == site) & (df["measure"] == "practices")].copy()
    sel["dated"] = sel["period"] != "undated"
    sel = sel.sort_values(["dated", "period", "source_id"], ascending=[False, True, True], kind="stable")
    return sel[["period", "year", "value", "source_kind", "source_title", "source_id", "quote", "source_url"]].reset_index(drop=True)


def count_sources(df: pd.DataFrame, site: str = RWT) -> list[str]:
    """Source ids that give a practice count for ``site`` (the allowed values of the reference
    parameter besides ``as_of``); for Royal Wolverhampton also :data:`OFFICIAL`, the count of the
    practices in the trust's own network in NHS Payments to General Practice (:func:`official_counts`)."""
    ids = set(practice_counts(df, site)["source_id"])
    if site == RWT:
        ids.add(OFFICIAL)
    return sorted(ids)


#: the reference value for the official count (NHS Payments to General Practice, the trust's PCN)
OFFICIAL = "nhs_payments"


def official_counts(payments: pd.DataFrame) -> pd.DataFrame:
    """Practices in the Royal Wolverhampton trust's own primary care network (``WOLVERHAMPTON RWT
    PCN``) by financial year, from NHS Payments to General Practice (PCNs are recorded from
    2019-20), in the shape of the site table's rows: ``period`` is the month the financial year ends
    (the book dates a practice-level financial year by its end), ``source_kind`` is official.
    Network membership is evidence of who runs a practice, not proof (see the rwt chapter)."""
    from .rwt import RWT_PCN

    p = payments[payments["pcn_code"].astype("string") == RWT_PCN]
    g = p.groupby("year", sort=True)["practice_code"].nunique()
    rows = [{"site": RWT, "source_id": OFFICIAL, "period": claims.fy_end(str(y)), "year": float(int(str(y)[:4]) + 1),
             "measure": "practices", "value": float(n), "source_kind": "official",
             "source_title": f"NHS Payments to General Practice {y} (practices in the trust's PCN)",
             "source_url": "https://digital.nhs.uk/data-and-information/publications/statistical/nhs-payments-to-general-practice",
             "quote": f"{n} practices with PCN code {RWT_PCN} in {y}", "fy": str(y)} for y, n in g.items()]
    return pd.DataFrame(rows)


def count_spread(df: pd.DataFrame, site: str = RWT) -> dict:
    counts = practice_counts(df, site)["value"]
    return {"n_sources": int(len(counts)), "low": int(counts.min()), "high": int(counts.max()),
            "distinct": int(counts.nunique())}


def mapping(df: pd.DataFrame) -> dict:
    """The national mapping at 31 March 2021, with the mean recomputed from its own counts."""
    get = lambda m: figure(df, ENGLAND, m, "sidhu2023")  # noqa: E731
    trusts, practices, sites_ = get("trusts"), get("practices"), get("practice_sites")
    return {
        "trusts": int(trusts), "practices": int(practices), "sites": int(sites_),
        "published_mean": get("practices_per_trust_mean"),
        "min": int(get("practices_per_trust_min")), "max": int(get("practices_per_trust_max")),
        "mean": practices / trusts,
        "sites_per_practice": sites_ / practices,
    }


def growth(before: float, after: float) -> dict:
    """Fold change and percentage increase from ``before`` to ``after``."""
    if before <= 0:
        raise ContextError("growth needs a positive starting value")
    ratio = after / before
    return {"before": before, "after": after, "ratio": ratio, "pct_increase": (ratio - 1) * 100, "ratio_pct": ratio * 100}


def wales(df: pd.DataFrame) -> dict:
    """Patients at health-board-managed practices in Wales, 2012-13 and 2017-18."""
    before = figure(df, WALES, "patients", "westernmail2018", "2012-13")
    after = figure(df, WALES, "patients", "westernmail2018", "2017-18")
    out = growth(before, after)
    out["share_before"] = figure(df, WALES, "share_of_patients_pct", "westernmail2018", "2012-13")
    out["share_after"] = figure(df, WALES, "share_of_patients_pct", "westernmail2018", "2017-18")
    out["north_practices"] = int(figure(df, NORTH_WALES, "practices", "westernmail2018", "2017-18"))
    out["north_patients"] = int(figure(df, NORTH_WALES, "patients", "westernmail2018", "2017-18"))
    return out


def months_between(start: str, end: str) -> int:
    """Whole calendar months from ``start`` to ``end`` (both 'YYYY-MM')."""
    (y0, m0), (y1, m1) = (map(int, start.split("-")[:2]), map(int, end.split("-")[:2]))
    months = (y1 - y0) * 12 + (m1 - m0)
    if months < 0:
        raise ContextError(f"{end} is before {start}")
    return months


def swindon(df: pd.DataFrame) -> dict:
    start = df[(df["site"] == SWINDON) & (df["measure"] == "practices")]
    end = df[(df["site"] == SWINDON) & (df["measure"] == "practices_handed_back")]
    if len(start) != 1 or len(end) != 1:
        raise ContextError("expected one take-on and one hand-back row for Swindon")
    s, e = start["period"].iloc[0], end["period"].iloc[0]
    return {"practices": int(start["value"].iloc[0]), "handed_back": int(end["value"].iloc[0]),
            "start": s, "end": e, "months": months_between(s, e),
            "patients": int(figure(df, SWINDON, "patients", "gwh2022"))}


def northumbria(df: pd.DataFrame) -> dict:
    rows = df[(df["site"] == NORTHUMBRIA) & (df["measure"] == "patients")]
    return {"practices": int(len(rows)), "patients": int(rows["value"].sum())}


def _month(text: str) -> tuple[int, int] | None:
    """'2022-03' -> (2022, 3); '2020' -> (2020, 7) (mid-year); 'undated' -> None."""
    text = str(text)
    if len(text) >= 7 and text[4] == "-":
        return int(text[:4]), int(text[5:7])
    if len(text) == 4 and text.isdigit():
        return int(text), 7
    return None


def count_as_of(df: pd.DataFrame, site: str, upto: str, exclude: tuple[str, ...] = ()) -> dict | None:
    """The count of practices at ``site`` as it stood in month ``upto`` (YYYY-MM, see
    :func:`vertint.claims.seen_up_to`): the latest dated count from an independent source (not in
    ``exclude``) on or before it, if within the rubric's window; else the nearest dated count after
    it within the window; else None."""
    window = int(rubric.timing_param("count_window_months"))
    m = _month(upto)
    rows = df[(df["site"] == site) & (df["measure"] == "practices") & (~df["source_id"].isin(exclude))]
    best = None
    for r in rows.itertuples():
        d = _month(r.period)
        if d is None or m is None:
            continue
        gap = (d[0] - m[0]) * 12 + (d[1] - m[1])
        if abs(gap) > window:
            continue
        key = (0 if gap <= 0 else 1, abs(gap))
        if best is None or key < best[0]:
            best = (key, {"value": int(r.value), "source_id": r.source_id, "period": str(r.period), "gap_months": gap,
                          "source_title": r.source_title})
    return None if best is None else best[1]










#: the data row of each Wolverhampton claim's own source (never its own benchmark)
RWT_OWN_SOURCE = {"context-rwt-eight-practices": "hf2023", "context-rwt-nine-practices": "pulse2022"}


def rwt_benchmark(df: pd.DataFrame, claim_id: str, reference: str, payments: pd.DataFrame | None = None) -> dict | None:
    """The count a Wolverhampton claim is judged against: with ``reference='as_of'`` the independent
    dated count as it stood when the claim was made (:func:`count_as_of`); with :data:`OFFICIAL` the
    official count of the trust's network as it stood then, by the same rule (``payments`` defaults to
    the vendored table); otherwise the named source."""
    if reference == "as_of":
        b = count_as_of(df, RWT, claims.seen_up_to(claim_id), exclude=(RWT_OWN_SOURCE[claim_id],))
        if b is not None:
            b["why"] = ("the independent dated count nearest the claim's date "
                        f"({'on or before it' if b['gap_months'] <= 0 else 'none earlier within the window; the next after it'})")
        return b
    if reference == OFFICIAL:
        off = official_counts(data.load("practice_payments") if payments is None else payments)
        b = count_as_of(off, RWT, claims.seen_up_to(claim_id))
        if b is not None:
            b["why"] = ("the official count nearest the claim's date (practices in the trust's network in NHS Payments to "
                        "General Practice, the financial year dated by its end), chosen by the wolverhampton_reference parameter")
        return b
    row = df[(df["site"] == RWT) & (df["measure"] == "practices") & (df["source_id"] == reference)]
    if row.empty:
        raise ContextError(f"wolverhampton_reference={reference!r}: not a source of a practice count for {RWT}")
    r = row.iloc[0]
    return {"value": int(r["value"]), "source_id": reference, "period": str(r["period"]), "gap_months": None,
            "source_title": r["source_title"], "why": "the source chosen by the wolverhampton_reference parameter"}


def describe_benchmark(b: dict | None) -> str:
    if b is None:
        return "no independent dated count within the window"
    return f"{b['value']} practices ({b['source_title']}, {b['period']})"


def rwt_claim(df: pd.DataFrame, b: dict | None, claim_id: str) -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` for a Wolverhampton count claim judged
    against benchmark ``b`` (:func:`rwt_benchmark`), with the latest dated count as 'still true now?'."""
    rec = claims.registry()[claim_id]
    window = int(rubric.timing_param("count_window_months"))
    dated = practice_counts(df)
    dated = dated[(dated["period"] != "undated") & (dated["source_id"] != RWT_OWN_SOURCE[claim_id])]
    latest = dated.sort_values("period").iloc[-1] if not dated.empty else None
    now = None
    if latest is not None:
        now = {"verdict": verdicts.equals(published(claim_id), int(latest["value"])), "date": str(latest["period"])[:7],
               "note": f"the latest dated count: {int(latest['value'])} practices ({latest['source_title']}, {latest['period']})"}
    if b is None:
        reason = f"no independent dated count of the trust's practices within {window} months of {rec['made']}"
        return {"reproduced": {"value": NA, "unit": "practices"}, "verdict": not_reproducible(reason),
                "as_of": {"date": str(rec["made"]), "figure": "none", "why": reason}, "now": now}
    return {"reproduced": {"value": b["value"], "unit": f"practices ({b['source_id']}, {b['period']})"},
            "verdict": verdicts.equals(published(claim_id), b["value"]),
            "as_of": {"date": str(b["period"])[:7] if b["period"][:4].isdigit() else str(rec["made"]),
                      "figure": describe_benchmark(b), "why": b["why"]},
            "now": now}


# --------------------------------------------------------------------------- site table and charts


SITE_MODEL = {
    RWT: ("England, West Midlands", "acute and community trust runs the practices directly (GPs employed by the trust)"),
    SHS: ("England, Somerset", "company wholly owned by the acute trust holds the contracts"),
    NORTHUMBRIA: ("England, Northumberland", "trust subsidiary company runs the practices"),
    SWINDON: ("England, Wiltshire", "acute trust ran practices after the previous provider failed; handed back"),
    WALES: ("Wales", "health boards run practices directly after contracts are handed back"),
    NORTH_WALES: ("Wales, North", "health board runs practices directly"),
    ENGLAND: ("England", "national count of hospital and community trusts running practices"),
}


#: the documents whose claims this chapter checks: their own figures are not used as benchmarks
CLAIM_SOURCES = {"hf2023", "pulse2022"}
SHORT = {RWT: "Wolverhampton", SHS: "Symphony", NORTHUMBRIA: "Northumbria", SWINDON: "Swindon", WALES: "Wales (managed)",
         NORTH_WALES: "North Wales", ENGLAND: "England"}


def _latest(sel: pd.DataFrame, measure: str) -> str:
    """The latest dated figure for a measure, else an undated one (the organisation's own first), as text."""
    m = sel[(sel["measure"] == measure) & ~sel["source_id"].isin(CLAIM_SOURCES)]
    if m.empty:
        return ""
    dated = m[m["period"] != "undated"].sort_values("period", kind="stable")
    if len(dated):
        row = dated.iloc[-1]
    else:
        rank = {"peer-reviewed": 0, "trust or provider": 1, "press": 2, "encyclopedia": 3, "political party": 4, "think tank": 5}
        row = m.assign(r=m["source_kind"].map(rank)).sort_values(["r", "source_id"], kind="stable").iloc[0]
    return f"{row['value']:,.0f} ({row['period']}, {row['source_kind']})"


def site_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per site: the arrangement, and the latest published count of practices and of patients
    (excluding the documents under review, whose figures are what is being checked)."""
    rows = []
    for site, (where, model) in SITE_MODEL.items():
        sel = df[(df["site"] == site) & ~df["measure"].isin(EVENT_MEASURES)]
        prac, pats = _latest(sel, "practices"), _latest(sel, "patients")
        if site == NORTHUMBRIA:
            npc = northumbria(df)
            first = sel["period"].min()
            prac = f"{npc['practices']:,} ({first}, named at start)"
            pats = f"{npc['patients']:,} ({first}, sum of the practices' list sizes)"
        rows.append({"Site": SHORT[site], "Where": where, "Arrangement": model,
                     "Practices (latest)": prac, "Patients (latest)": pats, "Figures on file": int(len(sel))})
    return pd.DataFrame(rows)






def timeline_chart(df: pd.DataFrame) -> alt.Chart:
    """Each dated published figure on a practices-or-patients measure, by site and year."""
    sel = df[df["year"].notna() & df["measure"].isin(["practices", "patients", "trusts", "practice_sites", "contracts"])].copy()
    sel["year"] = sel["year"].astype(int)
    sel["label"] = sel["measure"].str.replace("_", " ") + ": " + sel["value"].map(lambda v: f"{v:,.0f}")
    sel["where"] = sel["site"].map(SHORT)
    return (
        alt.Chart(sel)
        .mark_point(filled=True, size=90, opacity=0.85)
        .encode(
            x=alt.X("year:O", title="Year the figure refers to",
                    scale=alt.Scale(domain=list(range(int(sel["year"].min()), int(sel["year"].max()) + 1)))),
            xOffset=alt.XOffset("measure:N"),
            y=alt.Y("where:N", title=None, sort=[SHORT[s] for s in SITE_MODEL]),
            color=alt.Color("source_kind:N", title="Kind of source", legend=alt.Legend(orient="bottom", columns=3)),
            shape=alt.Shape("measure:N", title="Measure", legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=["site", "period", "label", "source_kind", "source_title", "quote"],
        )
        .properties(width=440, height=240)
    )






def counts_chart(counts: pd.DataFrame, reference: str) -> alt.LayerChart:
    """Royal Wolverhampton practice counts by source; the reference source is ringed."""
    frame = counts.copy()
    frame["when"] = frame["period"]
    frame["reference"] = frame["source_id"] == reference
    frame["order"] = range(len(frame))
    frame["label"] = frame["when"] + " · " + frame["source_id"]
    base = alt.Chart(frame).encode(
        y=alt.Y("label:N", title=None, sort=alt.SortField("order")),
        x=alt.X("value:Q", title="Practices run by the trust (as published)", scale=alt.Scale(domain=[0, 14])),
        tooltip=["period", "value", "source_kind", "source_title", "quote"],
    )
    bars = base.mark_bar(height=12).encode(color=alt.Color("source_kind:N", title="Kind of source"))
    ring = base.transform_filter("datum.reference").mark_point(shape="circle", size=260, color="black", filled=False, strokeWidth=2)
    return (bars + ring).properties(width=400, height=300)


# --------------------------------------------------------------------------- models of scaled primary care












# --------------------------------------------------------------------------- qualitative evidence


def qualitative_table(q: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    sel = q[q["kind"].isin(kinds)].copy()
    sel["source"] = "[" + sel["source_title"] + "](" + sel["source_url"] + ")"
    return sel[["kind", "theme", "detail", "source"]].reset_index(drop=True)


def qualitative_counts(q: pd.DataFrame) -> dict[str, int]:
    counts = q.groupby("kind").size().to_dict()
    method = q[q["kind"] == "method"].set_index("theme")["count"]
    return {
        "challenges": int(counts.get("challenge", 0)), "advantages": int(counts.get("advantage", 0)),
        "takeaways": int(counts.get("takeaway", 0)),
        "sites": int(method["Case-study sites"]), "interviews": int(method["Stakeholders interviewed"]),
        "meetings": int(method["Strategic meetings observed"]),
    }


# --------------------------------------------------------------------------- published values with several parts


def published_parts(claim_id: str) -> list[float]:
    """A published value given as several figures ('21; 12') as numbers, in order."""
    value = published(claim_id)
    parts = [p.strip().lstrip(">").strip().replace(",", "") for p in str(value).split(";")]
    try:
        return [float(p) for p in parts]
    except ValueError as exc:
        raise ContextError(f"claim {claim_id!r}: published value {value!r} is not a list of numbers") from exc


def swindon_published() -> dict:
    """The Swindon claim's two parts: practices, and the 'more than' threshold in months."""
    practices, months = published_parts("context-swindon-handback")
    return {"practices": practices, "months": months}


# --------------------------------------------------------------------------- statements no data can test

def other_section(chapter: str = "context") -> str:
    """The section of ``chapter`` that examines its claims carrying ``reason_if_unreproducible``."""
    return f"{chapter}-other-claims"


#: the context chapter's section for the claims no vendored data can test
OTHER_SECTION = other_section("context")
OTHER_CAVEAT = ("Recorded so that the ledger covers every quantitative statement in the source documents; "
                "the verdict can change only if data that test the statement are vendored.")


def other_claim_ids(reg: dict | None = None, chapter: str = "context") -> list[str]:
    """Claims of ``chapter`` that no vendored data can test, in file order (those with ``reason_if_unreproducible``)."""
    reg = claims.registry() if reg is None else reg
    return [cid for cid, rec in reg.items() if rec["chapter"] == chapter and "reason_if_unreproducible" in rec]


def other_claims(reg: dict | None = None, chapter: str = "context") -> list[dict]:
    """Keyword arguments for :func:`vertint.claims.emit`, one dict per claim of ``chapter`` no data can test.

    The reason comes from the claim's ``reason_if_unreproducible`` field; the claim must be examined
    in the chapter's ``<chapter>-other-claims`` section (:func:`other_section`) and give a specific
    (non-empty) reason.
    """
    reg = claims.registry() if reg is None else reg
    section = other_section(chapter)
    out = []
    for cid in other_claim_ids(reg, chapter):
        rec = reg[cid]
        reason = str(rec["reason_if_unreproducible"] or "").strip()
        if not reason:
            raise ContextError(f"claim {cid!r}: reason_if_unreproducible is empty")
        if rec["section"] != section:
            raise ContextError(f"claim {cid!r}: claims with reason_if_unreproducible belong in {section!r}")
        out.append({"claim_id": cid,
                    "reproduced": {"value": NA, "unit": str(rec["published"]["unit"])},
                    "verdict": not_reproducible(reason),
                    "caveat": OTHER_CAVEAT})
    return out


# --------------------------------------------------------------------------- claims that moved to another chapter

#: sections of this page that moved to the models chapter: their old HTML ids (heading slugs), kept resolvable here
MOVED_SECTIONS = {
    "models-of-scaled-primary-care-2013": "models",
    "the-uk-sites-against-the-2013-checklist": "models",
    "booking-appointments-and-satisfaction-the-survey-series": "models",
    "gps-per-patient-by-deprivation": "models",
}


def moved_claims(reg: dict | None = None) -> dict[str, str]:
    """Claims first examined in this chapter (their ids keep the ``context-`` prefix: ids are citable
    anchors) that another chapter now examines: claim id to chapter, in registry order."""
    reg = claims.registry() if reg is None else reg
    return {cid: rec["chapter"] for cid, rec in reg.items() if cid.startswith("context-") and rec["chapter"] != "context"}


def moved_note(reg: dict | None = None) -> str:
    """HTML for this page: a short note naming the chapters the moved claims now live in, and one
    empty element per old anchor (each moved claim's box id, each moved section's heading id), so an
    old link to ``context.html#<id>`` still lands on the note, which links on to the new page."""
    import html
    import json

    from .claims import anchor
    from .runner import load_matrix

    moved = moved_claims(reg)
    runs = load_matrix()
    for chapter in set(moved.values()) | set(MOVED_SECTIONS.values()):
        if chapter not in runs:
            raise ContextError(f"moved claims point to chapter {chapter!r}, which is not in runs.yml")
    ids = [anchor(cid) for cid in moved] + list(MOVED_SECTIONS)
    targets = sorted(set(moved.values()) | set(MOVED_SECTIONS.values()))
    links = ", ".join(f'<a href="{html.escape(c)}.html">{html.escape(runs[c].title)}</a>' for c in targets)
    spans = "".join(f'<span id="{html.escape(i)}"></span>' for i in ids)
    where = {**{anchor(cid): c for cid, c in moved.items()}, **MOVED_SECTIONS}
    # with scripts on, an old link goes straight on to the same id on the new page; without, the note says where
    script = ("<script>(function(){var m=" + json.dumps(where, sort_keys=True, separators=(",", ":"))
              + ';var h=decodeURIComponent(location.hash.replace(/^#/,""));if(m[h]){location.replace(m[h]+".html#"+h);}})();</script>')
    return (f'<p class="vertint-moved">{spans}Earlier releases examined {len(moved):,} more claims on this page; '
            f"they keep their ids and are now judged in {links}.</p>{script}")


# --------------------------------------------------------------------------- statements audited from the seeds

#: the places the long read names, and the site rows that show an arrangement there
NAMED_PLACES = {"Somerset": SHS, "Wolverhampton": RWT, "Northumberland": NORTHUMBRIA, "North Wales": NORTH_WALES}
#: measures that show a site running practices (a count of practices, contracts or patients)
RUNNING_MEASURES = ("practices", "contracts", "patients")


def trusts_trend(df: pd.DataFrame) -> dict:
    """Trusts running practices: none before the earliest integration the national mapping found,
    and the mapping's count at its census date."""
    first = int(figure(df, ENGLAND, "earliest_integration_year", "sidhu2023"))
    census = df[(df["site"] == ENGLAND) & (df["measure"] == "trusts")].iloc[0]
    return {"first_year": first, "before_year": first - 1, "before": 0,
            "after": int(census["value"]), "census": str(census["period"])}


def trusts_claim(df: pd.DataFrame, measure: str = "trusts") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: 'some trusts are already playing a greater role',
    read as a rise in the trusts running practices (default) or in the practices they run."""
    t = trusts_trend(df)
    if measure == "practices":
        t["after"] = int(figure(df, ENGLAND, "practices", "sidhu2023"))
    elif measure != "trusts":
        raise ContextError(f"measure={measure!r}: choose 'trusts' or 'practices'")
    v = verdicts.direction(t["after"] - t["before"], "rise")
    return {"reproduced": {"value": f"{t['before']} → {t['after']}",
                           "unit": f"{'trusts running practices' if measure == 'trusts' else 'practices run by trusts'}, "
                                   f"before {t['first_year']} → {t['census']}"},
            "verdict": v,
            "as_of": {"date": t["census"], "figure": f"{t['after']} {measure}",
                      "why": "the only national count, the peer-reviewed mapping at its census date, before the claim"}}


def places_shown(df: pd.DataFrame, kinds: list[str] | None = None) -> dict[str, bool]:
    """For each place the long read names: does a dated or undated source (of one of ``kinds``, if
    given) show a site there running practices?"""
    ok = df["measure"].isin(RUNNING_MEASURES) & (df["value"] > 0)
    if kinds is not None:
        ok &= df["source_kind"].isin(kinds)
    return {place: bool(((df["site"] == site) & ok).any()) for place, site in NAMED_PLACES.items()}


PLACES_EVIDENCE = ("any", "strong")


def places_claim(df: pd.DataFrame, evidence: str = "any") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` (without the caveat): the long read's named
    places, each shown by any source (the ``named_places`` rule, the default) or, with
    ``evidence="strong"``, only by a source of the kinds the rubric lets support a dated event alone."""
    if evidence not in PLACES_EVIDENCE:
        raise ContextError(f"evidence={evidence!r}: choose one of {', '.join(PLACES_EVIDENCE)}")
    kinds = None if evidence == "any" else list(rubric.param("dated_event", "strong_kinds"))
    shown = places_shown(df, kinds)
    return {"reproduced": {"value": sum(shown.values()), "unit": f"of {len(shown)} named places with a site on file"},
            "verdict": verdicts.named_places(shown, "an organisation running practices")}


def event_years(df: pd.DataFrame, site: str, measure: str) -> list[tuple[int, str]]:
    """(year, source kind) for every dated row recording an event (``measure``) at a site."""
    sel = df[(df["site"] == site) & (df["measure"] == measure)].dropna(subset=["year"])
    return [(int(y), str(k)) for y, k in zip(sel["year"], sel["source_kind"])]


VISIT_DATING = {"visit": "dhsc_visits", "first_report": "dhsc_visits_reported"}


def visit_claim(df: pd.DataFrame, claim_id: str, dated_by: str = "visit") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: 'visited by officials last year', in two
    parts: that the visit happened, and that it happened in the year before the claim's own year.
    ``dated_by``: "visit" (the date the sources give the visit, the chapter's reading) or
    "first_report" (the date it was first reported, which a writer relying on that report would use)."""
    if dated_by not in VISIT_DATING:
        raise ContextError(f"dated_by={dated_by!r}: choose one of {', '.join(VISIT_DATING)}")
    year = int(str(claims.registry()[claim_id]["made"])[:4]) - 1
    dated = event_years(df, RWT, VISIT_DATING[dated_by])
    v = verdicts.all_of(verdicts.dated_event("the officials' visit", dated),
                        verdicts.dated_event("the officials' visit", dated, (year, year)))
    reported = event_years(df, RWT, "dhsc_visits_reported")
    return {"reproduced": {"value": ", ".join(str(y) for y, _ in dated) or "undated",
                           "unit": f"year of the visit (first reported {', '.join(str(y) for y, _ in reported) or 'never'})"},
            "verdict": v}


WORKLOAD_COMPARISONS = ("both", "within_release", "calendar_year")


def workload_claim(appts: pd.DataFrame, claim_id: str, comparison: str = "both", first_published: bool = False) -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: 'growing workload', read as appointments.

    As of the claim: (a) the same calendar months a year apart within one release and one coverage
    basis, first-published months excluded; (b) the last full year before the claim against the year
    before, which crosses a release and coverage change, so at most partly supported. ``comparison``
    keeps both (default) or only (a) ("within_release") or (b) ("calendar_year");
    ``first_published`` keeps the months first published in a release (later revised upwards)."""
    if comparison not in WORKLOAD_COMPARISONS:
        raise ContextError(f"comparison={comparison!r}: choose one of {', '.join(WORKLOAD_COMPARISONS)}")
    upto = claims.seen_up_to(claim_id)
    a = appts[(appts["month"] <= upto) & (first_published | ~appts["first_published"].astype(bool))].copy()
    a["year"] = a["month"].str[:4].astype(int)
    a["mm"] = a["month"].str[5:]
    parts, figures = [], []
    for (release, coverage), g in (a.groupby(["release", "coverage"], sort=True) if comparison != "calendar_year" else ()):
        pairs = g.merge(g.assign(year=g["year"] - 1), on=["mm", "year"], suffixes=("", "_next"))
        if pairs.empty:
            continue
        before, after = float(pairs["appointments"].sum()), float(pairs["appointments_next"].sum())
        months = ", ".join(f"{m}" for m in pairs["month"])
        parts.append(verdicts.direction(after - before, "rise"))
        figures.append(f"{after / before - 1:+.1%} in the same months a year later ({months}; {release}, {coverage})")
    last = int(upto[:4])
    shared = a[a["year"] == last]["mm"].pipe(set) & a[a["year"] == last - 1]["mm"].pipe(set)
    yr = a[a["mm"].isin(shared) & a["year"].isin([last - 1, last])].groupby("year")["appointments"].sum()
    if len(yr) == 2 and comparison != "within_release":
        change = float(yr[last] - yr[last - 1])
        parts.append(verdicts.across_break(verdicts.direction(change, "rise"), f"{last - 1} → {last}, same months"))
        figures.append(f"{yr[last] / yr[last - 1] - 1:+.1%} from {last - 1} to {last} ({len(shared)} months in both years, "
                       "across a release and coverage change)")
    if not parts:
        return {"reproduced": {"value": NA, "unit": "appointments"},
                "verdict": not_reproducible(f"no comparable appointment months up to {upto}")}
    return {"reproduced": {"value": "; ".join(figures), "unit": "appointments in general practice (excluding COVID-19 vaccinations)"},
            "verdict": verdicts.all_of(*parts),
            "as_of": {"date": upto, "figure": "; ".join(figures),
                      "why": "months up to the December before the claim's year, first-published months excluded"}}


# --------------------------------------------------------------------------- official practice-level data


def practices_open(payments: pd.DataFrame, year: str, on: str) -> int:
    """Practices in NHS Payments to General Practice for financial ``year`` with registered patients
    and no close date on or before ``on`` (YYYY-MM-DD)."""
    p = payments[payments["year"] == year]
    closed = p["close_date"].notna() & (p["close_date"].astype(str) <= on)
    return int(((p["registered_patients"] > 0) & ~closed).sum())


def mapping_census(df: pd.DataFrame) -> dict:
    """The national mapping's census date, the financial year ending on it, and its count of trust-run practices."""
    census = df[(df["site"] == ENGLAND) & (df["measure"] == "practices")].iloc[0]
    on = str(census["period"])
    return {"on": on, "year": f"{int(on[:4]) - 1}-{on[2:4]}", "trust_run": int(census["value"])}


def separate_claim(df: pd.DataFrame, payments: pd.DataFrame, trust_run: str = "practices") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: 'GP practices are usually run separately
    from hospitals', as the share of open practices that no trust ran at the national mapping's census.
    ``trust_run``: count the mapping's practices (default) or its practice sites (branch surgeries
    included: the largest reading of what trusts run)."""
    c = mapping_census(df)
    if trust_run == "practice_sites":
        c["trust_run"] = int(figure(df, ENGLAND, "practice_sites", "sidhu2023"))
    elif trust_run != "practices":
        raise ContextError(f"trust_run={trust_run!r}: choose 'practices' or 'practice_sites'")
    on, year = c["on"], c["year"]
    total = practices_open(payments, year, on)
    share = 1 - c["trust_run"] / total
    return {"reproduced": {"value": round(share * 100, 1),
                           "unit": f"% of {total:,} open practices not run by a trust ({on}; NHS Payments {year})"},
            "verdict": verdicts.at_least(rubric.param("at_least", "majority"), share, "share of practices not run by a trust"),
            "as_of": {"date": on, "figure": f"{c['trust_run']:,} of {total:,} practices run by trusts",
                      "why": "the first national count, taken after the claim; trust-run practices only grew from 2015, "
                             "so the share run separately was at least as high when the claim was made"}}












# --------------------------------------------------------------------------- claims judged by one call (notebook and spec functions)


def equals_claim(claim_id: str, values, unit: str) -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` (without the caveat) for a count or counts
    read off a document: each published part (``published_parts``) against the reproduced value(s)
    by the ``equals`` rule (``all_of`` over several parts)."""
    vals = list(values) if isinstance(values, (list, tuple)) else [values]
    pub = published_parts(claim_id) if len(vals) > 1 else [published(claim_id)]
    if len(pub) != len(vals):
        raise ContextError(f"claim {claim_id!r}: {len(pub)} published part(s), {len(vals)} reproduced")
    parts = [verdicts.equals(p, r) for p, r in zip(pub, vals)]
    return {"reproduced": {"value": "; ".join(str(v) for v in vals) if len(vals) > 1 else vals[0], "unit": unit},
            "verdict": verdicts.all_of(*parts) if len(parts) > 1 else parts[0]}


def symphony_claim(df: pd.DataFrame, claim_id: str, measure: str = "practices") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` (without the caveat): the long read's '16
    practices ... approximately 117,000' against Symphony's own evidence, its count of ``measure``
    ("practices" or "contracts") and its patients (at the claim's own precision)."""
    if measure not in ("practices", "contracts"):
        raise ContextError(f"symphony_measure={measure!r}: use 'practices' or 'contracts'")
    count = figure(df, SHS, measure, "shs_evidence")
    pats = figure(df, SHS, "patients", "shs_evidence")
    return {"reproduced": {"value": f"{count:,.0f}; {pats:,.0f}", "unit": f"{measure}; patients (Symphony's written evidence)"},
            "verdict": verdicts.all_of(
                verdicts.equals(figure(df, SHS, "practices", "hf2023"), count),
                verdicts.rounds_to(figure(df, SHS, "patients", "hf2023"), pats, claims.precision(claim_id), "registered patients"))}


SWINDON_MONTHS = ("calendar", "whole")


def swindon_claim(df: pd.DataFrame, months: str = "calendar") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` (without the caveat): two practices, with the
    trust 'more than three years'. ``months``: calendar months from the take-on month to the hand-back
    month (default), or the fewest whole months the two months allow (exact days are not published)."""
    if months not in SWINDON_MONTHS:
        raise ContextError(f"months={months!r}: choose one of {', '.join(SWINDON_MONTHS)}")
    swi = swindon(df)
    n = swi["months"] - (1 if months == "whole" else 0)
    pub = swindon_published()
    return {"reproduced": {"value": f"{swi['practices']}; {n}",
                           "unit": f"practices; {'whole ' if months == 'whole' else ''}months with the trust ({swi['start']} to {swi['end']})"},
            "verdict": verdicts.all_of(verdicts.equals(pub["practices"], swi["practices"]),
                                       verdicts.at_least(pub["months"], n, "months from take-on to hand-back"))}


WALES_BASES = ("patients", "share")


def wales_claim(df: pd.DataFrame, claim_id: str, basis: str = "patients") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` (without the caveat): the published '885%
    increase' against the increase re-derived from the patient counts (default) or from the shares of
    all patients (as published, to one decimal)."""
    w = wales(df)
    if basis == "patients":
        pct = w["pct_increase"]
    elif basis == "share":
        pct = growth(w["share_before"], w["share_after"])["pct_increase"]
    else:
        raise ContextError(f"basis={basis!r}: choose one of {', '.join(WALES_BASES)}")
    return {"reproduced": {"value": round(pct, 1), "unit": f"% increase, 2012-13 to 2017-18{'' if basis == 'patients' else ' (share of patients)'}"},
            "verdict": verdicts.rederived(published(claim_id), pct)}


def mapping_mean_claim(df: pd.DataFrame, claim_id: str) -> dict:
    """Keyword arguments for :func:`vertint.claims.emit` (without the caveat): the mapping's mean
    practices per trust, recomputed from its own counts, at the published precision."""
    mp = mapping(df)
    return {"reproduced": {"value": round(mp["mean"], 2), "unit": f"practices per trust ({mp['practices']} / {mp['trusts']})"},
            "verdict": verdicts.equals(published(claim_id), round(mp["mean"], 1))}
