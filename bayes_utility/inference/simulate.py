"""Answers drawn from a model in ``models/`` with its parameters fixed: the truth that the
value-analysis datasets are simulated from (``scripts/make_value_data.py``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import PreferenceData
from ..data.schema import DEFAULT_TEMPLATE
from ..models import get_model, structure_of


def simulate_from_model(model_name: str, outcomes: pd.DataFrame, pairs: np.ndarray, k_per_order: int,
                        params: dict, seed: int, *, order_bias: bool = False, respondent: str = "simulated",
                        template: str = DEFAULT_TEMPLATE) -> tuple[PreferenceData, dict]:
    """Answers to both orders of ``pairs`` drawn from a model with its parameters fixed at
    ``params`` (any model with ``data_structure``: the parametric ones). Returns the data
    and every site's value (the truth, including deterministic ones such as ``mu``)."""
    from types import SimpleNamespace

    import jax
    from numpyro.handlers import condition
    from numpyro.infer import Predictive


    mod = get_model(model_name)
    ids = outcomes["id"].astype(str).tolist()
    kw = structure_of(mod, SimpleNamespace(outcomes=outcomes, outcome_ids=ids, n_outcomes=len(ids))).keywords
    idx_a = np.concatenate([pairs[:, 0], pairs[:, 1]])
    idx_b = np.concatenate([pairs[:, 1], pairs[:, 0]])
    n = np.full(len(idx_a), k_per_order, dtype=np.float32)

    def fn(a, b, m):
        return mod.model(a, b, m, len(ids), order_bias=order_bias, **kw)

    fixed = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    draw = Predictive(condition(fn, fixed), num_samples=1)(jax.random.PRNGKey(seed), idx_a, idx_b, n)
    truth = {k: np.asarray(v[0]) for k, v in draw.items()}
    k_a = truth.pop("y").astype(int)
    arr = np.asarray(ids, dtype=object)
    counts = pd.DataFrame({"respondent": respondent, "outcome_a": arr[idx_a], "outcome_b": arr[idx_b],
                           "n_a": k_a, "n_b": k_per_order - k_a, "n_unparseable": 0, "prompt_template": template})
    return PreferenceData.from_tables(outcomes, counts=counts, source=f"simulated:{model_name}"), {**fixed, **truth}
