"""Transitivity: closed forms, the magnitude-only null, and planted truth on simulated
respondents (a transitive Thurstonian one, and one with planted preference cycles)."""
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from bayes_utility.analyses.transitivity import (
    cycle_probability,
    find_triads,
    first_number,
    magnitude_null,
    majority_cycle,
    pair_table,
    transitivity,
)
from bayes_utility.config import RunConfig
from bayes_utility.data.dataset import PreferenceData
from bayes_utility.data.simulate import answer_probability, random_truth
from bayes_utility.inference.pipeline import fit_run


def test_cycle_probability_and_majority_cycles_closed_forms():
    assert cycle_probability(1.0, 1.0, 0.0) == 1.0  # a > b, b > c, c > a
    assert cycle_probability(1.0, 1.0, 1.0) == 0.0  # a > b > c, a > c
    assert cycle_probability(0.5, 0.5, 0.5) == pytest.approx(0.25)
    p = np.array([0.3, 0.8])
    assert cycle_probability(p, p, 1 - p) == pytest.approx(p**3 + (1 - p) ** 3)
    assert majority_cycle(np.array([0.6, 0.6]), np.array([0.7, 0.7]), np.array([0.4, 0.6])).tolist() == [1.0, 0.0]


def test_first_number_reads_amounts():
    assert first_number("You receive $1,500 to use however you want.") == 1500.0
    assert first_number("2 million people are saved") == 2e6
    assert first_number("You gain 0.5 days of vacation") == 0.5
    assert first_number("You are happy.") is None


def _data_from(p_matrix: np.ndarray, k: int, rng, texts=None) -> PreferenceData:
    """Both orders of every pair, k answers each, answers drawn from P(row over column)."""
    n = len(p_matrix)
    rows = []
    for a, b in itertools.permutations(range(n), 2):
        n_a = rng.binomial(k, p_matrix[a, b])
        rows.append({"outcome_a": f"o{a}", "outcome_b": f"o{b}", "n_a": n_a, "n_b": k - n_a})
    outcomes = pd.DataFrame({"id": [f"o{i}" for i in range(n)],
                             "text": texts or [f"Outcome {i}" for i in range(n)]})
    return PreferenceData.from_tables(outcomes, counts=pd.DataFrame(rows))


def _true_cycle(p_matrix: np.ndarray) -> float:
    vals = [cycle_probability(p_matrix[a, b], p_matrix[b, c], p_matrix[a, c])
            for a, b, c in itertools.combinations(range(len(p_matrix)), 3)]
    return float(np.mean(vals))


def test_magnitude_only_null_on_amounts_and_texts_without_numbers():
    texts = ["You receive $10.", "You receive $1,000.", "You receive $100.", "A sunny day."]
    data = _data_from(np.full((4, 4), 0.5), 2, np.random.default_rng(0), texts)
    pairs = pair_table(data)
    null = magnitude_null(pairs, texts)
    got = dict(zip(zip(pairs["lo"], pairs["hi"]), null))
    assert got[(0, 1)] == 0.0 and got[(1, 2)] == 1.0 and got[(0, 2)] == 0.0 and got[(0, 3)] == 0.5
    tri = find_triads(pairs)
    assert len(tri.index) == 4  # C(4, 3)
    res = transitivity(data, None, draws=200)
    # triad {0,1,2} has no cycle; each triad with the numberless outcome: 0.5 * 0.5 on one side
    assert res["cycle_probability"]["magnitude_only_null"] == pytest.approx(3 * 0.25 / 4)


def _planted_cycles(rng, n=12, utility_sd=2.0):
    """P(row over column) of a Thurstonian respondent (orders averaged), and the same with
    rock-paper-scissors (0.9) planted inside each group of three outcomes."""
    truth = random_truth(n, rng, utility_sd=utility_sd)
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    p_trans = 0.5 * (answer_probability(truth, a.ravel(), b.ravel())
                     + 1 - answer_probability(truth, b.ravel(), a.ravel())).reshape(n, n)
    p_cyc = p_trans.copy()
    for g in range(0, n, 3):
        x, y, z = g, g + 1, g + 2
        for u, v in ((x, y), (y, z), (z, x)):
            p_cyc[u, v], p_cyc[v, u] = 0.9, 0.1
    return p_trans, p_cyc


