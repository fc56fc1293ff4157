"""Option-set generators and prompt templates for the analyses."""
import numpy as np
import pytest

from bayes_utility.data.loading import load_dataset
from bayes_utility.data.optionsets import (
    exchange_rate_grid,
    lotteries,
    random_regular_pairs,
    time_discounting,
    triads,
    value_changes,
)
from bayes_utility.data.texts import lottery_text
from bayes_utility.elicitation.prompts import TEMPLATES, parse_answer, render


@pytest.fixture(scope="module")
def outcomes():
    return load_dataset("builtin:llama2_7b_sim").outcomes.head(20)


def test_lotteries_are_proper_and_seeded(outcomes):
    a = lotteries(outcomes, 30, np.random.default_rng(1))
    b = lotteries(outcomes, 30, np.random.default_rng(1))
    assert a.equals(b) and len(a) == 30
    for row in a.itertuples():
        items = row.attributes["lottery"]
        assert len(items) in (2, 3) and len({i["outcome"] for i in items}) == len(items)
        assert sum(i["probability"] for i in items) == pytest.approx(1.0)
        assert row.text.count("with probability") == len(items)
    with pytest.raises(ValueError, match="sum to 1"):
        lottery_text([("x", 0.5), ("y", 0.4)])


def test_value_changes_state_the_reversed_preference(outcomes):
    u = np.linspace(-1, 1, len(outcomes))
    ch = value_changes(outcomes, u, 15, np.random.default_rng(2))
    ids = outcomes["id"].astype(str).tolist()
    for row in ch.itertuples():
        worse, better = ids.index(row.attributes["prefer"]), ids.index(row.attributes["over"])
        assert u[worse] < u[better] and row.attributes["gap"] == pytest.approx(u[better] - u[worse])
        assert outcomes["text"].iloc[worse] in row.text


def test_grids_triads_and_regular_graphs():
    grid = exchange_rate_grid(["Nigeria", "Japan"], [1, 10, 100])
    assert len(grid) == 6 and grid.iloc[2]["text"].startswith("100 people from Nigeria")
    opts, pairs = time_discounting(months=(1, 12), multipliers=(1.5,))
    assert len(opts) == 3 and pairs == [("now", "x1.5_m1"), ("now", "x1.5_m12")]
    tri, tri_pairs = triads(12, 40, np.random.default_rng(3))
    assert len(tri) == 40 and len({tuple(t) for t in tri}) == 40
    need = {(int(a), int(b)) for t in tri for a, b in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2]))}
    assert need == {tuple(p) for p in tri_pairs.tolist()}
    g = random_regular_pairs(30, 4, np.random.default_rng(5))
    assert np.all(np.bincount(g.ravel(), minlength=30) == 4) and len({tuple(e) for e in g.tolist()}) == 60
    with pytest.raises(ValueError):
        random_regular_pairs(7, 3, np.random.default_rng(0))


def test_templates_render_and_parse():
    for name in ("forced_choice", "forced_choice_reasoning", "lottery", "corrigibility"):
        text = render(name, "first thing", "second thing")
        assert "Option A:\nfirst thing" in text and "Option B:\nsecond thing" in text
    assert set(TEMPLATES) >= {"forced_choice", "forced_choice_reasoning", "lottery", "corrigibility"}
    assert parse_answer("I weighed it.\nAnswer: B", reasoning=True) == "B"
    assert parse_answer("Answer: A ... Answer: B", reasoning=True) == "B"
    assert parse_answer("A or B", reasoning=False) == "unparseable"
