"""Command-line interface: ``bayes-utility`` (or ``python -m bayes_utility``), one module per
command group (:mod:`.fitting`, :mod:`.data`, :mod:`.elicit`, :mod:`.analyses`); the top stage:
it may import every other, and each command imports what it needs when it runs, so that
``--help``, ``validate`` and ``elicit`` start without JAX.

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

# re-exported: tests and scripts set devices up as the CLI does
from ..inference.devices import compilation_cache_dir, enable_compilation_cache  # noqa: F401
from ..inference.devices import setup_devices as _setup_devices  # noqa: F401
from . import analyses, data, elicit, fitting

log = logging.getLogger("bayes_utility")



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


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

    p = argparse.ArgumentParser(prog="bayes-utility", description="Bayesian utility analysis of AI preferences")
    p.add_argument("--version", action="version", version=f"bayes-utility {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output; library warnings (NumPyro, ArviZ, numpy) are shown only with -v")
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only, no progress bars")
    sub = p.add_subparsers(dest="command", required=True)

    for group in (fitting, data, elicit, analyses):
        group.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(-1 if args.quiet else args.verbose)
    from ..config import ConfigError
    from ..data.schema import DataValidationError
    from ..inference.executors import ExecutorError

    try:
        return args.func(args)
    except (ConfigError, DataValidationError, FileNotFoundError, ValueError, ExecutorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130

