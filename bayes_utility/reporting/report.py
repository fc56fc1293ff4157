"""Reports people read: one self-contained HTML file and a Markdown twin per run.

``bayes-utility report RUN [RUN ...]`` (and every ``bayes-utility fit``) writes
``report.html`` (images embedded, no external files or scripts) and ``report.md``
(images in ``report_assets/``) into the run folder (the first one when several runs
are given). Content, each where the run has it:

1. the diagnostics verdict, first, in red when R-hat, ESS, divergences or E-BFMI
   fail, with what to do;
2. utilities: a forest plot with credible intervals, sorted, and one grouped by
   category, with outcome texts; a table of the top and bottom outcomes;
3. rank posteriors: each outcome's rank interval and P(top 5);
4. posterior predictive calibration: predicted vs. empirical P("A") per bin of
   comparisons, with the empirical proportion's interval and the posterior
   predictive interval of the bin's proportion;
5. held-out accuracy and log-loss with intervals;
6. scalar parameters (spreads, order bias) with intervals;
7. with several runs on the same comparisons: a PSIS-LOO comparison table;
8. provenance: config, data hash, versions, seed, timing, respondents and prompt.

Every number is printed with its interval, at a precision set by the interval's width.
How it is written (HTML and Markdown, escaping, layout) lives in
:mod:`bayes_utility.reporting.doc`, and each analysis brings its own section
(:mod:`bayes_utility.analyses.registry`). Why one module (about 460 lines): it keeps what is
said about every fit, section by section in reading order.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..analyses.common import decimals_for, fmt_interval
from ..analyses.registry import ANALYSES, GROUP_TITLES
from ..figures import new_figure, png_bytes
from .doc import GAP_MARK, Doc, Image
from .tables import TOP_K, rank_table

ASSETS = "report_assets"


def predictive_calibration(idata, n_bins: int = 10, max_draws: int = 500, prob: float = 0.94,
                           seed: int = 0) -> pd.DataFrame:
    """Predicted vs. empirical P("A") over bins of the fitted comparisons.

    Comparisons are binned by their posterior-mean predicted P("A") (equal-count
    bins). Per bin: the mean prediction; the empirical share of "A" answers with its
    Jeffreys interval; and the posterior predictive interval of that share
    (answers re-drawn from the model for posterior draws), which is what a
    well-calibrated model's empirical share should fall in.
    """
    from scipy import stats

    from ..inference.pointwise import score_params as _score_params
    from ..models import get_model
    from ..models.likelihood import cdf

    post, const = idata.posterior, idata.constant_data
    mod = get_model(post.attrs["model"])
    rng = np.random.default_rng(seed)
    flat = post.stack(sample=("chain", "draw"))
    take = np.sort(rng.choice(flat.sizes["sample"], size=min(max_draws, flat.sizes["sample"]), replace=False))
    from ..inference.pointwise import SCORE_PARAMS

    params = {k: np.moveaxis(np.asarray(flat[k].values), -1, 0)[take] for k in SCORE_PARAMS if k in flat}
    import jax.numpy as jnp

    inputs = {"respondent": jnp.asarray(const["respondent_idx"].values)} if "respondent_idx" in const else {}
    z = mod.latent_score(_score_params(params), jnp.asarray(const["idx_a"].values),
                         jnp.asarray(const["idx_b"].values), bool(post.attrs.get("order_bias", 0)), **inputs)
    p = np.asarray(cdf(z, mod.LINK), dtype=float)  # draws x comparisons
    k = np.asarray(idata.observed_data["y"].values, dtype=float)
    n = np.asarray(const["n"].values, dtype=float)
    keep = n > 0
    p, k, n = p[:, keep], k[keep], n[keep]
    p_mean = p.mean(axis=0)
    edges = np.unique(np.quantile(p_mean, np.linspace(0, 1, n_bins + 1)))
    bins = np.clip(np.searchsorted(edges, p_mean, side="right") - 1, 0, len(edges) - 2)
    n_int = np.round(n).astype(int)
    k_rep = rng.binomial(n_int[None, :], np.clip(p, 0, 1))
    rows = []
    for b in range(len(edges) - 1):
        m = bins == b
        if not m.any():
            continue
        kb, nb = k[m].sum(), n[m].sum()
        lo, hi = stats.beta.ppf([(1 - prob) / 2, (1 + prob) / 2], kb + 0.5, nb - kb + 0.5)
        lo, hi = (0.0 if kb == 0 else lo), (1.0 if kb == nb else hi)  # Jeffreys, ends fixed at 0 and 1
        rep = k_rep[:, m].sum(axis=1) / max(n_int[m].sum(), 1)
        rlo, rhi = np.quantile(rep, [(1 - prob) / 2, (1 + prob) / 2])
        rows.append({"bin": b, "comparisons": int(m.sum()), "answers": float(nb), "predicted": float(p_mean[m].mean()),
                     "empirical": float(kb / nb), "empirical_lo": float(lo), "empirical_hi": float(hi),
                     "predictive_lo": float(rlo), "predictive_hi": float(rhi)})
    out = pd.DataFrame(rows)
    out["inside"] = (out["empirical"] >= out["predictive_lo"]) & (out["empirical"] <= out["predictive_hi"])
    return out


def _calibration_figure(cal: pd.DataFrame, prob: float) -> Image:
    fig = new_figure((5.2, 4.6))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--", label="perfect calibration")
    ax.vlines(cal["predicted"], cal["predictive_lo"], cal["predictive_hi"], color="C0", lw=6, alpha=0.35,
              label=f"{prob:.0%} posterior predictive interval")
    ax.errorbar(cal["predicted"], cal["empirical"],
                yerr=[cal["empirical"] - cal["empirical_lo"], cal["empirical_hi"] - cal["empirical"]],
                fmt="o", color="C3", ms=4, capsize=2, label=f"observed share of 'A' ({prob:.0%} interval)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(answer 'A') (posterior mean, binned)")
    ax.set_ylabel("observed share of 'A' answers")
    ax.set_title("Posterior predictive calibration (fitted comparisons)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return Image("calibration.png", "Predicted against observed preference probability, by bin of comparisons. "
                 "Red points should fall inside the blue bars.", png_bytes(fig))


def _rank_figure(ranks: pd.DataFrame, n_show: int = 30) -> Image:
    from .plots import _shorten

    r = ranks.head(n_show)
    fig = new_figure((9, max(2.5, 0.22 * len(r) + 1.0)))
    ax = fig.add_subplot()
    y = np.arange(len(r))[::-1]
    ax.hlines(y, r["rank_lo"], r["rank_hi"], color="C0", lw=2)
    ax.plot(r["rank_median"], y, "o", color="C0", ms=4)
    ax.set_yticks(y)
    ax.set_yticklabels([_shorten(t, 60) for t in r["text"]], fontsize=7)
    ax.set_xlabel("rank (1 = most preferred): posterior median and 94% interval")
    ax.set_title(f"Rank posteriors of the {len(r)} best outcomes", fontsize=10)
    ax.invert_xaxis()
    fig.tight_layout()
    return Image("ranks.png", "Where each outcome ranks, with its uncertainty.", png_bytes(fig))


# ------------------------------------------------------------------ content
@dataclass
class RunContent:
    run_dir: Path
    name: str
    verdict: dict
    verdict_text: str
    summary: pd.DataFrame
    scalars: pd.DataFrame | None
    heldout: dict | None
    ranks: pd.DataFrame
    calibration: pd.DataFrame
    provenance: dict
    config_text: str
    hdi_prob: float
    images: list[Image] = field(default_factory=list)
    idata: object = None
    analyses: dict = field(default_factory=dict)  # analysis name -> its result in the run folder (registry)
    report_dir: Path | None = None  # where the report that shows this run is written

    def href(self, name: str) -> str:
        """A link from the report to one of this run's files."""
        return Path(os.path.relpath(self.run_dir / name, self.report_dir or self.run_dir)).as_posix()


