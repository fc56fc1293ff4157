"""Command-line interface: ``bayes-utility`` (or ``python -m bayes_utility``).

Subcommands
    fit CONFIG [--data PATH] [--out DIR] [--method nuts|map|svi] [--seed N]
    summary RUN [--top N]
    validate PATH [--outcomes FILE]
    calibrate CONFIG [--replications N] [--workers N] [--executor local|ray] [--address A] [--batch N] [--out DIR] [--restart]
    runs RUN [RUN ...] [--out FILE.csv|FILE.parquet] [--hdi-prob P]
    sweep CONFIG [CONFIG ...] [--set K=V] [--grid K=V1,V2] [--executor local|ray] [--address A] [--workers N]
    report RUN [RUN ...] [--out DIR]
    elicit CONFIG [--models a,b] [--models-file F] [--dry-run] [--batch] [--wait] [--out DIR]
    store info|export|import|compact STORE [FILE] [--config CFG]
    compare RUN RUN [...] [--ic loo|waic] [--out DIR]
    transitivity RUN [--max-triads N] [--seed N]
    coherence RUN [--max-triads N] [--seed N]
    maximization RUN|CONFIG [--answers FILE] [--seed N]
    instrumental RUN|CONFIG [--processes FILE] [--control FILE|builtin|none] [--seed N]
    discounting RUN|CONFIG
    exchange-rates RUN|CONFIG [--unit ENTITY] [--n0 N]
    corrigibility RUN|CONFIG
    corrigibility-options BASE_RUN OUT_FILE [--n N] [--seed N]
    power-seeking RUN|CONFIG [--ordinary LABEL] [--power LABEL]
    utility-control RUN|CONFIG --before LABEL --after LABEL --target LABEL|FILE
    political RUN|CONFIG [--components K]
    import-paper RESULTS_JSON OUT_DIR [--format csv|jsonl|parquet]
"""
from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

from .devices import compilation_cache_dir, enable_compilation_cache, setup_devices as _setup_devices  # noqa: F401

log = logging.getLogger("bayes_utility")
TOP = 10  # outcomes shown at each end of a utility table


