"""Reading a simulation-based calibration study: rank-uniformity tests per quantity family, unconverged
replications, the verdict, and the files and ECDF plots of a study folder.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..config import CalibrationConfig
from ..figures import new_figure

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ the study
@dataclass
class CalibrationResult:
    """Ranks, tests and verdict of a calibration study (also written to ``run_dir``)."""

    run_dir: Path
    ranks: pd.DataFrame  # replication x quantity
    tests: pd.DataFrame  # per quantity: chi2, p_value, mean_rank, ok
    replications: pd.DataFrame  # per replication: divergences, max_rhat, min_ess_bulk, seconds
    threshold: float
    passed: bool
    cfg: CalibrationConfig

    @property
    def n_unconverged(self) -> int:
        return int((~self.replications["converged"]).sum())

    def report(self, worst: int = 8) -> str:
        sbc = self.cfg.sbc
        reps = self.replications
        families = self.tests.groupby("family", sort=False)
        gen = self.cfg.simulate
        lines = [
            f"SBC of {self.cfg.model.name} (order bias {'on' if self.cfg.model.order_bias else 'off'}, "
            f"generator: {gen.generator}"
            + (f", generator priors {gen.priors}" if gen.priors else "")
            + (", order-bias sign flipped in the answers" if gen.order_bias_sign == -1 else "") + "): "
            f"{len(self.ranks)} replications, {families.ngroups} families ({self.ranks.shape[1]} quantities), "
            f"ranks among {sbc.draws_kept} draws",
            f"per quantity: chi-square on {sbc.bins} rank bins and KS on the randomised PIT; per family: "
            f"Bonferroni over its elements; Holm over the {families.ngroups} families at alpha {sbc.alpha:g} "
            f"(first threshold {self.threshold:.2e})",
            "",
            "per family (worst element):",
        ]
        for name, grp in families:
            w = grp["p_value"].idxmin()
            lines.append(f"  {name:<26} {len(grp):>4} quantities  family p {grp['p_family'].iloc[0]:.3g}"
                         f"  ({w}: mean normalised rank {grp.loc[w, 'mean_rank']:.3f})"
                         + ("" if grp["ok"].all() else "  REJECTED"))
        lines.append("")
        n_bad = self.n_unconverged
        lines.append(
            f"replications not converged (R-hat > {RHAT_UNCONVERGED} or divergences in > {DIVERGENT_SHARE:.0%} of "
            f"draws): {n_bad} of {len(reps)} (allowed {sbc.max_unconverged:.0%}); with any divergence: "
            f"{int((reps['divergences'] > 0).sum())}; bulk ESS < {sbc.draws_kept} kept draws: "
            f"{int((reps['min_ess_bulk'] < sbc.draws_kept).sum())}; max R-hat {reps['max_rhat'].max():.3f}; "
            f"median {reps['seconds'].median():.2f} s per replication")
        if self.passed:
            lines.append("SBC: PASSED")
        else:
            why = []
            rejected = list(dict.fromkeys(self.tests.loc[~self.tests["ok"], "family"]))
            if rejected:
                why.append("ranks not uniform for " + ", ".join(rejected[:worst]))
            if n_bad > sbc.max_unconverged * len(reps):
                why.append(f"{n_bad} replications did not converge")
            lines.append("SBC: FAILED (" + "; ".join(why) + ")")
        return "\n".join(lines)


RHAT_UNCONVERGED = 1.05


DIVERGENT_SHARE = 0.01


def family_of(quantity: str) -> str:
    """The parameter a quantity belongs to: ``mu[3]`` -> ``mu``; summaries and scalars
    are families of their own (``sd(mu)``, ``utility_spread``, ``log_lik``)."""
    return re.sub(r"\[\d+\]$", "", quantity)


def uniformity_tests(ranks: pd.DataFrame, draws_kept: int, bins: int, alpha: float,
                     seed: int = 0) -> tuple[pd.DataFrame, float]:
    """Tests of uniform ranks per quantity, combined per family, with Holm's step-down.

    * per quantity: Pearson's chi-square on ``bins`` equal bins (humps, U shapes, holes)
      and Kolmogorov-Smirnov on the randomised PIT ``(rank + U) / (draws_kept + 1)``,
      exactly uniform on (0, 1) under the null (shifts); the quantity's p-value is
      ``min(1, 2 min(p_chi2, p_ks))``;
    * per family (a parameter's elements, or one summary): Bonferroni over its
      ``m_f`` elements, ``p_f = min(1, m_f min p)``, so a 30-element vector counts as one
      hypothesis, not 30;
    * Holm's step-down over the ``F`` families at level ``alpha``: a correct model fails
      with probability at most ``alpha``. Returns the per-quantity table (``ok`` False
      where the quantity's family is rejected) and the first Holm threshold ``alpha / F``.
    """
    r = ranks.to_numpy()
    counts = np.stack([np.bincount(col * bins // (draws_kept + 1), minlength=bins) for col in r.T])
    expected = len(r) / bins
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=1)
    p_chi2 = stats.chi2.sf(chi2, bins - 1)
    pit = (r + np.random.default_rng(seed).random(r.shape)) / (draws_kept + 1)
    p_ks = np.array([stats.kstest(col, "uniform").pvalue for col in pit.T])
    p = np.minimum(1.0, 2.0 * np.minimum(p_chi2, p_ks))
    tests = pd.DataFrame(
        {"family": [family_of(q) for q in ranks.columns], "chi2": chi2, "p_chi2": p_chi2, "p_ks": p_ks,
         "p_value": p, "mean_rank": r.mean(axis=0) / draws_kept},
        index=pd.Index(ranks.columns, name="quantity"),
    )
    fam = tests.groupby("family", sort=False)["p_value"].agg(["min", "size"])
    fam["p_family"] = np.minimum(1.0, fam["min"] * fam["size"])
    order = fam["p_family"].sort_values(kind="stable")
    n_fam = len(order)
    rejected, stop = set(), False
    for j, (name, pf) in enumerate(order.items()):  # Holm: reject while p_(j) < alpha / (F - j)
        if stop or pf >= alpha / (n_fam - j):
            stop = True
            continue
        rejected.add(name)
    tests["p_family"] = tests["family"].map(fam["p_family"])
    tests["ok"] = ~tests["family"].isin(rejected)
    return tests, alpha / n_fam


def unconverged(reps: pd.DataFrame, draws: int) -> pd.Series:
    """Replications whose fit did not converge: R-hat above 1.05 or divergent transitions
    in more than 1% of the draws. Their ranks are not evidence about the model."""
    return (reps["max_rhat"] > RHAT_UNCONVERGED) | (reps["divergences"] > DIVERGENT_SHARE * draws)


def analyse(records: list[dict], cfg: CalibrationConfig, run_dir: Path | None = None) -> CalibrationResult:
    """Tests, plots and verdict from replication records."""
    ranks = pd.DataFrame([r["ranks"] for r in records], index=pd.Index([r["index"] for r in records],
                                                                        name="replication"))
    reps = pd.DataFrame([{k: v for k, v in r.items() if k != "ranks"} for r in records]).set_index("index")
    sbc = cfg.sbc
    if len(records) < 5 * sbc.bins:
        logger.warning("%d replications for %d bins: fewer than 5 expected per bin, the chi-square test is rough",
                       len(records), sbc.bins)
    tests, threshold = uniformity_tests(ranks, sbc.draws_kept, sbc.bins, sbc.alpha, sbc.seed)
    reps["converged"] = ~unconverged(reps, cfg.inference.chains * cfg.inference.draws)
    converged_ok = (~reps["converged"]).mean() <= sbc.max_unconverged
    res = CalibrationResult(run_dir=run_dir, ranks=ranks, tests=tests, replications=reps, threshold=threshold,
                            passed=bool(tests["ok"].all() and converged_ok), cfg=cfg)
    if run_dir is not None:
        _write(res)
    return res


def _write(res: CalibrationResult) -> None:
    d = res.run_dir
    res.ranks.to_csv(d / "ranks.csv")
    res.tests.to_csv(d / "tests.csv")
    res.replications.to_csv(d / "replications.csv")
    reps = res.replications
    worst = res.tests["p_value"].idxmin()
    fams = res.tests.groupby("family", sort=False)["p_family"].first()
    summary = {
        "passed": res.passed,
        "model": res.cfg.model.name,
        "order_bias": res.cfg.model.order_bias,
        "generator": res.cfg.simulate.generator,
        "generator_priors": res.cfg.simulate.priors,
        "order_bias_sign": res.cfg.simulate.order_bias_sign,
        "replications": len(res.ranks),
        "families": int(len(fams)),
        "quantities": int(res.ranks.shape[1]),
        "draws_kept": res.cfg.sbc.draws_kept,
        "test": f"per quantity: Pearson chi-square on {res.cfg.sbc.bins} equal rank bins and Kolmogorov-Smirnov "
                "on the randomised PIT (min p x 2); per family: Bonferroni over its elements; Holm over families",
        "alpha": res.cfg.sbc.alpha,
        "threshold": res.threshold,
        "family_p_values": {k: float(v) for k, v in fams.items()},
        "failed_families": list(dict.fromkeys(res.tests.loc[~res.tests["ok"], "family"])),
        "worst": {"quantity": worst, "p_value": float(res.tests.loc[worst, "p_value"])},
        "replications_unconverged": res.n_unconverged,
        "max_unconverged": res.cfg.sbc.max_unconverged,
        "replications_with_divergences": int((reps["divergences"] > 0).sum()),
        "replications_with_low_ess": int((reps["min_ess_bulk"] < res.cfg.sbc.draws_kept).sum()),
        "max_rhat": float(reps["max_rhat"].max()),
        "median_seconds_per_replication": float(reps["seconds"].median()),
    }
    (d / "calibration.json").write_text(json.dumps(summary, indent=2) + "\n")
    (d / "report.txt").write_text(res.report() + "\n")

    sbc_plots(res, d)


def ecdf_band(n: int, x: np.ndarray, prob: float = 0.95, n_sim: int = 4000, seed: int = 0):
    """Simultaneous ``prob`` band for the ECDF of ``n`` uniform draws at the points ``x``.

    By simulation (Säilynoja, Bürkner and Vehtari 2022, "Graphical test for discrete
    uniformity and its applications in goodness-of-fit evaluation and multiple sample
    comparison"): the pointwise binomial band at level ``gamma`` is widened until
    ``prob`` of ``n_sim`` simulated uniform ECDFs stay inside it at every point.
    Returns the band's ``(lower, upper)`` ECDF values at ``x``.
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    counts = np.stack([np.searchsorted(np.sort(rng.random(n)), x, side="right") for _ in range(n_sim)])
    # each simulated ECDF's smallest two-sided pointwise tail probability
    tail = np.minimum(stats.binom.cdf(counts, n, x), stats.binom.sf(counts - 1, n, x))
    gamma = np.quantile(2.0 * tail.min(axis=1), 1.0 - prob)
    return stats.binom.ppf(gamma / 2.0, n, x) / n, stats.binom.ppf(1.0 - gamma / 2.0, n, x) / n


def sbc_plots(res, folder: str | Path) -> list[Path]:
    """ECDF-difference plots (one panel per site) and rank histograms of an SBC study.

    ECDF difference: the empirical CDF of the normalised ranks minus the uniform CDF,
    one line per element of a site, inside the 95% simultaneous band for one
    quantity (:func:`ecdf_band`). Histogram:
    rank counts per bin for the scalar quantities, with the central 99% range of a
    bin's count under uniformity.
    """
    from scipy import stats

    folder = Path(folder)
    ranks, tests, cfg = res.ranks, res.tests, res.cfg
    n_rep, kept, bins = len(ranks), cfg.sbc.draws_kept, cfg.sbc.bins
    site = pd.Series(ranks.columns.str.replace(r"\[\d+\]$", "", regex=True), index=ranks.columns)
    sites = list(dict.fromkeys(site))
    x = np.arange(1, kept + 1) / (kept + 1)  # ECDF of rank/(kept+1) evaluated between ranks
    lower, upper = ecdf_band(n_rep, x, prob=0.95)
    ncol = min(4, len(sites))
    nrow = -(-len(sites) // ncol)
    fig = new_figure((3.4 * ncol, 2.7 * nrow))
    for k, name in enumerate(sites):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        ax.fill_between(x, lower - x, upper - x, color="0.85", step="mid", label="95% simultaneous band")
        cols = site.index[site == name]
        for col in cols:
            ecdf = (ranks[col].to_numpy()[:, None] < np.arange(1, kept + 1)).mean(axis=0)
            bad = not tests.loc[col, "ok"]
            ax.plot(x, ecdf - x, lw=1.4 if bad else 0.8, color="C3" if bad else "C0",
                    alpha=1.0 if bad or len(cols) == 1 else 0.5)
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(f"{name} ({len(cols)})" if len(cols) > 1 else name, fontsize=9)
        ax.set_xlabel("normalised rank", fontsize=8)
        ax.tick_params(labelsize=7)
        if k % ncol == 0:
            ax.set_ylabel("ECDF - uniform", fontsize=8)
    fig.suptitle(f"SBC of {cfg.model.name}: {n_rep} replications, {'PASSED' if res.passed else 'FAILED'} "
                 f"(red: quantities failing the uniformity check)", fontsize=10)
    fig.tight_layout()
    ecdf_path = folder / "sbc_ecdf.png"
    fig.savefig(ecdf_path, dpi=110)

    scalars = [c for c in ranks.columns if "[" not in c]
    fig = new_figure((3.2 * len(scalars), 2.6))
    lo, hi = stats.binom.ppf([0.005, 0.995], n_rep, 1.0 / bins)
    for k, col in enumerate(scalars):
        ax = fig.add_subplot(1, len(scalars), k + 1)
        counts = np.bincount(ranks[col].to_numpy() * bins // (kept + 1), minlength=bins)
        ax.axhspan(lo, hi, color="0.88", label="99% range if uniform")
        ax.bar(np.arange(bins), counts, width=0.9, color="C0" if tests.loc[col, "ok"] else "C3")
        ax.axhline(n_rep / bins, color="0.4", lw=0.7)
        ax.set_title(f"{col}  p = {tests.loc[col, 'p_value']:.2g}", fontsize=9)
        ax.set_xlabel(f"rank bin (of {bins})", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    hist_path = folder / "sbc_ranks.png"
    fig.savefig(hist_path, dpi=110)
    return [ecdf_path, hist_path]
