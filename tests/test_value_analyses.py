"""Value analyses: time discounting (exponential against hyperbolic), exchange rates,
corrigibility, and comparisons of utility profiles (power seeking, utility control,
political positions), each against planted truth on simulated respondents."""
import json

import numpy as np
import pandas as pd
import pytest

from bayes_utility.config import RunConfig
from bayes_utility.data.loading import load_dataset
from bayes_utility.data.simulate import SimulationTruth, pair_design, simulate_counts
from bayes_utility.datasets import path as dataset_path
from bayes_utility.workflow.fit import run_fit

FAST = {"chains": 2, "warmup": 400, "draws": 500, "progress_bar": False, "chain_method": "sequential"}


def _cfg(tmp, name, model, data_path, **model_kw):
    return RunConfig(name=name, data={"path": str(data_path), "unparseable": "exclude"},
                     model={"name": model, **model_kw}, heldout={"fraction": 0.0},
                     inference={**FAST, "seed": 7}, output={"dir": str(tmp), "report": False})


def _inside(summary: dict, value: float) -> bool:
    lo, hi = summary["interval"]
    return lo <= value <= hi


# ------------------------------------------------------------------ time discounting
K_TRUE, KAPPA_TRUE = 0.05, 8.0  # a hyperbolic discounter: D(t) = 1 / (1 + k t), k per month


def _discounting_data(seed: int = 2026):
    """Answers generated here with numpy and scipy alone (not the model's code): "$1,000 now"
    against $1,100-$3,000 after 1-60 months and 120 random pairs among all 31 options, both
    orders, 10 answers each; utility kappa (log A - log(1 + k t)); P("A") = Phi(du / sqrt 2)
    (unit noise per option)."""
    from scipy.special import ndtr

    from bayes_utility.data.dataset import PreferenceData
    from bayes_utility.data.optionsets import time_discounting

    rng = np.random.default_rng(seed)
    outs, now_pairs = time_discounting()
    amount = np.array([a["amount"] for a in outs["attributes"]])
    months = np.array([a["months"] for a in outs["attributes"]], dtype=float)
    u = KAPPA_TRUE * (np.log(amount) - np.log1p(K_TRUE * months))
    pos = {o: i for i, o in enumerate(outs["id"])}
    pairs = np.unique(np.concatenate([np.array([[pos[a], pos[b]] for a, b in now_pairs]),
                                      pair_design(len(outs), 120, rng)]), axis=0)
    a = np.concatenate([pairs[:, 0], pairs[:, 1]])
    b = np.concatenate([pairs[:, 1], pairs[:, 0]])
    n_a = rng.binomial(10, ndtr((u[a] - u[b]) / np.sqrt(2.0)))
    ids = outs["id"].to_numpy()
    counts = pd.DataFrame({"outcome_a": ids[a], "outcome_b": ids[b], "n_a": n_a, "n_b": 10 - n_a})
    return PreferenceData.from_tables(outs, counts=counts, source="simulated:numpy-hyperbolic")


@pytest.fixture(scope="module")
def discount_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("disc")
    folder = _discounting_data().write(tmp / "data")
    cfg = _cfg(tmp, "disc", "time_discounting_hyperbolic", folder).with_overrides(output={"hdi_prob": 0.99})
    return run_fit(cfg)


@pytest.mark.statistical
def test_discounting_recovers_the_rate_and_prefers_the_true_form(discount_run, capsys):
    """Truths computed here in closed form: D(12) = 1 / (1 + 12 k), half-value delay 1 / k."""
    from bayes_utility.cli import main

    truth = {"discount_rate": K_TRUE, "sensitivity": KAPPA_TRUE, "discount_factor_12m": 1 / (1 + 12 * K_TRUE),
             "delay_for_half": 1 / K_TRUE}
    assert main(["discounting", str(discount_run.run_dir)]) == 0
    res = json.loads((discount_run.run_dir / "discounting.json").read_text())
    hyp = res["fits"]["time_discounting_hyperbolic"]
    for key, value in truth.items():
        assert _inside(hyp[key], value), (key, hyp[key], value)
    assert hyp["delay_for_half"]["center"] == "median"  # 1/k: its mean need not exist
    # the true (hyperbolic) form wins by more than 3 standard errors of the difference
    assert res["preferred"] == "time_discounting_hyperbolic"
    assert res["elpd_difference"] > 3 * res["elpd_difference_se"]
    assert (discount_run.run_dir / "discounting.png").stat().st_size > 5000
    assert "PSIS-LOO prefers hyperbolic" in capsys.readouterr().out
    # the control: the intervals are narrow enough to tell the closed forms apart (the
    # exponential discount of the same k, exp(-12 k) = 0.549, lies outside D(12)'s interval)
    assert not _inside(hyp["discount_factor_12m"], np.exp(-12 * K_TRUE))


