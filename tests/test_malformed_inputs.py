"""A corpus of malformed inputs: data files, reference-code results files, configs and run
folders. Each ends in exit status 2 and one clear message naming the file (and, where the
file has them, the line or row and the field); never a traceback, never a run folder."""
import copy
import json

import pytest

from bayes_utility.cli import main

OUT = "id,text\na,Apple\nb,Banana\nc,Cherry\n"
CNT = "outcome_a,outcome_b,n_a,n_b\na,b,3,1\nb,c,2,2\na,c,1,3\n"
GOOD = [{"respondent": "m", "outcome_a": "a", "outcome_b": "b", "answer": "A"},
        {"respondent": "m", "outcome_a": "b", "outcome_b": "c", "answer": "B"}]
PAPER = {"options": [{"id": 0, "description": "A"}, {"id": 1, "description": "B"}],
         "graph_data": {"edges": {"(0, 1)": {"option_A": {"id": 0}, "option_B": {"id": 1}, "probability_A": 0.7,
                                             "aux_data": {"count_A": 7, "count_B": 3}}}}}


def jl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def paper(change):
    obj = copy.deepcopy(PAPER)
    change(obj)
    return json.dumps(obj)


def edge(obj):
    return obj["graph_data"]["edges"]["(0, 1)"]


