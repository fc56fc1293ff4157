r"""Active learning: which pairs to ask next, given what the answers so far say.

Two acquisition rules over the unordered pairs not yet asked:

``paper``
    The reference method's scheme: among candidate pairs, those in the bottom
    ``gap_quantile`` (10%) of :math:`|\hat\mu_a - \hat\mu_b|` and the bottom
    ``degree_quantile`` (20%) of summed degree (how often the two outcomes were
    already compared), at random; topped up from the smallest gaps when the
    intersection is short. :math:`\hat\mu` is the posterior mean.
``bald``
    Bayesian: the expected information an answer gives about the parameters
    (Houlsby et al. 2011, "BALD"), :math:`I = H(\bar p) - \overline{H(p)}` with
    :math:`p` = P("A") under each posterior draw; the pairs with the largest
    :math:`I`, at most ``max_per_outcome`` new pairs per outcome per round so one
    round does not pile onto a few outcomes.
``random``
    Uniformly random pairs (the baseline).

:func:`simulate_active_learning` runs rounds against a simulated respondent (ask,
refit by NUTS, choose) until a pair budget is spent, and records how well the
utilities are known after each round; ``benchmarks/active_learning.py`` compares
the rules.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

STRATEGIES = ("random", "paper", "bald")


def _release_compiled() -> None:
    """Drop JAX's compiled programs: every round has new shapes, and a long loop that kept
    them all would exhaust the process's memory maps (LLVM "Cannot allocate memory")."""
    import jax

    jax.clear_caches()


def _pair_index(n: int) -> np.ndarray:
    return np.array(np.triu_indices(n, 1)).T


def candidates(n_outcomes: int, asked: np.ndarray) -> np.ndarray:
    """All unordered pairs ``(i < j)`` not in ``asked``."""
    full = _pair_index(n_outcomes)
    if len(asked) == 0:
        return full
    a = np.sort(asked, axis=1)
    taken = np.zeros((n_outcomes, n_outcomes), dtype=bool)
    taken[a[:, 0], a[:, 1]] = True
    return full[~taken[full[:, 0], full[:, 1]]]


def degrees(n_outcomes: int, asked: np.ndarray) -> np.ndarray:
    return np.bincount(asked.ravel(), minlength=n_outcomes) if len(asked) else np.zeros(n_outcomes, int)


def paper_acquisition(mu_hat: np.ndarray, asked: np.ndarray, n_new: int, rng: np.random.Generator,
                      gap_quantile: float = 0.10, degree_quantile: float = 0.20) -> np.ndarray:
    cand = candidates(len(mu_hat), asked)
    n_new = min(n_new, len(cand))
    gap = np.abs(mu_hat[cand[:, 0]] - mu_hat[cand[:, 1]])
    deg = degrees(len(mu_hat), asked)
    dsum = deg[cand[:, 0]] + deg[cand[:, 1]]
    both = np.flatnonzero((gap <= np.quantile(gap, gap_quantile)) & (dsum <= np.quantile(dsum, degree_quantile)))
    chosen = rng.permutation(both)[:n_new]
    if len(chosen) < n_new:
        rest = np.setdiff1d(np.argsort(gap, kind="stable"), chosen, assume_unique=False)
        chosen = np.concatenate([chosen, rest[: n_new - len(chosen)]])
    return cand[chosen]


def bald_scores(p_draws: np.ndarray) -> np.ndarray:
    """Mutual information between one answer and the parameters, per candidate (nats)."""
    p = np.clip(np.asarray(p_draws, dtype=np.float64), 1e-12, 1 - 1e-12)

    def h(q):
        return -(q * np.log(q) + (1 - q) * np.log1p(-q))

    return h(p.mean(axis=0)) - h(p).mean(axis=0)


def bald_acquisition(p_of, n_outcomes: int, asked: np.ndarray, n_new: int, max_per_outcome: int = 4
                     ) -> np.ndarray:
    """The ``n_new`` most informative unasked pairs; ``p_of(pairs)`` gives P("A") draws x pairs."""
    cand = candidates(n_outcomes, asked)
    score = bald_scores(p_of(cand))
    used = np.zeros(n_outcomes, int)
    picked = []
    for c in np.argsort(-score, kind="stable"):
        a, b = cand[c]
        if used[a] < max_per_outcome and used[b] < max_per_outcome:
            picked.append(c)
            used[a] += 1
            used[b] += 1
            if len(picked) == n_new:
                break
    return cand[np.array(picked, dtype=int)]