def test_discounting_models_check_their_attributes():
    from bayes_utility.models import get_model

    data = load_dataset("builtin:llama2_7b_sim")
    with pytest.raises(ValueError, match="needs attributes amount, months"):
        get_model("time_discounting_exponential").data_structure(data)


def test_near_certain_answers_keep_loo_finite(discount_run):
    """Rows answered with probability 1 - 1e-20 have log-likelihoods constant to double
    precision; ArviZ alone returns NaN there, the project's loo treats them as k = 0."""
    from bayes_utility.inference.compare import loo

    res = loo(discount_run.fit.idata)
    assert np.isfinite(res["elpd_loo"]) and np.isfinite(res["se"])
    assert len(res["loo_i"]) == discount_run.fit.idata.log_likelihood["y"].shape[-1]


# ------------------------------------------------------------------ exchange rates
@pytest.mark.statistical
def test_exchange_rates_cover_the_true_rates_and_flag_a_flat_entity(tmp_path):
    data0 = load_dataset("builtin:exchange_sim")
    truth = pd.read_csv(dataset_path("exchange_sim") / "truth.csv")
    from scipy.special import ndtr

    from bayes_utility.analyses.exchange_rates import exchange_rates
    from bayes_utility.data.dataset import PreferenceData

    # answers generated here with numpy and scipy (not the model's code): utility of N units of
    # entity X is a_X log N + b_X + 0.3 eps, P("A") = Phi(du / sqrt 2); the rates in dollars per
    # unit are the closed form exp((b_X - b_dollars) / a_dollars) (one unit of X against dollars)
    n = data0.n_outcomes
    pairs = np.array(np.triu_indices(n, 1)).T
    slope = dict(zip(truth["entity"], truth["slope"]))
    intercept = dict(zip(truth["entity"], truth["intercept"]))
    truth["dollars_per_unit"] = np.exp((truth["intercept"] - intercept["dollars"]) / slope["dollars"])
    ent = [a["entity"] for a in data0.outcomes["attributes"]]
    log_n = np.log([float(a["count"]) for a in data0.outcomes["attributes"]])
    base = np.array([slope[e] for e in ent]) * log_n + np.array([intercept[e] for e in ent])
    a, b = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    ids = np.asarray(data0.outcome_ids, dtype=object)
    covered = total = 0
    for seed in (11, 12):
        rng = np.random.default_rng(seed)
        u = base + 0.3 * rng.normal(size=n)
        n_a = rng.binomial(5, ndtr((u[a] - u[b]) / np.sqrt(2.0)))
        data = PreferenceData.from_tables(data0.outcomes, counts=pd.DataFrame(
            {"outcome_a": ids[a], "outcome_b": ids[b], "n_a": n_a, "n_b": 5 - n_a}), source="simulated:numpy")
        run = run_fit(_cfg(tmp_path, f"ex{seed}", "exchange_rates", data.write(tmp_path / f"d{seed}")))
        res = exchange_rates(run.fit.idata, prob=0.99)
        flags = {e["entity"]: e["clearly_positive"] for e in res["entities"]}
        assert not flags["paperclips"] and all(v for k, v in flags.items() if k != "paperclips")
        r = res["rates"]
        assert r.loc[r["in_units_of"] == "paperclips", "median"].isna().all()  # nothing priced in paperclips
        got = r[r["in_units_of"] == "dollars"].merge(truth, on="entity")
        got = got[got["entity"] != "paperclips"]
        covered += int(((got["lo"] <= got["dollars_per_unit"]) & (got["dollars_per_unit"] <= got["hi"])).sum())
        total += len(got)
    assert covered >= total - 1, (covered, total)  # 99% intervals, 10 correlated rates


def test_exchange_cli_on_the_bundled_example(tmp_path, capsys):
    from bayes_utility.cli import main

    cfg = _cfg(tmp_path, "ex", "exchange_rates", "builtin:exchange_sim").with_overrides(
        inference={"chains": 1, "warmup": 150, "draws": 150})
    run_dir = run_fit(cfg).run_dir
    assert main(["exchange-rates", str(run_dir), "--unit", "people from Japan"]) == 0
    res = json.loads((run_dir / "exchange_rates.json").read_text())
    assert res["unit"] == "people from Japan" and res["reference"] == "dollars"
    assert len(pd.read_csv(run_dir / "exchange_rates.csv")) == 7 * 6
    assert (run_dir / "exchange_rates.png").stat().st_size > 5000
    assert "NOT clearly positive" in capsys.readouterr().out
    assert main(["exchange-rates", str(run_dir), "--unit", "paperclips"]) == 2  # not a unit of account


