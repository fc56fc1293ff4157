"""Many fits: config sweeps in local worker processes and, with SBC replications, on a Ray
cluster on 127.0.0.1; a failed job is reported and the others go on."""
import json

import pandas as pd
import pytest

from bayes_utility.cli import main
from bayes_utility.config import CalibrationConfig
from bayes_utility.inference.calibration import run_calibration
from bayes_utility.workflow.sweep import (
    SweepError,
    apply_settings,
    fit_job,
    parse_grid,
    parse_setting,
    plan,
    run_sweep,
)


def _configs(tmp_path, small_data):
    data_dir = small_data.write(tmp_path / "data")
    good = tmp_path / "good.yaml"
    good.write_text(f"name: good\ndata: {{path: {data_dir}}}\n"
                    "inference: {chains: 2, warmup: 100, draws: 100, progress_bar: false, svi_steps: 500}\n"
                    "heldout: {fraction: 0.0}\noutput: {report: false}\n")
    bad_data = tmp_path / "bad"
    bad_data.mkdir()
    (bad_data / "outcomes.csv").write_text("id,text\na,A\nb,B\n")
    (bad_data / "counts.csv").write_text("outcome_a,outcome_b,n_a,n_b\na,c,1,2\n")  # c: no such outcome
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\ndata: {{path: {bad_data}}}\noutput: {{report: false}}\n")
    return good, bad


def test_settings_grids_and_plans_are_checked_before_anything_runs(tmp_path, small_data):
    assert parse_setting("inference.target_accept=0.9") == ("inference.target_accept", 0.9)
    assert parse_setting("model.priors.utility_scale=2") == ("model.priors.utility_scale", 2)
    assert parse_grid("inference.seed=1,2,3") == ("inference.seed", [1, 2, 3])
    assert parse_grid("model.name=[thurstonian, bradley_terry]") == ("model.name", ["thurstonian", "bradley_terry"])
    for text in ("draws=5", "inference.draws", "inference.draws=[1"):
        with pytest.raises(SweepError):
            parse_setting(text)
    good, bad = _configs(tmp_path, small_data)
    jobs = plan([str(good), str(bad)], {"inference.draws": 200}, {"inference.seed": [1, 2], "inference.method": ["map"]})
    assert [j.run_name for j in jobs] == ["good_seed-1_method-map", "good_seed-2_method-map",
                                         "bad_seed-1_method-map", "bad_seed-2_method-map"]
    assert jobs[3].settings == {"inference.draws": 200, "inference.seed": 2, "inference.method": "map"}
    # nested keys merge into the section; an unknown field names itself
    from bayes_utility.config import load_config

    cfg = apply_settings(load_config(good), {"model.priors.utility_scale": 2.0})
    assert cfg.model.priors == {"utility_scale": 2.0} and cfg.inference.draws == 100
    with pytest.raises(SweepError, match="chainz"):
        plan([str(good)], {"inference.chainz": 4})
    # the CLI: exit 2, no table, no run folder
    assert main(["-q", "sweep", str(good), "--set", "inference.chainz=4", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_a_sweep_in_worker_processes_reports_every_job(tmp_path, small_data, capsys):
    """Two configs x two methods in two worker processes: the good config's fits land in their
    run folders (MAP approximate, 2 x 100 NUTS draws failing its ESS check), the bad data's
    jobs are errors naming the missing outcome, the sweep's exit status is 3."""
    good, bad = _configs(tmp_path, small_data)
    table = tmp_path / "sweep.csv"
    code = main(["-q", "sweep", str(good), str(bad), "--grid", "inference.method=map,nuts", "--workers", "2",
                 "--out", str(tmp_path / "runs"), "--table", str(table)])
    out = capsys.readouterr().out
    assert code == 3
    df = pd.read_csv(table)
    assert list(df["job"]) == [0, 1, 2, 3]
    assert list(df["verdict"]) == ["APPROXIMATE", "FAIL", "ERROR", "ERROR"]
    assert df.loc[2:, "error"].str.contains("'c'").all(), df["error"].tolist()
    for run in df.loc[:1, "run_dir"]:
        assert (tmp_path / "runs") in __import__("pathlib").Path(run).parents
        assert (pd.read_csv(f"{run}/summary.csv")["mean"].abs() > 0).any()
    assert df.loc[1, "min_ess_bulk"] < 400 and df.loc[1, "max_rhat"] > 1.0
    assert "job 2 failed" in out and "sweep table:" in out


def test_many_fits_on_a_ray_cluster(tmp_path, ray_cluster, small_data):
    """On a one-node cluster at 127.0.0.1: four SBC replications on two actors give the ranks of
    the same study run in this process; a two-fit sweep gives the utilities of the same fits
    run here."""
    cfg = CalibrationConfig(
        name="tiny", model={"name": "bradley_terry"}, design={"n_outcomes": 5, "answers_per_order": 3},
        inference={"chains": 2, "warmup": 100, "draws": 100}, sbc={"replications": 4, "draws_kept": 49, "bins": 5})
    local = run_calibration(cfg, out=tmp_path / "local", progress=False)
    on_ray = run_calibration(cfg.with_overrides(sbc={"executor": "ray", "ray_address": ray_cluster, "workers": 2}),
                             out=tmp_path / "ray", progress=False)
    assert on_ray.ranks.equals(local.ranks)
    lines = (tmp_path / "ray" / "tiny" / "replications.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["index"] for x in lines) == [0, 1, 2, 3]

    good, _ = _configs(tmp_path, small_data)
    jobs = plan([str(good)], {"inference.method": "map"}, {"inference.seed": [1, 2]}, out=str(tmp_path / "ray_runs"))
    df = run_sweep(jobs, tmp_path / "sweep.csv", executor="ray", address=ray_cluster, workers=2, progress=False)
    assert list(df["verdict"]) == ["APPROXIMATE", "APPROXIMATE"], df["error"].tolist()
    here = fit_job(plan([str(good)], {"inference.method": "map", "inference.seed": 2},
                        out=str(tmp_path / "here"))[0])
    a = pd.read_csv(f"{df.loc[1, 'run_dir']}/summary.csv", index_col=0)["mean"]
    b = pd.read_csv(f"{here['run_dir']}/summary.csv", index_col=0)["mean"]
    pd.testing.assert_series_equal(a, b, atol=1e-3, rtol=1e-3)
    # control: the comparison sees a fit stopped early (20 optimisation steps)
    early = fit_job(plan([str(good)], {"inference.method": "map", "inference.seed": 2, "inference.svi_steps": 20},
                         out=str(tmp_path / "early"))[0])
    c = pd.read_csv(f"{early['run_dir']}/summary.csv", index_col=0)["mean"]
    assert (a - c).abs().max() > 1e-2