# libraries whose warnings and log messages are shown only with -v (their warnings about
# numerics of a point estimate, shapes, deprecations are not the user's business by default)
QUIET_LIBRARIES = ("numpy", "scipy", "pandas", "xarray", "arviz", "numpyro", "jax", "matplotlib", "pytensor")


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose < 0 else logging.INFO if verbose == 0 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("jax", "absl", "matplotlib", "arviz", "h5py", "httpx", "httpx2", "httpcore", "httpcore2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose > 0 else logging.ERROR)
    if verbose < 1:
        for lib in QUIET_LIBRARIES:
            warnings.filterwarnings("ignore", module=rf"{lib}(\.|$)")
    logging.captureWarnings(True)


def cmd_transitivity(args) -> int:
    from .coherence import format_transitivity, run_transitivity

    res = run_transitivity(args.run, max_triads=args.max_triads, seed=args.seed)  # errors: exit 2 in main
    print(format_transitivity(res))
    print(f"\nwritten: {Path(args.run) / 'transitivity.json'}, {Path(args.run) / 'transitivity.png'}")
    return 0


def cmd_coherence(args) -> int:
    from .coherence import coherence_summary, format_coherence

    print(format_coherence(coherence_summary(args.run, max_triads=args.max_triads, seed=args.seed)))
    print(f"\nwritten: {Path(args.run) / 'coherence.json'}")
    return 0


def _run_or_fit(path: str, out: str | None = None) -> Path:
    """A run folder as it is, or a config (YAML) fitted first (its run folder)."""
    p = Path(path)
    if p.is_dir():
        return p
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise FileNotFoundError(f"{path}: neither a run folder nor a config (.yaml)")
    from .config import load_config

    cfg = load_config(p)
    if cfg.inference.method == "nuts":
        _setup_devices(cfg.inference.chains)
    from .workflow import run_fit

    res = run_fit(cfg, out=out)
    print((res.run_dir / "verdict.txt").read_text().rstrip())
    print(f"run folder: {res.run_dir}\n")
    return res.run_dir


def cmd_maximization(args) -> int:
    from .maximization import format_maximization, run_maximization

    run_dir = _run_or_fit(args.run, args.out)
    print(format_maximization(run_maximization(run_dir, args.answers, seed=args.seed)))
    print(f"\nwritten: {run_dir / 'maximization.json'}, maximization_questions.csv, maximization.png")
    return 0


def cmd_instrumental(args) -> int:
    from .instrumental import format_instrumental, run_instrumental

    run_dir = _run_or_fit(args.run, args.out)
    control = None if args.control == "none" else args.control
    print(format_instrumental(run_instrumental(run_dir, args.processes, control, seed=args.seed)))
    print(f"\nwritten: {run_dir / 'instrumental.json'}, instrumental_states.csv, instrumental.png")
    return 0


def _value_command(args) -> int:
    """The value analyses of issue-style subcommands: fit when given a config, analyse,
    print, and name what was written."""
    from . import value_analyses as va

    run_dir = _run_or_fit(args.run, args.out)
    name = args.command
    if name == "discounting":
        res, text, files = va.run_discounting(run_dir), va.format_discounting, "discounting.json/.png, _comparison.csv"
    elif name == "exchange-rates":
        res, text, files = (va.run_exchange(run_dir, args.unit, args.n0), va.format_exchange,
                            "exchange_rates.json/.csv/.png")
    elif name == "corrigibility":
        res, text, files = va.run_corrigibility(run_dir), va.format_corrigibility, "corrigibility.json/.png, _curve.csv"
    elif name == "power-seeking":
        res, text, files = va.run_power_seeking(run_dir, args.ordinary, args.power), va.format_power_seeking, \
            "power_seeking.json"
    elif name == "utility-control":
        res, text, files = (va.run_utility_control(run_dir, args.before, args.after, args.target),
                            va.format_utility_control, "utility_control.json")
    else:
        res, text, files = va.run_political(run_dir, args.components), va.format_political, \
            "political.json/.png, _positions.csv, _loadings.csv"
    print(text(res))
    print(f"\nwritten in {run_dir}: {files}")
    return 0


def cmd_corrigibility_options(args) -> int:
    from .data import write_table
    from .value_analyses import corrigibility_options

    table = corrigibility_options(args.base_run, args.n, args.seed)
    out = write_table(table, args.out_file)
    print(f"{len(table) - 1} value changes and the status quo written to {out}; ask them with the "
          "'corrigibility' prompt template and fit with model.name: corrigibility")
    return 0


def cmd_fit(args) -> int:
    from .config import load_config

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
    from .results import format_analyses, format_heldout, format_scalars, format_summary
    from .workflow import run_fit

    res = run_fit(cfg, out=args.out)
    print()
    print(format_summary(res.summary, top=args.top if args.top > 0 else None))
    print("\n" + format_scalars(res.run_dir))
    if format_analyses(res.run_dir):
        print("\n" + format_analyses(res.run_dir))
    if res.heldout:
        print("\n" + format_heldout(res.heldout, point_only=cfg.inference.method == "map"))
    print("\n" + (res.run_dir / "verdict.txt").read_text().rstrip())
    print(f"\nrun folder: {res.run_dir}")
    if (res.run_dir / "report.html").exists():
        print(f"report:     {res.run_dir / 'report.html'}")
    return 0 if (res.verdict.ok or cfg.inference.method != "nuts") else 3


def cmd_summary(args) -> int:
    from .results import format_analyses, format_heldout, format_scalars, format_summary, load_run

    run = load_run(args.run)
    idata, summ, held = run.idata, run.summary, run.heldout
    print(format_summary(summ, top=args.top if args.top > 0 else None))
    print("\n" + format_scalars(args.run))
    if format_analyses(args.run):
        print("\n" + format_analyses(args.run))
    if held:
        print("\n" + format_heldout(held, point_only=idata.posterior.attrs.get("inference_method") == "map"))
    verdict = Path(args.run) / "verdict.txt"
    print("\n" + verdict.read_text().rstrip())
    return 0


def cmd_sweep(args) -> int:
    import time

    from .sweep import format_sweep, parse_grid, parse_setting, plan, run_sweep

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


def cmd_runs(args) -> int:
    from .runs import runs_table, write_table

    df = runs_table(args.runs, prob=args.hdi_prob)
    path = write_table(df, args.out)
    counts = df.drop_duplicates("run_dir")["verdict"].value_counts().to_dict()
    print(f"{len(df)} rows: {df['run_dir'].nunique()} runs ({', '.join(f'{n} {v}' for v, n in counts.items())}), "
          f"{df['respondent'].nunique()} respondents, {df['outcome_id'].nunique()} outcomes")
    if counts.get("FAIL"):
        print("warning: runs whose verdict FAILED are in the table (column verdict): do not report them")
    print(f"written: {path}")
    return 0


def cmd_calibrate(args) -> int:
    from .config import load_calibration_config

    cfg = load_calibration_config(args.config)
    sbc = {k: v for k, v in (("replications", args.replications), ("workers", args.workers),
                             ("executor", args.executor), ("ray_address", args.address), ("batch", args.batch))
           if v is not None}
    if args.address and args.executor is None:
        sbc["executor"] = "ray"
    if sbc:
        cfg = cfg.with_overrides(sbc=sbc)
    from .calibration import CalibrationError, run_calibration

    try:
        res = run_calibration(cfg, out=args.out, restart=args.restart, progress=not args.quiet)
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(res.report())
    print(f"\nrun folder: {res.run_dir}")
    return 0 if res.passed else 3


def cmd_compare(args) -> int:
    from .compare import NotComparable, compare_idata, format_comparison
    from .results import load_run

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
    from .report import write_report

    html_path, _ = write_report(args.runs, out=out)
    print(f"\ntable: {out / 'comparison.csv'}\nreport with each run's predictive checks: {html_path}")
    return 0


def cmd_report(args) -> int:
    from .report import write_report

    html_path, md_path = write_report(args.runs, out=args.out)
    print(f"report: {html_path}\nmarkdown: {md_path}")
    return 0


def cmd_elicit(args) -> int:
    from .config import load_elicit_config
    from .elicitation import ElicitationError, dry_run, run_elicitation

    cfg = load_elicit_config(args.config)
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    try:
        if args.dry_run:
            print(dry_run(cfg, out=args.out, models=models, models_file=args.models_file))
            return 0
        res = run_elicitation(cfg, out=args.out, progress_bar=not args.quiet, models=models,
                              models_file=args.models_file, wait=args.wait, batch=True if args.batch else None)
    except ElicitationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: every answer received so far is in {cfg.store_path(args.out)}; "
              "rerun the same command to ask the rest", file=sys.stderr)
        return 130
    for m in res.ledger["models"]:
        run, all_ = m["this_run"], m["all_runs"]
        print(f"{m['label']}: {m['answers_in_store']} of {m['answers_wanted']} answers; this run "
              f"{run['answers']} answers in {run['requests']} requests ({run['retried']} retried, "
              f"{run['failed']} failed); all runs: {all_['prompt_tokens']} tokens in, "
              f"{all_['completion_tokens']} out, cost {all_['cost']:.4f}")
    print(f"answers: {res.store}; ledger: {res.run_dir / 'ledger.json'}")
    if res.data is not None:
        print(res.data)
        print(f"fit it with: bayes-utility fit CONFIG --data {res.run_dir / 'dataset'}")
    for label, why in res.stopped.items():
        print(f"{label} stopped: {why}", file=sys.stderr)
    if res.stopped:
        print("fix what is named above, then rerun the same command: answers already in the store are kept",
              file=sys.stderr)
        return 4
    if res.missing:
        print(f"{res.missing} answers still missing (failed after retries): rerun the same command to ask them")
        return 4
    return 0