@pytest.mark.statistical
def test_empirical_cycle_probability_is_unbiased_and_its_interval_covers():
    """200 simulated experiments of the planted-cycle respondent: the empirical estimate's
    mean is within 4 Monte Carlo standard errors of the truth, and its 90% bootstrap interval
    covers the truth in 90% of experiments (within 3 binomial sds: 0.836..0.964)."""
    from bayes_utility.analyses.transitivity import _triad_stats, empirical_pair_draws

    rng = np.random.default_rng(5)
    _, p = _planted_cycles(rng)
    true = _true_cycle(p)
    est, cover = [], 0
    for _ in range(200):
        pairs = pair_table(_data_from(p, 10, rng))
        tri = find_triads(pairs)
        est.append(_triad_stats((pairs["k_lo"] / pairs["n"]).to_numpy()[None, :], tri)[0][0])
        lo, hi = np.quantile(_triad_stats(empirical_pair_draws(pairs, 400, rng), tri)[0], [0.05, 0.95])
        cover += lo <= true <= hi
    est = np.asarray(est)
    assert abs(est.mean() - true) < 4 * est.std() / np.sqrt(len(est))
    assert 0.836 <= cover / 200 <= 0.964


def test_lost_answers_counted_as_half_votes_inflate_cycles_excluded_ones_do_not():
    """A transitive triad answered with p = 0.95 per pair and 10% of answers lost: the
    closed-form cycle probability is 0.0475; half-votes move each pair to 0.9 x 0.95 + 0.05
    = 0.905 and the cycle probability to 0.086. With 200,000 answers per pair the observed
    values sit within 0.002 of those (binomial sd of each pair's share < 0.0007)."""
    k = 200_000
    rows = [{"outcome_a": a, "outcome_b": b, "n_a": int(0.9 * 0.95 * k), "n_b": int(0.9 * 0.05 * k),
             "n_unparseable": int(0.1 * k)} for a, b in (("x", "y"), ("y", "z"), ("x", "z"))]
    data = PreferenceData.from_tables(pd.DataFrame({"id": ["x", "y", "z"], "text": ["X", "Y", "Z"]}),
                                      counts=pd.DataFrame(rows))
    assert cycle_probability(0.95, 0.95, 0.95) == pytest.approx(0.0475)
    assert cycle_probability(0.905, 0.905, 0.905) == pytest.approx(0.0860, abs=5e-4)
    excluded = transitivity(data, None, unparseable="exclude", draws=100)["cycle_probability"]["empirical"]
    halved = transitivity(data, None, unparseable="half", draws=100)["cycle_probability"]["empirical"]
    assert excluded["observed"] == pytest.approx(0.0475, abs=0.002)
    assert halved["observed"] == pytest.approx(0.0860, abs=0.002)  # the control: the bias is real


@pytest.fixture(scope="module")
def fits():
    """A transitive Thurstonian respondent and one with planted cycles, 12 outcomes, all
    pairs, both orders, 10 answers per order; each fitted by the flat Thurstonian model."""
    rng = np.random.default_rng(21)
    p_trans, p_cyc = _planted_cycles(rng)
    cfg = RunConfig(data={"path": "simulated", "unparseable": "exclude"}, heldout={"fraction": 0.0},
                    inference={"chains": 2, "warmup": 300, "draws": 300, "progress_bar": False})
    out = {}
    for name, p in (("transitive", p_trans), ("cyclic", p_cyc)):
        data = _data_from(p, 10, rng)
        out[name] = (p, data, fit_run(data, cfg).idata)
    return out


