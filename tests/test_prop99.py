"""Proposition 99: placebo-in-space inference and synthetic difference in differences, against the
published values (Abadie et al. 2010; Arkhangelsky et al. 2021)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from vertint import data, prop99, synth, verdicts

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def placebo():
    return prop99.placebo_in_space()


@pytest.fixture(scope="module")
def covariate_placebo():
    return prop99.placebo_in_space_covariates()


@pytest.fixture(scope="module")
def sdid():
    return prop99.prop99_sdid()


def test_published_placebo_is_vendored():
    pub = prop99.published_placebo()["value"]
    assert pub["rank"] == 1 and pub["n_units"] == 39
    assert pub["p_value"] == pytest.approx(1 / 39, abs=0.0005)


def test_placebo_in_space_rank(placebo):
    # every state once, California fitted from the other 38, each placebo from 37 (California excluded)
    assert len(placebo) == 39 and placebo["state"].is_unique
    assert placebo.loc[placebo["treated"], "n_donors"].iloc[0] == 38
    assert (placebo.loc[~placebo["treated"], "n_donors"] == 37).all()
    s = prop99.placebo_summary(placebo)
    # outcome-only fits: California is third, behind two states with near-perfect pre-period fits
    assert (s["rank"], s["n"]) == (3, 39)
    assert s["p"] == pytest.approx(3 / 39)
    ahead = placebo[placebo["rank"] < s["rank"]]
    ca = placebo[placebo["treated"]].iloc[0]
    assert set(ahead["state"]) == {"Missouri", "Virginia"}
    assert (ahead["mspe_pre"] < ca["mspe_pre"] / 4).all()
    # California's own fit is the one of synth.prop99 (same problem, different solver)
    assert ca["gap_post"] == pytest.approx(synth.prop99()["estimate"], abs=0.02)
    # with Abadie et al.'s filter (pre-period MSPE at most twice California's), its gap is the most negative
    assert s["gap_rank"] == 1 and s["filtered_n"] == 22
    v = prop99.placebo_verdict(1, s["rank"], covariates="outcome")
    assert v.label == verdicts.NOT_SUPPORTED  # the outcome-only sensitivity: the mismatch is reported, not tuned away
    assert v.reason == ("California's rank by post/pre MSPE ratio (outcome only, equal weights on the pre-period years; "
                        "California out of the placebos' donor pools): published 1, reproduced 3")


def test_batch_solver_matches_pysyncon_on_the_placebos(placebo):
    """The fast solver reaches pysyncon's optimum (or better) for the states that decide the rank."""
    panel = synth.prop99_panel().astype(float)
    T0 = int((panel.index < synth.PROP99_FIRST_POST).sum())
    for state in ("California", "Missouri", "Virginia", "Georgia"):
        pool = panel.drop(columns=[state] if state == "California" else [state, "California"])
        y, X = panel[state].to_numpy(), pool.to_numpy()
        w = synth.sc_weights_pysyncon(y[:T0], X[:T0])
        ref = float(np.mean((y[:T0] - X[:T0] @ w) ** 2))
        ours = float(placebo.loc[placebo["state"] == state, "mspe_pre"].iloc[0])
        assert ours <= ref * 1.001 + 1e-9, state
        assert ours == pytest.approx(ref, rel=0.05), state


def test_sdid_reproduces_table_1(sdid):
    # Arkhangelsky et al. (2021), Table 1: SDID -15.6, SC -19.6, DID -27.3 (the synthdid R package:
    # -15.604, -19.620, -27.349)
    assert sdid["estimate"] == pytest.approx(-15.604, abs=0.002)
    assert sdid["sc"] == pytest.approx(-19.620, abs=0.002)
    assert sdid["did"] == pytest.approx(-27.349, abs=0.002)
    assert verdicts.method_check(sdid["published"], sdid["estimate"], "packs").label == verdicts.SUPPORTED
    w, lam = sdid["omega"], sdid["lambda"]
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert lam.sum() == pytest.approx(1.0) and lam[lam > 0].index.min() >= 1980  # time weights on late pre-years


