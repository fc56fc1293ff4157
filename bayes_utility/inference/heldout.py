r"""Held-out pairs: the split, and predictive accuracy and log-loss with intervals.

Pairs are held out whole, as in the reference method: a share ``fraction`` of the
observed pairs, at most ``max_pairs``, chosen with a seeded generator. Whole means
both presentation orders and every respondent and template the model does not tell
apart: a flat fit pools templates (and respondents), so a pair asked under two
templates is held out under both; holding out one would leak the other's answers
into the fit. A hierarchical fit grouped by respondent holds a pair out per
respondent, under all of that respondent's templates.

Metrics are computed per unordered pair :math:`\{a, b\}`. The empirical preference
is :math:`e = (\text{answers for } a)/(\text{answers})` pooled over both orders (with
the run's unparseable policy); the prediction :math:`p` is the answer-weighted mean of
the model's P(choose :math:`a`) over the rows asked. Per posterior draw:

* accuracy: share of pairs with :math:`e \ne 0.5` where :math:`p > 0.5` agrees with
  :math:`e > 0.5`. Pairs with :math:`e = 0.5` exactly (ties) have no "right" side: they
  are left out of accuracy and counted in ``n_ties``.
* log-loss: mean soft-label cross-entropy :math:`-[e\log p + (1-e)\log(1-p)]` over
  all held-out pairs (ties included).

The intervals are over the posterior (parameter uncertainty for these pairs);
``se_pairs`` is the standard error over held-out pairs of the point metric, the
sampling uncertainty from having few pairs. The point metric uses the posterior-mean
prediction. It is not the reference method's figure, which scores its maximum-likelihood
estimate, counts ties as "A" and clips probabilities at 1e-5; compare like with like.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from ..data.dataset import PreferenceData

GROUP_KEYS = ("respondent", "prompt_template")  # what a model may fit separately


PAIR_KEYS = (*GROUP_KEYS, "lo", "hi")


def _pair_table(counts: pd.DataFrame) -> pd.DataFrame:
    a, b = counts["outcome_a"].to_numpy(object), counts["outcome_b"].to_numpy(object)
    lo = np.where(a < b, a, b)
    hi = np.where(a < b, b, a)
    return pd.DataFrame(
        {"respondent": counts["respondent"].to_numpy(), "prompt_template": counts["prompt_template"].to_numpy(),
         "lo": lo, "hi": hi}
    )


def split_pairs(counts: pd.DataFrame, fraction: float, max_pairs: int, rng: np.random.Generator,
                told_apart: tuple[str, ...] = GROUP_KEYS):
    """Return ``(train_rows, heldout_rows)``: positions in ``counts``.

    ``told_apart``: the columns (``respondent``, ``prompt_template``) whose values the
    model fits separately; a pair is held out across all values of the others
    (``()`` for a flat fit: each unordered pair everywhere it was asked)."""
    rows = np.arange(len(counts))
    if fraction <= 0:
        return rows, rows[:0]
    unknown = set(told_apart) - set(GROUP_KEYS)
    if unknown:
        raise ValueError(f"told_apart: unknown columns {sorted(unknown)}")
    keys = _pair_table(counts)
    pair_id = keys.groupby([*told_apart, "lo", "hi"], sort=True).ngroup().to_numpy()
    n_pairs = int(pair_id.max()) + 1
    n_hold = min(int(n_pairs * fraction), max_pairs)
    if n_hold == 0:
        return rows, rows[:0]
    held = rng.choice(n_pairs, size=n_hold, replace=False)
    mask = np.isin(pair_id, held)
    return rows[~mask], rows[mask]


def pair_level(counts: pd.DataFrame, rows: np.ndarray, k_a: np.ndarray, n: np.ndarray, p_rows: np.ndarray):
    """Pool rows into unordered pairs.

    Parameters
    ----------
    rows : positions in ``counts`` of the held-out rows used
    k_a, n : "A" answers and answers per row (policy applied)
    p_rows : (..., R) model P("A") per row

    Returns
    -------
    empirical : (P,) pooled share of answers for the pair's first outcome
    predicted : (..., P) answer-weighted P(choose first outcome)
    """
    sub = counts.iloc[rows]
    keys = _pair_table(sub)
    first_is_a = (sub["outcome_a"].to_numpy(object) == keys["lo"].to_numpy(object))
    pair_id = keys.groupby(list(PAIR_KEYS), sort=True).ngroup().to_numpy()
    n_p = int(pair_id.max()) + 1
    k_first = np.where(first_is_a, k_a, n - k_a)
    p_first = np.where(first_is_a, p_rows, 1.0 - p_rows)
    tot = np.bincount(pair_id, weights=n, minlength=n_p)
    emp = np.bincount(pair_id, weights=k_first, minlength=n_p) / tot
    # answer-weighted sum of the rows of each pair: a sparse (rows x pairs) matrix, so
    # the cost is draws x rows, not draws x rows x pairs
    weights = csr_matrix((n, (np.arange(len(pair_id)), pair_id)), shape=(len(pair_id), n_p))
    pred = np.asarray((weights.T @ np.asarray(p_first).T).T) / tot
    return emp, pred


def _accuracy(emp, pred):
    decided = emp != 0.5
    if not decided.any():
        return np.full(pred.shape[:-1], np.nan)
    return np.mean((pred[..., decided] > 0.5) == (emp[decided] > 0.5), axis=-1)


def _log_loss(emp, pred, eps=1e-12):
    p = np.clip(pred, eps, 1 - eps)
    return np.mean(-(emp * np.log(p) + (1 - emp) * np.log1p(-p)), axis=-1)


def heldout_metrics(emp: np.ndarray, pred_draws: np.ndarray, prob: float = 0.94) -> dict:
    """Accuracy and log-loss per draw, summarised with equal-tailed intervals.

    ``pred_draws`` has shape ``(draws, pairs)``.
    """
    acc = _accuracy(emp, pred_draws)
    ll = _log_loss(emp, pred_draws)
    point = pred_draws.mean(axis=0)
    decided = emp != 0.5
    correct = (point[decided] > 0.5) == (emp[decided] > 0.5)
    per_pair_ll = -(emp * np.log(np.clip(point, 1e-12, 1)) + (1 - emp) * np.log1p(-np.clip(point, 0, 1 - 1e-12)))
    q = [(1 - prob) / 2, 1 - (1 - prob) / 2]

    def summ(x, point_value, se):
        lo, hi = np.nanquantile(x, q)
        return {
            "mean": float(np.nanmean(x)),
            "interval": [float(lo), float(hi)],
            "interval_prob": prob,
            "point": float(point_value),
            "se_pairs": float(se),
        }

    n_dec = int(decided.sum())
    acc_point = float(correct.mean()) if n_dec else float("nan")
    return {
        "n_pairs": int(len(emp)),
        "n_ties": int((~decided).sum()),
        "accuracy": summ(acc, acc_point, np.sqrt(acc_point * (1 - acc_point) / max(n_dec, 1))),
        "log_loss": summ(ll, per_pair_ll.mean(), per_pair_ll.std(ddof=1) / np.sqrt(len(emp)) if len(emp) > 1 else np.nan),
    }


logger = logging.getLogger(__name__)


def heldout_summary(idata, data: PreferenceData, unparseable: str, hdi_prob: float = 0.94) -> dict | None:
    """Held-out accuracy and log-loss (see :mod:`bayes_utility.inference.heldout`)."""
    if "predictions" not in idata.groups():
        return None
    pc = idata.predictions_constant_data
    rows = pc["heldout"].values
    p = idata.predictions["p_a"].values
    draws = p.reshape(-1, p.shape[-1])
    emp, pred = pair_level(data.counts, rows, pc["k_a"].values, pc["n"].values, draws)
    res = heldout_metrics(emp, pred, prob=hdi_prob)
    res["unparseable_policy"] = unparseable
    if "respondent_idx" in pc and "respondent" in idata.posterior.coords:  # per respondent (hierarchical fits)
        names = idata.posterior["respondent"].values.astype(str)
        ridx = pc["respondent_idx"].values
        res["by_respondent"] = {}
        for r, name in enumerate(names):
            m = ridx == r
            if m.any():
                e, p_ = pair_level(data.counts, rows[m], pc["k_a"].values[m], pc["n"].values[m], draws[:, m])
                res["by_respondent"][str(name)] = heldout_metrics(e, p_, prob=hdi_prob)
    return res
