"""Model definitions: trace shapes and dims, constraints, agreement with the simulator."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bayes_utility.models import get_model
from bayes_utility.models.likelihood import cdf
from numpyro import handlers
from numpyro.infer import Predictive

from bayes_utility.data.simulate import SimulationTruth, answer_probability

N, R = 7, 15


def _args(rng):
    a = rng.integers(0, N, R)
    b = (a + rng.integers(1, N, R)) % N
    return jnp.asarray(a), jnp.asarray(b), jnp.full(R, 10.0), N


@pytest.mark.parametrize("name", ["thurstonian", "bradley_terry"])
@pytest.mark.parametrize("order_bias", [False, True])
@pytest.mark.parametrize("centered", [True, False])
def test_trace_shapes_and_dims(name, order_bias, centered, rng):
    mod = get_model(name)
    args = _args(rng)
    tr = handlers.trace(handlers.seed(mod.model, 0)).get_trace(*args, order_bias=order_bias, centered=centered)
    raw = "mu_raw" if name == "thurstonian" else "u_raw"
    assert (raw in tr) == (not centered)
    assert tr["y"]["value"].shape == (R,)
    assert tr["utility"]["value"].shape == (N,)
    assert ("order_bias" in tr) == order_bias
    # every dim declared for a site matches its shape
    for site, dims in mod.DIMS.items():
        if site in tr:
            assert tr[site]["value"].ndim == len(dims), site
    # the plate is named for the comparison dim
    assert tr["y"]["cond_indep_stack"][0].name == "comparison"


def test_thurstonian_constraints(rng):
    mod = get_model("thurstonian")
    samples = Predictive(mod.model, num_samples=50)(jax.random.PRNGKey(1), *_args(rng))
    np.testing.assert_allclose(samples["mu"].sum(-1), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.log(samples["sigma"]).sum(-1), 0.0, atol=1e-4)
    u = np.asarray(samples["utility"])
    np.testing.assert_allclose(u.mean(-1), 0.0, atol=1e-5)
    # the reference code's scale: unit *sample* sd (ddof 1), so the population sd is below 1
    np.testing.assert_allclose(u.std(-1, ddof=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(u.std(-1), np.sqrt((N - 1) / N), atol=1e-4)


@pytest.mark.parametrize("name, link", [("thurstonian", "probit"), ("bradley_terry", "logit")])
def test_latent_score_agrees_with_simulator(name, link, rng):
    mod = get_model(name)
    mu = rng.normal(size=N)
    sigma = np.exp(rng.normal(0, 0.3, N)) if link == "probit" else None
    truth = SimulationTruth(mu=mu, sigma=sigma, order_bias=0.4, link=link)
    a, b = rng.integers(0, N, 50), rng.integers(0, N, 50)
    params = {"mu": jnp.asarray(mu), "sigma": jnp.asarray(sigma)} if link == "probit" else {"u": jnp.asarray(mu)}
    params["order_bias"] = jnp.asarray(0.4)
    p_model = np.asarray(cdf(mod.latent_score(params, jnp.asarray(a), jnp.asarray(b), True), link))
    np.testing.assert_allclose(p_model, answer_probability(truth, a, b), rtol=1e-4, atol=1e-5)


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'probit'"):
        get_model("probit")


def test_models_not_importable_as_top_level_name():
    import importlib.util

    spec = importlib.util.find_spec("bayes_utility.models.thurstonian")
    assert spec is not None
    import bayes_utility.models as m

    assert m.__name__ == "bayes_utility.models"