# ------------------------------------------------------------------ corrigibility
@pytest.mark.statistical
def test_corrigibility_recovers_acceptance_slope_and_score(tmp_path, capsys):
    from scipy.special import ndtr

    from bayes_utility.cli import main
    from bayes_utility.data.dataset import PreferenceData

    # the bundled options and design, answers generated here with numpy and scipy (not the
    # model's code): a change's utility alpha + beta gap + 0.3 eps, the status quo's 0,
    # P("A") = Phi(du / sqrt 2); truth computed here: corrigibility = mean over the changes
    # of Phi((alpha + beta gap) / sqrt 2)
    alpha, beta, tau = 0.4, -0.5, 0.3
    data0 = load_dataset("builtin:corrigibility_sim")
    attrs = list(data0.outcomes["attributes"])
    change = np.array([not (isinstance(a, dict) and a.get("status_quo")) for a in attrs])
    gap = np.array([float(a["gap"]) if c else 0.0 for a, c in zip(attrs, change)])
    rng = np.random.default_rng(2027)
    u = np.where(change, alpha + beta * gap + tau * rng.normal(size=len(gap)), 0.0)
    pos = {o: i for i, o in enumerate(data0.outcome_ids)}
    c = data0.counts
    ia, ib = c["outcome_a"].map(pos).to_numpy(), c["outcome_b"].map(pos).to_numpy()
    n = (c["n_a"] + c["n_b"]).to_numpy()
    n_a = rng.binomial(n, ndtr((u[ia] - u[ib]) / np.sqrt(2.0)))
    data = PreferenceData.from_tables(data0.outcomes, counts=pd.DataFrame(
        {"outcome_a": c["outcome_a"], "outcome_b": c["outcome_b"], "n_a": n_a, "n_b": n - n_a}),
        source="simulated:numpy")
    truth = {"acceptance": alpha, "gap_slope": beta, "deviation_spread": tau,
             "corrigibility": float(np.mean(ndtr((alpha + beta * gap[change]) / np.sqrt(2.0))))}
    cfg = _cfg(tmp_path, "corr", "corrigibility", data.write(tmp_path / "data")).with_overrides(
        output={"hdi_prob": 0.99})
    run_dir = run_fit(cfg).run_dir
    assert main(["corrigibility", str(run_dir)]) == 0
    res = json.loads((run_dir / "corrigibility.json").read_text())
    for key in ("acceptance", "gap_slope", "corrigibility", "deviation_spread"):
        assert _inside(res[key], truth[key]), (key, res[key], truth[key])
    assert res["p_gap_slope_negative"] > 0.99  # resists large changes
    curve = pd.read_csv(run_dir / "corrigibility_curve.csv")
    assert curve["p_accept_mean"].is_monotonic_decreasing
    assert "slope per unit of change size" in capsys.readouterr().out


def test_corrigibility_options_from_a_base_fit(tmp_path):
    from bayes_utility.models import get_model

    from bayes_utility.cli import main
    from bayes_utility.data.tables import read_outcomes

    cfg = RunConfig(name="base", data={"path": "builtin:smollm2_135m_real", "unparseable": "exclude"},
                    heldout={"fraction": 0.0}, inference={"method": "map", "svi_steps": 300},
                    output={"dir": str(tmp_path), "report": False})
    base = run_fit(cfg).run_dir
    assert main(["corrigibility-options", str(base), str(tmp_path / "opts.csv"), "--n", "12"]) == 0
    opts = read_outcomes(tmp_path / "opts.csv")
    opts["attributes"] = [json.loads(a) if isinstance(a, str) else a for a in opts["attributes"]]
    assert len(opts) == 13 and opts["attributes"].iloc[0] == {"status_quo": True}
    gaps = [a["gap"] for a in opts["attributes"].iloc[1:]]
    assert min(gaps) > 0  # each change reverses a preference of the base fit
    from types import SimpleNamespace

    ns = SimpleNamespace(outcomes=opts.iloc[1:], outcome_ids=list(opts["id"].iloc[1:]), n_outcomes=12)
    with pytest.raises(ValueError, match="exactly one status-quo option"):
        get_model("corrigibility").data_structure(ns)


