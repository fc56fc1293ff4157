"""Convergence diagnostics and the verdict on whether a fit can be trusted.

Thresholds follow current practice (Vehtari et al. 2021, "Rank-normalization,
folding, and localization: an improved R-hat"): rank-normalised split R-hat at most
1.01, bulk and tail ESS at least 400 (100 per chain for 4 chains), no divergent
transitions, E-BFMI at least 0.3 in every chain (Betancourt 2016), and at most 1% of
transitions stopped by the maximum tree depth (the sampler's trajectories were cut
short: exploration is slow and ESS estimates optimistic).

The Pareto k of PSIS-LOO (Vehtari et al. 2024, "Pareto smoothed importance sampling")
is reported beside the verdict: comparisons with k > 0.7 make LOO unreliable there
(use held-out pairs for those), but they say nothing against the posterior itself,
so they do not fail it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np

RHAT_MAX = 1.01


ESS_MIN = 400


BFMI_MIN = 0.3


TREEDEPTH_SHARE_MAX = 0.01


PARETO_K_MAX = 0.7


@dataclass
class Verdict:
    """Result of :func:`diagnose`. ``ok`` is False when any check fails."""

    ok: bool
    method: str
    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    min_ess_tail: float | None = None
    n_divergent: int | None = None
    n_draws: int | None = None
    min_bfmi: float | None = None
    treedepth_saturated: int | None = None  # transitions that hit the maximum tree depth
    max_tree_depth: int | None = None
    pareto_k_high: int | None = None  # comparisons with PSIS-LOO Pareto k > 0.7
    n_loo: int | None = None
    retry: str | None = None  # what was retried before this fit, if anything
    worst: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}

    def text(self) -> str:
        """A few lines for the console and the run folder."""
        if self.method != "nuts":
            head = (
                f"APPROXIMATE FIT ({self.method.upper()}): no MCMC convergence diagnostics exist for "
                "this result. Use it for a quick look only; rerun with inference.method: nuts to report."
            )
            return head
        status = "PASS: diagnostics raise no concern" if self.ok else "FAIL: do not report this fit yet"
        lines = [
            status,
            f"  max R-hat        {self.max_rhat:.4f}   (threshold <= {RHAT_MAX})" if self.max_rhat is not None
            else "  max R-hat        n/a (needs >= 2 chains)",
            f"  min bulk ESS     {self.min_ess_bulk:.0f}   (threshold >= {ESS_MIN})",
            f"  min tail ESS     {self.min_ess_tail:.0f}   (threshold >= {ESS_MIN})",
            f"  divergences      {self.n_divergent} of {self.n_draws} draws",
            f"  min E-BFMI       {self.min_bfmi:.3f}   (threshold >= {BFMI_MIN})",
        ]
        if self.treedepth_saturated is not None:
            lines.append(f"  max tree depth   {self.treedepth_saturated} of {self.n_draws} transitions hit "
                         f"{self.max_tree_depth}   (threshold <= {TREEDEPTH_SHARE_MAX:.0%})")
        if self.pareto_k_high is not None:
            lines.append(f"  PSIS-LOO         {self.pareto_k_high} of {self.n_loo} comparisons with Pareto k > "
                         f"{PARETO_K_MAX}" + ("   (LOO unreliable for those; not a convergence problem)"
                                              if self.pareto_k_high else ""))
        if self.retry:
            lines.append(f"  retried: {self.retry}")
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  advice: {a}" for a in self.advice]
        return "\n".join(lines)


def _sampled_vars(idata) -> list[str]:
    return [v for v in idata.posterior.data_vars if idata.posterior[v].dtype.kind == "f"]


def diagnose(
    idata,
    var_names: list[str] | None = None,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
    bfmi_min: float = BFMI_MIN,
) -> Verdict:
    """Check R-hat, bulk/tail ESS, divergences and E-BFMI over all posterior variables."""
    method = idata.posterior.attrs.get("inference_method", "nuts")
    if method != "nuts":
        return Verdict(ok=False, method=method, problems=["approximate inference: not checked"])
    var_names = var_names or _sampled_vars(idata)
    post = idata.posterior[var_names]
    n_chains = post.sizes["chain"]
    problems, advice, worst = [], [], {}

    ess_b = az.ess(post, method="bulk")
    ess_t = az.ess(post, method="tail")
    min_b, arg_b = _min_over(ess_b)
    min_t, arg_t = _min_over(ess_t)
    worst["min_ess_bulk"], worst["min_ess_tail"] = arg_b, arg_t
    max_r = None
    if n_chains >= 2:
        rhat = az.rhat(post)
        max_r, arg_r = _max_over(rhat)
        worst["max_rhat"] = arg_r
        if not max_r <= rhat_max:
            problems.append(f"R-hat {max_r:.4f} > {rhat_max} at {arg_r}: chains disagree")
            advice.append("run longer warmup and more draws; if it persists, check the model's identifiability")
    else:
        problems.append("one chain only: R-hat cannot be computed")
        advice.append("run at least 4 chains")
    if not min_b >= ess_min:
        problems.append(f"bulk ESS {min_b:.0f} < {ess_min} at {arg_b}")
    if not min_t >= ess_min:
        problems.append(f"tail ESS {min_t:.0f} < {ess_min} at {arg_t}: interval ends are noisy")
    if not (min_b >= ess_min and min_t >= ess_min):
        advice.append("increase inference.draws (ESS grows about linearly with draws)")
    n_div, bfmi_min_val, n_draws = 0, float("nan"), post.sizes["chain"] * post.sizes["draw"]
    if "sample_stats" in idata.groups():
        ss = idata.sample_stats
        if "diverging" in ss:
            n_div = int(ss["diverging"].values.sum())
        if "energy" in ss:
            bfmi_min_val = float(np.min(az.bfmi(idata)))
    if n_div:
        problems.append(f"{n_div} divergent transitions: the posterior may be biased")
        ta = idata.posterior.attrs.get("target_accept")
        if ta is not None and float(ta) >= 0.95:
            advice.append(f"divergences persist at target_accept {float(ta):g}: a hard geometry; with little "
                          "preference signal set model.centered: false, else look for weakly identified parameters")
        else:
            advice.append("raise inference.target_accept (e.g. 0.95); persistent divergences point to a hard geometry")
    if not bfmi_min_val >= bfmi_min:
        problems.append(f"E-BFMI {bfmi_min_val:.3f} < {bfmi_min}: momentum resampling explores energy poorly")
        advice.append("reparameterise (non-centred) or use a dense mass matrix")
    saturated, depth_max = _treedepth(idata)
    if saturated is not None and saturated > TREEDEPTH_SHARE_MAX * n_draws:
        problems.append(f"{saturated} of {n_draws} transitions hit the maximum tree depth {depth_max}: "
                        "trajectories were cut short")
        advice.append("raise inference.max_tree_depth, or reparameterise (strong posterior correlations)")
    k_high, n_loo = pareto_k(idata)
    return Verdict(
        ok=not problems,
        method=method,
        problems=problems,
        advice=list(dict.fromkeys(advice)),
        max_rhat=max_r,
        min_ess_bulk=min_b,
        min_ess_tail=min_t,
        n_divergent=n_div,
        n_draws=int(n_draws),
        min_bfmi=bfmi_min_val,
        treedepth_saturated=saturated,
        max_tree_depth=depth_max,
        pareto_k_high=k_high,
        n_loo=n_loo,
        worst=worst,
    )


def _treedepth(idata) -> tuple[int | None, int | None]:
    """Transitions that reached the run's maximum tree depth, and that depth."""
    depth_max = idata.posterior.attrs.get("max_tree_depth")
    if depth_max is None or "sample_stats" not in idata.groups() or "tree_depth" not in idata.sample_stats:
        return None, None
    return int((idata.sample_stats["tree_depth"].values >= int(depth_max)).sum()), int(depth_max)


