r"""Instrumental values: are the utilities of states those of where they lead?

The outcomes are observation histories of two-step Markov processes
(:func:`bayes_utility.data.optionsets.markov_histories`): each start state :math:`s` ("Alice
receives a scholarship.") and each history :math:`s \to s'` ("... -> Alice graduates
with honors."). A respondent that values states instrumentally gives a start state the
reward it carries plus the discounted expected utility of what follows,

.. math::

    U(s) = R(s) + \gamma \sum_{s'} P(s' \mid s)\, U(s \to s'),

with :math:`R(s) = 0` for start states and :math:`\gamma = 0.99`, as in the reference
method, on its utility scale (zero mean, unit sd across all histories: the fit's
``utility``). The reference method's score is the mean absolute **Bellman error**
:math:`|U(s) - \gamma\,E[U(s \to \cdot)]|` over start states (a full history's error is
zero: its reward is free). Here it is computed per posterior draw, so it has an
interval, beside

* the Pearson r between :math:`U(s)` and :math:`E[U(s \to \cdot)]` over start states,
  and the slope and :math:`R^2` of :math:`U(s)` on it (slope :math:`\gamma` for a purely
  instrumental respondent);
* a **permutation null**: the same score with the start states' expected values
  shuffled across states, per draw (what a respondent whose state utilities are unrelated
  to their consequences would score, on its own utilities);
* a **control**: the score under other transition probabilities for the same states
  (``markov_processes_unnatural.json``: implausible ones): a respondent valuing states by
  their natural consequences scores worse under these.

Which fit to score. On a structure-free fit (``thurstonian``) the score is computed from
utilities that know nothing of the transitions, which makes the null and control fair
comparisons, but the utilities' posterior noise adds to every error, so the score is
biased upwards (on the bundled example: 0.250 [0.212, 0.286] against a true 0.163). The
``instrumental_values`` model puts the relation in the likelihood (a start state's
utility is its successors' expected utility plus a deviation of learned scale), so its
score is calibrated (recovers the planted one; the model passes SBC); there the null and
control cannot come from the same posterior (it already assumes the natural
transitions), so the control is a second fit of the model with the control transitions,
and the two are compared by PSIS-LOO on the same answers (:func:`run_instrumental`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .common import _summ, finish_figure, fmt_interval, fmt_iv
from .context import RunContext

GAMMA = 0.99


STRUCTURED_MODELS = ("instrumental_values", "expected_utility")


def successor_weights(outcome_ids: list[str], outcomes: pd.DataFrame | None = None,
                      processes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(start_index, W)``: the start states (indices into ``outcome_ids``) and ``W``
    (starts x outcomes) with the transition probabilities to each start's histories,
    from the outcomes' ``attributes['successors']`` or, given ``processes`` (a Markov
    processes JSON object or path), from those transitions (same ids)."""
    pos = {o: i for i, o in enumerate(outcome_ids)}
    if processes is not None:
        from ..data.optionsets import markov_histories

        if isinstance(processes, (str, Path)):
            processes = json.loads(Path(processes).read_text())
        outcomes = markov_histories(processes)
    if outcomes is None:
        raise ValueError("need the outcomes table or a processes file")
    starts, rows = [], []
    for oid, attrs in zip(outcomes["id"], outcomes["attributes"]):
        if not isinstance(attrs, dict) or "successors" not in attrs:
            continue
        if str(oid) not in pos:
            raise ValueError(f"start state {oid!r} is not an outcome of the fit")
        w = np.zeros(len(outcome_ids))
        for item in attrs["successors"]:
            o = str(item["outcome"])
            if o not in pos:
                raise ValueError(f"history {o!r} (after {oid!r}) is not an outcome of the fit")
            w[pos[o]] += float(item["probability"])
        if abs(w.sum() - 1.0) > 1e-6:
            raise ValueError(f"transitions from {oid!r} sum to {w.sum():g}, not 1")
        starts.append(pos[str(oid)])
        rows.append(w)
    if len(starts) < 3:
        raise ValueError("fewer than three start states with successors: build the option set with "
                         "bayes_utility.data.optionsets.markov_histories")
    return np.array(starts), np.stack(rows)


