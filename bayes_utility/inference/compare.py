"""Model comparison of run folders by PSIS-LOO (or WAIC) from their stored log-likelihood.

``bayes-utility compare RUN RUN [...]`` prints and writes ``comparison.csv`` (ArviZ's
``compare`` table: elpd, its standard error, differences to the best run with their
standard error, stacking weights, effective number of parameters) with the number of
observations whose Pareto k exceeds 0.7 (where PSIS-LOO is unreliable), and a report
with each run's posterior predictive calibration.

Runs are comparable only when they fitted the same observations: the same data, the
same held-out split and the same pooling of the two presentation orders (a model with
order bias fits ordered rows, one without fits pooled pairs); otherwise this says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PARETO_K_BAD = 0.7


class NotComparable(ValueError):
    """The runs did not fit the same observations."""


def check_same_observations(named: dict) -> None:
    """Raise :class:`NotComparable` unless every InferenceData has the same observations."""
    names = list(named)
    approximate = [n for n in names if named[n].posterior.attrs.get("inference_method", "nuts") != "nuts"]
    if approximate:
        methods = {named[n].posterior.attrs.get("inference_method", "").upper() for n in approximate}
        raise NotComparable(f"{', '.join(approximate)}: an approximate {'/'.join(sorted(methods))} fit, not "
                            "posterior draws; PSIS-LOO and WAIC need MCMC draws: refit with inference.method: nuts")
    missing = [n for n in names if "log_likelihood" not in named[n].groups()]
    if missing:
        raise NotComparable(f"{', '.join(missing)}: no pointwise log-likelihood stored (fitted with "
                            "output.log_likelihood: false); refit with it to compare")
    first = named[names[0]]
    for name in names[1:]:
        other = named[name]
        a, b = first.constant_data, other.constant_data
        same = (a["first_row"].shape == b["first_row"].shape and np.array_equal(a["first_row"], b["first_row"])
                and np.array_equal(first.observed_data["y"], other.observed_data["y"]))
        if not same:
            raise NotComparable(f"{name} fitted other observations than {names[0]} (another dataset, held-out "
                                "split, or pooling of the two orders): information criteria need the same ones")


# pointwise log-likelihoods that vary less than this over draws are constant for PSIS
CONSTANT_LL = 1e-9


def loo(idata):
    """PSIS-LOO (ArviZ, pointwise) that also takes near-certain observations.

    An answer the model predicts with probability 1 - 1e-20 has a log-likelihood that
    varies only in the 20th decimal over draws; its importance weights are all 1 to
    double precision, and ArviZ's Pareto fit then returns NaN (and a NaN elpd). For such
    an observation the leave-one-out posterior *is* the posterior (uniform weights,
    k = 0), so its pointwise elpd is its log-likelihood; the others go through PSIS."""
    import arviz as az

    ll = idata.log_likelihood["y"]
    flat = ll.values.reshape(-1, ll.shape[-1])
    const = np.ptp(flat, axis=0) < CONSTANT_LL
    if not const.any():
        return az.loo(idata, pointwise=True)
    if const.all():
        raise ValueError("every observation's log-likelihood is constant over draws: nothing to compare")
    sub = az.InferenceData(posterior=idata.posterior,
                           log_likelihood=ll.isel({ll.dims[-1]: np.flatnonzero(~const)}).to_dataset(name="y"))
    res = az.loo(sub, pointwise=True)
    loo_i = np.empty(flat.shape[1])
    loo_i[~const] = np.asarray(res.loo_i)
    loo_i[const] = flat[0, const]
    k = np.zeros(flat.shape[1])
    k[~const] = np.asarray(res.pareto_k)
    res = res.copy()
    res["elpd_loo"] = float(loo_i.sum())
    res["se"] = float(np.sqrt(len(loo_i) * np.var(loo_i)))
    res["n_data_points"] = len(loo_i)
    template = ll.isel(chain=0, draw=0, drop=True)
    res["loo_i"] = template.copy(data=loo_i)
    res["pareto_k"] = template.copy(data=k)
    return res


def compare_idata(named: dict, ic: str = "loo") -> pd.DataFrame:
    """ArviZ's comparison table plus the count of high Pareto k values per run."""
    import arviz as az

    if len(named) < 2:
        raise ValueError("compare needs at least two runs")
    check_same_observations(named)
    if ic == "loo":
        elpd = {n: loo(d) for n, d in named.items()}
        table = az.compare(elpd, ic="loo")
        table["pareto_k_gt_0.7"] = [int((np.asarray(elpd[n].pareto_k) > PARETO_K_BAD).sum()) for n in table.index]
    else:
        table = az.compare(named, ic=ic)
    table.index.name = "run"
    return table


def format_comparison(table: pd.DataFrame, ic: str = "loo") -> str:
    col = f"elpd_{ic}"
    rows = [f"{'run':<36} {'rank':>4} {col + ' ± se':>18} {'difference ± se':>18} {'weight':>7} {'p_' + ic:>7}"
            + ("  Pareto k > 0.7" if "pareto_k_gt_0.7" in table else "")]
    for name, r in table.iterrows():
        line = (f"{str(name)[:36]:<36} {int(r['rank']):>4} {r[col]:>10.1f} ± {r['se']:<5.1f} "
                f"{r['elpd_diff']:>10.1f} ± {r['dse']:<5.1f} {r['weight']:>7.2f} {r['p_' + ic]:>7.1f}")
        if "pareto_k_gt_0.7" in table:
            line += f"  {int(r['pareto_k_gt_0.7'])}"
        rows.append(line)
    rows.append("(higher elpd is better; a difference within about 2 standard errors is not a clear preference)")
    return "\n".join(rows)
