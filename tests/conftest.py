"""Test set-up: CPU only, several host devices for parallel chains, no global seeds."""
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpyro  # noqa: E402

numpyro.set_host_device_count(4)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bayes_utility.data.simulate import random_truth, simulate_dataset  # noqa: E402


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


@pytest.fixture
def ray_cluster(tmp_path, monkeypatch):
    """A one-node Ray cluster on 127.0.0.1, started (and stopped) by the ray CLI, with token
    authentication and a token of its own (Ray 2.59+ turns tokens on for clusters started by
    ray.init and leaves ~/.ray/auth_token behind; a cluster and a driver that disagree on the
    mode or the token cannot talk). ``ray stop`` stops every Ray process of the machine: one
    test only may use it (test_many_fits.py)."""
    import secrets
    import shutil
    import socket
    import subprocess
    import sys
    from pathlib import Path

    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if ray_cli is None:
        pytest.fail("the ray CLI is not installed (it is in the test extras)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = tmp_path / "ray_token"
    token.write_text(secrets.token_hex(32))
    for k, v in {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_USAGE_STATS_ENABLED": "0"}.items():
        monkeypatch.setenv(k, v)  # for the cluster (below) and this process's driver
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    env = dict(os.environ)
    subprocess.run([ray_cli, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                    "--include-dashboard=false", "--disable-usage-stats"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
