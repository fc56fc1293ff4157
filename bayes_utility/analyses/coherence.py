"""The coherence summary of a run: held-out fit, cycles in triads and expected-utility behaviour together."""
from __future__ import annotations

from .common import fmt_iv
from .context import RunContext
from .transitivity import run_transitivity


# ------------------------------------------------------------------ summary
def coherence_summary(run: RunContext, max_triads: int | None = 5000, seed: int = 0) -> dict:
    """Every coherence figure a run folder supports, each with its interval, written to
    ``coherence.json``: held-out accuracy and log-loss, cycle probability and
    majority-cycle share (where the data have triads), the expected-utility metrics
    (expected-utility fits), the maximisation share and the instrumental-values score
    (where those analyses were run). What a run cannot give is listed with the reason."""
    import json

    run_dir = run.run_dir
    out: dict = {"run": run_dir.name, "missing": {}}
    held_path = run_dir / "heldout.json"
    if held_path.exists():
        h = json.loads(held_path.read_text())
        out["heldout_accuracy"] = h["accuracy"]
        out["heldout_log_loss"] = h["log_loss"]
    else:
        out["missing"]["heldout"] = "no pairs were held out (heldout.fraction: 0)"
    try:
        res = run_transitivity(run, max_triads=max_triads, seed=seed)
        out["cycle_probability"] = res["cycle_probability"]
        out["majority_cycle_share"] = res["majority_cycle_share"]
        out["n_triads"] = res["n_triads"]
    except ValueError as exc:
        out["missing"]["transitivity"] = str(exc)
    eu_path = run_dir / "expected_utility.json"
    if eu_path.exists():
        out["expected_utility"] = json.loads(eu_path.read_text())
    else:
        out["missing"]["expected_utility"] = "not an expected-utility fit (model.name: expected_utility)"
    for name, why in (("maximization", "no free-form answers analysed (bayes-utility maximization RUN --answers F)"),
                      ("instrumental", "no Markov-process histories analysed (bayes-utility instrumental RUN)")):
        path = run_dir / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text())
        else:
            out["missing"][name] = why
    (run_dir / "coherence.json").write_text(json.dumps(out, indent=2))
    return out


def format_coherence(res: dict) -> str:
    lines = [f"coherence of {res['run']}:"]
    if "heldout_accuracy" in res:
        lines.append(f"  held-out accuracy                 {fmt_iv(res['heldout_accuracy'])}")
        lines.append(f"  held-out log-loss                 {fmt_iv(res['heldout_log_loss'])}")
    if "cycle_probability" in res:
        c = res["cycle_probability"]
        lines.append(f"  P(cycle) in {res['n_triads']} triads, empirical   {fmt_iv(c['empirical'])}"
                     + (f"; model {fmt_iv(c['model'])}" if "model" in c else "")
                     + f"; magnitude-only {c['magnitude_only_null']:.3f}")
    if "expected_utility" in res:
        e = res["expected_utility"]
        lines.append(f"  EU-violation scale (standardised) {fmt_iv(e['eu_violation_std'])}")
        lines.append(f"  Pearson r, U(L) vs EU(L)          {fmt_iv(e['pearson_r_utility_vs_expected_utility'])}")
    if "maximization" in res:
        m = res["maximization"]
        lines.append(f"  free-form answer = utility argmax {fmt_iv(m['share'])} of {m['n_questions']} questions; "
                     f"maximisation rate {fmt_iv(m['maximisation_rate'])}")
    if "instrumental" in res:
        i = res["instrumental"]
        lines.append(f"  mean |Bellman error| (instrumental) {fmt_iv(i['bellman_mae'])} over {i['n_start_states']} states")
    for k, why in res["missing"].items():
        lines.append(f"  ({k}: {why})")
    return "\n".join(lines)
