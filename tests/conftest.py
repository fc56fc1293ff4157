"""Test set-up: CPU only, several host devices for parallel chains, no global seeds."""
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpyro  # noqa: E402

numpyro.set_host_device_count(4)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bayes_utility.simulate import random_truth, simulate_dataset  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def small_data(rng):
    """12 outcomes, paper design, K=5 per order, 5% unparseable."""
    truth = random_truth(12, rng)
    return simulate_dataset(truth, rng, k_per_order=5, unparseable_rate=0.05)


def write(path, text):
    path.write_text(text)
    return path