def cmd_store(args) -> int:
    from .config import load_elicit_config
    from .store import AnswerStore, StoreError

    try:
        if args.action == "import":
            from .elicitation import import_request_log

            if not args.config:
                raise StoreError("store import needs --config (the recipe the log was made with)")
            cfg = load_elicit_config(args.config)
            with AnswerStore(args.store, wait=args.wait) as store:
                counts = import_request_log(store, Path(args.file), cfg)
            print(f"{args.file}: {counts}")
            return 0
        with AnswerStore(args.store, write=args.action == "compact", wait=args.wait) as store:
            if args.action == "info":
                print(f"{args.store}: {store.counts()}")
                for label, n in store.db.execute(
                        "SELECT model_label, count(*) FROM answers GROUP BY model_label ORDER BY model_label"):
                    print(f"  {label}: {n} answers")
            elif args.action == "export":
                if not args.file:
                    raise StoreError("store export needs an output file (.jsonl or .parquet)")
                n = store.export(args.file)
                print(f"{n} answers written to {args.file}")
            elif args.action == "compact":
                store.checkpoint()
                print(f"{args.store}: checkpointed and compacted")
        return 0
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_validate(args) -> int:
    from .data import load_dataset

    data = load_dataset(args.path, outcomes=args.outcomes)
    print(data)
    for pol in ("half", "exclude"):
        _, excl = data.arrays(pol)
        print(f"unparseable policy {pol!r}: {len(excl)} comparison rows would be excluded")
    return 0


