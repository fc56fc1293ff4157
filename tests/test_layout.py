"""The package's layout: stages import only the stages above them, no import cycles, long
modules say why they are long, and a model is one file in models/.

Imports are read from the source (every ``import`` statement, module-level and inside
functions), so an import that runs only on some paths counts too. Each check is also run
on a small package made for the purpose, with a cycle and an import against the order in
it, to show that it finds them.
"""
from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# the stages, from the bottom: a module may import its own stage and those before it
STAGES = ("foundation", "data", "models", "config", "inference", "elicitation", "analyses", "reporting", "workflow",
          "cli")
FOUNDATION = {"_version", "_lazy", "redact", "figures", "datasets", "reference_posteriors"}
MAX_LINES = 400


def stage_of(module: str) -> str:
    """``bayes_utility.inference.sampling`` -> ``inference``; the package itself is the top."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return "cli"
    head = parts[1]
    if head in FOUNDATION:
        return "foundation"
    if head == "config":
        return "config"
    if head in STAGES:
        return head
    raise AssertionError(f"{module}: in no stage (add it to STAGES or FOUNDATION)")


def modules(package_dir: Path, package: str, models_dir: Path | None = None) -> dict[str, Path]:
    """Every module of the package by dotted name (``models_dir`` installs as ``<package>.models``)."""
    out = {}
    roots = [(package_dir, package)] + ([(models_dir, f"{package}.models")] if models_dir else [])
    for root, name in roots:
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("").parts
            dotted = ".".join((name,) + (rel[:-1] if rel[-1] == "__init__" else rel))
            out[dotted] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package's modules it imports (anywhere in its body)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (".".join(here[:len(here) - node.level + 1]) if node.level else "")
                target = ".".join(p for p in (base, node.module or "") if p)
                targets = [target] + [f"{target}.{a.name}" for a in node.names]
            else:
                continue
            for t in targets:
                # the deepest module named (``from pkg import mod`` names pkg.mod)
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def upward_imports(graph: dict[str, set[str]], stage=stage_of) -> list[str]:
    """Imports of a later stage by an earlier one."""
    order = {s: i for i, s in enumerate(STAGES)}
    return sorted(f"{a} ({stage(a)}) imports {b} ({stage(b)})" for a, targets in graph.items() for b in targets
                  if order[stage(b)] > order[stage(a)])


def long_modules_without_reason(mods: dict[str, Path]) -> list[str]:
    """Modules over MAX_LINES whose docstring does not say why they are one module."""
    bad = []
    for mod, path in mods.items():
        text = path.read_text()
        if text.count("\n") > MAX_LINES:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "why one module" not in doc.lower():
                bad.append(f"{mod}: {text.count(chr(10))} lines")
    return bad


@pytest.fixture(scope="module")
def graph():
    return import_graph(modules(ROOT / "bayes_utility", "bayes_utility", ROOT / "models"))


def test_no_import_cycles(graph):
    assert len(graph) > 60  # every module was read
    assert cycles(graph) == []


def test_stages_import_only_the_stages_above_them(graph):
    assert upward_imports(graph) == []


def test_long_modules_say_why():
    assert long_modules_without_reason(modules(ROOT / "bayes_utility", "bayes_utility", ROOT / "models")) == []


def _toy_package(tmp_path: Path) -> dict[str, Path]:
    pkg = tmp_path / "bayes_utility"
    for rel, text in {
        "__init__.py": "",
        "data/__init__.py": "",
        "data/a.py": "from .b import x\n",
        "data/b.py": "def f():\n    from .a import y  # a cycle hidden in a function\n",
        "inference/__init__.py": "",
        "inference/fit.py": "from ..data import a\n",
        "data/c.py": "def g():\n    from ..inference.fit import z  # data importing inference\n",
        "data/long.py": '"""A long module."""\n' + "x = 1\n" * (MAX_LINES + 5),
        "data/long_ok.py": '"""A long module. Why one module: a reason."""\n' + "x = 1\n" * (MAX_LINES + 5),
    }.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return modules(pkg, "bayes_utility")


def test_the_checks_find_a_cycle_an_upward_import_and_a_long_module(tmp_path):
    mods = _toy_package(tmp_path)
    g = import_graph(mods)
    assert g["bayes_utility.inference.fit"] == {"bayes_utility.data", "bayes_utility.data.a"}  # the package runs too
    assert cycles(g) == [["bayes_utility.data.a", "bayes_utility.data.b"]]
    assert upward_imports(g) == ["bayes_utility.data.c (data) imports bayes_utility.inference.fit (inference)"]
    assert long_modules_without_reason(mods) == [f"bayes_utility.data.long: {MAX_LINES + 6} lines"]


def test_every_model_file_is_a_model_and_nothing_else_is():
    from bayes_utility.models import BUILDING_BLOCKS, MODEL_NAMES, get_model

    files = {p.stem for p in (ROOT / "models").glob("*.py") if not p.stem.startswith("_")} - BUILDING_BLOCKS
    assert set(MODEL_NAMES) == files
    for name in MODEL_NAMES:
        mod = get_model(name)
        for attr in ("model", "latent_score", "LINK", "PRIORS", "DIMS", "REPORTED", "CALIBRATED", "SCALE_NOTE"):
            assert hasattr(mod, attr), f"models/{name}.py has no {attr}"


def test_a_new_model_file_is_found_without_other_changes(tmp_path, monkeypatch):
    """One file in models/ is a model: the name list, get_model and the config accept it."""
    import importlib

    import bayes_utility.models as models_pkg

    (tmp_path / "thurstonian_copy.py").write_text("from bayes_utility.models.thurstonian import *  # noqa\n"
                                                  "from bayes_utility.models.thurstonian import PRIORS\n")
    monkeypatch.setattr(models_pkg, "__path__", list(models_pkg.__path__) + [str(tmp_path)])
    monkeypatch.setattr(models_pkg, "MODEL_NAMES", models_pkg._discover())
    assert "thurstonian_copy" in models_pkg.MODEL_NAMES
    assert models_pkg.get_model("thurstonian_copy").PRIORS == models_pkg.get_model("thurstonian").PRIORS
    from bayes_utility.config import ModelConfig

    assert ModelConfig(name="thurstonian_copy").name == "thurstonian_copy"
    with pytest.raises(ValueError, match="unknown model"):  # control: a name with no file
        ModelConfig(name="thurstonian_missing")
    importlib.invalidate_caches()


def test_old_module_paths_import_with_a_deprecation_warning():
    import importlib
    import sys

    sys.modules.pop("bayes_utility.simulate", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("bayes_utility.simulate")
    assert any(issubclass(w.category, DeprecationWarning) and "bayes_utility.data.simulate" in str(w.message)
               for w in caught)
    from bayes_utility.data.simulate import simulate_dataset

    assert old.simulate_dataset is simulate_dataset
    with pytest.raises(AttributeError, match="moved to"):
        old.no_such_name  # noqa: B018