def pareto_k(idata, threshold: float = PARETO_K_MAX) -> tuple[int | None, int | None]:
    """Comparisons whose PSIS-LOO Pareto k exceeds ``threshold``, and how many there are
    (``None, None`` when the run stored no pointwise log-likelihood)."""
    if "log_likelihood" not in idata.groups():
        return None, None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ warns about high k: counted and reported here instead
        loo = az.loo(idata, pointwise=True)
    k = np.asarray(loo.pareto_k)
    return int((k > threshold).sum()), int(k.size)


def _flat(ds):
    vals, names = [], []
    for v in ds.data_vars:
        arr = ds[v]
        flat = arr.values.ravel()
        vals.append(flat)
        if arr.ndim == 0:
            names += [v]
        else:
            stacked = arr.stack(_i=arr.dims)
            names += [f"{v}[{','.join(str(x) for x in idx)}]" if isinstance(idx, tuple) else f"{v}[{idx}]"
                      for idx in stacked["_i"].values]
    return np.concatenate(vals) if vals else np.array([]), names


def _min_over(ds):
    vals, names = _flat(ds)
    vals = np.where(np.isnan(vals), np.inf, vals)
    i = int(np.argmin(vals))
    return float(vals[i]), names[i]


def _max_over(ds):
    vals, names = _flat(ds)
    vals = np.where(np.isnan(vals), -np.inf, vals)
    i = int(np.argmax(vals))
    return float(vals[i]), names[i]
