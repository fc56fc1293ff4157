r"""Seeded simulation of forced-choice preference data from known utilities.

Used by the tests, the benchmark and the bundled default dataset. Every function
takes an explicit :class:`numpy.random.Generator`; nothing is seeded globally.

Design (which pairs are asked)
    :func:`pair_design` starts from a random Hamiltonian cycle over the outcomes
    (a connected 2-regular graph, as the reference method's initial random 2-regular
    graph but never disconnected) and adds distinct random pairs up to the
    requested count; the reference method's budget is :func:`paper_pair_count`
    :math:`= \lceil 2 N \log_2 N \rceil` pairs.

Answers
    Both presentation orders of each pair are asked ``k_per_order`` times. With
    probability ``unparseable_rate`` an answer is unparseable; otherwise it is "A"
    with the model probability :math:`F(z)`, where for the Thurstonian profile
    :math:`z = (\mu_a - \mu_b)/\sqrt{\sigma_a^2 + \sigma_b^2} + \beta` and for
    Bradley-Terry :math:`z = u_a - u_b + \beta` (:math:`\beta`: order bias).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from .dataset import PreferenceData
from .schema import DEFAULT_TEMPLATE, standardised


def paper_pair_count(n_outcomes: int) -> int:
    """The reference method's pair budget, ``ceil(2 N log2 N)``, at most all pairs."""
    full = n_outcomes * (n_outcomes - 1) // 2
    return min(full, math.ceil(2 * n_outcomes * math.log2(max(n_outcomes, 2))))


