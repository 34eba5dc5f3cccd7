"""The GDP deflator that puts the practice payments in real terms (``data/gdp_deflator.csv``).

The vendored table is the Office for National Statistics' quarterly series YBGB, "Gross domestic
product at market prices: Implied deflator: SA" (2022 = 100), reduced by :func:`reduce_ons_csv`
from the CSV the ONS time-series page generates (release and mirror in ``data/datapackage.yaml``).
HM Treasury's financial-year GDP deflator is the same measure over April to March (ONS series
L8GG); no copy of L8GG or of a Treasury release was reachable, so :func:`financial_years` takes the
mean of the four quarters of each financial year, which differs from the ratio of annual sums only
by the weighting of the quarters (a few hundredths of an index point).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import VertintError, data

RESOURCE = "gdp_deflator"
#: the ONS series identifier the raw file must carry
CDID = "YBGB"
#: the financial year whose prices the real-terms payments are in (the last year of the panel)
BASE_YEAR = "2022-23"
#: what the chapter calls the series
NAME = "ONS GDP deflator at market prices (YBGB), financial-year mean of quarters"
_QUARTER = re.compile(r"^(\d{4}) Q([1-4])$")


class DeflatorError(VertintError):
    """A deflator file or a request the deflator cannot serve."""


def reduce_ons_csv(raw: Path, first_year: int = 2013) -> pd.DataFrame:
    """The quarterly rows (``quarter``, ``deflator``) from ``first_year`` Q1 of an ONS time-series
    CSV (two columns: metadata rows, then years, quarters and months as "YYYY", "YYYY Qn",
    "YYYY MON"). Refuses a file whose ``CDID`` row is not :data:`CDID` or that has no quarters,
    naming the file and the field. Values are kept as published (text), never recomputed."""
    rows = pd.read_csv(raw, header=None, dtype=str, keep_default_na=False, names=["key", "value"],
                       usecols=[0, 1], encoding="utf-8")
    meta = dict(zip(rows["key"], rows["value"]))
    if meta.get("CDID") != CDID:
        raise DeflatorError(f"{raw}: column 'CDID' is {meta.get('CDID')!r}, expected {CDID!r} "
                            "(the ONS GDP implied deflator series)")
    quarters = rows[rows["key"].str.match(_QUARTER)]
    quarters = quarters[quarters["key"].str[:4].astype(int) >= first_year]
    if quarters.empty:
        raise DeflatorError(f"{raw}: no quarterly rows ('YYYY Qn') from {first_year} in the first column")
    bad = quarters[~quarters["value"].str.fullmatch(r"[0-9]+(\.[0-9]+)?")]
    if not bad.empty:
        raise DeflatorError(f"{raw}: quarter {bad['key'].iloc[0]}: value {bad['value'].iloc[0]!r} is not a number")
    return pd.DataFrame({"quarter": quarters["key"].to_numpy(), "deflator": quarters["value"].to_numpy()})


def quarterly() -> pd.DataFrame:
    """The vendored quarterly series, validated against the manifest (hash and schema)."""
    return data.load(RESOURCE)


def financial_years(q: pd.DataFrame | None = None, where: str = "data/gdp_deflator.csv") -> pd.DataFrame:
    """One row per complete financial year (``year`` as '2016-17', ``t`` its first calendar year,
    ``deflator`` the mean of its four quarters: Q2, Q3, Q4 of ``t`` and Q1 of ``t + 1``)."""
    q = quarterly() if q is None else q
    parts = q["quarter"].astype(str).str.extract(_QUARTER.pattern)
    if parts.isna().any().any():
        first = q["quarter"][parts.isna().any(axis=1)].iloc[0]
        raise DeflatorError(f"{where}: column 'quarter': {first!r} is not 'YYYY Qn'")
    year, qn = parts[0].astype(int), parts[1].astype(int)
    fy = year.where(qn > 1, year - 1)
    frame = pd.DataFrame({"t": fy, "deflator": pd.to_numeric(q["deflator"], errors="raise").astype(float)})
    g = frame.groupby("t")["deflator"]
    out = pd.DataFrame({"deflator": g.mean(), "n": g.size()}).reset_index()
    out = out[out["n"] == 4].drop(columns="n")
    out.insert(0, "year", [f"{t}-{(t + 1) % 100:02d}" for t in out["t"]])
    return out.reset_index(drop=True)


def factors(years, base: str = BASE_YEAR, where: str = "data/gdp_deflator.csv", q: pd.DataFrame | None = None) -> dict[int, float]:
    """Multipliers that turn each financial year's pounds (keys: first calendar year) into ``base``
    prices: deflator(base) / deflator(year). Refuses a year the file does not cover completely,
    naming the file and the column."""
    fy = financial_years(q, where=where).set_index("t")["deflator"]
    base_t = int(str(base)[:4])
    wanted = sorted({int(t) for t in years} | {base_t})
    missing = [t for t in wanted if t not in fy.index]
    if missing:
        t = missing[0]
        raise DeflatorError(f"{where}: column 'quarter' lacks a quarter of financial year {t}-{(t + 1) % 100:02d} "
                            f"(needs {t} Q2 to {t + 1} Q1)")
    return {t: float(fy[base_t] / fy[t]) for t in wanted}
