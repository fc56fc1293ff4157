"""Many independent jobs (fits of a config sweep, cells of a recovery study) in local
worker processes or on a Ray cluster.

``local`` (the default) runs the jobs in this process (one worker) or in spawned
processes; ``ray`` runs them as Ray tasks on the cluster at ``address`` (``host:port``
or ``auto``), or on a one-machine cluster on 127.0.0.1 started for the call and
stopped after it. Workers fit on the CPU with one XLA thread each (``WORKER_ENV``):
the parallelism is across jobs. SBC replications use the same sessions
(:mod:`bayes_utility.inference.calibration` keeps one compiled sampler per Ray actor).

A job that raises does not stop the others: its result is a :class:`JobFailed`
carrying the error's type and message.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# worker processes fit one job at a time: one XLA thread each, on the CPU
WORKER_ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false", "JAX_PLATFORMS": "cpu"}


EXECUTORS = ("local", "ray")


class ExecutorError(RuntimeError):
    """The executor cannot run as asked (Ray missing, cluster unreachable)."""


@dataclass(frozen=True)
class JobFailed:
    """The outcome of a job that raised."""

    error: str

    def __str__(self) -> str:
        return self.error


def _guarded(fn: Callable, item) -> Any:
    try:
        return fn(item)
    except Exception as exc:  # noqa: BLE001 - reported per job, the others go on
        return JobFailed(f"{type(exc).__name__}: {exc}")


@contextmanager
def worker_environment():
    """Spawned children inherit the environment: one XLA thread each, the CPU platform
    unless one is set."""
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    os.environ["XLA_FLAGS"] = ((saved["XLA_FLAGS"] or "") + " " + WORKER_ENV["XLA_FLAGS"]).strip()
    os.environ["JAX_PLATFORMS"] = saved["JAX_PLATFORMS"] or WORKER_ENV["JAX_PLATFORMS"]
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def ray_session(address: str | None, workers: int):
    """Connect to the Ray cluster at ``address``, or start a local one with ``workers``
    CPUs on 127.0.0.1; shut down on exit what this call started."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExecutorError("executor ray needs Ray: pip install 'bayes_utility[ray]'") from exc
    started = False
    if not ray.is_initialized():
        env = {"env_vars": dict(WORKER_ENV)}
        try:
            if address:
                ray.init(address=address, runtime_env=env, log_to_driver=False)
            else:
                ray.init(num_cpus=max(workers, 1), include_dashboard=False, runtime_env=env, log_to_driver=False,
                         _node_ip_address="127.0.0.1")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            hint = ""
            if "auth" in str(exc).lower():
                hint = (" (token authentication: give this process the cluster's mode and token, RAY_AUTH_MODE=token "
                        "and RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH)")
            raise ExecutorError(f"cannot start or reach a Ray cluster at {address or 'a local node'}: "
                                f"{str(exc).splitlines()[0]}{hint}") from exc
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def map_jobs(fn: Callable[[Any], Any], items: list, *, executor: str = "local", workers: int = 1,
             address: str | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, fn(items[index]))`` for every item, in the order the jobs finish.

    ``fn`` must be importable by name (a module-level function) for worker processes and
    Ray. A job that raises yields a :class:`JobFailed`.
    """
    if executor not in EXECUTORS:
        raise ExecutorError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if not items:
        return
    workers = max(1, min(workers, len(items)))
    if executor == "ray":
        with ray_session(address, workers) as ray:
            task = ray.remote(num_cpus=1)(_guarded)
            pending = {task.remote(fn, item): i for i, item in enumerate(items)}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    yield pending.pop(ref), ray.get(ref)
        return
    if workers == 1:
        for i, item in enumerate(items):
            yield i, _guarded(fn, item)
        return
    with worker_environment():
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = {pool.submit(_guarded, fn, item): i for i, item in enumerate(items)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