# name: (files of a dataset folder, the file the message must name, what else it must say)
DATASETS = {
    "jsonl line not JSON": ({"outcomes.csv": OUT, "responses.jsonl": jl(GOOD) + '{"respondent": "m", \n'},
                            "responses.jsonl", ["line 3", "not valid JSON"]),
    "jsonl line an array": ({"outcomes.csv": OUT, "responses.jsonl": jl(GOOD) + "[1, 2, 3]\n"},
                            "responses.jsonl", ["line 3", "not an object"]),
    "jsonl nested deeply": ({"outcomes.csv": OUT, "responses.jsonl": "[" * 100000 + "]" * 100000 + "\n"},
                            "responses.jsonl", ["line 1", "nested too deeply"]),
    "jsonl many bad lines": ({"outcomes.csv": OUT, "responses.jsonl": "x\n" * 50},
                             "responses.jsonl", ["line 20", "30 more bad lines"]),
    "jsonl not utf-8": ({"outcomes.csv": OUT, "responses.jsonl": b'{"a": "\xff"}\n'}, "responses.jsonl", ["UTF-8"]),
    "outcomes.json not JSON": ({"outcomes.json": '{"a": [1, 2', "counts.csv": CNT}, "outcomes.json",
                               ["line 1", "column", "not valid JSON"]),
    "outcomes.json nested deeply": ({"outcomes.json": "[" * 100000 + "]" * 100000, "counts.csv": CNT}, "outcomes.json",
                                    ["nested too deeply"]),
    "outcomes.json a number": ({"outcomes.json": "5", "counts.csv": CNT}, "outcomes.json", ["expected a JSON"]),
    "outcomes.json category not a list": ({"outcomes.json": '{"fruit": "apple"}', "counts.csv": CNT},
                                          "outcomes.json", ["category 'fruit'"]),
    "count not a number": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,b,three,1\n"},
                           "counts.csv", ["row 1", "n_a"]),
    "count negative": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,b,-3,1\n"},
                       "counts.csv", ["row 1", "n_a"]),
    "count fractional": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,b,1.5,1\n"},
                         "counts.csv", ["row 1", "n_a"]),
    "count infinite": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,b,inf,1\n"},
                       "counts.csv", ["row 1", "n_a"]),
    "count column missing": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a\na,b,3\n"},
                             "counts.csv", ["n_b"]),
    "unknown outcome id": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,z,3,1\n"},
                           "counts.csv", ["row 1", "'z'"]),
    "outcome against itself": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,a,3,1\n"},
                               "counts.csv", ["row 1"]),
    "ragged csv row": ({"outcomes.csv": OUT, "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,b,3,1,9,9\n"},
                       "counts.csv", []),
    "duplicate outcome id": ({"outcomes.csv": "id,text\na,A\na,B\n", "counts.csv": CNT}, "outcomes.csv",
                             ["row 2", "'id'"]),
    "outcomes file empty": ({"outcomes.csv": "", "counts.csv": CNT}, "outcomes.csv", ["empty"]),
    "outcomes utf-16": ({"outcomes.csv": "id,text\na,Ä\n".encode("utf-16"), "counts.csv": CNT}, "outcomes.csv",
                        ["UTF-8"]),
    "counts binary": ({"outcomes.csv": OUT, "counts.csv": b"\x00\xff\xfe\x00garbage"}, "counts.csv", ["UTF-8"]),
    "parquet not parquet": ({"outcomes.csv": OUT, "counts.parquet": b"not parquet"}, "counts.parquet",
                            ["parquet"]),
    "no outcomes file": ({"counts.csv": CNT}, "", ["no outcomes"]),
    "no comparisons file": ({"outcomes.csv": OUT}, "", ["neither responses"]),
    "answer not A/B": ({"outcomes.csv": OUT, "responses.jsonl": jl(GOOD + [{**GOOD[0], "answer": 7}])},
                       "responses.jsonl", ["row 3", "answer"]),
    "response field missing": ({"outcomes.csv": OUT, "responses.jsonl": jl([{"respondent": "m", "outcome_a": "a",
                                                                            "answer": "A"}])},
                               "responses.jsonl", ["outcome_b"]),
    "bad outcomes and bad counts": ({"outcomes.csv": "id,text\na,A\na,B\n",
                                     "counts.csv": "outcome_a,outcome_b,n_a,n_b\na,b,x,1\n"},
                                    "outcomes.csv", ["counts.csv, row 1", "n_a"]),
}
# reference-code results files: name -> (content, what the message must say)
RESULTS = {
    "not JSON": ('{"options": [}', ["line 1", "not valid JSON"]),
    "a list": (json.dumps([1, 2, 3]), ["graph_data"]),
    "no options": (json.dumps({"graph_data": PAPER["graph_data"]}), ["options"]),
    "options a string": (paper(lambda o: o.__setitem__("options", "abc")), ["'options'"]),
    "option without id": (paper(lambda o: o["options"][0].pop("id")), ["options[0]"]),
    "graph_data a list": (paper(lambda o: o.__setitem__("graph_data", [1])), ["graph_data"]),
    "edges a list": (paper(lambda o: o["graph_data"].__setitem__("edges", [1, 2])), ["graph_data.edges"]),
    "edge a string": (paper(lambda o: o["graph_data"]["edges"].__setitem__("(0, 1)", "x")), ["edge (0, 1)"]),
    "count a string": (paper(lambda o: edge(o)["aux_data"].__setitem__("count_A", "seven")), ["count_A"]),
    "count negative": (paper(lambda o: edge(o)["aux_data"].__setitem__("count_A", -2)), ["count_A"]),
    "probability a string": (paper(lambda o: edge(o).__setitem__("probability_A", "high")), ["probability_A"]),
    "unknown option": (paper(lambda o: edge(o)["option_B"].__setitem__("id", 9)), ["'9'"]),
    "option_A a string": (paper(lambda o: edge(o).__setitem__("option_A", "zero")), ["option_A"]),
    "aux_data a list": (paper(lambda o: edge(o).__setitem__("aux_data", [1])), ["aux_data"]),
    "parsed answers a number": (paper(lambda o: edge(o)["aux_data"].update(original_parsed=5, flipped_parsed=["A"])),
                                ["original_parsed"]),
    "nested deeply": ('{"options": ' + "[" * 100000 + "]" * 100000 + "}", ["nested too deeply"]),
}
RUN = "name: x\ndata: {path: builtin:llama2_7b_sim}\n"
# configs: name -> (YAML text or bytes, what the message must say)
CONFIGS = {
    "YAML syntax": ("name: x\ndata: {path: builtin:llama2_7b_sim\n", ["line 3", "not valid YAML"]),
    "tab indentation": ("name: x\n\tdata: 1\n", ["line 2", "not valid YAML"]),
    "not a mapping": ("- 1\n- 2\n", ["mapping"]),
    "empty": ("", ["mapping"]),
    "unknown key": (RUN + "inference: {chainz: 4}\n", ["inference.chainz"]),
    "wrong type": (RUN + "inference: {chains: many}\n", ["inference.chains"]),
    "section a number": (RUN + "inference: 5\n", ["inference"]),
    "unknown model": (RUN + "model: {name: nosuch}\n", ["model.name"]),
    "not UTF-8": (b"\xff\xfe\x00\x01name", ["UTF-8"]),
    "nested deeply": ("a: " + "[" * 100000 + "]" * 100000 + "\n", ["nested too deeply"]),
    "negative draws": (RUN + "inference: {draws: -5}\n", ["inference.draws"]),
    "hdi above one": (RUN + "output: {hdi_prob: 1.5}\n", ["output.hdi_prob"]),
}


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("name", list(DATASETS))
def test_malformed_dataset(name, tmp_path, capsys):
    files, named, says = DATASETS[name]
    folder = tmp_path / "data"
    folder.mkdir()
    for fname, content in files.items():
        (folder / fname).write_bytes(content if isinstance(content, bytes) else content.encode())
    err = _run(["validate", folder], capsys)
    assert str(folder / named) in err, err
    for text in says:
        assert text in err, (text, err)
    # fitting it: the same message, and no run folder
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: bad\ndata: {{path: {folder}}}\n")
    assert _run(["fit", cfg, "--out", tmp_path / "runs"], capsys).splitlines()[0] == err.splitlines()[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("name", list(RESULTS))
def test_malformed_results_file(name, tmp_path, capsys):
    content, says = RESULTS[name]
    path = tmp_path / "results_model.json"
    path.write_text(content)
    for argv in (["validate", path], ["import-paper", path, tmp_path / "out"]):
        err = _run(argv, capsys)
        assert str(path) in err, err
        for text in says:
            assert text in err, (text, err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_malformed_config(name, tmp_path, capsys):
    content, says = CONFIGS[name]
    path = tmp_path / "run.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    err = _run(["fit", path, "--out", tmp_path / "runs"], capsys)
    assert str(path) in err, err
    for text in says:
        assert text in err, (text, err)
    assert not (tmp_path / "runs").exists()


def test_malformed_run_folders(tmp_path, capsys):
    """Not a run folder, a corrupt posterior.nc, a missing summary: named, for every reader."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "posterior.nc").write_text("garbage")
    (broken / "diagnostics.json").write_text("{}")
    for argv in (["summary", broken], ["report", broken], ["compare", broken, broken], ["transitivity", broken],
                 ["runs", broken, "--out", tmp_path / "t.csv"]):
        err = _run(argv, capsys)
        assert str(broken / "posterior.nc") in err and "unreadable" in err, (argv, err)
    for argv in (["summary", tmp_path], ["runs", tmp_path, "--out", tmp_path / "t.csv"]):
        assert "not a run folder" in _run(argv, capsys)
    assert not (tmp_path / "t.csv").exists()


def test_the_corpus_is_large_enough():
    assert len(DATASETS) + len(RESULTS) + len(CONFIGS) + 1 >= 40
