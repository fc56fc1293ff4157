"""Active-learning acquisition rules, and a short run against a simulated respondent."""
import numpy as np

from bayes_utility.data.simulate import random_truth
from bayes_utility.elicitation.active import (
    bald_acquisition,
    bald_scores,
    candidates,
    paper_acquisition,
    simulate_active_learning,
)


def test_candidates_exclude_asked_pairs_in_either_order():
    asked = np.array([[0, 1], [3, 2]])
    cand = candidates(4, asked)
    assert len(cand) == 4 and not any((a, b) in {(0, 1), (2, 3)} for a, b in cand.tolist())


def test_paper_scheme_prefers_close_and_rarely_asked_pairs():
    rng = np.random.default_rng(0)
    mu = np.arange(40, dtype=float)
    asked = np.array([[0, 1], [0, 2], [0, 3], [1, 2]])
    new = paper_acquisition(mu, asked, 10, rng)
    assert len(new) == 10 and len({tuple(p) for p in new.tolist()}) == 10
    assert np.abs(mu[new[:, 0]] - mu[new[:, 1]]).max() <= 3  # bottom 10% of gaps
    assert not {tuple(p) for p in new.tolist()} & {tuple(p) for p in asked.tolist()}


def test_bald_scores_measure_disagreement_between_draws():
    sure = np.full((100, 1), 0.9)
    split = np.concatenate([np.full((50, 1), 0.01), np.full((50, 1), 0.99)])
    s = bald_scores(np.hstack([sure, split]))
    assert s[0] < 1e-9 and s[1] > 0.5 and s[1] <= np.log(2)


def test_bald_acquisition_limits_new_pairs_per_outcome():
    rng = np.random.default_rng(1)
    draws = rng.random((50, 1))

    def p_of(pairs):  # outcome 0 is the uncertain one: every pair with it is informative
        return np.where(pairs[:, 0] == 0, draws, 0.5 + 0 * draws)

    new = bald_acquisition(p_of, 10, np.zeros((0, 2), int), 6, max_per_outcome=2)
    assert len(new) == 6 and np.bincount(new.ravel(), minlength=10).max() <= 2
    assert (new[:, 0] == 0).sum() == 2


def test_simulated_rounds_grow_the_design_and_learn():
    truth = random_truth(12, np.random.default_rng(2))
    hist = simulate_active_learning(truth, "bald", round_pairs=12, budget_pairs=36, k_per_order=4, seed=3,
                                    warmup=150, draws=150)
    assert hist["pairs"].tolist() == [12, 24, 36]
    assert hist["answers"].is_monotonic_increasing
    assert hist["spearman"].iloc[-1] > 0.8