def test_sdid_placebo_standard_error(sdid):
    # enumerating every control state as the pseudo-treated unit; the paper's 8.4 came from 200 random
    # replications, whose own spread covers it
    assert sdid["placebo"].size == 38
    assert sdid["placebo_se"] == pytest.approx(9.37, abs=0.05)
    draws = prop99.placebo_se_draws(sdid["placebo"])
    assert draws["low"] < sdid["published_se"] < draws["high"]


def test_fw_step_minimises_on_the_simplex():
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((20, 5)), rng.standard_normal(20)
    x = np.full(5, 0.2)
    f = lambda v: float(np.sum((A @ v - b) ** 2) + 0.1 * v @ v)
    for _ in range(200):
        x_new = prop99._fw_step(A, x, b, 0.1)
        assert f(x_new) <= f(x) + 1e-12 and x_new.sum() == pytest.approx(1.0) and (x_new >= -1e-12).all()
        x = x_new


def test_placebo_chart_compiles(placebo):
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(prop99.placebo_chart(placebo).to_dict())
    assert svg.startswith("<svg")


# --------------------------------------------------------------------------- Abadie et al.'s specification


def test_covariate_panel_sales_match_the_outcome_panel():
    """The covariate panel's cigsale is the outcome panel's, state by state and year by year."""
    cov = prop99.covariate_panel()
    wide = cov.pivot(index="year", columns="state", values="cigsale")
    panel = synth.prop99_panel().astype(float)
    assert sorted(wide.columns) == sorted(panel.columns) and list(wide.index) == list(panel.index)
    assert np.abs(wide[panel.columns].to_numpy() - panel.to_numpy()).max() < 1e-4  # float32 in both copies
    assert len(cov) == 39 * 31


def test_predictors_match_pysyncon_dataprep():
    from pysyncon import Dataprep

    cov = prop99.covariate_panel()
    X = prop99.predictor_matrix(cov)
    donors = [s for s in sorted(cov["state"].unique()) if s != "California"]
    dp = Dataprep(foo=cov, predictors=["lnincome", "retprice", "age15to24"], predictors_op="mean",
                  time_predictors_prior=range(1980, 1989),
                  special_predictors=[("beer", range(1984, 1989), "mean"), ("cigsale", [1975], "mean"),
                                      ("cigsale", [1980], "mean"), ("cigsale", [1988], "mean")],
                  dependent="cigsale", unit_variable="state", time_variable="year", treatment_identifier="California",
                  controls_identifier=donors, time_optimize_ssr=range(1970, 1989))
    X0, X1 = dp.make_covariate_mats()
    assert np.allclose(X0[donors].to_numpy(), X[donors].to_numpy())
    assert np.allclose(X1.to_numpy(), X["California"].to_numpy())


def test_covariate_placebo_reproduces_abadie_et_al(covariate_placebo):
    t = covariate_placebo
    assert len(t) == 39 and t["state"].is_unique
    assert t.loc[t["treated"], "n_donors"].iloc[0] == 38 and (t.loc[~t["treated"], "n_donors"] == 37).all()
    s = prop99.placebo_summary(t)
    assert (s["rank"], s["n"]) == (1, 39) and s["p"] == pytest.approx(1 / 39)
    assert s["ratio"] == pytest.approx(118.1, abs=0.5) and s["runner_up"] == "Georgia"
    # the ratio is post-period MSPE over pre-period MSPE, recomputed from California's gaps
    gap = t.attrs["gap"]
    assert s["ratio"] == pytest.approx(float((gap[gap.index >= 1989] ** 2).mean() / (gap[gap.index < 1989] ** 2).mean()))
    v = prop99.placebo_verdict(1, s["rank"])
    assert v.label == verdicts.SUPPORTED and v.rule == "equals"
    assert v.reason.endswith("published 1, reproduced 1") and "source says" not in v.reason


def test_covariate_weights_are_proper_and_match_the_published_ones(covariate_placebo):
    v, w = covariate_placebo.attrs["v"], covariate_placebo.attrs["w"]
    assert len(v) == 7 and v.sum() == pytest.approx(1.0) and (v >= 0).all()
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all() and len(w) == 38
    # Abadie et al. (2010), Table 2: Colorado 0.164, Connecticut 0.069, Montana 0.199, Nevada 0.234, Utah 0.334
    published = {"Colorado": 0.164, "Connecticut": 0.069, "Montana": 0.199, "Nevada": 0.234, "Utah": 0.334}
    assert set(w[w > 0.005].index) == set(published)
    for state, weight in published.items():
        assert w[state] == pytest.approx(weight, abs=0.02), state


