"""Typed, frozen run configurations parsed from YAML recipes.

Unknown keys are errors (a typo must never silently fall back to a default).
A recipe looks like::

    name: default
    data:
      path: bayes_utility/datasets/llama2_7b_sim   # folder, table, or reference JSON
      unparseable: half                             # half | exclude
    model:
      name: thurstonian                             # thurstonian | bradley_terry
      order_bias: false
      centered: true                                # false: non-centred (weak signal)
      priors: {}                                    # override prior hyper-parameters
    inference:
      method: nuts                                  # nuts | map | svi
      chains: 4
      warmup: 500
      draws: 500
      target_accept: 0.8
      chain_method: parallel                        # parallel | sequential | vectorized
      seed: 0
    heldout:
      fraction: 0.05
      max_pairs: 1000
      seed: 0
    output:
      dir: outputs
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Frozen):
    path: str = Field(description="dataset folder, comparisons table, or reference-code results JSON")
    outcomes: str | None = Field(None, description="outcomes file when path is a single table")
    respondent: str | None = Field(None, description="fit only this respondent's answers")
    prompt_template: str | None = None
    unparseable: Literal["half", "exclude"] = "half"


class ModelConfig(_Frozen):
    name: Literal["thurstonian", "bradley_terry"] = "thurstonian"
    order_bias: bool = False
    centered: bool = Field(True, description="centred utilities; false for data with little preference signal")
    priors: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_priors(self):
        from .models import get_model

        allowed = get_model(self.name).PRIORS
        unknown = sorted(set(self.priors) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown prior hyper-parameter(s) {unknown} for model {self.name!r}; "
                f"allowed: {sorted(allowed)}"
            )
        bad = [k for k, v in self.priors.items() if not v > 0]
        if bad:
            raise ValueError(f"prior scales must be positive: {bad}")
        return self


class InferenceConfig(_Frozen):
    method: Literal["nuts", "map", "svi"] = "nuts"
    chains: int = Field(4, ge=1)
    warmup: int = Field(500, ge=1)
    draws: int = Field(500, ge=1)
    target_accept: float = Field(0.8, gt=0.0, lt=1.0)
    max_tree_depth: int = Field(10, ge=1, le=15)
    chain_method: Literal["parallel", "sequential", "vectorized"] = "parallel"
    dense_mass: bool = False
    seed: int = 0
    progress_bar: bool = True
    # MAP / SVI (quick looks; never reported as a posterior from MCMC)
    svi_steps: int = Field(5000, ge=1)
    svi_learning_rate: float = Field(0.01, gt=0.0)
    svi_guide: Literal["normal", "lowrank"] = "normal"
    svi_draws: int = Field(1000, ge=1)


class HeldoutConfig(_Frozen):
    fraction: float = Field(0.0, ge=0.0, lt=1.0)
    max_pairs: int = Field(1000, ge=1)
    seed: int = 0


class OutputConfig(_Frozen):
    dir: str = "outputs"
    run_name: str | None = None
    hdi_prob: float = Field(0.94, gt=0.0, lt=1.0)


class RunConfig(_Frozen):
    name: str = "run"
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    heldout: HeldoutConfig = Field(default_factory=HeldoutConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not v or any(c in v for c in "/\\") or v.startswith("."):
            raise ValueError(f"name {v!r} must be a plain folder name")
        return v

    def with_overrides(self, **sections) -> "RunConfig":
        """Return a copy with some fields replaced, e.g. ``data={"path": ...}``."""
        raw = self.model_dump()
        for section, values in sections.items():
            if isinstance(values, dict):
                raw[section] = {**raw[section], **values}
            else:
                raw[section] = values
        return RunConfig.model_validate(raw)


class ConfigError(ValueError):
    """A config file could not be read or does not validate."""


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML recipe (unknown keys are rejected)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError(f"{path}: invalid config\n" + "\n".join(lines)) from exc


def dump_config(cfg: RunConfig) -> str:
    """The resolved config as YAML (every default spelled out)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
