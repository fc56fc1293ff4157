"""Commands that analyse a fit: transitivity, coherence, maximization, instrumental, the value analyses
(discounting, exchange-rates, corrigibility, power-seeking, utility-control, political) and
corrigibility-options. Each opens the run folder (or fits a config first) and hands the analysis a
:class:`~bayes_utility.analyses.context.RunContext`."""
from __future__ import annotations

from pathlib import Path

from ..inference.devices import setup_devices as _setup_devices


def cmd_transitivity(args) -> int:
    from ..analyses.transitivity import format_transitivity, run_transitivity
    from ..workflow.analyse import open_run

    res = run_transitivity(open_run(args.run), max_triads=args.max_triads, seed=args.seed)  # errors: exit 2 in main
    print(format_transitivity(res))
    print(f"\nwritten: {Path(args.run) / 'transitivity.json'}, {Path(args.run) / 'transitivity.png'}")
    return 0


def cmd_coherence(args) -> int:
    from ..analyses.coherence import coherence_summary, format_coherence
    from ..workflow.analyse import open_run

    print(format_coherence(coherence_summary(open_run(args.run), max_triads=args.max_triads, seed=args.seed)))
    print(f"\nwritten: {Path(args.run) / 'coherence.json'}")
    return 0


def _open_or_fit(path: str, out: str | None = None):
    """A run folder opened for an analysis, or a config (YAML) fitted first (its run, in memory)."""
    from ..workflow.analyse import context_of, open_run

    p = Path(path)
    if p.is_dir():
        return open_run(p)
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise FileNotFoundError(f"{path}: neither a run folder nor a config (.yaml)")
    from ..config import load_config

    cfg = load_config(p)
    if cfg.inference.method == "nuts":
        _setup_devices(cfg.inference.chains)
    from ..workflow.fit import run_fit

    res = run_fit(cfg, out=out)
    print((res.run_dir / "verdict.txt").read_text().rstrip())
    print(f"run folder: {res.run_dir}\n")
    return context_of(res)


def cmd_maximization(args) -> int:
    from ..analyses.maximization import format_maximization, run_maximization

    run = _open_or_fit(args.run, args.out)
    print(format_maximization(run_maximization(run, args.answers, seed=args.seed)))
    print(f"\nwritten: {run.run_dir / 'maximization.json'}, maximization_questions.csv, maximization.png")
    return 0


def cmd_instrumental(args) -> int:
    from ..analyses.instrumental import format_instrumental, run_instrumental

    run = _open_or_fit(args.run, args.out)
    control = None if args.control == "none" else args.control
    print(format_instrumental(run_instrumental(run, args.processes, control, seed=args.seed)))
    print(f"\nwritten: {run.run_dir / 'instrumental.json'}, instrumental_states.csv, instrumental.png")
    return 0


def _value_command(args) -> int:
    """The value analyses of issue-style subcommands: fit when given a config, analyse,
    print, and name what was written."""
    from ..analyses import corrigibility, discounting, exchange_rates, values

    run = _open_or_fit(args.run, args.out)
    name = args.command
    if name == "discounting":
        res, text, files = (discounting.run_discounting(run), discounting.format_discounting,
                            "discounting.json/.png, _comparison.csv")
    elif name == "exchange-rates":
        res, text, files = (exchange_rates.run_exchange(run, args.unit, args.n0), exchange_rates.format_exchange,
                            "exchange_rates.json/.csv/.png")
    elif name == "corrigibility":
        res, text, files = (corrigibility.run_corrigibility(run), corrigibility.format_corrigibility,
                            "corrigibility.json/.png, _curve.csv")
    elif name == "power-seeking":
        res, text, files = (values.run_power_seeking(run, args.ordinary, args.power), values.format_power_seeking,
                            "power_seeking.json")
    elif name == "utility-control":
        res, text, files = (values.run_utility_control(run, args.before, args.after, args.target),
                            values.format_utility_control, "utility_control.json")
    else:
        res, text, files = (values.run_political(run, args.components), values.format_political,
                            "political.json/.png, _positions.csv, _loadings.csv")
    print(text(res))
    print(f"\nwritten in {run.run_dir}: {files}")
    return 0


def cmd_corrigibility_options(args) -> int:
    from ..analyses.corrigibility import corrigibility_options
    from ..data.tables import write_table
    from ..workflow.analyse import open_run

    table = corrigibility_options(open_run(args.base_run), args.n, args.seed)
    out = write_table(table, args.out_file)
    print(f"{len(table) - 1} value changes and the status quo written to {out}; ask them with the "
          "'corrigibility' prompt template and fit with model.name: corrigibility")
    return 0


def _triad_arguments(p) -> None:
    p.add_argument("run", help="a run folder")
    p.add_argument("--max-triads", type=int, default=5000, help="a random subset when there are more")
    p.add_argument("--seed", type=int, default=0, help="seed of the triad subset and the simulations")


def add_parsers(sub) -> None:
    """Add this group's subcommands to ``sub``."""
    t = sub.add_parser("transitivity", help="cycle probability in triads: empirical, under the fit, and a "
                                            "magnitude-only responder; writes transitivity.json/.png")
    _triad_arguments(t)
    t.set_defaults(func=cmd_transitivity)

    h = sub.add_parser("coherence", help="coherence summary of a run (held-out fit, cycles, expected utility), "
                                         "each with its interval; writes coherence.json")
    _triad_arguments(h)
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
