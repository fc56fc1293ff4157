"""Reference posteriors: a refit agrees with the stored long-run summaries within MCSE."""
import numpy as np
import pytest

from bayes_utility.inference.pipeline import fit_run
from bayes_utility.inference.reference import (
    STATISTICS,
    compare_to_reference,
    list_references,
    load_reference,
    summarize,
)


def test_references_are_complete_and_were_clean():
    names = list_references()
    assert set(names) == {"thurstonian_sim12", "thurstonian_order_bias_sim8", "bradley_terry_smollm2"}
    for name in names:
        ref = load_reference(name)
        assert ref.meta["max_rhat"] < 1.01 and ref.meta["divergences"] == 0
        assert ref.meta["inference"]["chains"] * ref.meta["inference"]["draws"] >= 100_000
        for stat in STATISTICS:
            assert np.isfinite(ref.table[stat]).all() and (ref.table[f"mcse_{stat}"] > 0).all()
        assert len(ref.load_data().outcomes) >= 8


def test_unknown_reference_is_a_clear_error():
    with pytest.raises(ValueError, match="available: bradley_terry_smollm2"):
        load_reference("nope")


@pytest.mark.statistical
@pytest.mark.parametrize("name", ["thurstonian_sim12", "thurstonian_order_bias_sim8", "bradley_terry_smollm2"])
def test_refit_matches_reference(name):
    ref = load_reference(name)
    out = fit_run(ref.load_data(), ref.config)
    new = summarize(out.idata, ref.meta["var_names"])
    table = compare_to_reference(new, ref.table)
    assert len(table) == len(STATISTICS) * len(ref.table)
    assert table["ok"].all(), table[~table["ok"]].to_string()


@pytest.mark.statistical
def test_reference_check_catches_a_changed_prior():
    """A regression (here: the utility prior ten times narrower) moves the posterior past the bounds."""
    ref = load_reference("thurstonian_sim12")
    cfg = ref.config.with_overrides(model={"priors": {"utility_scale": 0.3}})
    new = summarize(fit_run(ref.load_data(), cfg).idata, ref.meta["var_names"])
    table = compare_to_reference(new, ref.table)
    assert not table.set_index(["parameter", "statistic"]).loc[("utility_spread", "mean"), "ok"]
