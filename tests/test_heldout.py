"""Held-out split and metrics against hand computations."""
import numpy as np
import pandas as pd
import pytest

from bayes_utility.inference.heldout import heldout_metrics, pair_level, split_pairs


def _counts():
    return pd.DataFrame(
        {
            "respondent": "r", "prompt_template": "t",
            "outcome_a": ["x", "y", "x", "z", "y", "z"],
            "outcome_b": ["y", "x", "z", "x", "z", "y"],
            "n_a": [8, 2, 5, 5, 1, 9], "n_b": [2, 8, 5, 5, 9, 1], "n_unparseable": 0,
        }
    )


def test_split_keeps_both_orders_together():
    c = _counts()
    rng = np.random.default_rng(0)
    train, held = split_pairs(c, fraction=0.34, max_pairs=10, rng=rng)
    assert len(held) == 2 and len(train) == 4
    pairs = {frozenset(x) for x in c.iloc[held][["outcome_a", "outcome_b"]].to_numpy()}
    assert len(pairs) == 1
    assert set(train) | set(held) == set(range(6))
    _, none = split_pairs(c, 0.0, 10, rng)
    assert len(none) == 0
    _, capped = split_pairs(c, 0.99, 1, rng)
    assert len(capped) == 2


def test_split_holds_a_pair_out_under_every_template_a_flat_fit_pools():
    """Two templates asked the same pairs: told apart, a held-out pair may stay in training
    under the other template (the control); pooled (a flat fit), it is held out under both."""
    c = pd.concat([_counts(), _counts().assign(prompt_template="u")], ignore_index=True)

    def pairs(rows):
        return {frozenset(x) for x in c.iloc[rows][["outcome_a", "outcome_b"]].to_numpy()}

    leaks = 0
    for seed in range(20):
        train, held = split_pairs(c, 0.2, 10, np.random.default_rng(seed), told_apart=("prompt_template",))
        leaks += bool(pairs(held) & pairs(train))
        train, held = split_pairs(c, 0.34, 10, np.random.default_rng(seed), told_apart=())
        assert len(held) == 4 and set(c.iloc[held]["prompt_template"]) == {"t", "u"}
        assert not pairs(held) & pairs(train)
    assert leaks == 20  # one of six template-pairs held out: its twin is always in training
    with pytest.raises(ValueError, match="unknown columns"):
        split_pairs(c, 0.3, 10, np.random.default_rng(0), told_apart=("model",))


def test_pair_level_pools_orders_and_metrics():
    c = _counts()
    rows = np.arange(6)
    k = c["n_a"].to_numpy(float)
    n = (c["n_a"] + c["n_b"]).to_numpy(float)
    # model P("A") per row: consistent with x > y, x ~ z, y < z
    p = np.array([[0.7, 0.3, 0.6, 0.4, 0.2, 0.8]])
    emp, pred = pair_level(c, rows, k, n, p)
    # pairs sorted (x,y), (x,z), (y,z); first outcome is the smaller id
    np.testing.assert_allclose(emp, [16 / 20, 10 / 20, 2 / 20])
    np.testing.assert_allclose(pred[0], [0.7, 0.6, 0.2])
    m = heldout_metrics(emp, np.repeat(pred, 3, axis=0))
    assert m["n_pairs"] == 3 and m["n_ties"] == 1
    assert m["accuracy"]["mean"] == 1.0  # the tie (x,z) is not counted
    ll = -np.mean([0.8 * np.log(0.7) + 0.2 * np.log(0.3), 0.5 * np.log(0.6) + 0.5 * np.log(0.4),
                   0.1 * np.log(0.2) + 0.9 * np.log(0.8)])
    np.testing.assert_allclose(m["log_loss"]["mean"], ll)
    wrong = heldout_metrics(emp, 1 - pred)
    assert wrong["accuracy"]["mean"] == 0.0
