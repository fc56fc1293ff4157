"""JAX devices and compiled-program cache for a process that is about to fit.

Imported by the command line and by sweep workers before JAX is used: one CPU device
per chain (chains then run in parallel) and JAX's persistent compilation cache.
Importing this module does not import JAX.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path


def setup_devices(chains: int) -> None:
    """Give JAX one CPU device per chain so chains run in parallel (before any JAX use),
    and keep compiled programs on disk (:func:`enable_compilation_cache`)."""
    import numpyro

    if os.environ.get("JAX_PLATFORMS", "").lower() in ("", "cpu"):
        numpyro.set_host_device_count(max(chains, 1))
    enable_compilation_cache()


def compilation_cache_dir() -> Path | None:
    """Where compiled XLA programs are kept: ``$BAYES_UTILITY_JAX_CACHE`` (``off`` for none),
    else ``$XDG_CACHE_HOME/bayes_utility/jax`` (``~/.cache/bayes_utility/jax``)."""
    value = os.environ.get("BAYES_UTILITY_JAX_CACHE")
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "none", "false") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bayes_utility" / "jax"


def enable_compilation_cache() -> None:
    """JAX's persistent compilation cache: a second fit of data of the same shapes skips
    compilation (the default job: 17.5 s from start to first draw cold, 6.6 s cached)."""
    path = compilation_cache_dir()
    if path is None:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only home: run without the cache
        logging.getLogger(__name__).info("no compilation cache (%s): %s", path, exc)
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