def cmd_import_paper(args) -> int:
    from .io_paper import import_paper_results

    data = import_paper_results(args.results, respondent=args.respondent)
    out = data.write(args.out, fmt=args.format)
    print(f"{data}\nwritten to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    p = argparse.ArgumentParser(prog="bayes-utility", description="Bayesian utility analysis of AI preferences")
    p.add_argument("--version", action="version", version=f"bayes-utility {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output; library warnings (NumPyro, ArviZ, numpy) are shown only with -v")
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only, no progress bars")
    sub = p.add_subparsers(dest="command", required=True)

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

    v = sub.add_parser("validate", help="check a dataset and report problems")
    v.add_argument("path", help="a dataset folder, a counts/responses table, or a reference-code results JSON")
    v.add_argument("--outcomes", help="the outcomes table, when PATH is a single table")
    v.set_defaults(func=cmd_validate)

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

    e = sub.add_parser("elicit", help="ask an LLM (OpenAI-compatible API) every question of an experiment; "
                                      "resumable; exit 4 while answers are missing")
    e.add_argument("config", help="elicitation recipe (YAML), e.g. inference_configs/elicit_local.yaml")
    e.add_argument("--models", help="comma-separated model names to ask (from the recipe and its models file)")
    e.add_argument("--models-file", help="models file (YAML: models: {name: {base_url, model, ...}})")
    e.add_argument("--dry-run", action="store_true", help="print how many requests would be made; ask and write "
                                                          "nothing")
    e.add_argument("--batch", action="store_true", help="ask through the OpenAI Batch API (resumable)")
    e.add_argument("--wait", action="store_true", help="wait for another run writing the same store")
    e.add_argument("--out", help="parent folder (default: output.dir)")
    e.set_defaults(func=cmd_elicit)

    st = sub.add_parser("store", help="the answer store: info, export (JSON Lines/Parquet), import an old "
                                      "requests.jsonl, compact")
    st.add_argument("action", choices=["info", "export", "import", "compact"], help="what to do with the store")
    st.add_argument("store", help="the store, e.g. outputs/answers.sqlite")
    st.add_argument("file", nargs="?", help="export: output .jsonl or .parquet; import: a requests.jsonl")
    st.add_argument("--config", help="import: the elicitation recipe the log was made with")
    st.add_argument("--wait", action="store_true", help="wait for a run writing the store")
    st.set_defaults(func=cmd_store)

    m = sub.add_parser("compare", help="PSIS-LOO (or WAIC) comparison of runs fitted to the same observations")
    m.add_argument("runs", nargs="+", metavar="RUN", help="run folders fitted to the same observations")
    m.add_argument("--ic", choices=["loo", "waic"], default="loo", help="information criterion (default loo)")
    m.add_argument("--out", help="folder for comparison.csv and the report (default: the first run folder)")
    m.set_defaults(func=cmd_compare)

    t = sub.add_parser("transitivity", help="cycle probability in triads: empirical, under the fit, and a "
                                            "magnitude-only responder; writes transitivity.json/.png")
    t.add_argument("run", help="a run folder")
    t.add_argument("--max-triads", type=int, default=5000, help="a random subset when there are more")
    t.add_argument("--seed", type=int, default=0, help="seed of the triad subset and the simulations")
    t.set_defaults(func=cmd_transitivity)

    h = sub.add_parser("coherence", help="coherence summary of a run (held-out fit, cycles, expected utility), "
                                         "each with its interval; writes coherence.json")
    h.add_argument("run", help="a run folder")
    h.add_argument("--max-triads", type=int, default=5000, help="a random subset when there are more")
    h.add_argument("--seed", type=int, default=0, help="seed of the triad subset and the simulations")
    h.set_defaults(func=cmd_coherence)

    u = sub.add_parser("maximization", help="share of free-form answers that are the argmax of the fitted "
                                            "utilities (per draw); fits first when given a config")
    u.add_argument("run", help="a run folder, or a config to fit first")
    u.add_argument("--answers", help="free-form answers (columns question, answer); default: the dataset's "
                                     "free_form.csv")
    u.add_argument("--out", help="parent folder of the run folder when fitting")
    u.add_argument("--seed", type=int, default=0, help="seed of the fit, when fitting first")
    u.set_defaults(func=cmd_maximization)

    iv = sub.add_parser("instrumental", help="Bellman error of Markov-process start states under the fit (per "
                                             "draw), against a permutation null and a control; fits first when "
                                             "given a config")
    iv.add_argument("run", help="a run folder, or a config to fit first")
    iv.add_argument("--processes", help="Markov processes JSON giving the transitions (default: the outcomes' "
                                        "attributes)")
    iv.add_argument("--control", default="builtin", help="processes JSON to score as a control; 'builtin': the "
                                                         "paper's implausible transitions when they fit; 'none'")
    iv.add_argument("--out", help="parent folder of the run folder when fitting")
    iv.add_argument("--seed", type=int, default=0, help="seed of the permutation null (and of the fit, when fitting first)")
    iv.set_defaults(func=cmd_instrumental)

    def value_parser(name: str, helptext: str):
        q = sub.add_parser(name, help=helptext + "; fits first when given a config")
        q.add_argument("run", help="a run folder, or a config to fit first")
        q.add_argument("--out", help="parent folder of the run folder when fitting")
        q.set_defaults(func=_value_command)
        return q

    value_parser("discounting", "exponential against hyperbolic discounting (the other form fitted too), "
                                "compared by PSIS-LOO")
    q = value_parser("exchange-rates", "exchange rates between entities from log-utility curves, per draw")
    q.add_argument("--unit", help="the entity to price in (default: the reference entity)")
    q.add_argument("--n0", type=float, default=1.0, help="the count of each entity priced (default 1)")
    value_parser("corrigibility", "utility of accepting value changes against their size")
    q = value_parser("power-seeking", "correlation of utilities under the power prompt with ordinary ones")
    q.add_argument("--ordinary", default="forced_choice", help="the ordinary respondent / template label")
    q.add_argument("--power", default="power_seeking", help="the power-prompt respondent / template label")
    q = value_parser("utility-control", "correlation and distance to a target profile before and after an "
                                        "intervention")
    q.add_argument("--before", required=True, help="the respondent / template label before the intervention")
    q.add_argument("--after", required=True, help="the respondent / template label after the intervention")
    q.add_argument("--target", required=True, help="a respondent of the fit, or a file with columns id, utility")
    q = value_parser("political", "positions of respondents on the main axes of their utility vectors")
    q.add_argument("--components", type=int, default=2, help="principal axes to report (default 2)")

    co = sub.add_parser("corrigibility-options", help="the preference-preservation option set from a base fit")
    co.add_argument("base_run", help="a run folder whose utilities the value changes start from")
    co.add_argument("out_file", help="outcomes table to write (.csv/.jsonl/.parquet)")
    co.add_argument("--n", type=int, default=30, help="number of value changes")
    co.add_argument("--seed", type=int, default=0, help="seed of the value changes drawn")
    co.set_defaults(func=cmd_corrigibility_options)

    r = sub.add_parser("report", help="write report.html and report.md for run folders (into the first)")
    r.add_argument("runs", nargs="+", metavar="RUN", help="run folders (several: with a LOO comparison)")
    r.add_argument("--out", help="folder for the report (default: the first run folder)")
    r.set_defaults(func=cmd_report)

    i = sub.add_parser("import-paper", help="convert a reference-code results JSON into a dataset folder")
    i.add_argument("results", help="the reference code's results JSON")
    i.add_argument("out", help="dataset folder to write")
    i.add_argument("--respondent", help="the respondent (model) name to record (default: from the file)")
    i.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv", help="table format (default csv)")
    i.set_defaults(func=cmd_import_paper)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(-1 if args.quiet else args.verbose)
    from .config import ConfigError
    from .data import DataValidationError
    from .executors import ExecutorError

    try:
        return args.func(args)
    except (ConfigError, DataValidationError, FileNotFoundError, ValueError, ExecutorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