def collect(run_dir: str | Path) -> RunContent:
    """Everything a report shows about one run folder."""
    from .runfolder import load_run

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    idata, summ, diag, held = run.idata, run.summary, run.diagnostics, run.heldout
    prov = json.loads((run_dir / "provenance.json").read_text()) if (run_dir / "provenance.json").exists() else {}
    cfg_text = (run_dir / "config.yaml").read_text() if (run_dir / "config.yaml").exists() else ""
    import yaml

    cfg = yaml.safe_load(cfg_text) if cfg_text else {}
    hdi_prob = float(cfg.get("output", {}).get("hdi_prob", 0.94))
    scal_path = run_dir / "summary_scalars.csv"
    scalars = pd.read_csv(scal_path) if scal_path.exists() else None
    content = RunContent(
        run_dir=run_dir, name=run_dir.name, verdict=diag,
        verdict_text=(run_dir / "verdict.txt").read_text().strip() if (run_dir / "verdict.txt").exists() else "",
        summary=summ, scalars=scalars, heldout=held, ranks=rank_table(idata, prob=hdi_prob),
        calibration=predictive_calibration(idata, prob=hdi_prob), provenance=prov, config_text=cfg_text,
        hdi_prob=hdi_prob, idata=idata,
    )
    tmp = run_dir / ASSETS
    tmp.mkdir(exist_ok=True)
    from .plots import forest_title

    title = forest_title(run_dir.name, str(prov.get("model", "")), str(diag.get("method", "nuts")))
    point = diag.get("method") == "map"
    for name, grouped, caption in (
        ("utilities.png", False, "Utilities sorted from least to most preferred, "
         + ("MAP point estimates (no intervals)." if point else "with credible intervals.")),
        ("utilities_by_category.png", True, "The same utilities grouped by outcome category."),
    ):
        if grouped and len({c for c in summ["category"] if isinstance(c, str) and c}) < 2:
            continue
        if not grouped and (run_dir / name).exists():  # the run's own forest plot: not drawn twice
            png = (run_dir / name).read_bytes()
        else:
            from .plots import forest_figure

            png = png_bytes(forest_figure(summ, title=title, grouped=grouped))
        content.images.append(Image(name, caption, png))
    content.images.append(_rank_figure(content.ranks))
    content.images.append(_calibration_figure(content.calibration, hdi_prob))
    for analysis in ANALYSES:  # what each analysis left in the run folder
        result = analysis.read(run_dir)
        if result is not None:
            content.analyses[analysis.name] = result
        for name, caption in analysis.images:
            if (run_dir / name).exists():
                content.images.append(Image(name, caption, (run_dir / name).read_bytes()))
    for img in content.images:
        (tmp / img.name).write_bytes(img.png)
    return content