@pytest.mark.statistical
def test_transitive_respondent_cycle_rate_is_recovered(fits):
    p, data, idata = fits["transitive"]
    res = transitivity(data, idata, prob=0.99)
    true = _true_cycle(p)
    assert res["n_triads"] == 220
    t = res["triads"]
    assert (t["empirical_lo"] > t["model_hi"]).sum() <= 2  # next to no triad flagged as intransitive
    for source in ("empirical", "model"):
        lo, hi = res["cycle_probability"][source]["interval"]
        assert lo < true < hi, (source, lo, true, hi)


@pytest.mark.statistical
def test_planted_cycles_show_up_empirically_not_in_the_utility_model(fits):
    p, data, idata = fits["cyclic"]
    res = transitivity(data, idata, prob=0.99)
    # a utility model never has a majority cycle (P(a over b) > 1/2 iff U(a) > U(b)); finite answers
    # do now and then (a near-tie's majority flips), the planted cycles far more often than that
    trans = transitivity(*fits["transitive"][1:], prob=0.99)["majority_cycle_share"]["empirical"]
    emp, mod = res["majority_cycle_share"]["empirical"], res["majority_cycle_share"]["model"]
    assert mod["interval"][1] == 0.0 and emp["interval"][0] > trans["interval"][1]
    # (the overall cycle probability cannot tell: the fit reads a cyclic triad as near-indifference,
    # whose cycle probability, 1/4, is as high)
    # per triad, flagged when the empirical interval lies above the model's: every planted triad is
    # flagged, and every flagged triad truly cycles more often than an indifferent one would (1/4)
    t = res["triads"]
    flagged = t[t["empirical_lo"] > t["model_hi"]]
    found = {tuple(sorted((r.a, r.b, r.c), key=lambda o: int(o[1:]))) for r in flagged.itertuples()}
    assert {("o0", "o1", "o2"), ("o3", "o4", "o5"), ("o6", "o7", "o8"), ("o9", "o10", "o11")} <= found
    i = lambda o: int(o[1:])  # noqa: E731
    true = [cycle_probability(p[i(r.a), i(r.b)], p[i(r.b), i(r.c)], p[i(r.a), i(r.c)]) for r in flagged.itertuples()]
    assert min(true) > 0.25


def test_transitivity_cli_writes_its_files(fits, tmp_path, capsys):
    from bayes_utility.cli import main
    from bayes_utility.workflow.fit import run_fit

    p, data, _ = fits["transitive"]
    data_dir = data.write(tmp_path / "data")
    # the run itself counts lost answers as half-votes; transitivity still uses excluded answers
    cfg = RunConfig(name="t", data={"path": str(data_dir), "unparseable": "half"}, heldout={"fraction": 0.0},
                    output={"dir": str(tmp_path), "report": False},
                    inference={"chains": 1, "warmup": 100, "draws": 100, "progress_bar": False})
    run_dir = run_fit(cfg).run_dir
    assert main(["transitivity", str(run_dir), "--max-triads", "50"]) == 0
    res = json.loads((run_dir / "transitivity.json").read_text())
    assert res["n_triads"] == 50 and "model" in res["cycle_probability"]
    assert res["unparseable_policy"] == "exclude"
    assert (run_dir / "transitivity.png").stat().st_size > 5000
    assert len(pd.read_csv(run_dir / "transitivity_triads.csv")) == 50
    assert "magnitude-only responder" in capsys.readouterr().out
    assert main(["coherence", str(run_dir)]) == 0
    summary = json.loads((run_dir / "coherence.json").read_text())
    assert summary["n_triads"] == 220 and "model" in summary["cycle_probability"]
    # none held out; not an EU fit; no free-form answers or Markov histories
    assert set(summary["missing"]) == {"heldout", "expected_utility", "maximization", "instrumental"}


