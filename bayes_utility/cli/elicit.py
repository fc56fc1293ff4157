"""Commands that ask LLMs and keep their answers: elicit, store."""
from __future__ import annotations

import sys
from pathlib import Path


def cmd_elicit(args) -> int:
    from ..config import load_elicit_config
    from ..elicitation.runner import ElicitationError, dry_run, run_elicitation

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
    from ..config import load_elicit_config
    from ..elicitation.store import AnswerStore, StoreError

    try:
        if args.action == "import":
            from ..elicitation.legacy import import_request_log

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


def add_parsers(sub) -> None:
    """Add this group's subcommands to ``sub``."""
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
