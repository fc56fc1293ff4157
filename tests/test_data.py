"""Data model: validation errors, round trips, conversions, the paper importer."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_utility.data.dataset import PreferenceData
from bayes_utility.data.loading import load_dataset
from bayes_utility.data.paper import import_paper_results
from bayes_utility.data.schema import DataValidationError, DisconnectedGraphWarning
from bayes_utility.data.tables import outcomes_from_json, read_outcomes, read_table
from bayes_utility.data.validation import counts_to_responses, responses_to_counts

OUTCOMES_CSV = "id,text,category\nx,Outcome X,c1\ny,Outcome Y,c1\nz,Outcome Z,c2\n"
GOOD_COUNTS = (
    "outcome_a,outcome_b,n_a,n_b,n_unparseable\n"
    "x,y,3,1,0\ny,x,2,2,0\ny,z,4,0,1\nz,y,1,3,0\n"
)


def make_dir(tmp_path, counts=GOOD_COUNTS, outcomes=OUTCOMES_CSV):
    (tmp_path / "outcomes.csv").write_text(outcomes)
    (tmp_path / "counts.csv").write_text(counts)
    return tmp_path


def problems_of(tmp_path, counts=GOOD_COUNTS, outcomes=OUTCOMES_CSV):
    with pytest.raises(DataValidationError) as exc:
        load_dataset(make_dir(tmp_path, counts, outcomes))
    return exc.value.problems, str(exc.value)


def test_good_dataset_loads(tmp_path):
    data = load_dataset(make_dir(tmp_path))
    assert data.n_outcomes == 3
    assert data.counts["n_a"].tolist() == [3, 2, 4, 1]
    assert data.respondents == ["respondent"]


@pytest.mark.parametrize(
    "row, fragment",
    [
        ("x,w,1,1,0", "row 5 (line 6), field 'outcome_b': unknown outcome id 'w'"),
        ("x,x,1,1,0", "self-comparison of outcome 'x'"),
        ("x,z,-1,1,0", "row 5 (line 6), field 'n_a': negative count '-1'"),
        ("x,z,1,1.5,0", "row 5 (line 6), field 'n_b': non-integer count '1.5'"),
        ("x,z,1,nan,0", "field 'n_b': NaN"),
        ("x,z,1,,0", "field 'n_b': missing value"),
        ("x,z,1,two,0", "field 'n_b': not a number: 'two'"),
    ],
)
def test_count_errors_name_file_row_field(tmp_path, row, fragment):
    probs, text = problems_of(tmp_path, GOOD_COUNTS + row + "\n")
    assert any(fragment in p for p in probs), probs
    assert "counts.csv" in text


def test_every_problem_is_reported_at_once(tmp_path):
    probs, _ = problems_of(tmp_path, GOOD_COUNTS + "x,w,1,1,0\nx,x,1,1,0\nx,z,-2,1,0\n")
    assert len(probs) == 3


def test_duplicate_outcome_ids(tmp_path):
    probs, text = problems_of(tmp_path, outcomes=OUTCOMES_CSV + "y,Another Y,c3\n")
    assert any("row 4 (line 5), field 'id': duplicate outcome id 'y' (first at row 2 (line 3))" in p for p in probs)
    assert "outcomes.csv" in text


def test_empty_data(tmp_path):
    probs, _ = problems_of(tmp_path, counts="outcome_a,outcome_b,n_a,n_b\n")
    assert any("no comparisons (empty table)" in p for p in probs)
    probs, _ = problems_of(tmp_path, outcomes="id,text\n")
    assert any("no outcomes" in p for p in probs)


def test_missing_and_unknown_columns(tmp_path):
    probs, _ = problems_of(tmp_path, counts="outcome_a,outcome_b,n_a\nx,y,1\n")
    assert any("missing required column(s) ['n_b']" in p for p in probs)
    probs, _ = problems_of(tmp_path, counts="outcome_a,outcome_b,n_a,n_b,n_c\nx,y,1,2,3\n")
    assert any("unknown column(s) ['n_c']" in p for p in probs)


def test_duplicate_ordered_pair_rows_rejected(tmp_path):
    probs, _ = problems_of(tmp_path, GOOD_COUNTS + "x,y,1,1,0\n")
    assert any("same ordered pair appears on several rows" in p for p in probs)


def test_jsonl_errors_name_line(tmp_path):
    (tmp_path / "outcomes.csv").write_text(OUTCOMES_CSV)
    lines = [
        {"outcome_a": "x", "outcome_b": "y", "answer": "A"},
        {"outcome_a": "x", "outcome_b": "y", "answer": "C"},
    ]
    (tmp_path / "responses.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with pytest.raises(DataValidationError) as exc:
        load_dataset(tmp_path)
    assert "responses.jsonl, row 2 (line 2), field 'answer': 'C' is not one of" in str(exc.value)


def test_disconnected_graph_warns_with_components(tmp_path):
    outs = OUTCOMES_CSV + "w,Outcome W,c2\n"
    counts = "outcome_a,outcome_b,n_a,n_b\nx,y,1,1\nz,w,2,0\n"
    with pytest.warns(DisconnectedGraphWarning, match=r"2 disconnected components.*component 1 \(2 outcomes\): x, y; component 2 \(2 outcomes\): z, w"):
        load_dataset(make_dir(tmp_path, counts, outs))


def test_connected_graph_does_not_warn(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DisconnectedGraphWarning)
        load_dataset(make_dir(tmp_path))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_round_trip_every_format(tmp_path, small_data, fmt):
    resp = small_data.to_responses()
    data = PreferenceData.from_tables(small_data.outcomes, responses=resp)
    data.outcomes.loc[0, "attributes"] = None
    out = data.write(tmp_path / fmt, fmt=fmt)
    back = load_dataset(out)
    pd.testing.assert_frame_equal(back.counts, data.counts, check_dtype=False)
    pd.testing.assert_frame_equal(
        back.responses.reset_index(drop=True), data.responses.reset_index(drop=True), check_dtype=False
    )
    assert back.outcomes["text"].tolist() == data.outcomes["text"].tolist()
    assert back.content_hash() == data.content_hash()


def test_attributes_round_trip(tmp_path):
    outs = pd.DataFrame({"id": ["a", "b"], "text": ["A", "B"], "attributes": [{"n": 5, "unit": "$"}, None]})
    counts = pd.DataFrame({"outcome_a": ["a"], "outcome_b": ["b"], "n_a": [1], "n_b": [0]})
    data = PreferenceData.from_tables(outs, counts=counts)
    for fmt in ("csv", "jsonl", "parquet"):
        back = load_dataset(data.write(tmp_path / fmt, fmt=fmt))
        assert back.outcomes["attributes"].tolist() == [{"n": 5, "unit": "$"}, None]


def test_responses_counts_conversion_is_exact(small_data):
    resp = counts_to_responses(small_data.counts)
    assert len(resp) == int(small_data.counts[["n_a", "n_b", "n_unparseable"]].to_numpy().sum())
    back = responses_to_counts(resp)
    pd.testing.assert_frame_equal(back, small_data.counts, check_dtype=False)


def test_unparseable_policies_and_exclusions():
    outs = pd.DataFrame({"id": ["a", "b", "c"], "text": ["A", "B", "C"]})
    counts = pd.DataFrame(
        {"outcome_a": ["a", "b", "a"], "outcome_b": ["b", "c", "c"], "n_a": [3, 0, 0], "n_b": [1, 0, 0],
         "n_unparseable": [2, 4, 0]}
    )
    data = PreferenceData.from_tables(outs, counts=counts)
    half, excl_half = data.arrays("half")
    np.testing.assert_allclose(half.k_a, [4.0, 2.0])
    np.testing.assert_allclose(half.n, [6.0, 4.0])
    assert [e.row for e in excl_half] == [2] and excl_half[0].reason == "no answers"
    exc, excl = data.arrays("exclude")
    np.testing.assert_allclose(exc.k_a, [3.0])
    np.testing.assert_allclose(exc.n, [4.0])
    assert sorted(e.row for e in excl) == [1, 2]
    assert "only unparseable" in {e.row: e for e in excl}[1].reason
    with pytest.raises(ValueError, match="policy"):
        data.arrays("drop")


def test_paper_outcomes_json(tmp_path):
    p = tmp_path / "options.json"
    p.write_text(json.dumps({"Money": ["$1", "$5"], "Health": ["A cure"]}))
    outs = read_outcomes(p)
    assert outs["id"].tolist() == ["0", "1", "2"]
    assert outs["category"].tolist() == ["Money", "Money", "Health"]
    with pytest.raises(DataValidationError, match="should map to a list"):
        outcomes_from_json({"Money": "$1"})


def _paper_results(edges):
    options = [{"id": i, "description": f"Outcome {i}"} for i in range(3)]
    return {"options": options, "graph_data": {"options": options, "edges": edges}}


def test_paper_importer_with_parsed_answers(tmp_path):
    opt = [{"id": i, "description": f"Outcome {i}"} for i in range(3)]
    edges = {
        "(0, 1)": {"option_A": opt[0], "option_B": opt[1], "probability_A": 0.75,
                   "aux_data": {"original_parsed": ["A", "A", "unparseable"], "flipped_parsed": ["B", "A"],
                                "original_responses": ["A", "A", "hmm"], "flipped_responses": ["B", "A"]}},
        "(1, 2)": {"option_A": opt[1], "option_B": opt[2], "probability_A": 0.5,
                   "aux_data": {"original_parsed": ["B"], "flipped_parsed": ["B"]}},
    }
    p = tmp_path / "results_model-x.json"
    p.write_text(json.dumps(_paper_results(edges)))
    data = import_paper_results(p)
    c = data.counts.set_index(["outcome_a", "outcome_b"])
    assert c.loc[("0", "1"), ["n_a", "n_b", "n_unparseable"]].tolist() == [2, 0, 1]
    # flipped: outcome 1 shown as A; answers "B" (= outcome 0) and "A" (= outcome 1)
    assert c.loc[("1", "0"), ["n_a", "n_b", "n_unparseable"]].tolist() == [1, 1, 0]
    assert data.respondents == ["model-x"]
    assert "hmm" in data.responses["raw_text"].tolist()
    assert load_dataset(p).counts.equals(data.counts)


def test_paper_importer_rejects_bad_probability_and_fractional_counts(tmp_path):
    opt = [{"id": i, "description": f"Outcome {i}"} for i in range(3)]
    edges = {
        "(0, 1)": {"option_A": opt[0], "option_B": opt[1], "probability_A": 1.5,
                   "aux_data": {"count_A": 2.5, "count_B": 1.5}},
    }
    p = tmp_path / "results.json"
    p.write_text(json.dumps(_paper_results(edges)))
    with pytest.raises(DataValidationError) as exc:
        import_paper_results(p)
    text = str(exc.value)
    assert "edge (0, 1), field 'probability_A': 1.5 is not a probability in [0, 1]" in text
    assert "field 'aux_data.count_A': 2.5 is not a whole" in text


def test_paper_importer_pooled_counts_warn(tmp_path):
    opt = [{"id": i, "description": f"Outcome {i}"} for i in range(3)]
    edges = {
        "(0, 1)": {"option_A": opt[0], "option_B": opt[1], "probability_A": 0.7,
                   "aux_data": {"count_A": 7, "count_B": 3}},
        "(1, 2)": {"option_A": opt[1], "option_B": opt[2], "probability_A": 0.2,
                   "aux_data": {"count_A": 2, "count_B": 8}},
    }
    p = tmp_path / "results.json"
    p.write_text(json.dumps(_paper_results(edges)))
    with pytest.warns(UserWarning, match="pooled over both presentation orders"):
        data = import_paper_results(p)
    assert data.counts["n_a"].tolist() == [7, 2]


def test_select_respondent(small_data):
    with pytest.raises(ValueError, match="no respondent 'nobody'"):
        small_data.select(respondent="nobody")
    assert len(small_data.select(respondent="simulated").counts) == len(small_data.counts)


def test_bundled_datasets_load():
    from bayes_utility import datasets

    for name in datasets.NAMES:
        data = load_dataset(f"builtin:{name}")
        assert data.n_outcomes >= 10
        assert len(data.counts) > 0


def test_read_table_unknown_suffix(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("a")
    with pytest.raises(ValueError, match="unknown file format"):
        read_table(p)


def test_pooling_orders_adds_answers_per_unordered_pair():
    outs = pd.DataFrame({"id": ["a", "b", "c"], "text": ["A", "B", "C"]})
    counts = pd.DataFrame(
        {"outcome_a": ["a", "b", "c", "b"], "outcome_b": ["b", "a", "b", "c"], "n_a": [3, 1, 0, 2],
         "n_b": [1, 2, 4, 0], "n_unparseable": [0, 2, 0, 0]}
    )
    data = PreferenceData.from_tables(outs, counts=counts)
    arr, _ = data.arrays("half", pool_orders=True)
    assert arr.pooled and arr.n_rows == 4
    pairs = {(int(a), int(b)): (k, n) for a, b, k, n in zip(arr.idx_a, arr.idx_b, arr.k_a, arr.n)}
    # (a,b): 3 of 4 for a; shown (b,a): 1 for b, 2 for a, 2 unparseable = 1 more each -> a gets 2 + 1
    assert pairs[(0, 1)] == (3 + 3.0, 4 + 5.0)
    # (b,c): shown (c,b): 4 for b; shown (b,c): 2 for b
    assert pairs[(1, 2)] == (6.0, 6.0)


def test_papers_outcome_file_loads_when_present():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "emergent-values" / "options_hierarchical.json"
    if not path.exists():
        pytest.skip(f"{path} not present")
    outs = read_outcomes(path)
    assert len(outs) == 510 and outs["category"].nunique() == 30
    assert outs["id"].is_unique