def pair_design(n_outcomes: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Unordered pairs ``(i, j)``, ``i != j``: a random cycle plus random extra pairs.

    Returns an ``(n_pairs, 2)`` int array; the graph is connected whenever
    ``n_pairs >= n_outcomes`` (or all pairs when fewer exist).
    """
    if n_outcomes < 2:
        raise ValueError("need at least two outcomes")
    full = n_outcomes * (n_outcomes - 1) // 2
    if n_pairs > full:
        raise ValueError(f"{n_pairs} pairs requested but only {full} exist for {n_outcomes} outcomes")
    if n_pairs > full // 2:
        iu = np.array(np.triu_indices(n_outcomes, 1)).T
        return iu[np.sort(rng.choice(full, size=n_pairs, replace=False))]
    chosen: set[tuple[int, int]] = set()
    perm = rng.permutation(n_outcomes)
    cycle = [(perm[i], perm[(i + 1) % n_outcomes]) for i in range(n_outcomes)] if n_outcomes > 2 else [(0, 1)]
    for a, b in cycle[:n_pairs]:
        chosen.add((min(a, b), max(a, b)))
    while len(chosen) < n_pairs:
        need = n_pairs - len(chosen)
        a = rng.integers(0, n_outcomes, size=2 * need + 8)
        b = rng.integers(0, n_outcomes, size=2 * need + 8)
        for x, y in zip(a, b):
            if x != y:
                chosen.add((min(x, y), max(x, y)))
                if len(chosen) == n_pairs:
                    break
    out = np.array(sorted(chosen), dtype=np.int64)
    return out


@dataclass(frozen=True)
class SimulationTruth:
    """The known parameters behind simulated data."""

    mu: np.ndarray
    sigma: np.ndarray | None  # None for Bradley-Terry
    order_bias: float
    link: str

    def standardized_utility(self) -> np.ndarray:
        """Utilities on the reported scale: zero mean, unit sample sd across outcomes."""
        return standardised(self.mu)

    def noise_units(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, sigma)`` on the Thurstonian model's scale (geometric-mean noise 1)."""
        gm = float(np.exp(np.mean(np.log(self.sigma))))
        return (self.mu - self.mu.mean()) / gm, self.sigma / gm


def answer_probability(truth: SimulationTruth, idx_a: np.ndarray, idx_b: np.ndarray) -> np.ndarray:
    """P(answer "A") for rows showing ``idx_a`` first."""
    if truth.link == "probit":
        z = (truth.mu[idx_a] - truth.mu[idx_b]) / np.sqrt(truth.sigma[idx_a] ** 2 + truth.sigma[idx_b] ** 2)
        return ndtr(z + truth.order_bias)
    return expit(truth.mu[idx_a] - truth.mu[idx_b] + truth.order_bias)


def simulate_counts(
    truth: SimulationTruth,
    pairs: np.ndarray,
    k_per_order: int,
    rng: np.random.Generator,
    unparseable_rate: float = 0.0,
) -> pd.DataFrame:
    """Counts for both orders of each pair (columns as the ``counts`` table, ids as ints)."""
    if not 0.0 <= unparseable_rate < 1.0:
        raise ValueError("unparseable_rate must be in [0, 1)")
    idx_a = np.concatenate([pairs[:, 0], pairs[:, 1]])
    idx_b = np.concatenate([pairs[:, 1], pairs[:, 0]])
    p = answer_probability(truth, idx_a, idx_b)
    probs = np.stack([(1 - unparseable_rate) * p, (1 - unparseable_rate) * (1 - p),
                      np.full_like(p, unparseable_rate)], axis=1)
    draws = rng.multinomial(k_per_order, probs)
    return pd.DataFrame(
        {"idx_a": idx_a, "idx_b": idx_b, "n_a": draws[:, 0], "n_b": draws[:, 1], "n_unparseable": draws[:, 2]}
    )


def simulate_dataset(
    truth: SimulationTruth,
    rng: np.random.Generator,
    *,
    n_pairs: int | None = None,
    k_per_order: int = 10,
    unparseable_rate: float = 0.0,
    outcome_ids: list[str] | None = None,
    outcome_texts: list[str] | None = None,
    categories: list[str | None] | None = None,
    respondent: str = "simulated",
) -> PreferenceData:
    """Simulate a whole dataset (design + answers) as :class:`PreferenceData`."""
    n = len(truth.mu)
    n_pairs = paper_pair_count(n) if n_pairs is None else n_pairs
    pairs = pair_design(n, n_pairs, rng)
    sim = simulate_counts(truth, pairs, k_per_order, rng, unparseable_rate)
    ids = outcome_ids or [f"o{i}" for i in range(n)]
    outcomes = pd.DataFrame(
        {
            "id": ids,
            "text": outcome_texts or [f"Outcome {i}" for i in range(n)],
            "category": categories or [None] * n,
            "attributes": [None] * n,
        }
    )
    ids_arr = np.asarray(ids, dtype=object)
    counts = pd.DataFrame(
        {
            "respondent": respondent,
            "outcome_a": ids_arr[sim["idx_a"].to_numpy()],
            "outcome_b": ids_arr[sim["idx_b"].to_numpy()],
            "n_a": sim["n_a"],
            "n_b": sim["n_b"],
            "n_unparseable": sim["n_unparseable"],
            "prompt_template": DEFAULT_TEMPLATE,
        }
    )
    return PreferenceData.from_tables(outcomes, counts=counts, source=f"simulated:{respondent}")


def random_truth(
    n_outcomes: int,
    rng: np.random.Generator,
    *,
    link: str = "probit",
    utility_sd: float = 1.5,
    log_noise_sd: float = 0.3,
    order_bias: float = 0.0,
) -> SimulationTruth:
    """Draw utilities ``N(0, utility_sd)`` and noise ``exp(N(0, log_noise_sd))``."""
    mu = rng.normal(0.0, utility_sd, n_outcomes)
    sigma = np.exp(rng.normal(0.0, log_noise_sd, n_outcomes)) if link == "probit" else None
    return SimulationTruth(mu=mu, sigma=sigma, order_bias=order_bias, link=link)


@dataclass(frozen=True)
class HierarchicalTruth:
    """Known parameters of simulated respondents sharing population utilities
    (the hierarchical Thurstonian model's generative process)."""

    mu: np.ndarray  # population utilities (noise units)
    deviations: np.ndarray  # (respondents, outcomes), added to mu before scaling
    decisiveness: np.ndarray  # (respondents,)
    sigma: np.ndarray  # per-outcome noise
    order_bias: np.ndarray  # (respondents,)
    respondents: tuple[str, ...]

    @property
    def mu_resp(self) -> np.ndarray:
        return self.decisiveness[:, None] * (self.mu[None, :] + self.deviations)

    def respondent(self, r: int) -> SimulationTruth:
        """Respondent ``r`` as a flat Thurstonian truth."""
        return SimulationTruth(mu=self.mu_resp[r], sigma=self.sigma, order_bias=float(self.order_bias[r]),
                               link="probit")

    def correlation_with_population(self) -> np.ndarray:
        return np.array([np.corrcoef(m, self.mu)[0, 1] for m in self.mu_resp])


def simulate_respondents(
    truth: HierarchicalTruth,
    rng: np.random.Generator,
    *,
    n_pairs: int | None = None,
    k_per_order: int = 5,
    unparseable_rate: float = 0.0,
    outcome_ids: list[str] | None = None,
    outcome_texts: list[str] | None = None,
    categories: list[str | None] | None = None,
) -> PreferenceData:
    """Every respondent answers the same pair design, both orders, ``k_per_order`` times."""
    n = len(truth.mu)
    n_pairs = paper_pair_count(n) if n_pairs is None else n_pairs
    pairs = pair_design(n, n_pairs, rng)
    ids = outcome_ids or [f"o{i}" for i in range(n)]
    ids_arr = np.asarray(ids, dtype=object)
    frames = []
    for r, name in enumerate(truth.respondents):
        sim = simulate_counts(truth.respondent(r), pairs, k_per_order, rng, unparseable_rate)
        frames.append(pd.DataFrame({
            "respondent": name,
            "outcome_a": ids_arr[sim["idx_a"].to_numpy()],
            "outcome_b": ids_arr[sim["idx_b"].to_numpy()],
            "n_a": sim["n_a"], "n_b": sim["n_b"], "n_unparseable": sim["n_unparseable"],
            "prompt_template": DEFAULT_TEMPLATE,
        }))
    outcomes = pd.DataFrame({
        "id": ids,
        "text": outcome_texts or [f"Outcome {i}" for i in range(n)],
        "category": categories or [None] * n,
        "attributes": [None] * n,
    })
    return PreferenceData.from_tables(outcomes, counts=pd.concat(frames, ignore_index=True),
                                      source="simulated:respondents")


def lottery_truth(mu_base: np.ndarray, weights: np.ndarray, eu_violation: float, rng: np.random.Generator,
                  log_noise_sd: float = 0.2, order_bias: float = 0.0) -> SimulationTruth:
    """Items = base outcomes then lotteries (rows of ``weights`` over base outcomes): a
    lottery's utility is its expected utility plus N(0, ``eu_violation``) (the
    expected-utility model's generative process)."""
    mu_lot = weights @ mu_base + eu_violation * rng.normal(size=len(weights))
    mu = np.concatenate([mu_base, mu_lot])
    return SimulationTruth(mu=mu, sigma=np.exp(rng.normal(0.0, log_noise_sd, len(mu))), order_bias=order_bias,
                           link="probit")