def loo_comparison(contents: list[RunContent]) -> tuple[pd.DataFrame | None, str]:
    """PSIS-LOO comparison when the runs fitted the same comparisons; else why not."""
    from ..inference.compare import NotComparable, compare_idata

    if len(contents) < 2:
        return None, ""
    try:
        return compare_idata({c.name: c.idata for c in contents}), ""
    except NotComparable as exc:
        return None, f"not compared: {exc}"


def _verdict_class(v: dict) -> str:
    if v.get("method", "nuts") != "nuts":
        return "approx"
    return "pass" if v.get("ok") else "fail"


CHANCE_ACCURACY = 0.5  # a 50/50 guess on every held-out pair


CHANCE_LOG_LOSS = math.log(2.0)  # the log-loss of P(A) = 0.5 everywhere


RUN_FILES = ("posterior.nc", "summary.csv", "summary_scalars.csv", "ranks.csv", "diagnostics.json", "heldout.json",
             "config.yaml", "provenance.json")


def _calibration_reading(inside: int, bins: int, prob: float) -> str:
    """What the count of bins inside their band says, against Binomial(bins, prob)."""
    from scipy import stats

    expected = prob * bins
    p_low = float(stats.binom.cdf(inside, bins, prob))
    if p_low < 0.05:
        return (f"fewer than the {expected:.1f} expected of a calibrated model (P = {p_low:.3f} of so few by "
                "chance): the model misses part of how the answers vary; see the plot for where.")
    return f"as expected of a calibrated model (about {expected:.1f} of {bins}; fewer would signal misfit)."