def test_simplex_lsq_is_at_least_as_good_as_pysyncons_inner_solver(covariate_placebo):
    """For California's V, the exact inner solver's loss is no worse than pysyncon's SLSQP."""
    from pysyncon.base import VanillaOptimMixin

    cov = prop99.covariate_panel()
    X = prop99.predictor_matrix(cov)
    donors = list(covariate_placebo.attrs["w"].index)
    Xall = X[donors + ["California"]]
    Xs = Xall.divide(Xall.std(axis=1), axis=0)
    X0, X1 = Xs[donors].to_numpy(), Xs["California"].to_numpy()
    V = np.diag(covariate_placebo.attrs["v"].to_numpy())
    w_ref, _ = VanillaOptimMixin.w_optimize(V_mat=V, X0=X0, X1=X1)
    w_ours = covariate_placebo.attrs["w"][donors].to_numpy()
    loss = lambda w: float((X1 - X0 @ w) @ V @ (X1 - X0 @ w))
    assert loss(w_ours) <= loss(w_ref) + 1e-9
    rng = np.random.default_rng(5)
    A, b = rng.standard_normal((7, 30)), rng.standard_normal(7)
    w = prop99.simplex_lsq(A, b)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all() and (w > 0).sum() <= 8


def test_predictor_matrix_refuses_missing_data():
    cov = prop99.covariate_panel()
    with pytest.raises(data.DataError, match=r"data/prop99_covariates.csv: missing column 'beer'"):
        prop99.predictor_matrix(cov.drop(columns="beer"))
    bad = cov.copy()
    bad.loc[(bad["state"] == "Utah") & bad["year"].between(1984, 1988), "beer"] = np.nan
    with pytest.raises(data.DataError, match=r"column 'beer' has no value in 1984-1988 for Utah"):
        prop99.predictor_matrix(bad)


@pytest.fixture
def covariate_package(tmp_path, monkeypatch):
    """A throwaway data package holding only the covariate panel, to break it one way at a time."""
    (tmp_path / "data").mkdir()
    res = dict(data.resource("prop99_covariates"))
    csv = tmp_path / "data" / res["path"]
    text = (ROOT / "data" / res["path"]).read_text(encoding="utf-8")

    def write(new: str):
        csv.write_text(new, encoding="utf-8")
        res["hash"] = "sha256:" + data.sha256(csv)
        (tmp_path / "data" / "datapackage.yaml").write_text(yaml.safe_dump({"name": "t", "resources": [res]}))

    write(text)
    monkeypatch.setenv("VERTINT_ROOT", str(tmp_path))
    return text, write


def test_covariate_file_validation_names_file_row_and_column(covariate_package):
    text, write = covariate_package
    assert len(prop99.covariate_panel()) == 39 * 31
    lines = text.splitlines(keepends=True)
    first = lines[1].split(",")
    first[5] = "1.5"  # age15to24 is a share
    write("".join([lines[0], ",".join(first)] + lines[2:]))
    with pytest.raises(data.DataError, match=r"^data/prop99_covariates.csv: row 2, column 'age15to24': constraint-error"):
        prop99.covariate_panel()
    write(text.replace("state,year,cigsale,lnincome,beer", "state,year,cigsale,lnincome,beers", 1))
    with pytest.raises(data.DataError, match=r"^data/prop99_covariates.csv: missing column 'beer'"):
        prop99.covariate_panel()
    write("".join(lines[:-1]))  # Wyoming 2000 dropped
    with pytest.raises(data.DataError, match=r"^data/prop99_covariates.csv: expected every one of 39 states for every year"):
        prop99.covariate_panel()


def test_method_check_never_prints_minus_zero():
    assert verdicts.signed(-0.004) == "-0.004" and verdicts.signed(0.0) == "0.00" and verdicts.signed(-0.25) == "-0.25"
    reason = verdicts.method_check(-15.6, -15.604, "packs").reason
    assert "difference -0.004 " in reason and "-0.00 " not in reason
