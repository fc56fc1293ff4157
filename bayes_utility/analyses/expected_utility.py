"""Expected-utility behaviour: each lottery's utility against its expected utility under the fitted
outcome utilities, per posterior draw.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .common import _summ, fmt_interval


# ------------------------------------------------------------------ expected utility
def expected_utility_metrics(idata, prob: float = 0.94) -> dict:
    """The paper's expected-utility metrics per posterior draw of an ``expected_utility``
    fit, each with its interval: Pearson r between lotteries' utilities U(L) and their
    expected utilities EU(L) = sum p_i U(o_i); the mean absolute error |U(L) - EU(L)| in
    standardised utility units; the share of lottery pairs whose utilities are ordered as
    their expected utilities; and the EU-violation scale (standardised units)."""
    if "constant_data" not in idata.groups() or "lottery_weights" not in idata.constant_data:
        raise ValueError("not an expected-utility fit (no lottery_weights in constant_data)")
    w = idata.constant_data["lottery_weights"]
    post = idata.posterior
    u = post["utility"].stack(s=("chain", "draw")).transpose("s", "outcome")
    u_lot = u.sel(outcome=w["lottery"].values).values
    u_base = u.sel(outcome=w["base_outcome"].values).values
    eu = u_base @ w.values.T
    a, b = u_lot - u_lot.mean(1, keepdims=True), eu - eu.mean(1, keepdims=True)
    r = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    mae = np.abs(u_lot - eu).mean(1)
    i, j = np.triu_indices(u_lot.shape[1], k=1)
    consistent = (np.sign(u_lot[:, i] - u_lot[:, j]) == np.sign(eu[:, i] - eu[:, j])).mean(1)
    return {
        "n_lotteries": int(u_lot.shape[1]),
        "n_base_outcomes": int(u_base.shape[1]),
        "pearson_r_utility_vs_expected_utility": _summ(r, prob),
        "mae_standardised": _summ(mae, prob),
        "share_of_lottery_pairs_ordered_as_eu": _summ(consistent, prob),
        "eu_violation_std": _summ(post["eu_violation_std"].values.ravel(), prob),
    }


def format_expected_utility(res: dict) -> str:
    labels = (("pearson_r_utility_vs_expected_utility", "Pearson r, U(L) vs EU(L)"),
              ("mae_standardised", "MAE |U(L) - EU(L)| (standardised)"),
              ("share_of_lottery_pairs_ordered_as_eu", "lottery pairs ordered as EU"),
              ("eu_violation_std", "EU-violation scale (standardised)"))
    lines = [f"expected utility over {res['n_lotteries']} lotteries of {res['n_base_outcomes']} outcomes:"]
    for key, label in labels:
        s = res[key]
        lines.append(f"  {label:36s} {s['mean']:.3f} [{s['interval'][0]:.3f}, {s['interval'][1]:.3f}]")
    return "\n".join(lines)


def report_section(doc, c, eu: dict, assets: str, level: int) -> None:
    """The report's expected-utility paragraph and table (``eu``: expected_utility.json)."""
    doc.para(f"Expected utility over {eu['n_lotteries']} lotteries of {eu['n_base_outcomes']} outcomes: each "
             "lottery's utility against its expected utility under the fitted outcome utilities, per posterior "
             f"draw ({eu['eu_violation_std']['interval_prob']:.0%} intervals). An EU-violation scale near 0 "
             "means lotteries are valued at their expected utility.")
    rows = [("EU-violation scale (standardised utility units)", "eu_violation_std"),
            ("Pearson r, U(lottery) vs EU(lottery)", "pearson_r_utility_vs_expected_utility"),
            ("mean |U − EU| (standardised)", "mae_standardised"),
            ("share of lottery pairs ordered as their expected utilities", "share_of_lottery_pairs_ordered_as_eu")]
    doc.table(pd.DataFrame([{"metric": label, "posterior mean [interval]": fmt_interval(
        eu[k]["mean"], *eu[k]["interval"])} for label, k in rows]))


def write_files(idata, cfg, run_dir: Path) -> dict[str, Path]:
    """expected_utility.json, for a fit whose InferenceData has its lottery weights."""
    if "constant_data" not in idata.groups() or "lottery_weights" not in idata.constant_data:
        return {}
    path = run_dir / "expected_utility.json"
    path.write_text(json.dumps(expected_utility_metrics(idata, cfg.output.hdi_prob), indent=2))
    return {"expected_utility": path}