def bellman_scores(u: np.ndarray, starts: np.ndarray, w: np.ndarray, gamma: float = GAMMA) -> dict[str, np.ndarray]:
    """Per draw (rows of ``u``, utilities of all outcomes): mean |Bellman error| over
    start states, Pearson r, slope and R^2 of U(start) on E[U(successor)]."""
    us, ev = u[:, starts], u @ w.T
    err = np.abs(us - gamma * ev).mean(1)
    a, b = us - us.mean(1, keepdims=True), ev - ev.mean(1, keepdims=True)
    sab, saa, sbb = (a * b).sum(1), (a * a).sum(1), (b * b).sum(1)
    r = sab / np.sqrt(saa * sbb)
    return {"bellman_mae": err, "pearson_r": r, "slope": sab / sbb, "r_squared": r ** 2}


def instrumental_values(idata, data, processes=None, control=None, prob: float = 0.94, gamma: float = GAMMA,
                        seed: int = 0, var: str = "utility") -> dict:
    """The scores with intervals, the permutation null and (given) the control."""
    u_da = idata.posterior[var].stack(s=("chain", "draw")).transpose("s", "outcome")
    ids = [str(o) for o in u_da["outcome"].values]
    u = np.asarray(u_da.values, float)
    starts, w = successor_weights(ids, data.outcomes, processes)
    sc = bellman_scores(u, starts, w, gamma)
    structured = idata.posterior.attrs.get("model") in STRUCTURED_MODELS
    us, ev = u[:, starts], u @ w.T
    out = {"n_start_states": int(len(starts)), "gamma": gamma, "model": idata.posterior.attrs.get("model", ""),
           **{k: _summ(v, prob) for k, v in sc.items()}}
    if "instrumental_violation_std" in idata.posterior:
        out["instrumental_violation_std"] = _summ(idata.posterior["instrumental_violation_std"].values.ravel(), prob)
    if not structured:
        rng = np.random.default_rng(seed)
        perm = np.stack([rng.permutation(len(starts)) for _ in range(len(u))])
        null = np.abs(us - gamma * np.take_along_axis(ev, perm, 1)).mean(1)
        out["bellman_mae_permutation_null"] = _summ(null, prob)
        out["p_bellman_mae_below_null"] = float((sc["bellman_mae"] < null).mean())
    if control is not None and not structured:
        c_starts, c_w = successor_weights(ids, None, control)
        if not np.array_equal(np.sort(c_starts), np.sort(starts)):
            raise ValueError("the control processes have other start states than the data")
        cs = bellman_scores(u, c_starts, c_w, gamma)
        out["control"] = {k: _summ(v, prob) for k, v in cs.items()}
        out["control"]["source"] = str(control) if isinstance(control, (str, Path)) else "given"
        out["p_bellman_mae_below_control"] = float((sc["bellman_mae"] < cs["bellman_mae"]).mean())
    mean_u, mean_ev = us.mean(0), ev.mean(0)
    lo, hi = np.quantile(us - gamma * ev, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    text = dict(zip(data.outcomes["id"].astype(str), data.outcomes["text"]))
    out["states"] = pd.DataFrame({"state": [ids[i] for i in starts], "text": [text.get(ids[i], "") for i in starts],
                                  "utility": mean_u, "expected_successor_utility": mean_ev,
                                  "bellman_error": (us - gamma * ev).mean(0), "bellman_error_lo": lo,
                                  "bellman_error_hi": hi})
    out["draws"] = {"u_start": us, "ev": ev}
    return out


def instrumental_figure(res: dict, path=None):
    """U(start) against E[U(successor)] (posterior means, error intervals), and the score
    against its null and control."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = res["states"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    us, prob = res["draws"]["u_start"], res["bellman_mae"]["interval_prob"]
    ylo, yhi = np.quantile(us, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    a1.errorbar(st["expected_successor_utility"], st["utility"],
                yerr=[st["utility"] - ylo, yhi - st["utility"]], fmt="o", ms=3, alpha=0.7)
    lim = [min(st["expected_successor_utility"].min(), ylo.min()), max(st["expected_successor_utility"].max(),
                                                                       yhi.max())]
    a1.plot(lim, [res["gamma"] * x for x in lim], "k--", lw=1, label=f"U = {res['gamma']:g} E[U(next)]")
    a1.set_xlabel("expected utility of the histories it leads to")
    a1.set_ylabel("utility of the start state")
    a1.legend(fontsize=8)
    rows = [("data", res["bellman_mae"])]
    if "bellman_mae_permutation_null" in res:
        rows.append(("shuffled states", res["bellman_mae_permutation_null"]))
    if "control" in res:
        rows.append(("other transitions", res["control"]["bellman_mae"]))
    if "control_fit" in res:
        rows.append(("other transitions\n(own fit)", res["control_fit"]["bellman_mae"]))
    for y, (label, s) in enumerate(rows):
        a2.plot(s["interval"], [y, y], lw=4, color=f"C{y}")
        a2.plot(s["mean"], y, "o", color="k")
    a2.set_yticks(range(len(rows)), [r[0] for r in rows])
    a2.set_xlim(left=0)
    a2.set_xlabel(f"mean |Bellman error| ({res['bellman_mae']['interval_prob']:.0%} interval)")
    return finish_figure(fig, path)


def format_instrumental(res: dict) -> str:
    lines = [f"instrumental values over {res['n_start_states']} start states (gamma {res['gamma']:g}; fit: "
             f"{res.get('model', '')}):",
             f"  mean |Bellman error|            {fmt_iv(res['bellman_mae'])}"]
    if "bellman_mae_permutation_null" in res:
        lines.append(f"    states shuffled (null)        {fmt_iv(res['bellman_mae_permutation_null'])}   "
                     f"P(below null) {res['p_bellman_mae_below_null']:.3f}")
    if "control" in res:
        lines.append(f"    other transitions (control)   {fmt_iv(res['control']['bellman_mae'])}   "
                     f"P(below control) {res['p_bellman_mae_below_control']:.3f}")
    lines += [f"  Pearson r, U(s) vs E[U(next)]   {fmt_iv(res['pearson_r'])}",
              f"  slope of U(s) on E[U(next)]     {fmt_iv(res['slope'])}",
              f"  R^2                             {fmt_iv(res['r_squared'])}"]
    if "instrumental_violation_std" in res:
        lines.append(f"  violation scale (standardised)  {fmt_iv(res['instrumental_violation_std'])}")
    if "control_fit" in res:
        c = res["control_fit"]
        lines.append(f"  control fit ({c['run']}): violation scale {fmt_iv(c['instrumental_violation_std'])}, "
                     f"mean |Bellman error| {fmt_iv(c['bellman_mae'])}")
        lines.append(f"  PSIS-LOO, natural minus control transitions: elpd difference {c['elpd_difference']:.1f} "
                     f"+- {c['elpd_difference_se']:.1f}")
    return "\n".join(lines)


def _control_fit(run: RunContext, control, seed: int) -> dict:
    """Fit the instrumental-values model again with the control transitions (same answers,
    same split), and compare the two fits by PSIS-LOO."""
    from dataclasses import replace

    from ..data.optionsets import markov_histories
    from ..inference.compare import compare_idata

    idata, cfg, data, run_dir = run.idata, run.cfg, run.data, run.run_dir
    ctrl_outcomes = markov_histories(json.loads(Path(control).read_text()))
    by_id = dict(zip(ctrl_outcomes["id"].astype(str), ctrl_outcomes["attributes"]))
    if not set(by_id) <= set(data.outcome_ids):
        raise ValueError(f"{control}: its histories are not the data's outcomes")
    outcomes = data.outcomes.copy()
    outcomes["attributes"] = [by_id.get(str(o), a) for o, a in zip(outcomes["id"], outcomes["attributes"])]
    ctrl_cfg = cfg.with_overrides(output={"run_name": f"{run_dir.name}-control", "report": False})
    ctrl_dir, ctrl_idata = run.fit_sibling(ctrl_cfg, replace(data, outcomes=outcomes))
    import warnings

    with warnings.catch_warnings():  # high Pareto k are counted in the table
        warnings.simplefilter("ignore", UserWarning)
        table = compare_idata({"natural": idata, "control": ctrl_idata})
    diff = float(table.loc["control", "elpd_loo"] - table.loc["natural", "elpd_loo"])
    sc = instrumental_values(ctrl_idata, replace(data, outcomes=outcomes), prob=cfg.output.hdi_prob, seed=seed)
    return {"run": ctrl_dir.name, "source": str(control),
            "instrumental_violation_std": sc["instrumental_violation_std"], "bellman_mae": sc["bellman_mae"],
            "elpd_difference": -diff, "elpd_difference_se": float(table["dse"].max()),
            "pareto_k_gt_0.7": {k: int(v) for k, v in table["pareto_k_gt_0.7"].items()}}


def run_instrumental(run: RunContext, processes=None, control="builtin", seed: int = 0) -> dict:
    """Instrumental-values analysis of a run folder. ``control="builtin"`` scores the
    bundled implausible transitions when the data are the bundled processes' histories
    (else no control). Writes instrumental.json, instrumental_states.csv and .png."""
    from ..datasets import paper_file

    run_dir = run.run_dir
    idata, cfg, data = run.idata, run.cfg, run.data
    if control == "builtin":
        from ..data.optionsets import markov_histories

        bundled = set(markov_histories(json.loads(paper_file("markov_processes.json").read_text()))["id"])
        control = paper_file("markov_processes_unnatural.json") if bundled <= set(data.outcome_ids) else None
    res = instrumental_values(idata, data, processes, control, prob=cfg.output.hdi_prob, seed=seed)
    if control is not None and cfg.model.name == "instrumental_values":
        res["control_fit"] = _control_fit(run, control, seed)
    states, draws = res.pop("states"), res.pop("draws")
    (run_dir / "instrumental.json").write_text(json.dumps(res, indent=2))
    states.to_csv(run_dir / "instrumental_states.csv", index=False, float_format="%.6g")
    res["states"], res["draws"] = states, draws
    instrumental_figure(res, run_dir / "instrumental.png")
    return res


def report_section(doc, c, iv: dict, assets: str, level: int) -> None:
    """The report's instrumental-values paragraph, table and figure (``iv``: instrumental.json)."""
    doc.para(f"Instrumental values over {iv['n_start_states']} start states of Markov processes: the reference "
             f"method's mean |Bellman error| |U(s) − {iv['gamma']:g} E[U(next)]| per posterior draw (fit: "
             f"{iv.get('model', '')}).")
    rows = [("mean |Bellman error|", iv["bellman_mae"]), ("Pearson r, U(s) vs E[U(next)]", iv["pearson_r"]),
            ("slope of U(s) on E[U(next)]", iv["slope"])]
    if "instrumental_violation_std" in iv:
        rows.append(("violation scale (standardised)", iv["instrumental_violation_std"]))
    if "bellman_mae_permutation_null" in iv:
        rows.append(("mean |Bellman error|, start states shuffled", iv["bellman_mae_permutation_null"]))
    if "control" in iv:
        rows.append(("mean |Bellman error|, control transitions", iv["control"]["bellman_mae"]))
    if "control_fit" in iv:
        cf = iv["control_fit"]
        rows.append(("violation scale, control transitions (second fit)", cf["instrumental_violation_std"]))
    doc.table(pd.DataFrame([{"metric": label, "posterior mean [interval]": fmt_interval(
        s["mean"], *s["interval"])} for label, s in rows]))
    if "control_fit" in iv:
        cf = iv["control_fit"]
        doc.para(f"PSIS-LOO, natural minus control transitions: elpd difference {cf['elpd_difference']:.1f} ± "
                 f"{cf['elpd_difference_se']:.1f}.")
    img = next((i for i in c.images if i.name == "instrumental.png"), None)
    if img is not None:
        doc.image(img, assets)