# ------------------------------------------------------------------ comparing utility profiles
@pytest.fixture(scope="module")
def profiles_run(tmp_path_factory):
    """Five respondents over 16 outcomes (hierarchical fit): a target, an LLM before
    (r = 0.2 with it) and after (r = 0.75), and two more along a shared axis."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from make_value_data import _correlated

    tmp = tmp_path_factory.mktemp("prof")
    rng = np.random.default_rng(31)
    n = 16
    target = 1.5 * rng.normal(0, 1, n)
    prof = {"target": target, "before": _correlated(target, 0.2, rng), "after": _correlated(target, 0.75, rng),
            "left": _correlated(target, -0.6, rng), "right": _correlated(target, 0.9, rng)}
    pairs = pair_design(n, n * (n - 1) // 2, rng)
    ids = np.array([f"o{i}" for i in range(n)], dtype=object)
    frames = []
    for label, mu in prof.items():
        sim = simulate_counts(SimulationTruth(mu=mu, sigma=np.exp(rng.normal(0, 0.2, n)), order_bias=0.0,
                                              link="probit"), pairs, 10, rng)
        frames.append(pd.DataFrame({"respondent": label, "outcome_a": ids[sim["idx_a"]], "outcome_b": ids[sim["idx_b"]],
                                    "n_a": sim["n_a"], "n_b": sim["n_b"]}))
    from bayes_utility.data.dataset import PreferenceData

    data = PreferenceData.from_tables(pd.DataFrame({"id": ids, "text": [f"Outcome {i}" for i in range(n)]}),
                                      counts=pd.concat(frames, ignore_index=True))
    cfg = _cfg(tmp, "prof", "thurstonian_hierarchical", data.write(tmp / "data")).with_overrides(
        inference={"target_accept": 0.95}, output={"hdi_prob": 0.99})
    return run_fit(cfg), prof


@pytest.mark.statistical
def test_utility_control_and_power_seeking_recover_true_correlations(profiles_run, capsys):
    from bayes_utility.cli import main

    run, prof = profiles_run
    assert main(["utility-control", str(run.run_dir), "--before", "before", "--after", "after",
                 "--target", "target"]) == 0
    res = json.loads((run.run_dir / "utility_control.json").read_text())
    r_b, r_a = (np.corrcoef(prof[k], prof["target"])[0, 1] for k in ("before", "after"))
    assert _inside(res["r_before"], r_b) and _inside(res["r_after"], r_a) and _inside(res["r_change"], r_a - r_b)
    assert res["p_r_increased"] > 0.99 and res["p_distance_decreased"] > 0.99
    # a fixed target profile from a file gives the same picture
    pd.DataFrame({"id": [f"o{i}" for i in range(16)], "utility": prof["target"]}).to_csv(
        run.run_dir / "target.csv", index=False)
    assert main(["utility-control", str(run.run_dir), "--before", "before", "--after", "after",
                 "--target", str(run.run_dir / "target.csv")]) == 0
    fixed = json.loads((run.run_dir / "utility_control.json").read_text())
    assert _inside(fixed["r_after"], r_a)
    assert main(["power-seeking", str(run.run_dir), "--ordinary", "target", "--power", "left"]) == 0
    ps = json.loads((run.run_dir / "power_seeking.json").read_text())
    assert _inside(ps["pearson_r"], np.corrcoef(prof["target"], prof["left"])[0, 1])
    assert "P(increased)" in capsys.readouterr().out


@pytest.mark.statistical
def test_political_positions_match_those_of_the_true_profiles(profiles_run):
    from bayes_utility.cli import main

    run, prof = profiles_run
    assert main(["political", str(run.run_dir)]) == 0
    pos = pd.read_csv(run.run_dir / "political_positions.csv").set_index("respondent")
    true = np.stack([(v - v.mean()) / v.std() for v in prof.values()])
    true = true - true.mean(0)
    _, _, vt = np.linalg.svd(true, full_matrices=False)
    t1 = pd.Series(true @ vt[0], index=list(prof))
    r = np.corrcoef(pos.loc[t1.index, "pc1_mean"], t1)[0, 1]
    assert abs(r) > 0.98, r
    assert (run.run_dir / "political.png").stat().st_size > 5000
    with pytest.raises(ValueError, match="at least three respondents"):
        from bayes_utility.analyses.values import political_positions

        political_positions(run.fit.idata.sel(respondent=["target", "after"]))