def _utility_rows(summ: pd.DataFrame, prob: float, top: int = 10) -> pd.DataFrame:
    s = summ[summ["quantity"] == "utility"].sort_values("mean", ascending=False)
    hdi = [c for c in s.columns if c.startswith("hdi_")]
    hidden = len(s) - 2 * top if len(s) > 2 * top else 0
    if hidden:
        s = pd.concat([s.head(top), s.tail(top)])
    # one precision for the whole column, from the typical interval width
    dec = decimals_for(float(np.median(s[hdi[1]] - s[hdi[0]]))) if len(hdi) == 2 else 3
    rows = []
    for d in s.to_dict("records"):
        cat = d.get("category")
        row = {"outcome": d["text"], "category": cat if isinstance(cat, str) else ""}
        if len(hdi) == 2:
            row[f"utility [{prob:.0%} HDI]"] = fmt_interval(d["mean"], d[hdi[0]], d[hdi[1]], decimals=dec)
        else:
            row["utility (point estimate)"] = f"{d['mean']:.3f}"
        rows.append(row)
        if hidden and len(rows) == top:
            rows.append({"outcome": f"{GAP_MARK} {hidden} outcomes not shown (all of them: summary.csv) {GAP_MARK}"})
    return pd.DataFrame(rows).fillna("")


def _analysis_sections(doc: Doc, c: RunContent, assets: str, level: int, group: str) -> None:
    """The sections of the analyses of one group that the run folder holds (registry order)."""
    present = [a for a in ANALYSES if a.group == group and c.analyses.get(a.name) is not None
               and a.section is not None]
    if not present:
        return
    if group in GROUP_TITLES:
        doc.heading(GROUP_TITLES[group], level)
    for a in present:
        if group == "values":
            doc.heading(a.title, level + 1)
        a.section(doc, c, c.analyses[a.name], assets, level)