# ------------------------------------------------------------------ expected utility
def _eu_data(eu_violation: float, seed: int):
    """12 base outcomes and 12 lotteries (2-3 outcomes each) over them, all pairs of the
    24 items, both orders, 6 answers per order; lottery utility = EU + N(0, eu_violation)."""
    from bayes_utility.config import DesignConfig
    from bayes_utility.data.simulate import lottery_truth, simulate_dataset

    rng = np.random.default_rng(seed)
    st = DesignConfig(n_outcomes=12, lotteries=12, lottery_seed=seed).lottery_structure()
    mu_base = rng.normal(0.0, 1.5, 12)
    truth = lottery_truth(mu_base, st["lottery_weights"], eu_violation, rng)
    ids = [f"o{i}" for i in range(12)] + [f"L{i}" for i in range(12)]
    data = simulate_dataset(truth, rng, n_pairs=24 * 23 // 2, k_per_order=6, outcome_ids=ids)
    attrs = [None] * 12 + [{"lottery": [{"outcome": f"o{j}", "probability": float(p)}
                                        for j, p in enumerate(row) if p > 0]} for row in st["lottery_weights"]]
    data = PreferenceData.from_tables(data.outcomes.assign(attributes=attrs), counts=data.counts)
    u = (truth.mu - mu_base.mean()) / mu_base.std(ddof=1)
    eu = st["lottery_weights"] @ u[:12]
    return data, u, eu, eu_violation / mu_base.std(ddof=1)


@pytest.fixture(scope="module")
def eu_fits():
    from bayes_utility.analyses.expected_utility import expected_utility_metrics

    cfg = RunConfig(data={"path": "simulated", "unparseable": "exclude"}, model={"name": "expected_utility"},
                    heldout={"fraction": 0.0},
                    inference={"chains": 2, "warmup": 400, "draws": 500, "target_accept": 0.9, "progress_bar": False})
    out = {}
    for name, tau, seed in (("near_eu", 0.1, 1), ("violating", 1.2, 3)):
        data, u, eu, tau_std = _eu_data(tau, seed)
        idata = fit_run(data, cfg).idata
        out[name] = (u, eu, tau_std, idata, expected_utility_metrics(idata, prob=0.99))
    return out


@pytest.mark.statistical
def test_expected_utility_metrics_recover_planted_truth(eu_fits):
    """The realised metrics of the planted utilities lie in the 99% posterior intervals (one
    dataset per case; the model's calibration over many is the SBC test's job)."""
    for name, (u, eu, tau_std, idata, res) in eu_fits.items():
        u_lot = u[12:]
        true_r = np.corrcoef(u_lot, eu)[0, 1]
        i, j = np.triu_indices(12, 1)
        true_share = np.mean(np.sign(u_lot[i] - u_lot[j]) == np.sign(eu[i] - eu[j]))
        for key, true in (("pearson_r_utility_vs_expected_utility", true_r),
                          ("share_of_lottery_pairs_ordered_as_eu", true_share),
                          ("mae_standardised", np.abs(u_lot - eu).mean()), ("eu_violation_std", tau_std)):
            lo, hi = res[key]["interval"]
            assert lo - 1e-9 <= true <= hi + 1e-9, (name, key, lo, true, hi)


def test_lottery_definitions_are_checked():
    from bayes_utility.models.expected_utility import lottery_structure

    base = pd.DataFrame({"id": ["a", "b", "L"], "attributes": [None, None, {"lottery": [
        {"outcome": "a", "probability": 0.5}, {"outcome": "b", "probability": 0.4}]}]})
    with pytest.raises(ValueError, match="sum to 1"):
        lottery_structure(base)
    base.at[2, "attributes"] = {"lottery": [{"outcome": "zz", "probability": 1.0}]}
    with pytest.raises(ValueError, match="'zz' is not a base outcome"):
        lottery_structure(base)
    with pytest.raises(ValueError, match="needs outcomes whose attributes have .lottery."):
        lottery_structure(base.iloc[:2])
    from bayes_utility.config import CalibrationConfig

    with pytest.raises(ValueError, match="design.lotteries"):
        CalibrationConfig(model={"name": "thurstonian"}, design={"lotteries": 3})
    with pytest.raises(ValueError, match="design.lotteries"):
        CalibrationConfig(model={"name": "expected_utility"})
