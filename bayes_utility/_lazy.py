"""Names a package exposes but imports only on first use (PEP 562), so that importing the
package, ``--help``, ``validate`` and ``elicit`` do not load JAX."""
from __future__ import annotations

from importlib import import_module


def lazy_attributes(package: str, names: dict[str, str], namespace: dict | None = None):
    """A module ``__getattr__`` for ``package`` that imports ``name`` from the submodule
    ``names[name]`` when first asked for (and keeps it in ``namespace``, if given)."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{names[name]}", package), name)
        if namespace is not None:
            namespace[name] = value
        return value

    return __getattr__