def _run_section(doc: Doc, c: RunContent, assets: str, level: int = 2):
    prob = c.hdi_prob
    doc.heading("Can this fit be trusted?", level)
    doc.verdict(c.verdict_text or json.dumps(c.verdict, indent=1), _verdict_class(c.verdict))
    if c.verdict.get("method", "nuts") == "nuts" and not c.verdict.get("ok"):
        doc.para("Do not report these numbers yet: follow the advice above (more warm-up and draws, a higher "
                 "target_accept, or model.centered: false for weak preference signal) and refit.", "note")

    point = c.verdict.get("method") == "map"  # a point estimate: no interval, rank interval or P(top k)
    doc.heading("Utilities", level)
    n_out = int((c.summary["quantity"] == "utility").sum())
    if point:
        doc.para(f"{n_out} outcomes. Utilities are standardised (zero mean, unit sample sd across outcomes). A MAP point "
                 "estimate: no uncertainty is available, so none is shown. Higher is more preferred.", "note")
    else:
        doc.para(f"{n_out} outcomes. Utilities are standardised per posterior draw (zero mean, unit sample sd across "
                 f"outcomes); intervals are {prob:.0%} highest-density intervals. Higher is more preferred.")
    for img in c.images[:2]:
        if img.name.startswith("utilities"):
            doc.image(img, assets)
    doc.table(_utility_rows(c.summary, prob))
    doc.links("Every outcome, with its diagnostics:", [("summary.csv", c.href("summary.csv")),
                                                       ("ranks.csv", c.href("ranks.csv"))])

    _analysis_sections(doc, c, assets, level, "respondents")

    doc.heading("Ranks", level)
    r = c.ranks.head(15)
    if point:
        doc.para("Rank 1 is the most preferred outcome, by the point estimate (no rank interval or probability "
                 "of a rank exists without a posterior).")
        doc.table(pd.DataFrame({"outcome": r["text"],
                                "rank (point estimate)": [f"{m:.0f}" for m in r["rank_median"]]}))
    else:
        doc.para(f"Rank 1 is the most preferred outcome. Interval: {prob:.0%} of the posterior; P(top {TOP_K}): "
                 f"the posterior probability that the outcome is among the {TOP_K} most preferred.")
        doc.table(pd.DataFrame({
            "outcome": r["text"],
            f"rank [{prob:.0%} interval]": [f"{m:.0f} [{lo:.0f}, {hi:.0f}]"
                                             for m, lo, hi in zip(r["rank_median"], r["rank_lo"], r["rank_hi"])],
            f"P(top {TOP_K})": [f"{p:.2f}" for p in r[f"p_top{TOP_K}"]],
        }), numeric=(f"P(top {TOP_K})",))
        doc.image(next(i for i in c.images if i.name == "ranks.png"), assets)

    doc.heading("Does the model predict the answers?", level)
    if point:
        doc.para("A posterior predictive check needs a posterior: refit with inference.method: nuts.", "note")
    else:
        cal = c.calibration
        inside = int(cal["inside"].sum())
        doc.para(f"Posterior predictive check on the fitted comparisons: {inside} of {len(cal)} bins have their "
                 f"observed share of 'A' answers inside the {prob:.0%} posterior predictive interval: "
                 + _calibration_reading(inside, len(cal), prob))
        doc.image(next(i for i in c.images if i.name == "calibration.png"), assets)
    if c.heldout and point:
        h = c.heldout
        doc.para(f"Held-out pairs ({h['n_pairs']} pairs never seen by the fit), at the point estimate:")
        doc.table(pd.DataFrame([
            {"metric": "accuracy (higher is better)",
             "at the point estimate ± s.e. over pairs": f"{h['accuracy']['point']:.3f} ± {h['accuracy']['se_pairs']:.3f}",
             "chance (a 50/50 guess)": f"{CHANCE_ACCURACY:.3f}"},
            {"metric": "log-loss (lower is better)",
             "at the point estimate ± s.e. over pairs": f"{h['log_loss']['point']:.3f} ± {h['log_loss']['se_pairs']:.3f}",
             "chance (a 50/50 guess)": f"{CHANCE_LOG_LOSS:.3f}"},
        ]))
    elif c.heldout:
        h = c.heldout
        acc, ll = h["accuracy"], h["log_loss"]
        doc.para(f"Held-out pairs ({h['n_pairs']} pairs never seen by the fit; {h['n_ties']} with an observed "
                 "preference of exactly 0.5 are left out of accuracy):")
        doc.table(pd.DataFrame([
            {"metric": "accuracy (higher is better)",
             "posterior [interval]": fmt_interval(acc["mean"], *acc["interval"]),
             "at the posterior-mean prediction ± s.e. over pairs": f"{acc['point']:.3f} ± {acc['se_pairs']:.3f}",
             "chance (a 50/50 guess)": f"{CHANCE_ACCURACY:.3f}"},
            {"metric": "log-loss (lower is better)",
             "posterior [interval]": fmt_interval(ll["mean"], *ll["interval"]),
             "at the posterior-mean prediction ± s.e. over pairs": f"{ll['point']:.3f} ± {ll['se_pairs']:.3f}",
             "chance (a 50/50 guess)": f"{CHANCE_LOG_LOSS:.3f}"},
        ]))
        better = acc["interval"][0] > CHANCE_ACCURACY and ll["interval"][1] < CHANCE_LOG_LOSS
        doc.para("Both intervals are better than chance: the utilities predict answers they were not fitted to."
                 if better else "An interval reaches chance: on these held-out pairs the utilities predict little "
                 "better than a coin.", "note")
    else:
        doc.para("No pairs were held out (heldout.fraction: 0), so there is no out-of-sample accuracy.", "note")

    _analysis_sections(doc, c, assets, level, "coherence")
    _analysis_sections(doc, c, assets, level, "values")

    if c.scalars is not None and len(c.scalars):
        doc.heading("Model parameters", level)
        hdi = [col for col in c.scalars.columns if col.startswith("hdi_")]
        if len(hdi) == 2 and not point:
            values = {f"posterior mean [{prob:.0%} HDI]": [
                fmt_interval(m, lo, hi) for m, lo, hi in zip(c.scalars["mean"], c.scalars[hdi[0]], c.scalars[hdi[1]])]}
        else:
            values = {"point estimate": c.scalars["mean"].map(lambda v: f"{v:.3f}")}
        doc.table(pd.DataFrame({"parameter": c.scalars["parameter"], **values}))

    doc.heading("Provenance", level)
    p = c.provenance
    rows = [
        ("data", str(p.get("data_source", ""))), ("data sha256", str(p.get("data_sha256", ""))),
        ("respondents (LLMs)", ", ".join(p.get("respondents", []) or [])),
        ("prompt templates", ", ".join(p.get("prompt_templates", []) or [])),
        ("outcomes / comparison rows fitted", f"{p.get('n_outcomes', '')} / {p.get('n_rows_fitted', '')} "
                                              f"({p.get('comparison_unit', '')})"),
        ("model / inference", f"{p.get('model', '')} / {p.get('inference_method', '')}"),
        ("seed", str(p.get("seed", ""))),
        ("time", ", ".join(f"{k} {v:.1f}" for k, v in (p.get("timing_s") or {}).items()
                           if isinstance(v, (int, float)) and k.endswith("_s"))),
        ("versions", ", ".join(f"{k} {v}" for k, v in (p.get("versions") or {}).items())),
        ("git", str(p.get("git_sha", ""))), ("created (UTC)", str(p.get("created_utc", ""))),
    ]
    doc.table(pd.DataFrame(rows, columns=["item", "value"]))
    doc.links("The run's files:", [(name, c.href(name)) for name in RUN_FILES if (c.run_dir / name).exists()])
    doc.para("The resolved config (every default spelled out):")
    doc.pre(c.config_text)