def choose_pairs(strategy: str, posterior, asked: np.ndarray, n_new: int, rng: np.random.Generator,
                 max_draws: int = 200) -> np.ndarray:
    """The next ``n_new`` unordered pairs by ``strategy``, from a fit's posterior (xarray Dataset)."""
    from ..inference.pointwise import score_params as _score_params
    from ..models import get_model
    from ..models.likelihood import cdf

    n = posterior.sizes["outcome"]
    if strategy == "random":
        cand = candidates(n, asked)
        return cand[rng.choice(len(cand), size=min(n_new, len(cand)), replace=False)]
    if strategy == "paper":
        location = posterior["mu" if "mu" in posterior else "u"].mean(("chain", "draw")).values
        return paper_acquisition(location, asked, n_new, rng)
    if strategy != "bald":
        raise ValueError(f"unknown strategy {strategy!r}; use one of {STRATEGIES}")
    mod = get_model(posterior.attrs["model"])
    flat = posterior.stack(s=("chain", "draw"))
    take = rng.choice(flat.sizes["s"], size=min(max_draws, flat.sizes["s"]), replace=False)
    params = _score_params({k: np.moveaxis(flat[k].values, -1, 0)[take] for k in ("mu", "sigma", "u") if k in flat})

    def p_of(pairs):  # order bias, when modelled, shifts both orders alike: it is left out here
        return np.asarray(cdf(mod.latent_score(params, pairs[:, 0], pairs[:, 1]), mod.LINK))

    return bald_acquisition(p_of, n, asked, n_new)


def simulate_active_learning(truth, strategy: str, *, k_per_order: int = 5, budget_pairs: int | None = None,
                             round_pairs: int = 100, seed: int = 0, chains: int = 2, warmup: int = 300,
                             draws: int = 300) -> pd.DataFrame:
    """Rounds of ask-refit-choose against a simulated respondent; one row per round.

    Starts, as the reference method, from a random cycle over the outcomes (every
    outcome compared twice); each round asks ``round_pairs`` new pairs (both orders,
    ``k_per_order`` answers each) chosen by ``strategy``, refits, and records the
    answers so far, the Spearman correlation of the posterior-mean utilities with
    the truth, and the mean width of the 90% intervals. Stops at ``budget_pairs``
    (default: the paper's ceil(2 N log2 N)).
    """
    from scipy import stats

    from ..config import RunConfig
    from ..data.dataset import PreferenceData
    from ..data.schema import DEFAULT_TEMPLATE
    from ..data.simulate import paper_pair_count, simulate_counts
    from ..inference.pipeline import fit_run

    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use one of {STRATEGIES}")
    n = len(truth.mu)
    budget = budget_pairs or paper_pair_count(n)
    rng = np.random.default_rng(seed)
    ids = np.array([f"o{i}" for i in range(n)], dtype=object)
    outcomes = pd.DataFrame({"id": ids, "text": [f"Outcome {i}" for i in range(n)], "category": None,
                             "attributes": None})
    perm = rng.permutation(n)
    asked = np.sort(np.stack([perm, np.roll(perm, -1)], axis=1), axis=1)
    counts = simulate_counts(truth, asked, k_per_order, rng)
    cfg = RunConfig(data={"path": "-"}, model={"name": "thurstonian" if truth.link == "probit" else "bradley_terry"},
                    inference={"chains": chains, "warmup": warmup, "draws": draws, "seed": seed,
                               "progress_bar": False})
    true_u = truth.standardized_utility()
    rows = []
    while True:
        t0 = time.perf_counter()
        table = pd.DataFrame({"respondent": "simulated", "outcome_a": ids[counts["idx_a"]],
                              "outcome_b": ids[counts["idx_b"]], "n_a": counts["n_a"], "n_b": counts["n_b"],
                              "n_unparseable": counts["n_unparseable"], "prompt_template": DEFAULT_TEMPLATE})
        data = PreferenceData.from_tables(outcomes, counts=table, source="active")
        post = fit_run(data, cfg).idata.posterior
        _release_compiled()
        u = post["utility"].stack(s=("chain", "draw")).transpose("s", "outcome").to_numpy()
        lo, hi = np.quantile(u, [0.05, 0.95], axis=0)
        rows.append({"strategy": strategy, "seed": seed, "round": len(rows), "pairs": len(asked),
                     "answers": int(counts[["n_a", "n_b"]].to_numpy().sum()),
                     "spearman": float(stats.spearmanr(u.mean(axis=0), true_u).statistic),
                     "width90": float(np.mean(hi - lo)), "fit_s": time.perf_counter() - t0})
        if len(asked) >= budget:
            break
        new = choose_pairs(strategy, post, asked, min(round_pairs, budget - len(asked)), rng)
        asked = np.concatenate([asked, new])
        counts = pd.concat([counts, simulate_counts(truth, new, k_per_order, rng)], ignore_index=True)
    return pd.DataFrame(rows)
