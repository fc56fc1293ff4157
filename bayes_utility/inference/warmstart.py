r"""Warm starts for NUTS on large problems: near the posterior mode, with a fitted mass matrix.

A cold NUTS start (uniform(-1, 1) in the unconstrained space, identity mass matrix) is
fine for tens of outcomes. For thousands of well-informed parameters the first warm-up
windows run trees to the maximum depth: every direction must be crossed with the step
size of the stiffest one, and the diagonal mass matrix is only estimated after the first
slow window. At 20 respondents x 510 outcomes that is hours before the first useful draw.

:func:`warm_start` replaces the cold start by

1. a few hundred Adam steps on the log density in the unconstrained space (from the
   cold start), with a decaying learning rate: the chains begin in the bulk;
2. the diagonal of the Hessian of the negative log density there: exactly (one
   Hessian-vector product per coordinate) for the small sites (scalars, per-respondent
   vectors), by Hutchinson's estimator (the mean of :math:`v \odot Hv` over Rademacher
   probes :math:`v`) for the large ones; its inverse is the initial inverse mass matrix
   (conditional variances; NUTS's warm-up adaptation refines it from the draws);
3. one start per chain drawn from the normal approximation
   :math:`N(\hat z, \mathrm{diag}(H)^{-1})` scaled by ``jitter`` (default 2: wider than
   the posterior, so that R-hat still sees chains that begin apart).

Entries of the Hessian diagonal that are not clearly positive (a probe estimate swamped
by couplings, a direction the optimiser has not settled) fall back to the median curvature
of their site. Nothing here changes the posterior: only where the chains start and the
first mass matrix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.example_libraries import optimizers
from jax.flatten_util import ravel_pytree

EXACT_SITE_SIZE = 64  # sites up to this size get their Hessian diagonal exactly


@dataclass
class WarmStart:
    init_params: dict  # unconstrained values per site, leading axis: chain
    inverse_mass_matrix: np.ndarray  # diagonal, flattened in sorted-site order (NumPyro's)
    steps: int
    start_potential: float
    end_potential: float
    probes: int

    def describe(self) -> str:
        return (f"mode: {self.steps} Adam steps (potential {self.start_potential:.6g} -> {self.end_potential:.6g}), "
                f"diagonal mass matrix from the Hessian ({self.probes} probes for large sites), jittered starts")


def warm_start(potential_fn_gen, model_args: tuple, model_kwargs: dict, z0: dict, chains: int, key, *,
               steps: int = 500, learning_rate: float = 0.05, probes: int = 32, jitter: float = 2.0) -> WarmStart:
    """Starts for ``chains`` chains and a diagonal inverse mass matrix (see module docstring).

    ``potential_fn_gen(*model_args, **model_kwargs)`` is the potential (NumPyro's
    ``initialize_model(..., dynamic_args=True)``): the data enter the compiled functions as
    arguments, not as constants (XLA folds large constants slowly); ``z0`` is the cold start.
    """
    names = sorted(z0)
    flat0, unravel = ravel_pytree({k: z0[k] for k in names})
    flat0 = jnp.asarray(flat0)
    data = (tuple(model_args), dict(model_kwargs))

    def potential(x, data):
        args, kwargs = data
        return potential_fn_gen(*args, **kwargs)(unravel(x))

    schedule = optimizers.exponential_decay(learning_rate, steps, 0.05)
    opt_init, opt_update, get_params = optimizers.adam(schedule)

    # which flat coordinates belong to small sites (exact) and which to large (probes)
    sizes = [int(np.size(z0[k])) for k in names]
    site_of = np.repeat(np.arange(len(names)), sizes)
    small = np.concatenate([np.full(s, s <= EXACT_SITE_SIZE) for s in sizes]) if sizes else np.zeros(0, bool)
    d = flat0.size
    # the Hessian-vector products to take at the mode: unit vectors for the small sites'
    # coordinates, Rademacher probes restricted to the large sites
    exact_idx, large_idx = np.flatnonzero(small), np.flatnonzero(~small)
    n_probes = probes if large_idx.size else 0
    k_probe, key = jax.random.split(key)
    basis = np.zeros((exact_idx.size, d), np.float32)
    basis[np.arange(exact_idx.size), exact_idx] = 1.0
    rademacher = np.asarray(jax.random.rademacher(k_probe, (n_probes, d), dtype=jnp.float32)) * (~small)
    vs = jnp.asarray(np.concatenate([basis, rademacher]), flat0.dtype)

    @jax.jit
    def optimise_and_probe(x0, vs, data):  # one compilation for both
        def body(carry, i):
            state, best_x, best_u = carry
            x = get_params(state)
            u, g = jax.value_and_grad(potential)(x, data)
            finite = jnp.isfinite(u) & jnp.all(jnp.isfinite(g))
            better = finite & (u < best_u)
            best_x = jnp.where(better, x, best_x)
            best_u = jnp.where(better, u, best_u)
            state = opt_update(i, jnp.where(finite, g, 0.0), state)
            return (state, best_x, best_u), None

        u0 = potential(x0, data)
        (state, best_x, best_u), _ = jax.lax.scan(body, (opt_init(x0), x0, u0), jnp.arange(steps))
        x = get_params(state)
        u = potential(x, data)
        better = jnp.isfinite(u) & (u < best_u)
        mode, u_end = jnp.where(better, x, best_x), jnp.where(better, u, best_u)
        grad = jax.grad(potential)
        hv = jax.lax.map(lambda v: jax.jvp(lambda y: grad(y, data), (mode,), (v,))[1], vs)
        return mode, u_end, u0, hv

    mode, u_end, u_start, hv = optimise_and_probe(flat0, vs, data)
    hv = np.asarray(hv)
    diag = np.zeros(d)
    diag[exact_idx] = hv[np.arange(exact_idx.size), exact_idx]
    if n_probes:
        diag[large_idx] = np.mean(rademacher * hv[exact_idx.size:], axis=0)[large_idx]

    diag = _repair(diag, site_of)
    inv_mass = 1.0 / diag
    k_jit, key = jax.random.split(key)
    noise = np.asarray(jax.random.normal(k_jit, (chains, d)))
    starts = np.asarray(mode)[None, :] + jitter * noise * np.sqrt(inv_mass)[None, :]
    init = jax.vmap(unravel)(jnp.asarray(starts, flat0.dtype))
    return WarmStart(init_params=dict(init), inverse_mass_matrix=inv_mass.astype(np.float32), steps=steps,
                     start_potential=float(u_start), end_potential=float(u_end),
                     probes=int(n_probes))


def _repair(diag: np.ndarray, site_of: np.ndarray) -> np.ndarray:
    """Curvatures that are not clearly positive (or not finite) take their site's median
    positive curvature (else the median over all sites, else 1)."""
    diag = np.where(np.isfinite(diag), diag, 0.0)
    ok = diag > 0
    overall = float(np.median(diag[ok])) if ok.any() else 1.0
    out = diag.copy()
    for s in np.unique(site_of):
        mine = site_of == s
        good = mine & ok
        fill = float(np.median(diag[good])) if good.any() else overall
        # a probe estimate far below its site's typical curvature is noise, not a flat direction
        out[mine & ~(diag > 1e-3 * fill)] = fill
    # keep the mass matrix's condition number within float32's comfort
    hi = float(out.max())
    return np.clip(out, hi * 1e-10, None) if math.isfinite(hi) else np.ones_like(out)
