"""The answer store under hostile use, against real HTTP servers on 127.0.0.1: kill -9 at random
moments (while asking, while importing a cut log, while compacting), two runs at once, answers with
line separators, ids with | and /, a model switch under one name, many models, the Batch API,
fail-fast, secrets, bad inputs, Ctrl-C, rate limits, the ledger."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from bayes_utility.cli import main
from bayes_utility.config import ConfigError, ElicitConfig, load_elicit_config
from bayes_utility.data.jsonl import read_jsonl
from bayes_utility.data.loading import load_dataset
from bayes_utility.data.simulate import SimulationTruth, random_truth
from bayes_utility.elicitation.runner import ElicitationError, dry_run, run_elicitation
from bayes_utility.elicitation.simserver import SimulatedServer
from bayes_utility.elicitation.store import AnswerStore, StoreError

N_OUT = 6
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}


def texts(n=N_OUT):
    return load_dataset("builtin:llama2_7b_sim").outcomes["text"].head(n).tolist()


def make_server(models=("m1",), n=N_OUT, **kw):
    truths = {m: random_truth(n, np.random.default_rng(i), order_bias=0.4) for i, m in enumerate(models)}
    return SimulatedServer(None, texts(n), models=truths, seed=5, **kw)


def recipe(tmp_path, models, name="run", **exp):
    return ElicitConfig.model_validate({
        "name": name, "models": models, "output": {"dir": str(tmp_path)},
        "experiment": {"outcomes": "builtin:llama2_7b_sim", "max_outcomes": N_OUT, "design": "all",
                       "answers_per_order": 2, "seed": 1, **exp}})


def fast(url, model, **kw):
    return {"base_url": url, "model": model, "timeout_s": 2.0, "backoff_s": 0.01, "max_backoff_s": 0.05,
            "concurrency": 4, **kw}


def rows(store_path) -> list[tuple]:
    if not os.path.exists(store_path):
        return []
    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT model_key, request_key, sample, model_label, raw, answer FROM answers").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def write_recipe(tmp_path, cfg) -> str:
    path = tmp_path / f"{cfg.name}.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    return str(path)


@pytest.fixture()
def server():
    srv = make_server(("m1", "m2", "m3"))
    yield srv
    srv.stop()


# ------------------------------------------------------------------ kill -9 at random moments
def test_kill_9_at_random_moments_loses_nothing_and_records_nothing_twice(tmp_path):
    srv = make_server(("m1", "m2"), failure_rates={"429": 0.1, "500": 0.05, "drop": 0.03}, delay_s=0.01)
    url = srv.start()
    try:
        cfg = recipe(tmp_path, [fast(url, "m1"), fast(url, "m2", api="completions")], answers_per_order=3)
        path = write_recipe(tmp_path, cfg)
        store = tmp_path / "answers.sqlite"
        cmd = [sys.executable, "-m", "bayes_utility", "-q", "elicit", path]
        rng = np.random.default_rng(0)
        seen: set = set()
        for _ in range(6):  # kills at random moments: start-up, store creation, mid-run
            proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(float(rng.uniform(0.3, 2.5)))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            now = set(rows(store))
            assert seen <= now, "an answer stored before a kill was lost or changed"
            assert len(now) == len({r[:3] for r in now})
            seen = now
        done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        final = rows(store)
        assert seen <= set(final) and len(final) == len({r[:3] for r in final}) == 2 * 30 * 3
        labels = {}
        for key, _, _, label, _, _ in final:
            labels.setdefault(key, set()).add(label)
        assert sorted(map(sorted, labels.values())) == [["m1"], ["m2"]]  # each model's answers under its label
        data = load_dataset(str(tmp_path / "run" / "dataset"))
        assert data.responses.groupby("respondent").size().to_dict() == {"m1": 90, "m2": 90}
    finally:
        srv.stop()


def test_kill_9_while_importing_a_cut_log_and_while_compacting(tmp_path, server):
    """An old requests.jsonl (cut last line) is never rewritten; compaction can be killed at any time."""
    url = server.start()
    first = recipe(tmp_path / "a", [fast(url, "m1")], name="old")
    res = run_elicitation(first, progress_bar=False)
    with AnswerStore(res.store, write=False) as store:
        exported = tmp_path / "a.jsonl"
        store.export(exported)
    # an earlier version's log: one record per answer, keyed by pair and sample, then a cut line
    recs = [json.loads(x) for x in exported.read_text().splitlines()]
    log_dir = tmp_path / "b" / "old"
    log_dir.mkdir(parents=True)
    from bayes_utility.elicitation.legacy import _legacy_sha

    lines = []
    for r in recs:
        body = json.loads(r["request"])
        lines.append(json.dumps({"type": "answer", "key": f"{r['outcome_a']}|{r['outcome_b']}|{r['sample']}",
                                 "outcome_a": r["outcome_a"], "outcome_b": r["outcome_b"], "sample": r["sample"],
                                 "model": "m1", "prompt_sha256": _legacy_sha(
                                     [{"role": m["role"], "content": m["content"]} for m in body["messages"]]),
                                 "params": {**body["params"], "seed": 1}, "raw": r["raw"], "answer": r["answer"],
                                 "usage": {"prompt_tokens": 10, "completion_tokens": 1, "choices": 1}}))
    log = log_dir / "requests.jsonl"
    log.write_text("\n".join(lines) + "\n" + lines[0][:25])
    original = log.read_bytes()
    (log_dir / "config.yaml").write_text(yaml.safe_dump({"server": {"base_url": url, "model": "m1"}}))
    cfg = recipe(tmp_path / "b", [fast(url, "m1")], name="old")
    path = write_recipe(tmp_path, cfg)
    rng = np.random.default_rng(1)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-m", "bayes_utility", "-q", "elicit", path], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.2, 1.5)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert log.read_bytes() == original  # never rewritten, never emptied
    asked = server.requests
    res = run_elicitation(cfg, progress_bar=False)
    assert server.requests == asked and res.missing == 0  # every answer came from the old log
    store_path = tmp_path / "b" / "answers.sqlite"
    before = sorted(rows(store_path))
    for _ in range(5):  # compaction killed at random moments
        proc = subprocess.Popen([sys.executable, "-m", "bayes_utility", "-q", "store", "compact", str(store_path)],
                                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.1, 1.5)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert sorted(rows(store_path)) == before
    assert main(["store", "compact", str(store_path)]) == 0 and sorted(rows(store_path)) == before


def test_a_cut_json_lines_file_is_truncated_never_rewritten_and_separators_do_not_split(tmp_path):
    path = tmp_path / "r.jsonl"
    text = "\u2028 line \u2029 para \u0085 next"
    path.write_text(json.dumps({"a": text}, ensure_ascii=False) + "\n" + '{"a": "cut')
    assert read_jsonl(path, repair=False) == [{"a": text}] and path.read_text().endswith("cut")
    inode = path.stat().st_ino
    assert read_jsonl(path) == [{"a": text}]
    assert path.stat().st_ino == inode and path.read_text().endswith("\n")  # truncated in place
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"r\.jsonl, line 2"):
        read_jsonl(path)


# ------------------------------------------------------------------ concurrency, labels, ids
def test_a_second_run_on_the_same_store_refuses_or_waits(tmp_path):
    srv = make_server(("m1",), delay_s=1.0)  # slow while the second run tries: the first is surely still on
    url = srv.start()
    try:
        cfg = recipe(tmp_path, [fast(url, "m1", concurrency=1, timeout_s=10)])
        path = write_recipe(tmp_path, cfg)
        cmd = [sys.executable, "-m", "bayes_utility", "-q", "elicit", path]
        first = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not rows(tmp_path / "answers.sqlite"):
            time.sleep(0.05)
        second = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=60)
        assert first.poll() is None, "the first run must still be running"
        assert second.returncode == 2 and "being written by another elicitation (pid" in second.stderr
        assert "Traceback" not in second.stderr
        srv.delay_s = 0.01
        waiting = subprocess.run(cmd + ["--wait"], env=ENV, capture_output=True, text=True, timeout=300)
        assert first.wait(timeout=300) == 0 and waiting.returncode == 0, waiting.stderr
        assert srv.requests == 60  # everything asked once, by the first run; the waiting one found it all
        assert len(rows(tmp_path / "answers.sqlite")) == 60
    finally:
        srv.stop()


def test_ids_with_pipes_and_slashes_and_answers_with_line_separators(tmp_path):
    ids = ["a|b", "c", "a", "b|c", "x/y", "x"]  # "a|b" vs "c" and "a" vs "b|c" collided in "a|b|c|k" keys
    mu = np.array([3.0, 1.0, -1.0, -3.0, 2.0, 0.0])
    truth = SimulationTruth(mu=mu, sigma=np.full(6, 0.05), order_bias=0.0, link="probit")
    srv = SimulatedServer(truth, texts(), model="m1", seed=2, answer_suffix="\u2028\u2029\u0085")
    url = srv.start()
    try:
        outcomes = pd.DataFrame({"id": ids, "text": texts()})
        outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
        cfg = recipe(tmp_path, [fast(url, "m1")], outcomes=str(tmp_path / "outcomes.csv"), max_outcomes=None)
        res = run_elicitation(cfg, progress_bar=False)
        assert res.answered == res.total == 60
        r = load_dataset(str(res.run_dir / "dataset")).responses
        assert len(r) == 60 and (r["answer"] != "unparseable").all()
        u = dict(zip(ids, mu))
        # every answer is attributed to its own pair: the better outcome (by far) is always chosen
        chose_a = r["answer"] == "A"
        assert (chose_a == (r["outcome_a"].map(u) > r["outcome_b"].map(u))).all()
        assert res.data.responses["raw_text"].str.contains("\u2028").all()
        out = tmp_path / "all.jsonl"
        assert main(["store", "export", str(res.store), str(out)]) == 0
        recs = read_jsonl(out, repair=False)
        assert len(recs) == 60 and all(rec["raw"].endswith("\u2028\u2029\u0085") for rec in recs)
        assert len(out.read_text(encoding="utf-8").splitlines()) == 60  # escaped: even splitlines() is safe
        assert main(["store", "export", str(res.store), str(tmp_path / "all.parquet")]) == 0
        assert len(pd.read_parquet(tmp_path / "all.parquet")) == 60
    finally:
        srv.stop()


def test_switching_the_model_under_one_name_asks_it_anew_and_labels_by_model(tmp_path, server):
    url = server.start()
    import bayes_utility as bu
    from bayes_utility.elicitation.runner import dry_run

    first = recipe(tmp_path, [fast(url, "m1")])
    assert bu.elicit(first, dry_run=True) == dry_run(first) and server.by_model == {}  # nothing asked
    res1 = bu.elicit(first, progress_bar=False)  # the Python twin of `bayes-utility elicit`
    res2 = run_elicitation(recipe(tmp_path, [fast(url, "m2")]), progress_bar=False)
    assert server.by_model == {"m1": 60, "m2": 60}  # m2 asked everything; nothing of m1 reused for it
    assert set(res2.data.responses["respondent"]) == {"m2"} and res1.answered == res2.answered == 60
    labels = {(r[0], r[3]) for r in rows(res2.store)}
    assert len(labels) == 2 and {lab for _, lab in labels} == {"m1", "m2"}
    # the same model name at another endpoint is another model too
    other = make_server(("m1",))
    try:
        run_elicitation(recipe(tmp_path, [fast(other.start(), "m1", name="m1-elsewhere")]), progress_bar=False)
        assert other.by_model == {"m1": 60}
    finally:
        other.stop()


def test_three_models_from_a_models_file_fit_as_respondents(tmp_path, server, capsys):
    url = server.start()
    models = {"models": {"alpha": fast(url, "m1"), "beta": fast(url, "m2", api="completions"),
                         "gamma": fast(url, "m3", supports_n=True)}}
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(models))
    cfg = ElicitConfig.model_validate({"name": "three", "models": ["alpha"], "models_file": str(tmp_path / "models.yaml"),
                                       "output": {"dir": str(tmp_path)},
                                       "experiment": {"outcomes": "builtin:llama2_7b_sim", "max_outcomes": N_OUT,
                                                      "design": "all", "answers_per_order": 2}})
    path = write_recipe(tmp_path, cfg)
    assert main(["-q", "elicit", path, "--models", "alpha,beta,gamma"]) == 0
    data = load_dataset(str(tmp_path / "three" / "dataset"))
    assert data.respondents == ["alpha", "beta", "gamma"] and data.n_answers == 180
    led = json.loads((tmp_path / "three" / "ledger.json").read_text())
    gamma = next(m for m in led["models"] if m["label"] == "gamma")["this_run"]
    assert gamma["requests"] == 30 and gamma["answers"] == 60  # n=2 per request: tokens counted per request
    assert gamma["completion_tokens"] == 60 and gamma["prompt_tokens"] == 30 * gamma["prompt_tokens"] // 30
    assert main(["elicit", path, "--models", "alpha,delta"]) == 2
    assert "unknown model(s) delta" in capsys.readouterr().err


# ------------------------------------------------------------------ batch API
def test_batch_mode_round_trip_and_resume_after_kill(tmp_path):
    srv = make_server(("m1",), batch_delay_s=1.5)
    url = srv.start()
    try:
        model = fast(url, "m1", batch=True, batch_poll_s=0.2, price_input_per_mtok=2.0, price_output_per_mtok=8.0)
        cfg = recipe(tmp_path, [model])
        path = write_recipe(tmp_path, cfg)
        proc = subprocess.Popen([sys.executable, "-m", "bayes_utility", "-q", "elicit", path], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and not srv.batches:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # killed while its batch runs
        proc.wait(timeout=30)
        assert len(srv.batches) == 1
        res = run_elicitation(cfg, progress_bar=False)
        assert len(srv.batches) == 1 and res.answered == 60  # the rerun found its batch: nothing paid twice
        # failed requests in a batch are recorded as failures and go into the next run's batch
        srv.failure_rates = {"500": 0.3}
        more = recipe(tmp_path, [model], answers_per_order=3)
        res = run_elicitation(more, progress_bar=False)
        assert len(srv.batches) == 2 and res.missing == srv.failures > 0
        assert res.ledger["models"][0]["this_run"]["failed"] == srv.failures
        srv.failure_rates = {}
        res = run_elicitation(more, progress_bar=False)
        assert len(srv.batches) == 3 and res.missing == 0 and res.answered == 90
        led = res.ledger["models"][0]["all_runs"]
        assert led["batch_requests"] == led["requests"] == 90 + srv.failures and led["cost"] > 0
        expected = (led["prompt_tokens"] * 2.0 + led["completion_tokens"] * 8.0) / 1e6 * 0.5
        assert led["cost"] == pytest.approx(expected, rel=1e-6)  # batch price: half
    finally:
        srv.stop()


# ------------------------------------------------------------------ fail fast, secrets, bad input
def test_fail_fast_with_a_plain_reason(tmp_path, server, monkeypatch):
    url = server.start()
    t0 = time.time()
    res = run_elicitation(recipe(tmp_path, [fast(url, "no-such-model")]), progress_bar=False)
    assert "not found (404)" in res.stopped["no-such-model"] and server.requests == 1
    dead = fast("http://127.0.0.1:9/v1", "m1", backoff_s=0.2)
    res = run_elicitation(recipe(tmp_path, [dead], name="dead"), progress_bar=False)
    assert "first request" in res.stopped["m1"] and "Connection" in res.stopped["m1"]
    assert time.time() - t0 < 15  # not minutes of retries
    # a server that accepts but never answers: the preflight gives up after two retries, not seven deadlines
    server.failure_rates, server.stall_s = {"timeout": 1.0}, 5.0
    t1 = time.time()
    res = run_elicitation(recipe(tmp_path, [fast(url, "m1", timeout_s=0.5)], name="hung"), progress_bar=False)
    assert "DeadlineExceeded" in res.stopped["m1"] and time.time() - t1 < 4 and res.answered == 0
    server.failure_rates = {}
    with pytest.raises(ElicitationError, match="are the same model"):
        run_elicitation(recipe(tmp_path, [fast(url, "m1"), fast(url, "m1", name="again")]), progress_bar=False)
    for bad, why in (("ftp://127.0.0.1/v1", "http:// or https://"), ("127.0.0.1:8080/v1", "http:// or https://")):
        with pytest.raises(ValueError, match=why):
            recipe(tmp_path, [fast(bad, "m1")])


def test_circuit_breaker_stops_a_run_whose_endpoint_dies(tmp_path):
    srv = make_server(("m1",), delay_s=0.02)
    url = srv.start()
    cfg = recipe(tmp_path, [fast(url, "m1", concurrency=2, circuit_breaker=4, backoff_s=0.05, max_retries=20)],
                 answers_per_order=4)
    import threading

    threading.Timer(0.6, srv.stop).start()
    t0 = time.time()
    res = run_elicitation(cfg, progress_bar=False)
    assert "consecutive connection failures or timeouts" in res.stopped["m1"] and time.time() - t0 < 20
    assert 0 < res.answered < res.total


def test_secrets_never_reach_disk_or_console(tmp_path, monkeypatch, capsys):
    key = "fake-wrong-test-key-not-a-secret-0000"
    srv = make_server(("m1",), api_key="fake-right-test-key-not-a-secret")
    url = srv.start()
    try:
        monkeypatch.setenv("BU_KEY", key)  # the wrong key: the server's 401 echoes it
        secret_url = url.replace("http://", "http://user:hunter2pass@") + "?api_key=QQQsecretQQQ"
        cfg = recipe(tmp_path, [fast(secret_url, "m1", api_key_env="BU_KEY")])
        path = write_recipe(tmp_path, cfg)
        assert main(["elicit", path, "--dry-run"]) == 0
        assert main(["-q", "elicit", path]) == 4
        out = capsys.readouterr()
        assert "401" in out.err
        files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "run.yaml"]
        blob = b"".join(p.read_bytes() for p in files) + (out.out + out.err).encode()
        for s in (key, "hunter2pass", "QQQsecretQQQ"):
            assert s.encode() not in blob, s
        assert b"401" in blob  # the failure itself is recorded
    finally:
        srv.stop()
    bad = {"name": "x", "output": {"dir": str(tmp_path)}, "experiment": {"outcomes": "builtin:llama2_7b_sim"},
           "models": [{"base_url": "http://127.0.0.1:1/v1", "model": "m", "api_key_env": key}]}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError) as err:
        load_elicit_config(tmp_path / "bad.yaml")
    assert key not in str(err.value) and "NAME of an environment variable" in str(err.value)


def test_bad_inputs_are_found_before_the_first_request(tmp_path, server):
    url = server.start()
    dup = pd.DataFrame({"id": ["a", "b", "a"], "text": ["one", "two", "three"]})
    dup.to_csv(tmp_path / "dup.csv", index=False)
    pd.DataFrame({"id": ["a", "b"], "words": ["x", "y"]}).to_csv(tmp_path / "notext.csv", index=False)
    cases = [({"outcomes": str(tmp_path / "dup.csv")}, "duplicate outcome id 'a'"),
             ({"outcomes": str(tmp_path / "notext.csv")}, "missing required column 'text'"),
             ({"outcomes": str(tmp_path / "missing.csv")}, "no such file"),
             ({"design": "random", "pairs": 999, "max_outcomes": N_OUT}, "only 15"),
             ({"template_file": str(tmp_path / "nope.txt")}, "nope.txt")]
    for exp, why in cases:
        with pytest.raises(ElicitationError, match=why):
            run_elicitation(recipe(tmp_path, [fast(url, "m1")], **{"max_outcomes": None, **exp}), progress_bar=False)
    assert server.requests == 0 and not (tmp_path / "answers.sqlite").exists()
    # a template with other braces (JSON in the instructions) is filled, not format()-ed
    (tmp_path / "t.txt").write_text('Reply as {"choice": X}.\n\nOption A:\n{option_A}\n\nOption B:\n{option_B}\n\n')
    res = run_elicitation(recipe(tmp_path, [fast(url, "m1")], template_file=str(tmp_path / "t.txt")),
                          progress_bar=False)
    assert res.answered == 60 and (res.data.responses["answer"] != "unparseable").all()
    # a broken config: a clear message, exit 2, no traceback
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "bayes_utility", "elicit", str(tmp_path / "broken.yaml")],
                          env=ENV, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "broken.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_stops_cleanly_and_keeps_every_answer(tmp_path):
    srv = make_server(("m1",), delay_s=0.05)
    url = srv.start()
    try:
        cfg = recipe(tmp_path, [fast(url, "m1", concurrency=1)])
        path = write_recipe(tmp_path, cfg)
        proc = subprocess.Popen([sys.executable, "-m", "bayes_utility", "-q", "elicit", path], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and len(rows(tmp_path / "answers.sqlite")) < 5:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "Traceback" not in err and "rerun the same command" in err
        kept = len(rows(tmp_path / "answers.sqlite"))
        assert kept >= 5
        res = run_elicitation(cfg, progress_bar=False)
        assert res.answered == 60 and srv.requests <= 60 + 2  # at most the requests in flight at the interrupt
    finally:
        srv.stop()


def _start_times(store_path) -> np.ndarray:
    """Seconds from the first request's start to each request's start (recorded after the limiter let it go)."""
    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        t = np.array([r[0] for r in db.execute("SELECT julianday(started) * 86400 FROM requests ORDER BY started")])
    finally:
        db.close()
    return t - t[0]


def test_rate_limit_holds_the_request_rate(tmp_path, server):
    """600 requests/min: a bucket of 10, then 10 per second, so request i starts no earlier than (i - 10) / 10 s.
    Checked on the recorded start times (not on wall-clock thresholds), with an unlimited run as the control."""
    url = server.start()

    def starts(folder, **limit):
        cfg = recipe(folder, [fast(url, "m1", concurrency=16, **limit)], answers_per_order=1, max_outcomes=9,
                     design="random", pairs=20)
        res = run_elicitation(cfg, progress_bar=False)
        assert res.answered == 40
        return _start_times(res.store)

    def holds(t):  # the i-th start (0-based) is at least (i + 1 - 10) / 10 s after the first, within 5%
        need = (np.arange(len(t)) + 1 - 10) / 10
        return bool(np.all(t >= 0.95 * need))

    limited = starts(tmp_path / "limited", requests_per_minute=600)
    assert holds(limited) and limited[-1] >= 0.95 * 3.0
    free = starts(tmp_path / "free")  # negative control: the same check fails without the limit
    assert not holds(free)


def test_store_refuses_a_file_that_is_not_a_store(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_text("not a database at all, just text " * 20)
    with pytest.raises(StoreError, match="not an answer store"):
        AnswerStore(bad)
    with pytest.raises(StoreError, match="no answer store"):
        AnswerStore(tmp_path / "none.sqlite", write=False)
    assert main(["store", "info", str(tmp_path / "none.sqlite")]) == 2


def test_dry_run_counts_per_model_without_writing(tmp_path, server):
    url = server.start()
    cfg = recipe(tmp_path, [fast(url, "m1"), fast(url, "m2")])
    run_elicitation(recipe(tmp_path, [fast(url, "m1")]), progress_bar=False)
    mtime = (tmp_path / "answers.sqlite").stat().st_mtime_ns
    text = dry_run(cfg)
    assert "m1: 60 already in the store; 0 to ask" in text and "m2: 0 already in the store; 60 to ask" in text
    assert (tmp_path / "answers.sqlite").stat().st_mtime_ns == mtime


def test_redaction_removes_credentials_and_keeps_the_rest():
    from bayes_utility.redact import public_url, redact

    text = ("401 for http://bob:hunter2@host:80/v1: Incorrect API key provided: sk-proj-abcdefghijkl1234; "
            'headers {"Authorization": "Bearer tok_abcdefghijklmnop"}, {"api_key": "QQQ123"}')
    out = redact(text, ("QQQ123",))
    for secret in ("hunter2", "sk-proj-abcdefghijkl1234", "tok_abcdefghijklmnop", "QQQ123"):
        assert secret not in out
    assert out.startswith("401 for http://") and "host:80/v1" in out and "Incorrect API key provided" in out
    assert redact("model 'm1' not found (404)") == "model 'm1' not found (404)"  # control: nothing to hide
    assert public_url("https://u:p@api.example.com:8443/v1?api_key=abc&x=1") == \
        "https://api.example.com:8443/v1?api_key=%5Bredacted%5D&x=1"
    assert public_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
