"""Royal Wolverhampton's practices in official data: a staggered-adoption event study.

The Royal Wolverhampton NHS Trust (RWT) took over the running of GP practices from June 2016.
This module asks what happened to those practices in the official practice-level tables (GP and
admin staff per patient, list size, payments per patient, QOF achievement, closure), against other
Wolverhampton practices or matched practices elsewhere in England. Everything is a small pure
function of the vendored tables (``data/practice_*.csv`` and ``data/rwt_takeovers.csv``); the
chapter only calls them. Tested in ``tests/test_rwt.py``.

The steps, each a function:

- :func:`takeovers` / :func:`treatment`: which practices the trust ran and from which financial
  year. Most take-over dates are not published; a practice known only from PCN membership has a
  *bound* ("by 2019-20 (PCN)"), and ``unknown=`` says what to do with it (leave it out, the default;
  treat it from the bound; or from the programme's start).
- :func:`practice_panel` / :func:`panel`: a tidy practice x financial-year panel of one outcome
  declared in :data:`OUTCOMES`.
- :func:`wolverhampton_comparators` / :func:`match`: the two comparator sets.
- :func:`study_panel`: treated practices plus one comparator set, with adoption year ``g``,
  treatment ``D`` and event time ``rel``.
- :func:`event_study` / :func:`average_effect`: the imputation estimator of Borusyak, Jaravel and
  Spiess, computed as Gardner's two-stage estimator with its GMM standard errors
  (:func:`two_stage`, numpy), valid when practices are taken over in different years and effects
  differ between them. pyfixest's ``did2s`` gives the same estimates and standard errors
  (:func:`did2s_pyfixest`, checked in the tests) but its first stage drops practices with a single
  untreated year, which the 2016-17 take-overs are in the workforce data, so it is not the default.
  :func:`imputation` is a lean version of the point estimates, fast enough for permutation inference.
- :func:`randomisation_inference`, :func:`placebo_time`, :func:`placebo_space`, :func:`pretrend_test`:
  inference for a handful of treated practices, where cluster-robust standard errors are unreliable.
- :func:`england_gp_fte` / :func:`england_crosscheck`: England sums of GP FTE from the practice
  panel, a separate basis from the national series.

Conventions: a financial year "2016-17" is written ``t = 2016`` (its start year); a practice taken
over in month m of financial year t is treated from t (the year containing the transfer); event time
``rel = t - g``, 0 = the first (partly) treated year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import data, deflator

TAKEOVERS = "rwt_takeovers"
#: Wolverhampton CCG (to 2020-21; from 2021-22 its practices are in the Black Country CCG, D2P2L)
WOLVERHAMPTON_CCG = "06A"
#: the trust's PCN in the payments files from 2019-20 ("WOLVERHAMPTON RWT PCN")
RWT_PCN = "U20454"
#: the first financial year of the programme (pilot live 1 June 2016)
PROGRAMME_START = 2016
#: never comparators, though not in rwt_takeovers (no year could be dated from the sources)
NOT_COMPARATORS = {
    "M92640": "named 'Tettenhall Road' among the RWT PCN's practices on the trust's website (undated); "
              "in another PCN to 2021-22 and in none in 2022-23",
}
#: default last financial year: payments end in 2022-23, and the 2023-24 workforce year covers
#: April 2023 to January 2024 only and shows mergers of trust practices (Penn Manor's list doubles)
LAST_YEAR = "2022-23"
DEFAULT_SEED = 20160601
NEVER = 0  # adoption year of never-treated practices


@dataclass(frozen=True)
class Outcome:
    """An outcome of the chapter: how it is computed and what it can and cannot show."""

    label: str
    unit: str
    source: str
    first_year: str
    note: str


#: The outcomes, in the order the chapter shows them.
OUTCOMES: dict[str, Outcome] = {
    "gp_fte_per_10k": Outcome(
        "Fully qualified GPs (FTE) per 10,000 registered patients", "FTE per 10,000", "practice_workforce", "2015-16",
        "GPs excluding locums and trainees, over the same file's registered patients. Staff employed by the trust "
        "are counted only if the practice's workforce return includes them."),
    "gp_hc": Outcome(
        "Fully qualified GPs (headcount)", "people", "practice_workforce", "2015-16",
        "Headcount of the same GPs; moves with list size, which the practice fixed effect absorbs only in part."),
    "admin_fte_per_10k": Outcome(
        "Admin and non-clinical staff (FTE) per 10,000 registered patients", "FTE per 10,000", "practice_workforce",
        "2015-16", "All admin/non-clinical staff recorded against the practice."),
    "list_size": Outcome(
        "Registered patients", "patients", "practice_payments", "2014-15",
        "The payments file's list: last known quarter to 2017-18, the mean of the year's quarters from 2018-19 "
        "(a change common to all practices, absorbed by the year effects)."),
    "payments_per_patient": Outcome(
        "NHS payments per registered patient (real terms)", "GBP per patient", "practice_payments", "2014-15",
        "In the prices of the last financial year, deflated by the ONS GDP deflator at market prices (mean of "
        "the financial year's quarters; vertint.deflator); nominal with the prices parameter. A deflator common "
        "to all practices only rescales each year's contrast. From 2020-21 the total excludes COVID-19 and "
        "PCN-level payments."),
    "qof_share": Outcome(
        "QOF points achieved, share of points available", "share", "practice_qof", "2017-18",
        "No 2020-21 file; 2019-20 and 2021-22 were partly income-protected because of COVID-19. Starts in "
        "2017-18, so the 2016-17 and 2017-18 take-overs have no pre-period."),
    "closed": Outcome(
        "Closed (absorbing)", "share of practices", "practice_payments", "2014-15",
        "An indicator that switches on in the year a practice has a close date or drops out of the payments files (mergers included); "
        "panel of the practices open in the first year."),
}


class RWTError(ValueError):
    """A choice or an input the analysis cannot use."""


# --------------------------------------------------------------------------- years


def fy_start(year: str) -> int:
    """'2016-17' -> 2016."""
    text = str(year).strip()
    if len(text) != 7 or text[4] != "-" or not text[:4].isdigit():
        raise RWTError(f"not a financial year: {year!r} (expected e.g. '2016-17')")
    return int(text[:4])


def fy_label(start: int) -> str:
    """2016 -> '2016-17'."""
    return f"{start}-{(start + 1) % 100:02d}"


def _fy_end(start: int) -> pd.Timestamp:
    return pd.Timestamp(year=start + 1, month=3, day=31)


def _fy_ends(starts: pd.Series) -> pd.Series:
    """:func:`_fy_end` of a column of financial-year starts, vectorised."""
    return pd.to_datetime((starts.astype(int) + 1).astype(str) + "-03-31", format="%Y-%m-%d")


# --------------------------------------------------------------------------- take-overs and treatment


def takeovers() -> pd.DataFrame:
    """The vendored take-over table with parsed columns: ``adopt`` (start year of the take-over
    year, <NA> where only a bound is known), ``bound`` (start year of the bound, "by 2019-20 (PCN)"
    -> 2019), ``left`` (start year of left_year, <NA> if still run) and ``dated`` (True where a
    source dates the take-over to a financial year)."""
    df = data.load(TAKEOVERS)
    year = df["takeover_year"].astype(str)
    is_bound = year.str.startswith("by ")
    df["dated"] = ~is_bound
    df["bound"] = year.str.extract(r"(20\d{2})-\d{2}")[0].astype(int)
    df["adopt"] = pd.array([pd.NA if b else int(y[:4]) for b, y in zip(is_bound, year)], dtype="Int64")
    df["left"] = pd.array([pd.NA if pd.isna(v) else fy_start(v) for v in df["left_year"]], dtype="Int64")
    return df


def pcn_counts() -> pd.DataFrame:
    """Practices in the trust's primary care network by financial year (payments files, from
    2019-20 when PCNs began): number of practices and their registered patients."""
    pay = data.load("practice_payments")
    pcn = pay[pay["pcn_code"] == RWT_PCN]
    out = pcn.groupby("year").agg(practices=("practice_code", "nunique"), patients=("registered_patients", "sum"))
    out["codes"] = pcn.groupby("year")["practice_code"].apply(lambda s: ", ".join(sorted(s)))
    return out.reset_index()


def as_of_month(made: str) -> str:
    """The last month ('YYYY-MM') a figure dated ``made`` can describe: its month, or for a year
    alone the December before (the rubric's timing.as_of rule, as vertint.claims.seen_up_to)."""
    text = str(made).strip()
    if len(text) == 4 and text.isdigit():
        return f"{int(text) - 1}-12"
    if len(text) >= 7 and text[4] == "-" and text[:4].isdigit() and text[5:7].isdigit():
        return text[:7]
    raise RWTError(f"date {made!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")


def as_of_year(month: str) -> int:
    """The last financial year (as its start year) that ended on or before ``month`` ('YYYY-MM'):
    the book dates a practice-level financial year by its end, March of its second year, as the
    context chapter's official benchmark does (``vertint.context.official_counts``)."""
    y, m = int(month[:4]), int(month[5:7])
    return y - 1 if m >= 3 else y - 2


def official_count_at(t: int) -> dict:
    """Official counts of the trust's practices in financial year ``t`` (start year): the practices
    of :func:`takeovers` run at the end of the year (a dated take-over or a PCN bound in or before
    it, and not left by then: ``run``, of which ``run_dated`` have a dated take-over), the practices
    in the trust's PCN that year (``pcn``, <NA> before PCNs began in 2019-20), and each set's
    registered patients in the payments file of that year."""
    tk = takeovers()
    start = tk["adopt"].fillna(tk["bound"]).astype(int)
    run = tk[(start <= t) & (tk["left"].isna() | (tk["left"].fillna(0) > t))]
    pay = data.load("practice_payments")
    pay = pay[pay["year"] == fy_label(t)]
    if pay.empty:
        raise RWTError(f"no payments file for {fy_label(t)} in data/practice_payments.csv")
    patients = pay.groupby("practice_code")["registered_patients"].sum()
    pcn = pay[pay["pcn_code"] == RWT_PCN]["practice_code"]
    has_pcn = bool(pay["pcn_code"].notna().any())  # PCN codes exist only from 2019-20
    return {"year": fy_label(t), "run": int(len(run)), "run_dated": int(run["dated"].sum()),
            "run_patients": float(patients.reindex(run["practice_code"]).fillna(0).sum()),
            "run_codes": ", ".join(sorted(run["practice_code"])),
            "pcn": int(pcn.nunique()) if has_pcn else pd.NA,
            "pcn_patients": float(patients.reindex(pcn.unique()).sum()) if has_pcn else np.nan}


def published_counts_at_their_dates(counts: list[dict]) -> pd.DataFrame:
    """Published counts of the trust's practices beside the official counts of the financial year
    nearest before each count's date (:func:`as_of_year` of ``as_of``, the last month the count
    could describe). ``counts``: dicts with ``source``, ``made``, ``as_of`` ('YYYY-MM'),
    ``practices`` and optionally ``patients``."""
    rows = []
    for c in counts:
        off = official_count_at(as_of_year(c["as_of"]))
        rows.append({"source": c["source"], "made": c["made"], "published_practices": c["practices"],
                     "published_patients": c.get("patients", np.nan), **off})
    return pd.DataFrame(rows)


UNKNOWN_CHOICES = ("drop", "bound", "earliest")


def treatment(unknown: str = "drop", left_stays_treated: bool = True, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per practice in the take-over table: ``g`` (first treated financial year, as start
    year), ``exit`` (first year no longer run, 0 if never left or ``left_stays_treated``) and
    ``include`` (whether it enters the estimation).

    unknown: what to do with a practice whose take-over is known only as a bound from PCN membership:
      "drop" (default) leaves it out of the estimation (it is never a comparator either: its treated
      years would otherwise count as untreated); "bound" treats it from the bound (so any earlier
      treated years count as pre-period and bias the estimates towards zero); "earliest" treats it
      from the programme's first year, 2016-17.
    left_stays_treated: True (default) keeps a practice treated after the trust stopped running it
      (intention to treat; treatment stays absorbing, as the estimator assumes); False drops its
      years from the year it left.
    """
    if unknown not in UNKNOWN_CHOICES:
        raise RWTError(f"unknown={unknown!r}: choose one of {', '.join(UNKNOWN_CHOICES)}")
    t = (takeovers() if table is None else table).copy()
    if unknown == "drop":
        g = t["adopt"]
    elif unknown == "bound":
        g = t["adopt"].fillna(t["bound"])
    else:
        g = t["adopt"].fillna(PROGRAMME_START)
    out = pd.DataFrame({"practice_code": t["practice_code"].astype(str), "practice_name": t["practice_name"].astype(str)})
    out["g"] = g.fillna(NEVER).astype(int).to_numpy()
    out["include"] = g.notna().to_numpy()
    out["dated"] = t["dated"].to_numpy()
    left = t["left"].fillna(0).astype(int).to_numpy()
    out["exit"] = 0 if left_stays_treated else left
    out["left"] = left
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- the panel


@lru_cache(maxsize=2)
def _practice_panel(digest: str) -> pd.DataFrame:
    pay = data.load("practice_payments")
    wf = data.load("practice_workforce")
    qof = data.load("practice_qof")
    for df in (pay, wf, qof):
        df["practice_code"] = df["practice_code"].astype(str)
        df["t"] = [fy_start(y) for y in df["year"].astype(str)]
    pay = pay.drop(columns="year")
    wf = wf.drop(columns="year")
    qof = qof.drop(columns="year")
    base = pay.merge(wf, on=["practice_code", "t"], how="outer").merge(qof, on=["practice_code", "t"], how="left")
    base = base.sort_values(["practice_code", "t"]).reset_index(drop=True)
    for col in ("ccg_code", "pcn_code", "contract_type", "dispensing", "rurality"):
        base[col] = base[col].astype("string")
    num = ["registered_patients", "weighted_patients", "total_payments", "total_patients", "gp_fte", "gp_hc",
           "admin_fte", "imd_score", "imd_quintile", "qof_points", "qof_points_available"]
    for col in num:
        base[col] = pd.to_numeric(base[col], errors="coerce").astype(float)
    base["year"] = [fy_label(t) for t in base["t"]]
    # time-invariant descriptors used by the comparator sets
    wolves = set(pay.loc[pay["ccg_code"].astype(str) == WOLVERHAMPTON_CCG, "practice_code"])
    base["wolverhampton"] = base["practice_code"].isin(wolves)
    # the most frequent rurality; ties to the first in sort order (what Series.mode().iloc[0] gives)
    rur = (base.dropna(subset=["rurality"]).groupby(["practice_code", "rurality"]).size().rename("n").reset_index()
           .sort_values(["practice_code", "n", "rurality"], ascending=[True, False, True])
           .drop_duplicates("practice_code").set_index("practice_code")["rurality"])
    base["rurality_any"] = base["practice_code"].map(rur).fillna("Unknown").astype(str)
    return base


def practice_panel() -> pd.DataFrame:
    """Every practice and financial year in the payments, workforce and QOF tables, merged on
    (practice_code, t): the raw columns, ``wolverhampton`` (ever in CCG 06A) and ``rurality_any``
    (the practice's most frequent rurality; the files give none before 2016-17)."""
    return _practice_panel(_panel_digest()).copy()


def _panel_digest() -> str:
    return "|".join(data.resource(n)["hash"] for n in ("practice_payments", "practice_workforce", "practice_qof"))


def _closed(base: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Absorbing closure panel of the practices open in ``first`` (payments rows with patients)."""
    pay = base.dropna(subset=["registered_patients"])
    pay = pay[pay["ccg_code"].notna()]
    is_open = (pay["registered_patients"] > 0) & (pay["close_date"].isna() | (pay["close_date"] > _fy_ends(pay["t"])))
    open_rows = pay.loc[is_open, ["practice_code", "t"]]
    universe = sorted(set(open_rows.loc[open_rows["t"] == first, "practice_code"]))
    years = list(range(first, last + 1))
    grid = pd.MultiIndex.from_product([universe, years], names=["practice_code", "t"]).to_frame(index=False)
    open_set = set(map(tuple, open_rows.to_numpy()))
    grid["y"] = [0.0 if (c, t) in open_set else 1.0 for c, t in zip(grid["practice_code"], grid["t"])]
    grid["y"] = grid.groupby("practice_code")["y"].cummax()
    return grid


#: how payments per patient are priced: in the prices of deflator.BASE_YEAR (GDP deflator), or as paid
PRICES = ("real", "nominal")


def panel(outcome: str, first: str | None = None, last: str = LAST_YEAR, min_list: float = 1000.0,
          zero_as_missing: bool = True, prices: str = "real") -> pd.DataFrame:
    """A tidy practice x financial-year panel of one outcome (column ``y``) for every practice in
    England, with the covariates the comparator sets use: ``imd_score``, ``list_size``,
    ``contract_type``, ``rurality_any``, ``ccg_code``, ``pcn_code``, ``wolverhampton``.

    Rows where the outcome is missing are left out, and so are rows whose list (the denominator)
    is below ``min_list`` patients (practices opening or closing), payments rows of the year a
    practice closes (a part-year of payments over an average list), and, with ``zero_as_missing``,
    workforce rows recording no GP (or, for the admin outcome, no admin staff) at a practice with
    patients: mostly returns missing from the early files (738 practices have no admin staff in
    2015-16, 29 in 2022-23). ``first`` defaults to the outcome's first year (:data:`OUTCOMES`).
    ``prices`` (payments per patient only): "real" puts each year's pounds in the prices of
    :data:`vertint.deflator.BASE_YEAR` with the GDP deflator (:mod:`vertint.deflator`), "nominal"
    leaves them as paid.

    Built once per process for each set of arguments and data files (keyed on their hashes); every
    call returns a fresh copy."""
    if outcome not in OUTCOMES:
        raise RWTError(f"unknown outcome {outcome!r}: choose one of {', '.join(OUTCOMES)}")
    if prices not in PRICES:
        raise RWTError(f"prices={prices!r}: choose one of {', '.join(PRICES)}")
    spec = OUTCOMES[outcome]
    t0, t1 = fy_start(first or spec.first_year), fy_start(last)
    if t0 > t1:
        raise RWTError(f"first year {first} is after last year {last}")
    real = outcome == "payments_per_patient" and prices == "real"
    names = ("practice_payments", "practice_workforce", "practice_qof") + ((deflator.RESOURCE,) if real else ())
    digest = "|".join(data.resource(n)["hash"] for n in names)
    out = _panel(outcome, t0, t1, float(min_list), bool(zero_as_missing), real, digest)
    res = out.copy()
    res.attrs = dict(out.attrs)
    return res


@lru_cache(maxsize=32)
def _panel(outcome: str, t0: int, t1: int, min_list: float, zero_as_missing: bool, real: bool,
           digest: str) -> pd.DataFrame:
    spec = OUTCOMES[outcome]
    base = _practice_panel(_panel_digest())  # read only: filtered into a copy below
    base = base[(base["t"] >= t0) & (base["t"] <= t1)].copy()
    base["list_size"] = base["registered_patients"]
    if outcome == "closed":
        out = _closed(base, t0, t1)
        cov = base[["practice_code", "t", "imd_score", "list_size", "contract_type", "ccg_code", "pcn_code"]]
        out = out.merge(cov, on=["practice_code", "t"], how="left")
        desc = base.drop_duplicates("practice_code").set_index("practice_code")[["wolverhampton", "rurality_any"]]
        out = out.join(desc, on="practice_code")
    else:
        b = base
        if outcome == "gp_fte_per_10k":
            y, denom = b["gp_fte"] / b["total_patients"] * 10_000, b["total_patients"]
        elif outcome == "gp_hc":
            y, denom = b["gp_hc"], b["total_patients"]
        elif outcome == "admin_fte_per_10k":
            y, denom = b["admin_fte"] / b["total_patients"] * 10_000, b["total_patients"]
        elif outcome == "list_size":
            y, denom = b["registered_patients"], b["registered_patients"]
        elif outcome == "payments_per_patient":
            y, denom = b["total_payments"] / b["registered_patients"], b["registered_patients"]
            if real:
                fac = deflator.factors(range(t0, t1 + 1))
                y = y * b["t"].map(fac)
        else:  # qof_share
            y = b["qof_points"] / b["qof_points_available"]
            y = y.where(b["qof_points_available"] > 0)
            denom = b["registered_patients"].fillna(b["total_patients"])
        keep = y.notna() & np.isfinite(y) & (denom >= min_list)
        if zero_as_missing and outcome in ("gp_fte_per_10k", "gp_hc"):
            keep &= b["gp_fte"] > 0
        if zero_as_missing and outcome == "admin_fte_per_10k":
            keep &= b["admin_fte"] > 0
        if spec.source == "practice_payments":
            keep &= b["close_date"].isna() | (b["close_date"] > _fy_ends(b["t"]))
        out = b.loc[keep, ["practice_code", "t", "imd_score", "list_size", "contract_type", "ccg_code", "pcn_code",
                           "wolverhampton", "rurality_any"]].copy()
        out["y"] = y[keep].astype(float).to_numpy()
    out["year"] = [fy_label(t) for t in out["t"]]
    out = out.sort_values(["practice_code", "t"]).reset_index(drop=True)
    out.attrs.update(outcome=outcome, first=fy_label(t0), last=fy_label(t1), min_list=min_list,
                     zero_as_missing=zero_as_missing)
    if outcome == "payments_per_patient":
        out.attrs["prices"] = f"{deflator.BASE_YEAR} prices ({deflator.NAME})" if real else "nominal"
    cols = ["practice_code", "year", "t", "y", "imd_score", "list_size", "contract_type", "rurality_any", "ccg_code",
            "pcn_code", "wolverhampton"]
    return out[cols]


# --------------------------------------------------------------------------- comparator sets


def _never_comparators(treat: pd.DataFrame) -> set[str]:
    return set(treat["practice_code"]) | set(NOT_COMPARATORS)


def wolverhampton_comparators(pan: pd.DataFrame, treat: pd.DataFrame) -> list[str]:
    """Other Wolverhampton practices (ever in CCG 06A), less every practice in the take-over table
    (whether or not it enters the estimation) and :data:`NOT_COMPARATORS`."""
    codes = set(pan.loc[pan["wolverhampton"].astype(bool), "practice_code"])
    return sorted(codes - _never_comparators(treat))


def _features(pan: pd.DataFrame, codes, years: list[int]) -> pd.DataFrame:
    """Pre-period features per practice over ``years`` (all panel years up to the first one if empty)."""
    sub = pan[pan["practice_code"].isin(codes)]
    if years:
        sub = sub[sub["t"].isin(years)]
    else:
        sub = sub[sub["t"] == sub.groupby("practice_code")["t"].transform("min")]
    g = sub.groupby("practice_code")
    feats = pd.DataFrame({
        "imd": g["imd_score"].mean(),
        "log_list": np.log(g["list_size"].mean().clip(lower=1)),
        "y_level": g["y"].mean(),
        "n_pre": g["y"].count(),
    })
    if len(years) >= 2:
        tc = sub["t"] - sub.groupby("practice_code")["t"].transform("mean")
        yc = sub["y"] - g["y"].transform("mean")
        num = (tc * yc).groupby(sub["practice_code"]).sum()
        den = (tc * tc).groupby(sub["practice_code"]).sum()
        feats["y_trend"] = (num / den.where(den > 0)).reindex(feats.index)
    last = sub.sort_values("t").groupby("practice_code")[["contract_type", "rurality_any"]].last()
    return feats.join(last)


def match(pan: pd.DataFrame, treat: pd.DataFrame, k: int = 5, balanced: bool | None = None) -> pd.DataFrame:
    """Nearest-neighbour matches elsewhere in England for each treated practice that enters the
    estimation: exact on rurality and contract type (relaxed, contract type first, if fewer than
    ``k`` candidates), then the ``k`` nearest by standardised Euclidean distance on the practice's
    pre-period (years before its take-over) mean IMD score, log list size, outcome level and outcome
    trend (the trend only with two or more pre-period years). A treated practice with no year before
    its take-over in the outcome's panel is not matched (the estimator cannot use it). Candidates:
    practices never in CCG 06A, not in the take-over table, observed in every panel year
    (``balanced``; default True except for the closure outcome).
    Deterministic: ties go to the lower practice code. Matching is with replacement across treated
    practices. Returns one row per (treated, control) pair with its rank and distance."""
    if k < 1:
        raise RWTError("k must be at least 1")
    years_all = sorted(pan["t"].unique())
    if balanced is None:
        balanced = pan.attrs.get("outcome") != "closed"
    never = _never_comparators(treat)
    cand = pan[~pan["wolverhampton"].astype(bool) & ~pan["practice_code"].isin(never)]
    if balanced:
        counts = cand.groupby("practice_code")["t"].nunique()
        cand = cand[cand["practice_code"].isin(counts.index[counts == len(years_all)])]
    cand_codes = sorted(cand["practice_code"].unique())
    cand_feats: dict[tuple, pd.DataFrame] = {}  # the candidates' features depend only on the pre-period years
    rows = []
    for _, tr in treat[treat["include"]].sort_values("practice_code").iterrows():
        code, g = tr["practice_code"], int(tr["g"])
        own = pan[pan["practice_code"] == code]
        if own.empty:
            continue
        pre = sorted(t for t in own["t"].unique() if t < g)
        if not pre:  # no year before the take-over: it cannot be estimated, so it is not matched
            continue
        ft = _features(pan, [code], pre)
        if tuple(pre) not in cand_feats:
            cand_feats[tuple(pre)] = _features(cand, cand_codes, pre)
        fc = cand_feats[tuple(pre)]
        if ft.empty or fc.empty:
            continue
        ft = ft.iloc[0]
        pool = fc
        for exact in (["rurality_any", "contract_type"], ["rurality_any"], []):
            pool = fc
            for col in exact:
                pool = pool[pool[col].astype(str) == str(ft[col])]
            if len(pool) >= k:
                break
        cols = [c for c in ("imd", "log_list", "y_level", "y_trend") if c in pool.columns and pd.notna(ft.get(c))]
        pool = pool.dropna(subset=cols)
        if pool.empty:
            continue
        dist = np.zeros(len(pool))
        for c in cols:
            sd = float(fc[c].std())
            if sd > 0 and np.isfinite(sd):
                dist += ((pool[c].to_numpy(float) - float(ft[c])) / sd) ** 2
        dist = np.sqrt(dist)
        order = np.lexsort((pool.index.to_numpy().astype(str), dist))[:k]
        for rank, j in enumerate(order, start=1):
            rows.append({"treated": code, "control": pool.index[j], "rank": rank, "distance": float(dist[j]),
                         "pre_years": len(pre), "exact": "+".join(exact) or "none"})
    return pd.DataFrame(rows, columns=["treated", "control", "rank", "distance", "pre_years", "exact"])


COMPARATORS = ("wolverhampton", "matched")


def assign_treatment(pan: pd.DataFrame, treat: pd.DataFrame) -> pd.DataFrame:
    """Add ``g`` (first treated year, 0 = never), ``exit`` (first year left out, 0 = none),
    ``treated_unit``, ``D`` (treated in the year) and ``rel`` (event time t - g, <NA> for
    comparators) to a panel, from a table with practice_code, g and exit (the rows of
    :func:`treatment` that enter). A practice's years from its ``exit`` on are left out."""
    df = pan.copy()
    g = dict(zip(treat["practice_code"], treat["g"]))
    ex = dict(zip(treat["practice_code"], treat["exit"]))
    df["g"] = df["practice_code"].map(g).fillna(NEVER).astype(int)
    df["exit"] = df["practice_code"].map(ex).fillna(0).astype(int)
    df = df[(df["exit"] == 0) | (df["t"] < df["exit"])].copy()
    df["treated_unit"] = df["g"] > 0
    df["D"] = df["treated_unit"] & (df["t"] >= df["g"])
    df["rel"] = pd.array([t - g if g > 0 else pd.NA for t, g in zip(df["t"], df["g"])], dtype="Int64")
    df = df.reset_index(drop=True)
    df.attrs.update(pan.attrs)
    return df




def study_panel(outcome: str, comparator: str = "wolverhampton", unknown: str = "drop", left_stays_treated: bool = True,
                k: int = 5, first: str | None = None, last: str = LAST_YEAR, min_list: float = 1000.0,
                pan: pd.DataFrame | None = None, treat: pd.DataFrame | None = None, prices: str = "real") -> pd.DataFrame:
    """The estimation sample: treated practices (those of :func:`treatment` that enter) plus one
    comparator set, with ``g`` (first treated year, 0 = never), ``exit`` (first year dropped, 0 =
    none), ``D`` (treated in the year), ``rel`` (event time, <NA> for comparators) and ``treated_unit``.
    ``pan`` and ``treat`` may be passed in (tests, synthetic data). Years of a practice from its
    ``exit`` on are left out."""
    if comparator not in COMPARATORS:
        raise RWTError(f"comparator={comparator!r}: choose one of {', '.join(COMPARATORS)}")
    pan = panel(outcome, first=first, last=last, min_list=min_list, prices=prices) if pan is None else pan
    treat = treatment(unknown=unknown, left_stays_treated=left_stays_treated) if treat is None else treat
    inc = treat[treat["include"]]
    if comparator == "wolverhampton":
        controls = wolverhampton_comparators(pan, treat)
        matches = None
    else:
        matches = match(pan, treat, k=k)
        controls = sorted(set(matches["control"]))
    keep = set(inc["practice_code"]) | set(controls)
    df = assign_treatment(pan[pan["practice_code"].isin(keep)], inc)
    df.attrs.update(comparator=comparator, unknown=unknown, left_stays_treated=left_stays_treated, k=k,
                    n_treated=int(df.loc[df["treated_unit"], "practice_code"].nunique()),
                    n_comparators=int(df.loc[~df["treated_unit"], "practice_code"].nunique()))
    if matches is not None:
        df.attrs["matches"] = matches
    return df


# --------------------------------------------------------------------------- the estimator (numpy)


def _twfe(unit: np.ndarray, time: np.ndarray, y: np.ndarray, n_u: int, n_t: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares unit and time effects of y = a_unit + b_time (b of the first time fixed at 0)."""
    if n_u + n_t <= 800:
        fast = _twfe_within(unit, time, y, n_u, n_t)
        if fast is not None:
            return fast
        X = np.zeros((len(y), n_u + n_t - 1))
        X[np.arange(len(y)), unit] = 1.0
        rows = time > 0
        X[np.flatnonzero(rows), n_u + time[rows] - 1] = 1.0
        coef = np.linalg.lstsq(X, y, rcond=None)[0]
        return coef[:n_u], np.concatenate([[0.0], coef[n_u:]])
    # large panels: alternating projections
    a, b = np.zeros(n_u), np.zeros(n_t)
    cu = np.maximum(np.bincount(unit, minlength=n_u), 1)
    ct = np.maximum(np.bincount(time, minlength=n_t), 1)
    for _ in range(10_000):
        a_new = np.bincount(unit, y - b[time], minlength=n_u) / cu
        b_new = np.bincount(time, y - a_new[unit], minlength=n_t) / ct
        done = max(np.abs(a_new - a).max(), np.abs(b_new - b).max()) < 1e-12
        a, b = a_new, b_new
        if done:
            break
    b0 = b[0]
    return a + b0, b - b0


def _twfe_within(unit: np.ndarray, time: np.ndarray, y: np.ndarray, n_u: int, n_t: int):
    """The same least-squares fit as the dummy-variable regression of :func:`_twfe`, by
    Frisch-Waugh-Lovell: the time effects from the (n_t - 1)-square normal equations of the
    within-unit demeaned time dummies, then each unit's effect as its mean of y - b_time. Returns
    None (the caller falls back to the full regression, whose minimum-norm solution it then keeps)
    when the design is rank-deficient: a time with no observation, or units and times not all
    connected. Units with no observation get 0, as the regression's minimum-norm solution gives."""
    if len(y) == 0 or n_t < 2:
        return None
    ct = np.bincount(time, minlength=n_t)
    if (ct == 0).any():
        return None
    cu = np.bincount(unit, minlength=n_u)
    inv = 1.0 / np.maximum(cu, 1)
    counts = np.bincount(unit * n_t + time, minlength=n_u * n_t).reshape(n_u, n_t)  # obs per unit and time
    T = np.zeros((len(y), n_t - 1))
    rows = time > 0
    T[np.flatnonzero(rows), time[rows] - 1] = 1.0
    Tm = T - (counts[:, 1:] * inv[:, None])[unit]  # time dummies demeaned within units
    A = Tm.T @ T
    if np.linalg.cond(A) > 1e10:
        return None
    b = np.concatenate([[0.0], np.linalg.solve(A, Tm.T @ y)])
    a = np.bincount(unit, y - b[time], minlength=n_u) * inv
    return a, b


@dataclass
class _Arrays:
    unit: np.ndarray
    time: np.ndarray
    y: np.ndarray
    t: np.ndarray
    codes: np.ndarray
    n_u: int
    n_t: int


def _arrays(df: pd.DataFrame, y: str = "y", unit: str = "practice_code", time: str = "t") -> _Arrays:
    codes, u = np.unique(df[unit].astype(str).to_numpy(), return_inverse=True)
    years, tt = np.unique(df[time].to_numpy(int), return_inverse=True)
    return _Arrays(u, tt, df[y].to_numpy(float), df[time].to_numpy(int), codes, len(codes), len(years))


def _impute(a: _Arrays, g_unit: np.ndarray) -> dict:
    """Imputation estimator for adoption years ``g_unit`` (per unit, 0 = never): the unit and time
    effects are fitted on untreated observations only; the effect of each treated observation is
    its outcome minus the imputed untreated outcome. Treated observations of a unit (or a year)
    without untreated observations cannot be imputed and are left out."""
    g = g_unit[a.unit]
    D = (g > 0) & (a.t >= g)
    m0 = ~D
    alpha, beta = _twfe(a.unit[m0], a.time[m0], a.y[m0], a.n_u, a.n_t)
    has_u = np.bincount(a.unit[m0], minlength=a.n_u) > 0
    has_t = np.bincount(a.time[m0], minlength=a.n_t) > 0
    resid = a.y - alpha[a.unit] - beta[a.time]
    ok = has_u[a.unit] & has_t[a.time]
    rel = np.where(g > 0, a.t - g, np.iinfo(np.int64).min)
    treated_ok = D & ok
    pre = (g > 0) & m0
    return {"D": D, "ok": ok, "resid": resid, "rel": rel, "treated": treated_ok, "pre": pre,
            "att": float(resid[treated_ok].mean()) if treated_ok.any() else np.nan}


def _by_rel(res: dict) -> pd.DataFrame:
    """Event-time means: effects (rel >= 0) and pre-period residual means (rel < 0)."""
    mask = res["treated"] | res["pre"]
    rel, r = res["rel"][mask], res["resid"][mask]
    if len(rel) == 0:
        return pd.DataFrame(columns=["rel", "estimate", "n_obs"])
    out = pd.DataFrame({"rel": rel, "r": r}).groupby("rel")["r"].agg(["mean", "size"]).reset_index()
    return out.rename(columns={"mean": "estimate", "size": "n_obs"})


def imputation(df: pd.DataFrame, y: str = "y") -> dict:
    """Borusyak-Jaravel-Spiess imputation estimator in numpy, on a :func:`study_panel`-shaped frame
    (columns practice_code, t, g and ``y``). Returns ``att`` (mean effect over treated observations
    that can be imputed, each weighted equally), ``by_rel`` (event-time estimates; for rel < 0, the
    mean residual of the fit on untreated observations, which the two-stage estimator also reports),
    ``n_treated_obs`` and ``n_treated_units`` (treated units with at least one imputed observation)."""
    a = _arrays(df, y=y)
    g_unit = df.groupby(df["practice_code"].astype(str))["g"].first().reindex(a.codes).to_numpy(int)
    res = _impute(a, g_unit)
    return {"att": res["att"], "by_rel": _by_rel(res), "n_treated_obs": int(res["treated"].sum()),
            "n_treated_units": len(np.unique(a.unit[res["treated"]])),
            "dropped_treated_obs": int((res["D"] & ~res["ok"]).sum())}


# --------------------------------------------------------------------------- two-stage estimates and standard errors

_REF = -1000  # event time given to comparators in pyfixest's second stage (the reference category)


def _identified(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose unit and year both have untreated observations: treated observations of a unit
    without an untreated year cannot be imputed (no unit effect) and are left out."""
    untreated = df[~df["D"].astype(bool)]
    return df[df["practice_code"].isin(set(untreated["practice_code"])) & df["t"].isin(set(untreated["t"]))]


def two_stage(df: pd.DataFrame, second: str = "rel", y: str = "y") -> pd.DataFrame:
    """Gardner's two-stage estimator (numerically the Borusyak-Jaravel-Spiess imputation estimator)
    with its GMM standard errors clustered by practice, the variance did2s computes, without
    dropping practices with a single untreated year (which pyfixest's first stage does).

    First stage: practice and year effects fitted by least squares on untreated observations.
    Second stage: the residualised outcome of every observation regressed on event-time dummies
    (``second="rel"``; comparators are the reference) or on the treatment dummy (``second="att"``).
    Returns term, estimate, se, n_obs."""
    d = _identified(df).reset_index(drop=True)
    if not d["D"].any():
        raise RWTError("no treated observation can be imputed (no treated practice has an untreated year)")
    units, u = np.unique(d["practice_code"].astype(str).to_numpy(), return_inverse=True)
    years, tt = np.unique(d["t"].to_numpy(int), return_inverse=True)
    n, n_u, n_t = len(d), len(units), len(years)
    X1 = np.zeros((n, n_u + n_t - 1))
    X1[np.arange(n), u] = 1.0
    later = tt > 0
    X1[np.flatnonzero(later), n_u + tt[later] - 1] = 1.0
    Dm = d["D"].to_numpy(bool)
    X10 = X1 * (~Dm)[:, None]
    yv = d[y].to_numpy(float)
    gamma = np.linalg.lstsq(X10[~Dm], yv[~Dm], rcond=None)[0]
    u1 = yv - X1 @ gamma
    if second == "rel":
        rel = d["rel"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        terms = np.unique(rel[~np.isnan(rel)]).astype(int)
        X2 = np.zeros((n, len(terms)))
        for j, k in enumerate(terms):
            X2[:, j] = rel == k
    elif second == "att":
        terms = np.array(["att"])
        X2 = Dm[:, None].astype(float)
    else:
        raise RWTError(f"second={second!r}: choose 'rel' or 'att'")
    XtX2 = X2.T @ X2
    beta = np.linalg.solve(XtX2, X2.T @ u1)
    u2 = u1 - X2 @ beta
    V = np.linalg.lstsq(X10.T @ X10, (X2.T @ X1).T, rcond=None)[0].T
    XtX2_inv = np.linalg.inv(XtX2)
    _, cl = np.unique(d["practice_code"].astype(str).to_numpy(), return_inverse=True)
    W = np.zeros((cl.max() + 1, X2.shape[1]))
    np.add.at(W, cl, X2 * u2[:, None] - (X10 * u1[:, None]) @ V.T)
    scores = W @ XtX2_inv
    vcov = scores.T @ scores
    return pd.DataFrame({"term": terms, "estimate": beta, "se": np.sqrt(np.diag(vcov)), "n_obs": X2.sum(axis=0).astype(int),
                         "n_clusters": cl.max() + 1})


def did2s_pyfixest(df: pd.DataFrame, second: str = "rel", y: str = "y") -> pd.DataFrame:
    """The same estimator through pyfixest's ``did2s`` (term, estimate, se), for cross-checking
    :func:`two_stage`. pyfixest's first stage drops practices with a single untreated year
    (singletons), so this refuses such panels rather than give different estimates."""
    import pyfixest as pf

    d = _identified(df)
    d = pd.DataFrame({"y": d[y].to_numpy(float), "unit": d["practice_code"].astype(str).to_numpy(),
                      "year": d["t"].to_numpy(int), "treat": d["D"].to_numpy(bool),
                      "rel": d["rel"].fillna(_REF).to_numpy(int)})
    single = d[~d["treat"]].groupby("unit").size()
    if (single == 1).any():
        raise RWTError(f"pyfixest's did2s drops practices with a single untreated year ({', '.join(single.index[single == 1])}); "
                       "use two_stage()")
    if second == "rel":
        fit = pf.did2s(d, yname="y", first_stage="~ 0 | unit + year", second_stage=f"~ i(rel, ref={_REF})",
                       treatment="treat", cluster="unit")
        tid = fit.tidy()
        terms = [int(float(str(i).split("::")[-1].rstrip("]"))) for i in tid.index]
    else:
        d["D"] = d["treat"].astype(float)
        fit = pf.did2s(d, yname="y", first_stage="~ 0 | unit + year", second_stage="~ D", treatment="treat", cluster="unit")
        tid = fit.tidy()
        terms = ["att"]
    return pd.DataFrame({"term": terms, "estimate": tid["Estimate"].to_numpy(), "se": tid["Std. Error"].to_numpy()})


def _ci(est: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """t-based intervals with (clusters - 1) degrees of freedom."""
    from scipy import stats

    q = stats.t.ppf(0.5 + level / 2, df=np.maximum(est["n_clusters"] - 1, 1))
    est["ci_low"] = est["estimate"] - q * est["se"]
    est["ci_high"] = est["estimate"] + q * est["se"]
    est["p_analytic"] = 2 * stats.t.sf(np.abs(est["estimate"] / est["se"]), df=np.maximum(est["n_clusters"] - 1, 1))
    return est


ESTIMATORS = ("imputation", "did2s")


def event_study(df: pd.DataFrame, estimator: str = "imputation", y: str = "y", min_units: int = 1) -> pd.DataFrame:
    """Event-time estimates with 95% confidence intervals, for a :func:`study_panel`.

    estimator "imputation" (default): the imputation / two-stage estimator of :func:`two_stage`
    (point estimates of Borusyak, Jaravel and Spiess; Gardner's GMM standard errors clustered by
    practice; t intervals with clusters - 1 degrees of freedom). "did2s": the same through
    pyfixest, which refuses panels where a practice has a single untreated year (the 2016-17
    take-overs in the workforce data, which start in 2015-16).

    Columns: rel, estimate, se, ci_low, ci_high, p_analytic, n_obs, n_units, period ("pre"/"post").
    For rel < 0 the estimate is the mean first-stage residual of treated practices' pre-period
    years: exactly 0 when a practice has a single pre-period year, so read the pre-period with
    :func:`pretrend_test` and :func:`placebo_time`. Event times with fewer than ``min_units``
    treated practices are dropped. With few treated practices the analytic intervals are too
    narrow: use :func:`randomisation_inference`."""
    if estimator not in ESTIMATORS:
        raise RWTError(f"estimator={estimator!r}: choose one of {', '.join(ESTIMATORS)}")
    if not df["treated_unit"].any():
        raise RWTError("no treated practice in the panel")
    d = _identified(df)
    if estimator == "imputation":
        est = two_stage(df, "rel", y=y)
    else:
        est = did2s_pyfixest(df, "rel", y=y)
        est["n_obs"] = est["term"].map(d.dropna(subset=["rel"]).groupby("rel").size()).astype(int)
        est["n_clusters"] = d["practice_code"].nunique()
    est = _ci(est.rename(columns={"term": "rel"}))
    est["rel"] = est["rel"].astype(int)
    units = d[d["treated_unit"]].dropna(subset=["rel"]).groupby("rel")["practice_code"].nunique()
    est["n_units"] = est["rel"].map(units).fillna(0).astype(int)
    est = est[est["n_units"] >= min_units].copy()
    est["period"] = np.where(est["rel"] < 0, "pre", "post")
    cols = ["rel", "estimate", "se", "ci_low", "ci_high", "p_analytic", "n_obs", "n_units", "period"]
    return est[cols].sort_values("rel").reset_index(drop=True)


def average_effect(df: pd.DataFrame, y: str = "y") -> dict:
    """The average effect over all treated (post-take-over) observations that can be imputed, each
    weighted equally (:func:`two_stage` with the treatment dummy): estimate, se, 95% t interval,
    analytic p-value, and the numbers of treated practices and observations behind it."""
    est = _ci(two_stage(df, "att", y=y)).iloc[0]
    d = _identified(df)
    tr = d[d["D"].astype(bool)]
    return {"estimate": float(est["estimate"]), "se": float(est["se"]), "ci_low": float(est["ci_low"]),
            "ci_high": float(est["ci_high"]), "p_analytic": float(est["p_analytic"]),
            "n_treated_obs": len(tr), "n_treated_units": int(tr["practice_code"].nunique()),
            "n_clusters": int(est["n_clusters"])}


# --------------------------------------------------------------------------- inference for few treated units


def _unit_profiles(df: pd.DataFrame, a: _Arrays) -> np.ndarray:
    return df.groupby(df["practice_code"].astype(str))["g"].first().reindex(a.codes).to_numpy(int)


def _rel_means(res: dict, lo: int, n: int) -> np.ndarray:
    """Event-time means of :func:`_impute` output on the grid lo, lo + 1, ..., lo + n - 1 (NaN where empty)."""
    mask = res["treated"] | res["pre"]
    idx = res["rel"][mask] - lo
    s = np.bincount(idx, res["resid"][mask], minlength=n)[:n]
    c = np.bincount(idx, minlength=n)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def randomisation_inference(df: pd.DataFrame, n_reps: int = 499, seed: int = DEFAULT_SEED, y: str = "y") -> dict:
    """Fisher randomisation inference under the sharp null of no effect in any practice: the
    adoption years of the practices (a treated practice's year, 0 for comparators) are permuted at
    random (numpy ``default_rng(seed)``) across all practices of the panel and the imputation
    estimator is recomputed ``n_reps`` times. Two-sided p-values, (1 + #{|placebo| >= |observed|})
    / (1 + reps), for the average effect and for each event time (for rel < 0, of the pre-period
    residual means). The smallest attainable p-value is 1 / (1 + n_reps)."""
    if n_reps < 1:
        raise RWTError("n_reps must be at least 1")
    a = _arrays(df, y=y)
    g_obs = _unit_profiles(df, a)
    gs = g_obs[g_obs > 0]
    if len(gs) == 0:
        raise RWTError("no treated practice in the panel")
    lo, hi = int(a.t.min() - gs.max()), int(a.t.max() - gs.min())
    n = hi - lo + 1
    obs = _impute(a, g_obs)
    obs_rel = _rel_means(obs, lo, n)
    rng = np.random.default_rng(seed)
    att = np.empty(n_reps)
    hit, cnt = np.zeros(n), np.zeros(n)
    for b in range(n_reps):
        res = _impute(a, rng.permutation(g_obs))
        att[b] = res["att"]
        by = _rel_means(res, lo, n)
        ok = np.isfinite(by) & np.isfinite(obs_rel)
        cnt += ok
        hit += ok & (np.abs(np.where(ok, by, 0)) >= np.abs(np.where(ok, obs_rel, 0)) - 1e-12)
    valid = np.isfinite(att)
    p = (1 + np.sum(np.abs(att[valid]) >= abs(obs["att"]) - 1e-12)) / (1 + valid.sum())
    keep = np.isfinite(obs_rel)
    p_rel = pd.DataFrame({"rel": np.arange(lo, hi + 1)[keep], "p_ri": ((1 + hit) / (1 + cnt))[keep]})
    return {"att": obs["att"], "p_value": float(p), "reps": att, "p_rel": p_rel, "n_reps": int(n_reps), "seed": seed}


def placebo_space(df: pd.DataFrame, n_reps: int = 499, seed: int = DEFAULT_SEED, y: str = "y") -> dict:
    """Placebo in space: the treated practices are removed and the adoption years of those with a
    year before their take-over given to as many practices drawn at random from the comparators,
    ``n_reps`` times. Returns the placebo
    effects' distribution (mean, sd, 2.5% and 97.5% quantiles), the observed effect and the share
    of placebo effects at least as large in absolute value."""
    a_all = _arrays(df, y=y)
    observed = _impute(a_all, _unit_profiles(df, a_all))["att"]
    comp = df[~df["treated_unit"]]
    if comp.empty:
        raise RWTError("no comparator practice in the panel")
    a = _arrays(comp, y=y)
    tr = df[df["treated_unit"]]
    usable = set(tr.loc[tr["t"] < tr["g"], "practice_code"])  # treated practices with a pre-period year
    g_treated = tr[tr["practice_code"].isin(usable)].groupby("practice_code")["g"].first().to_numpy(int)
    if len(g_treated) == 0:
        raise RWTError("no treated practice has a year before its take-over")
    if len(g_treated) > a.n_u:
        raise RWTError("fewer comparators than treated practices")
    rng = np.random.default_rng(seed)
    eff = np.empty(n_reps)
    for b in range(n_reps):
        gb = np.zeros(a.n_u, dtype=int)
        gb[rng.choice(a.n_u, size=len(g_treated), replace=False)] = rng.permutation(g_treated)
        eff[b] = _impute(a, gb)["att"]
    ok = eff[np.isfinite(eff)]
    return {"observed": observed, "mean": float(ok.mean()), "sd": float(ok.std(ddof=1)) if len(ok) > 1 else np.nan,
            "q025": float(np.quantile(ok, 0.025)), "q975": float(np.quantile(ok, 0.975)),
            "share_as_large": float(np.mean(np.abs(ok) >= abs(observed) - 1e-12)), "effects": eff, "n_reps": int(n_reps)}


def placebo_time(df: pd.DataFrame, shift: int = 1, n_reps: int = 199, seed: int = DEFAULT_SEED, y: str = "y") -> dict:
    """Placebo in time: each treated practice is given a fake take-over ``shift`` years before the
    real one, and only years before the real take-over are kept for treated practices. An effect
    here is a pre-trend (or anticipation), not an effect of the take-over. Returns the average
    placebo effect with its analytic interval and a randomisation p-value (``n_reps``); practices
    without a year before the fake take-over drop out (``n_treated_units``)."""
    if shift < 1:
        raise RWTError("shift must be at least 1")
    d = df[~df["treated_unit"] | (df["t"] < df["g"])].copy()
    d.loc[d["treated_unit"], "g"] = d.loc[d["treated_unit"], "g"] - shift
    d["D"] = d["treated_unit"] & (d["t"] >= d["g"])
    d["rel"] = pd.array([t - g if tu else pd.NA for t, g, tu in zip(d["t"], d["g"], d["treated_unit"])], dtype="Int64")
    empty = {"shift": shift, "estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_ri": np.nan,
             "n_treated_units": 0, "n_treated_obs": 0}
    if not _identified(d)["D"].any():
        return empty
    eff = average_effect(d, y=y)
    ri = randomisation_inference(d, n_reps=n_reps, seed=seed, y=y)
    return {"shift": shift, "estimate": eff["estimate"], "se": eff["se"], "ci_low": eff["ci_low"],
            "ci_high": eff["ci_high"], "p_ri": ri["p_value"], "n_treated_units": eff["n_treated_units"],
            "n_treated_obs": eff["n_treated_obs"]}


def _ols_cluster(X: np.ndarray, y: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS with CR1 cluster-robust variance (fixest's default small-sample factors)."""
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ beta
    XtX_inv = np.linalg.pinv(X.T @ X)
    _, cl = np.unique(clusters, return_inverse=True)
    G = cl.max() + 1
    S = np.zeros((G, X.shape[1]))
    np.add.at(S, cl, X * e[:, None])
    n, k = X.shape
    k = np.linalg.matrix_rank(X)
    adj = G / (G - 1) * (n - 1) / (n - k)
    return beta, adj * XtX_inv @ (S.T @ S) @ XtX_inv


def pretrend_test(df: pd.DataFrame, leads: int = 1, y: str = "y") -> dict | None:
    """Borusyak-Jaravel-Spiess pre-trend test: on untreated observations only, the outcome on
    practice and year effects plus dummies for the ``leads`` years just before each take-over (the
    earlier pre-period years are the reference), with CR1 standard errors clustered by practice.
    Returns the lead coefficients, the Wald p-value that all are 0 (F with clusters - 1 degrees of
    freedom) and the number of practices identifying them (only those with an untreated year before
    the leads). None if no lead is identified."""
    from scipy import stats

    d = df[~df["D"].astype(bool)].copy()
    rel = d["rel"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    lead = np.where(~np.isnan(rel) & (rel >= -leads) & (rel <= -1), rel, 0).astype(int)
    d["lead"] = lead
    ref_units = set(d.loc[d["lead"] == 0, "practice_code"])
    d = d[d["practice_code"].isin(ref_units)].reset_index(drop=True)
    ks = sorted(k for k in d["lead"].unique() if k != 0)
    if not ks:
        return None
    units, u = np.unique(d["practice_code"].astype(str).to_numpy(), return_inverse=True)
    years, tt = np.unique(d["t"].to_numpy(int), return_inverse=True)
    n = len(d)
    X = np.zeros((n, len(ks) + len(units) + len(years) - 1))
    for j, k in enumerate(ks):
        X[:, j] = d["lead"].to_numpy() == k
    X[np.arange(n), len(ks) + u] = 1.0
    later = tt > 0
    X[np.flatnonzero(later), len(ks) + len(units) + tt[later] - 1] = 1.0
    beta, vcov = _ols_cluster(X, d[y].to_numpy(float), d["practice_code"].astype(str).to_numpy())
    b, V = beta[: len(ks)], vcov[: len(ks), : len(ks)]
    G = len(units)
    wald = float(b @ np.linalg.pinv(V) @ b) / len(ks)
    p = float(stats.f.sf(wald, len(ks), max(G - 1, 1)))
    n_units = int(d.loc[d["lead"] != 0, "practice_code"].nunique())
    coefs = pd.DataFrame({"lead": ks, "estimate": b, "se": np.sqrt(np.diag(V))})
    return {"coefficients": coefs, "p_value": p, "n_units": n_units}


# --------------------------------------------------------------------------- one outcome, all of it


def analyse(outcome: str, comparator: str = "wolverhampton", unknown: str = "drop", left_stays_treated: bool = True,
            k: int = 5, n_reps: int = 499, seed: int = DEFAULT_SEED, placebo_reps: int = 199,
            estimator: str = "imputation", prices: str = "real") -> dict:
    """Everything the chapter shows for one outcome and one comparator set, with the default
    choices: the study panel, event-time estimates (did2s) with per-event-time randomisation
    p-values, the average effect with CI and randomisation p-value, the pre-trend test and both
    placebos. ``prices``: see :func:`panel`."""
    df = study_panel(outcome, comparator=comparator, unknown=unknown, left_stays_treated=left_stays_treated, k=k,
                     prices=prices)
    es = event_study(df, estimator=estimator, min_units=2)
    ri = randomisation_inference(df, n_reps=n_reps, seed=seed)
    es = es.merge(ri["p_rel"], on="rel", how="left")
    avg = average_effect(df)
    avg["p_ri"] = ri["p_value"]
    return {"outcome": outcome, "comparator": comparator, "panel": df, "event_study": es, "average": avg,
            "pretrend": pretrend_test(df), "placebo_time": placebo_time(df, n_reps=placebo_reps, seed=seed),
            "placebo_space": placebo_space(df, n_reps=placebo_reps, seed=seed),
            "n_treated": df.attrs["n_treated"], "n_comparators": df.attrs["n_comparators"]}


#: fewer treated practices than this behind an average effect: the chapter reports no estimate
MIN_TREATED = 3


def analyse_all(outcomes=None, comparators=COMPARATORS, **choices) -> list[dict]:
    """:func:`analyse` for every outcome (default: all of :data:`OUTCOMES`) and comparator set."""
    return [analyse(o, comparator=c, **choices) for o in (outcomes or list(OUTCOMES)) for c in comparators]


def summary_table(results: list[dict]) -> pd.DataFrame:
    """One row per (outcome, comparator) from :func:`analyse` results; ``estimable`` is False where
    fewer than :data:`MIN_TREATED` treated practices have a year before their take-over."""
    rows = []
    for r in results:
        avg, pt, pl, sp = r["average"], r["pretrend"], r["placebo_time"], r["placebo_space"]
        rows.append({
            "outcome": r["outcome"], "comparator": r["comparator"], "n_treated": avg["n_treated_units"],
            "n_comparators": r["n_comparators"], "effect": avg["estimate"], "ci_low": avg["ci_low"],
            "ci_high": avg["ci_high"], "p_analytic": avg["p_analytic"], "p_ri": avg["p_ri"],
            "pretrend_p": None if pt is None else pt["p_value"], "placebo_time": pl["estimate"],
            "placebo_time_p_ri": pl["p_ri"], "placebo_space_sd": sp["sd"], "placebo_space_share": sp["share_as_large"],
            "estimable": avg["n_treated_units"] >= MIN_TREATED,
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- England cross-check


def england_gp_fte() -> pd.DataFrame:
    """England sums from the practice panel by financial year: fully qualified GP FTE (excluding
    locums and trainees), practices with a GP FTE, and their registered patients. A separate basis
    from the national series: the practice files leave out staff not attributed to a practice and
    estimates for practices that did not return data, and HEEC's yearly figure is one September file
    (2015-16 to 2019-20), three files (2020-21) or the mean of monthly files (from 2021-22)."""
    wf = data.load("practice_workforce")
    wf = wf.dropna(subset=["gp_fte"])
    out = wf.groupby("year").agg(gp_fte=("gp_fte", "sum"), practices=("practice_code", "nunique"),
                                 patients=("total_patients", "sum")).reset_index()
    out["year"] = out["year"].astype(str)
    out["patients_per_gp_fte"] = out["patients"] / out["gp_fte"]
    out["basis"] = "sum of practice-level files (HEEC panel), fully qualified GPs excluding locums and trainees"
    return out


def england_crosscheck() -> pd.DataFrame:
    """The practice sums next to the national fully-qualified GP FTE for the same September, for the
    years the practice figure is a single September file (2015-16 to 2019-20): one row per national
    figure of that month (every vintage kept apart; national 'fully qualified' includes locums)."""
    pr = england_gp_fte()
    pr = pr[pr["year"].map(fy_start) <= 2019].copy()
    pr["month"] = [f"{fy_start(y)}-09" for y in pr["year"]]
    nat = data.load("workforce_gp_datapoints")
    nat = nat[(nat["measure"] == "fte_fully_qualified") & (nat["how_obtained"] == "stated")]
    nat = nat.groupby(["date", "vintage"], as_index=False)["value"].first()
    nat = nat.rename(columns={"date": "month", "value": "national_fte", "vintage": "national_vintage"})
    nat["month"] = nat["month"].astype(str)
    out = pr.merge(nat, on="month", how="left")
    out["practice_share_of_national"] = out["gp_fte"] / out["national_fte"]
    return out[["year", "month", "gp_fte", "practices", "national_fte", "national_vintage", "practice_share_of_national"]]
