"""NUTS compiled once and run on many datasets of the same shapes (simulation studies:
calibration replications, one at a time or batched).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import init_to_uniform

from ..config import InferenceConfig


class RepeatedNUTS:
    """NUTS compiled once, then run on many datasets of the same shapes.

    For simulation studies (calibration, recovery): the model's arguments are inputs
    of one compiled function (warm-up, sampling and the transform to constrained
    values for all chains, vectorised), so each further dataset costs only its
    sampling time. Chains start from uniform(-1, 1) in the unconstrained space, as
    :func:`bayes_utility.inference.make_mcmc`'s ``init_to_uniform(radius=1)``.
    """

    def __init__(self, model_fn, inf: InferenceConfig, example_args: tuple, example_kwargs: dict):
        from numpyro.infer.hmc import hmc
        from numpyro.infer.util import initialize_model

        info = initialize_model(jax.random.PRNGKey(0), model_fn, model_args=example_args,
                                model_kwargs=example_kwargs, dynamic_args=True,
                                init_strategy=init_to_uniform(radius=1.0))
        template = info.param_info.z
        init_kernel, sample_kernel = hmc(potential_fn_gen=info.potential_fn, algo="NUTS")
        postprocess = info.postprocess_fn
        warmup, draws = inf.warmup, inf.draws

        def one_chain(key, args, kwargs):
            k_init, k_run = jax.random.split(key)
            leaves, tree = jax.tree.flatten(template)
            keys = jax.random.split(k_init, len(leaves))
            z0 = jax.tree.unflatten(tree, [jax.random.uniform(k, jnp.shape(x), minval=-1.0, maxval=1.0)
                                           for k, x in zip(keys, leaves)])
            state = init_kernel(z0, warmup, target_accept_prob=inf.target_accept, max_tree_depth=inf.max_tree_depth,
                                dense_mass=inf.dense_mass, model_args=args, model_kwargs=kwargs, rng_key=k_run)

            def step(st, _):
                st = sample_kernel(st, model_args=args, model_kwargs=kwargs)
                return st, (st.z, st.diverging)

            _, (z, diverging) = jax.lax.scan(step, state, None, length=warmup + draws)
            z = jax.tree.map(lambda x: x[warmup:], z)
            return jax.vmap(postprocess(*args, **kwargs))(z), diverging[warmup:]

        chains = jax.vmap(one_chain, in_axes=(0, None, None))
        self._run = jax.jit(chains)
        self._run_batch = jax.jit(jax.vmap(chains))  # datasets stacked on a leading axis
        self.chains = inf.chains

    def run(self, key, args: tuple, kwargs: dict) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Posterior draws ``{site: (chains, draws, ...)}`` and divergences ``(chains, draws)``."""
        samples, diverging = self._run(jax.random.split(key, self.chains), args, kwargs)
        return {k: np.asarray(v) for k, v in samples.items()}, np.asarray(diverging)

    def run_batch(self, keys, args: tuple, kwargs: dict) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Several datasets of the same shapes in one vectorised run: ``keys`` (B, 2) and every
        array of ``args``/``kwargs`` stacked on a leading axis of length B. Draws
        ``{site: (B, chains, draws, ...)}``, divergences ``(B, chains, draws)``; dataset b's
        chains are those :meth:`run` would give for ``keys[b]`` (up to floating-point
        reassociation under vectorisation)."""
        keys = jax.vmap(lambda k: jax.random.split(k, self.chains))(keys)
        samples, diverging = self._run_batch(keys, args, kwargs)
        return {k: np.asarray(v) for k, v in samples.items()}, np.asarray(diverging)