def write_report(run_dirs: list[str | Path], out: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` for one or more run folders; returns their paths."""
    if not run_dirs:
        raise ValueError("give at least one run folder")
    contents = [collect(d) for d in run_dirs]
    out_dir = Path(out) if out else contents[0].run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for c in contents:
        c.report_dir = out_dir
    doc = Doc()
    title = contents[0].name if len(contents) == 1 else f"{len(contents)} runs: " + ", ".join(c.name for c in contents)
    doc.heading(f"bayes_utility report: {title}", 1)
    if len(contents) > 1:
        table, why = loo_comparison(contents)
        doc.heading("Model comparison (PSIS-LOO)")
        if table is None:
            doc.para(why, "note")
        else:
            t = table.reset_index()
            doc.para("Expected log predictive density (higher is better) with its standard error; differences to "
                     "the best run with their standard error; stacking weights. Pareto k > 0.7 makes a run's "
                     "estimate unreliable (the warning column).")
            doc.table(pd.DataFrame({
                "run": t["run"], "rank": t["rank"],
                "elpd_loo ± se": [f"{e:.1f} ± {s:.1f}" for e, s in zip(t["elpd_loo"], t["se"])],
                "difference ± se": [f"{d:.1f} ± {s:.1f}" for d, s in zip(t["elpd_diff"], t["dse"])],
                "weight": [f"{w:.2f}" for w in t["weight"]], "warning": t["warning"],
            }))
    for c in contents:
        if len(contents) > 1:
            doc.heading(f"Run {c.name}")
        assets = ASSETS if c.run_dir == out_dir else f"{Path(c.run_dir.resolve()).as_posix()}/{ASSETS}"
        _run_section(doc, c, assets, level=2 if len(contents) == 1 else 3)
    html_text = doc.page(title)
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    html_path.write_text(html_text, encoding="utf-8")
    md_path.write_text("\n".join(doc.md), encoding="utf-8")
    return html_path, md_path
