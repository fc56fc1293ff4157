"""Commands that fit and read fits: fit, summary, runs, sweep, compare, report, calibrate."""
from __future__ import annotations

import sys
from pathlib import Path

from ..inference.devices import setup_devices as _setup_devices

TOP = 10  # outcomes shown at each end of a utility table


def cmd_fit(args) -> int:
    from ..config import load_config

    cfg = load_config(args.config)
    over: dict = {}
    if args.data:
        over["data"] = {"path": args.data}
    inf = {k: v for k, v in (("method", args.method), ("seed", args.seed), ("chains", args.chains),
                             ("warmup", args.warmup), ("draws", args.draws), ("target_accept", args.target_accept))
           if v is not None}
    if inf:
        over["inference"] = inf
    if args.run_name:
        over["output"] = {"run_name": args.run_name}
    if over:
        cfg = cfg.with_overrides(**over)
    if cfg.inference.method == "nuts":
        _setup_devices(cfg.inference.chains)
    from ..analyses.registry import console_text
    from ..reporting.tables import (
        format_heldout,
        format_scalars,
        format_summary,
    )
    from ..workflow.fit import run_fit

    res = run_fit(cfg, out=args.out)
    print()
    print(format_summary(res.summary, top=args.top if args.top > 0 else None))
    print("\n" + format_scalars(res.run_dir))
    analysis_text = console_text(res.run_dir)
    if analysis_text:
        print("\n" + analysis_text)
    if res.heldout:
        print("\n" + format_heldout(res.heldout, point_only=cfg.inference.method == "map"))
    print("\n" + (res.run_dir / "verdict.txt").read_text().rstrip())
    print(f"\nrun folder: {res.run_dir}")
    if (res.run_dir / "report.html").exists():
        print(f"report:     {res.run_dir / 'report.html'}")
    return 0 if (res.verdict.ok or cfg.inference.method != "nuts") else 3


def cmd_summary(args) -> int:
    from ..analyses.registry import console_text
    from ..reporting.runfolder import load_run
    from ..reporting.tables import (
        format_heldout,
        format_scalars,
        format_summary,
    )

    run = load_run(args.run)
    idata, summ, held = run.idata, run.summary, run.heldout
    print(format_summary(summ, top=args.top if args.top > 0 else None))
    print("\n" + format_scalars(args.run))
    analysis_text = console_text(args.run)
    if analysis_text:
        print("\n" + analysis_text)
    if held:
        print("\n" + format_heldout(held, point_only=idata.posterior.attrs.get("inference_method") == "map"))
    verdict = Path(args.run) / "verdict.txt"
    print("\n" + verdict.read_text().rstrip())
    return 0


def cmd_runs(args) -> int:
    from ..reporting.runs import runs_table, write_table

    df = runs_table(args.runs, prob=args.hdi_prob)
    path = write_table(df, args.out)
    counts = df.drop_duplicates("run_dir")["verdict"].value_counts().to_dict()
    print(f"{len(df)} rows: {df['run_dir'].nunique()} runs ({', '.join(f'{n} {v}' for v, n in counts.items())}), "
          f"{df['respondent'].nunique()} respondents, {df['outcome_id'].nunique()} outcomes")
    if counts.get("FAIL"):
        print("warning: runs whose verdict FAILED are in the table (column verdict): do not report them")
    print(f"written: {path}")
    return 0


def cmd_sweep(args) -> int:
    import time

    from ..workflow.sweep import (
        format_sweep,
        parse_grid,
        parse_setting,
        plan,
        run_sweep,
    )

    settings = dict(parse_setting(t) for t in args.set or [])
    grid = dict(parse_grid(t) for t in args.grid or [])
    jobs = plan(args.configs, settings, grid, out=args.out)  # every config and setting checked first
    table = Path(args.table) if args.table else Path(args.out or "outputs") / f"sweep_{time.strftime('%Y%m%d-%H%M%S')}.csv"
    print(f"{len(jobs)} fits, executor {args.executor}" + (f" at {args.address}" if args.address else "")
          + f"; table: {table}", flush=True)
    df = run_sweep(jobs, table, executor=args.executor, workers=args.workers, address=args.address,
                   progress=not args.quiet)
    print("\n" + format_sweep(df))
    print(f"\nsweep table: {table}")
    return 0 if (df["verdict"].isin(["PASS", "APPROXIMATE"])).all() else 3


def cmd_compare(args) -> int:
    from ..inference.compare import NotComparable, compare_idata, format_comparison
    from ..reporting.runfolder import load_run

    named = {Path(r).name: load_run(r).idata for r in args.runs}
    if len(named) < len(args.runs):
        print("error: two runs share a folder name", file=sys.stderr)
        return 2
    try:
        table = compare_idata(named, ic=args.ic)
    except NotComparable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_comparison(table, args.ic))
    out = Path(args.out) if args.out else Path(args.runs[0])
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "comparison.csv")
    from ..reporting.report import write_report

    html_path, _ = write_report(args.runs, out=out)
    print(f"\ntable: {out / 'comparison.csv'}\nreport with each run's predictive checks: {html_path}")
    return 0


def cmd_report(args) -> int:
    from ..reporting.report import write_report

    html_path, md_path = write_report(args.runs, out=args.out)
    print(f"report: {html_path}\nmarkdown: {md_path}")
    return 0


