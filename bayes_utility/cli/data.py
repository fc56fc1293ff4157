"""Commands on datasets: validate, import-paper."""
from __future__ import annotations


def cmd_validate(args) -> int:
    from ..data.loading import load_dataset

    data = load_dataset(args.path, outcomes=args.outcomes)
    print(data)
    for pol in ("half", "exclude"):
        _, excl = data.arrays(pol)
        print(f"unparseable policy {pol!r}: {len(excl)} comparison rows would be excluded")
    return 0


def cmd_import_paper(args) -> int:
    from ..data.paper import import_paper_results

    data = import_paper_results(args.results, respondent=args.respondent)
    out = data.write(args.out, fmt=args.format)
    print(f"{data}\nwritten to {out}")
    return 0


def add_parsers(sub) -> None:
    """Add this group's subcommands to ``sub``."""
    v = sub.add_parser("validate", help="check a dataset and report problems")
    v.add_argument("path", help="a dataset folder, a counts/responses table, or a reference-code results JSON")
    v.add_argument("--outcomes", help="the outcomes table, when PATH is a single table")
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("import-paper", help="convert a reference-code results JSON into a dataset folder")
    i.add_argument("results", help="the reference code's results JSON")
    i.add_argument("out", help="dataset folder to write")
    i.add_argument("--respondent", help="the respondent (model) name to record (default: from the file)")
    i.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv", help="table format (default csv)")
    i.set_defaults(func=cmd_import_paper)
