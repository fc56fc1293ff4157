"""One long table across run folders (bayes-utility runs): flat, approximate and hierarchical
runs, each row's figures equal to those of its run folder, verdicts carried along."""
import numpy as np
import pandas as pd
import pytest

from bayes_utility.cli import main
from bayes_utility.config import RunConfig
from bayes_utility.data.simulate import HierarchicalTruth, simulate_respondents
from bayes_utility.reporting.runs import runs_table
from bayes_utility.workflow.fit import run_fit

FAST = {"chains": 2, "warmup": 150, "draws": 150, "progress_bar": False}


def test_long_table_over_flat_map_and_hierarchical_runs(small_data, tmp_path):
    flat = run_fit(RunConfig(name="flat", data={"path": "-", "respondent": "respondent"}, inference=FAST,
                             output={"report": False}), data=small_data, out=tmp_path).run_dir
    point = run_fit(RunConfig(name="map", data={"path": "-"}, inference={"method": "map", "svi_steps": 300},
                              output={"report": False}), data=small_data, out=tmp_path).run_dir
    rng = np.random.default_rng(3)
    mu = rng.normal(0, 1.5, 6)
    truth = HierarchicalTruth(mu=mu - mu.mean(), deviations=np.zeros((3, 6)), decisiveness=np.ones(3),
                              sigma=np.ones(6), order_bias=np.zeros(3), respondents=("m1", "m2", "m3"))
    hier = run_fit(RunConfig.model_validate({
        "name": "hier", "data": {"path": "-"}, "model": {"name": "thurstonian_hierarchical"},
        "inference": FAST, "output": {"report": False}}),
        data=simulate_respondents(truth, rng, k_per_order=4), out=tmp_path).run_dir

    df = runs_table([flat, point, hier], prob=0.9)
    assert len(df) == 12 + 12 + 6 * (1 + 3)
    by_run = {r: g for r, g in df.groupby("run_dir")}
    f, m, h = by_run[str(flat)], by_run[str(point)], by_run[str(hier)]
    assert set(f["respondent"]) == {"respondent"} and set(m["respondent"]) == {"all"}
    assert set(h["respondent"]) == {"population", "m1", "m2", "m3"}
    assert (m["verdict"] == "APPROXIMATE").all() and m["hdi_lo"].isna().all() and m["sd"].isna().all()
    assert set(f["verdict"]) <= {"PASS", "FAIL"} and (f["hdi_lo"] <= f["mean"]).all() and (f["mean"] <= f["hdi_hi"]).all()
    # each run's population rows are its summary.csv's utilities (means, 90% HDI recomputed here)
    summ = pd.read_csv(flat / "summary.csv").query("quantity == 'utility'").set_index("outcome_id")
    np.testing.assert_allclose(f.set_index("outcome_id").loc[summ.index, "mean"], summ["mean"], rtol=1e-5, atol=1e-6)
    # a respondent's rows are that respondent's posterior, not the population's (control)
    import arviz as az

    post = az.from_netcdf(hier / "posterior.nc").posterior
    m2 = post["respondent_utility"].sel(respondent="m2").mean(("chain", "draw")).values
    np.testing.assert_allclose(h[h["respondent"] == "m2"]["mean"], m2, rtol=1e-5, atol=1e-6)
    assert np.abs(h[h["respondent"] == "population"]["mean"].to_numpy() - m2).max() > 1e-4

    out = tmp_path / "all.parquet"
    assert main(["-q", "runs", str(flat), str(point), str(hier), "--out", str(out), "--hdi-prob", "0.9"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), df)
    assert main(["-q", "runs", str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 2  # not a run folder
    with pytest.raises(ValueError, match="csv or .parquet"):
        from bayes_utility.reporting.runs import write_table

        write_table(df, tmp_path / "t.xlsx")