def cmd_calibrate(args) -> int:
    from ..config import load_calibration_config

    cfg = load_calibration_config(args.config)
    sbc = {k: v for k, v in (("replications", args.replications), ("workers", args.workers),
                             ("executor", args.executor), ("ray_address", args.address), ("batch", args.batch))
           if v is not None}
    if args.address and args.executor is None:
        sbc["executor"] = "ray"
    if sbc:
        cfg = cfg.with_overrides(sbc=sbc)
    from ..inference.calibration import CalibrationError, run_calibration

    try:
        res = run_calibration(cfg, out=args.out, restart=args.restart, progress=not args.quiet)
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(res.report())
    print(f"\nrun folder: {res.run_dir}")
    return 0 if res.passed else 3


def add_parsers(sub) -> None:
    """Add this group's subcommands to ``sub``."""
    f = sub.add_parser("fit", help="fit a model as a YAML config says; writes a run folder")
    f.add_argument("config", help="run config (YAML), e.g. inference_configs/default.yaml")
    f.add_argument("--data", help="override data.path")
    f.add_argument("--out", help="parent folder of the run folder (default: output.dir)")
    f.add_argument("--method", choices=["nuts", "map", "svi"], help="override inference.method")
    f.add_argument("--seed", type=int, help="override inference.seed")
    f.add_argument("--chains", type=int, help="override inference.chains")
    f.add_argument("--warmup", type=int, help="override inference.warmup (warm-up iterations per chain)")
    f.add_argument("--draws", type=int, help="override inference.draws (kept draws per chain)")
    f.add_argument("--target-accept", type=float, help="override inference.target_accept (NUTS step-size target)")
    f.add_argument("--run-name", help="override output.run_name (the run folder's name)")
    f.add_argument("--top", type=int, default=TOP, help=f"outcomes shown at each end of the table (default {TOP}; "
                                                       "0: all)")
    f.set_defaults(func=cmd_fit)

    s = sub.add_parser("summary", help="print the utility table and verdict of a run folder")
    s.add_argument("run", help="a run folder")
    s.add_argument("--top", type=int, default=TOP, help=f"outcomes shown at each end of the table (default {TOP}; "
                                                       "0: all)")
    s.set_defaults(func=cmd_summary)

    rn = sub.add_parser("runs", help="one long table (run x respondent x outcome: mean, sd, HDI, verdict) across "
                                     "run folders, as CSV or Parquet")
    rn.add_argument("runs", nargs="+", metavar="RUN", help="run folders")
    rn.add_argument("--out", default="runs.csv", help="the table: .csv or .parquet (default runs.csv)")
    rn.add_argument("--hdi-prob", type=float, default=0.94, help="HDI probability (default 0.94)")
    rn.set_defaults(func=cmd_runs)

    sw = sub.add_parser("sweep", help="fit several configs and/or a grid of settings (local processes or Ray); "
                                      "exit 3 if any fit fails its verdict or errors")
    sw.add_argument("configs", nargs="+", metavar="CONFIG", help="run configs (YAML), each fitted once per grid point")
    sw.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="a setting for every fit, e.g. inference.draws=500 (repeatable; value as YAML)")
    sw.add_argument("--grid", action="append", metavar="KEY=V1,V2",
                    help="a setting to sweep, e.g. inference.target_accept=0.8,0.9 (repeatable: all combinations)")
    sw.add_argument("--executor", choices=["local", "ray"], default="local",
                    help="local worker processes (default) or Ray tasks")
    sw.add_argument("--address", help="with --executor ray: a running Ray cluster (host:port or 'auto'); "
                                      "default: start a local one")
    sw.add_argument("--workers", type=int, default=1, help="fits at once (local processes, or CPUs of a local Ray)")
    sw.add_argument("--out", help="parent folder of the run folders (default: each config's output.dir)")
    sw.add_argument("--table", help="where the sweep table goes (default: OUT/sweep_<time>.csv)")
    sw.set_defaults(func=cmd_sweep)

    m = sub.add_parser("compare", help="PSIS-LOO (or WAIC) comparison of runs fitted to the same observations")
    m.add_argument("runs", nargs="+", metavar="RUN", help="run folders fitted to the same observations")
    m.add_argument("--ic", choices=["loo", "waic"], default="loo", help="information criterion (default loo)")
    m.add_argument("--out", help="folder for comparison.csv and the report (default: the first run folder)")
    m.set_defaults(func=cmd_compare)

    r = sub.add_parser("report", help="write report.html and report.md for run folders (into the first)")
    r.add_argument("runs", nargs="+", metavar="RUN", help="run folders (several: with a LOO comparison)")
    r.add_argument("--out", help="folder for the report (default: the first run folder)")
    r.set_defaults(func=cmd_report)

    c = sub.add_parser("calibrate", help="simulation-based calibration of a model (resumable); exit 3 if it fails")
    c.add_argument("config", help="calibration recipe, e.g. inference_configs/sbc_thurstonian.yaml")
    c.add_argument("--replications", type=int, help="override sbc.replications (more extends a finished study)")
    c.add_argument("--workers", type=int, help="override sbc.workers (parallel processes, or Ray actors)")
    c.add_argument("--executor", choices=["local", "ray"], help="override sbc.executor: local processes or Ray")
    c.add_argument("--address", help="with --executor ray: a running Ray cluster (host:port or 'auto'); "
                                     "default: start a local one")
    c.add_argument("--batch", type=int, help="override sbc.batch: replications per vectorised run in each worker")
    c.add_argument("--out", help="parent folder of the study folder (default: output.dir)")
    c.add_argument("--restart", action="store_true", help="discard replications already in the study folder")
    c.set_defaults(func=cmd_calibrate)
