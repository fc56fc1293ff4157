"""Stage 1, data: preference data and everything that makes or reads it; imports no other stage.

* :mod:`.schema`: column names, answer labels, the validation error;
* :mod:`.dataset`: :class:`PreferenceData` (outcomes and answer counts) and the arrays a fit sees;
* :mod:`.tables`, :mod:`.jsonl`: CSV, JSON Lines, Parquet readers and writers with errors that name
  file, line and column; :mod:`.validation`: every problem of a table, by row;
* :mod:`.loading`: a dataset folder or (winner, loser) pairs into :class:`PreferenceData`;
* :mod:`.paper`: the reference code's results format;
* :mod:`.simulate`: answers simulated from known utilities (numpy, no model code);
* :mod:`.optionsets`, :mod:`.texts`: the paper's option sets (lotteries, Markov processes, value
  changes) and the outcome texts built from their parts.

The bundled datasets live in ``bayes_utility/datasets/`` (package data, named by path in configs).
"""
from .._lazy import lazy_attributes

# names kept importable from the package itself (``from bayes_utility.data import X``)
__getattr__ = lazy_attributes(__name__, {
    "PreferenceData": "dataset", "ComparisonArrays": "dataset", "DataValidationError": "schema",
    "DisconnectedGraphWarning": "schema", "Exclusion": "schema", "load_dataset": "loading",
    "from_pairs": "loading", "read_outcomes": "tables", "read_table": "tables",
    "write_table": "tables"
})
