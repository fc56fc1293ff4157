"""Typed, frozen run configurations parsed from YAML recipes.

Unknown keys are errors (a typo must never silently fall back to a default).
One module on purpose (just over 600 lines): it is the schema of every recipe section
(fits, calibration, elicitation), read as one reference; it holds no logic beyond
validation. A recipe looks like::

    name: default
    data:
      path: bayes_utility/datasets/llama2_7b_sim   # folder, table, or reference JSON
      unparseable: half                             # half | exclude
    model:
      name: thurstonian                             # thurstonian | bradley_terry | thurstonian_hierarchical | expected_utility | instrumental_values
      order_bias: false
      centered: true                                # false: non-centred (weak signal)
      priors: {}                                    # override prior hyper-parameters
    inference:
      method: nuts                                  # nuts | map | svi
      chains: 4
      warmup: 500
      draws: 500
      target_accept: 0.8
      chain_method: auto                            # auto | parallel | sequential | vectorized
      seed: 0
    heldout:
      fraction: 0.05
      max_pairs: 1000
      seed: 0
    output:
      dir: outputs

Why one module (about 630 lines): every command's recipe is built from the same parts
(servers, designs, model, inference, output), and a reader finds every key of every
recipe, with its default and its check, in one place, as the YAML files show them.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def with_overrides(self, **sections):
        """Return a copy with some fields replaced, e.g. ``data={"path": ...}``."""
        raw = self.model_dump()
        for section, values in sections.items():
            raw[section] = {**raw[section], **values} if isinstance(values, dict) else values
        return type(self).model_validate(raw)


def _plain_folder_name(v: str) -> str:
    if not v or any(c in v for c in "/\\") or v.startswith("."):
        raise ValueError(f"name {v!r} must be a plain folder name")
    return v


class DataConfig(_Frozen):
    path: str = Field(description="dataset folder, comparisons table, or reference-code results JSON")
    outcomes: str | None = Field(None, description="outcomes file when path is a single table")
    respondent: str | None = Field(None, description="fit only this respondent's answers")
    prompt_template: str | None = None
    unparseable: Literal["half", "exclude"] = Field(
        "exclude", description="exclude: unparseable answers are dropped (they carry no preference); half: each "
                               "counts as half a vote per side (the reference method; under-covers, see docs)")
    pool_orders: bool = Field(
        True, description="without order bias, add up the two orders of a pair (the sufficient statistic); "
                          "false keeps ordered rows, so LOO can compare with a model that has order bias")


class CovariateConfig(_Frozen):
    """A respondent-level covariate (e.g. a capability score) from a CSV table."""

    path: str = Field(description="CSV with one row per respondent")
    column: str = Field(description="the covariate's column, e.g. MMLU")
    respondent_column: str = Field("respondent", description="the column naming respondents as in the data")


class ModelConfig(_Frozen):
    name: str = Field("thurstonian", description="a model in models/ (one file each; bayes_utility.models.MODEL_NAMES)")
    order_bias: bool = False
    centered: bool = Field(True, description="centred utilities; false for data with little preference signal")
    priors: dict[str, float] = Field(default_factory=dict)
    # hierarchical models only
    group_by: list[Literal["respondent", "prompt_template"]] = Field(
        default_factory=lambda: ["respondent"],
        description="what tells respondents apart: the respondent column, the template, or both")
    categories: bool = Field(False, description="a level per outcome category between population and outcome")
    respondent_spreads: Literal["auto", "estimated", "fixed"] = Field(
        "auto", description="hierarchical: how much respondents differ (spreads of deviation, decisiveness, "
                            "order bias) estimated, or fixed at prior scales; auto: fixed for 2-3 respondents")
    respondent_utilities: Literal["non_centred", "centred"] = Field(
        "non_centred", description="hierarchical: respondents' utilities non-centred (deviations in prior units: "
                                   "safe over the whole prior) or centred (the utilities themselves: faster when "
                                   "every respondent's answers pin them down; a funnel when they do not)")
    pool_respondents: bool = Field(
        False, description="flat models: fit several respondents as one (complete pooling), e.g. to compare "
                           "with a hierarchical fit")
    covariate: CovariateConfig | None = None

    @field_validator("name")
    @classmethod
    def _known_model(cls, name: str) -> str:
        from .models import MODEL_NAMES

        if name not in MODEL_NAMES:
            raise ValueError(f"unknown model {name!r}; available: {', '.join(MODEL_NAMES)}")
        return name

    @property
    def hierarchical(self) -> bool:
        return self.name.endswith("_hierarchical")

    @model_validator(mode="after")
    def _hierarchy_options(self):
        if not self.hierarchical and (self.categories or self.covariate is not None):
            raise ValueError(f"categories and covariate need a hierarchical model, not {self.name!r}")
        if self.hierarchical and self.pool_respondents:
            raise ValueError("pool_respondents is for flat models; a hierarchical model pools partially")
        if not self.group_by:
            raise ValueError("group_by needs at least one of respondent, prompt_template")
        return self

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
    retry_target_accept: float | None = Field(
        0.95, gt=0.0, lt=1.0,
        description="a NUTS fit that ends with divergent transitions is refitted once at this target acceptance "
                    "(smaller steps), and the retry is reported in the verdict; null: never retry")
    chain_method: Literal["auto", "parallel", "sequential", "vectorized"] = Field(
        "auto", description="auto: one chain per device where there are enough (CPU), all chains vectorised "
                            "on one accelerator")
    dense_mass: bool = False
    init: Literal["auto", "uniform", "warm"] = Field(
        "auto", description="where chains start: uniform(-1, 1) in the unconstrained space, or warm (near the "
                            "mode, with a mass matrix from the Hessian: bayes_utility.inference.warmstart); auto: warm from "
                            "WARM_START_MIN_PARAMETERS unconstrained parameters")
    warm_start_steps: int = Field(500, ge=1, description="Adam steps of a warm start")
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
    report: bool = Field(True, description="write report.html and report.md into the run folder")
    log_likelihood: bool = Field(
        True, description="compute the pointwise log-likelihood (draws x comparisons; the verdict's PSIS-LOO "
                          "Pareto k and compare need it): false for fits too large to hold it in memory")
    store_log_likelihood: Literal["auto", "float32", "none"] = Field(
        "auto", description="in posterior.nc: float32 (computed in float64), compressed; none: recomputed from the "
                            "posterior when the run is loaded (bayes_utility.load_run); auto: float32 up to "
                            "STORE_LOG_LIK_MAX values, else none")
    prior: bool = Field(False, description="also draw from the prior (the prior and prior_predictive groups, "
                                           "one chain of inference.draws), e.g. for az.plot_dist of prior "
                                           "against posterior or a prior predictive check")
    posterior_predictive: Literal["auto", "store", "none"] = Field(
        "auto", description="replicated answers per comparison and draw (the posterior_predictive group, for "
                            "az.plot_ppc and LOO-PIT) in posterior.nc: store, none, or auto (NUTS fits up to "
                            "STORE_PREDICTIVE_MAX draws x comparisons; bayes_utility.add_posterior_predictive "
                            "adds them to any fit)")


class RunConfig(_Frozen):
    name: str = "run"
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    heldout: HeldoutConfig = Field(default_factory=HeldoutConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    _safe_name = field_validator("name")(_plain_folder_name)


class DesignConfig(_Frozen):
    """The experiment simulated in each calibration replication."""

    n_outcomes: int = Field(12, ge=2)
    pairs: int | Literal["paper", "all"] = Field(
        "paper", description="number of unordered pairs, 'paper' (ceil(2 N log2 N)) or 'all'")
    answers_per_order: int = Field(5, ge=1, description="answers asked per presentation order")
    both_orders: bool = True
    unparseable_rate: float = Field(0.0, ge=0.0, lt=1.0, description="share of answers lost (excluded)")
    # hierarchical models: every respondent answers the same pair design
    respondents: int = Field(1, ge=1, description="respondents (hierarchical models)")
    categories: int = Field(0, ge=0, description="outcome categories, assigned in turn (hierarchical models)")
    covariate: bool = Field(False, description="a respondent covariate, evenly spaced and standardised")
    # the expected-utility model: lotteries over the n_outcomes base outcomes, asked alongside them
    lotteries: int = Field(0, ge=0, description="lotteries of 2-3 base outcomes (expected_utility model)")
    lottery_seed: int = Field(0, description="seed of the (fixed) lottery definitions")

    def n_items(self) -> int:
        """Base outcomes plus lotteries: the items pairs are drawn from."""
        return self.n_outcomes + self.lotteries

    def lottery_structure(self) -> dict:
        """Random lotteries (2 or 3 distinct base outcomes, Dirichlet(1) probabilities), fixed by lottery_seed."""
        import numpy as np

        rng = np.random.default_rng(self.lottery_seed)
        w = np.zeros((self.lotteries, self.n_outcomes))
        for r in range(self.lotteries):
            k = int(rng.integers(2, 4))
            w[r, rng.choice(self.n_outcomes, size=min(k, self.n_outcomes), replace=False)] = rng.dirichlet(
                np.ones(min(k, self.n_outcomes)))
        return {"base_index": np.arange(self.n_outcomes),
                "lottery_index": self.n_outcomes + np.arange(self.lotteries), "lottery_weights": w}

    def structure(self) -> dict:
        """The hierarchical model's structural keywords for this design."""
        import numpy as np

        out: dict = {"n_respondents": self.respondents}
        if self.categories:
            out["n_categories"] = self.categories
            out["category"] = np.arange(self.n_outcomes) % self.categories
        if self.covariate:
            x = np.linspace(-1.0, 1.0, self.respondents)
            out["covariate"] = (x - x.mean()) / x.std()
        return out

    def n_pairs(self) -> int:
        from .data.simulate import paper_pair_count

        n = self.n_items()
        full = n * (n - 1) // 2
        if self.pairs == "all":
            return full
        if self.pairs == "paper":
            return paper_pair_count(n)
        if not n - 1 <= self.pairs <= full:
            raise ValueError(f"design.pairs must be between {n - 1} and {full}")
        return self.pairs


NUMPY_GENERATORS = ("thurstonian", "bradley_terry")  # models with an independent numpy simulator


class SimulateConfig(_Frozen):
    """The generating prior; by default the fitted model's own (a correct SBC)."""

    priors: dict[str, float] = Field(
        default_factory=dict, description="prior hyper-parameters of the generator that differ from the model's")
    generator: Literal["model", "numpy"] = Field(
        "model", description="model: the fitted model's own prior predictive; numpy: an independent numpy/scipy "
                             "simulator of the same prior and likelihood (thurstonian, bradley_terry), so a "
                             "formula error in the model cannot cancel out")
    order_bias_sign: Literal[1, -1] = Field(
        1, description="numpy generator: -1 flips the order bias's sign in the answers (a negative control: "
                       "the study must fail)")


class SBCConfig(_Frozen):
    replications: int = Field(200, ge=2)
    draws_kept: int = Field(99, ge=1, description="posterior draws kept per replication after thinning")
    bins: int = Field(10, ge=2, description="rank histogram bins for the chi-square test")
    alpha: float = Field(0.01, gt=0.0, lt=1.0, description="family-wise level of the uniformity check")
    workers: int = Field(1, ge=1, description="replications fitted in parallel (spawned processes: a script "
                                               "calling run_calibration needs an `if __name__ == '__main__'` guard)")
    executor: Literal["local", "ray"] = Field(
        "local", description="local: worker processes on this machine; ray: Ray tasks (workers = actors), on "
                             "the cluster at ray_address or a local one")
    ray_address: str | None = Field(None, description="a running Ray cluster (host:port, or 'auto'); "
                                                      "none: start a local one for this study")
    batch: int = Field(1, ge=1, description="replications fitted together in one vectorised run per worker "
                                            "(their chains advance as one array program; faster for small "
                                            "designs and on accelerators, see docs/performance.md)")
    seed: int = 0
    max_unconverged: float = Field(
        0.10, ge=0.0, le=1.0,
        description="largest share of replications allowed to miss convergence (R-hat > 1.05 or divergences in "
                    "more than 1% of draws) before the study fails: their ranks are not evidence")

    @model_validator(mode="after")
    def _bins_divide_ranks(self):
        if (self.draws_kept + 1) % self.bins:
            raise ValueError(
                f"bins ({self.bins}) must divide the {self.draws_kept + 1} possible ranks (draws_kept + 1)")
        return self


def _calibration_inference() -> InferenceConfig:
    return InferenceConfig(chains=2, warmup=300, draws=500, chain_method="vectorized", progress_bar=False)


class CalibrationConfig(_Frozen):
    """A simulation-based calibration recipe (``bayes-utility calibrate``)."""

    name: str = "calibration"
    model: ModelConfig = Field(default_factory=ModelConfig)
    simulate: SimulateConfig = Field(default_factory=SimulateConfig)
    design: DesignConfig = Field(default_factory=DesignConfig)
    inference: InferenceConfig = Field(default_factory=_calibration_inference)
    sbc: SBCConfig = Field(default_factory=SBCConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    _safe_name = field_validator("name")(_plain_folder_name)

    @model_validator(mode="after")
    def _consistent(self):
        from .models import get_model

        allowed = get_model(self.model.name).PRIORS
        unknown = sorted(set(self.simulate.priors) - set(allowed))
        if unknown:
            raise ValueError(f"unknown simulate.priors {unknown} for model {self.model.name!r}; "
                             f"allowed: {sorted(allowed)}")
        if self.inference.method != "nuts":
            raise ValueError("calibration checks MCMC: inference.method must be 'nuts'")
        if self.simulate.generator == "numpy" and self.model.name not in NUMPY_GENERATORS:
            raise ValueError(f"simulate.generator: numpy exists for {sorted(NUMPY_GENERATORS)}, "
                             f"not {self.model.name!r}")
        if self.simulate.order_bias_sign != 1 and (self.simulate.generator != "numpy" or not self.model.order_bias):
            raise ValueError("simulate.order_bias_sign needs generator: numpy and model.order_bias: true")
        d = self.design
        if not self.model.hierarchical and (d.respondents > 1 or d.categories or d.covariate):
            raise ValueError("design.respondents > 1, categories and covariate need a hierarchical model")
        if self.model.categories or self.model.covariate is not None:
            raise ValueError("in a calibration recipe, set design.categories / design.covariate "
                             "(simulated), not model.categories / model.covariate")
        if d.covariate and d.respondents < 2:
            raise ValueError("design.covariate needs at least two respondents")
        if (d.lotteries > 0) != (self.model.name in ("expected_utility", "instrumental_values")):
            raise ValueError("the expected_utility and instrumental_values models need design.lotteries > 0 "
                             "(start states are lotteries over their successors), and only they take lotteries")
        if d.categories == 1 or d.categories > d.n_outcomes:
            raise ValueError("design.categories must be 0 (none) or between 2 and n_outcomes")
        total = self.inference.chains * self.inference.draws
        if self.sbc.draws_kept > total:
            raise ValueError(f"sbc.draws_kept ({self.sbc.draws_kept}) exceeds the {total} posterior draws")
        self.design.n_pairs()
        return self



_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ServerConfig(_Frozen):
    """One model behind an OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama, ...).

    The entries of a models file (``models_file``) have the same fields.
    """

    name: str | None = Field(None, description="label of the model in datasets and ledgers (default: model)")
    base_url: str = Field(description="e.g. http://127.0.0.1:8080/v1 (http or https)")
    model: str
    provider: str | None = Field(None, description="who serves it (default: the endpoint's host)")
    api: Literal["chat", "completions"] = Field(
        "chat", description="chat: /chat/completions with messages; completions: /completions with a plain-text "
                            "prompt (base models)")
    prompt_format: str = Field(
        "{prompt}\n\nAnswer:", description="api completions: the plain-text prompt around the question")
    system_message: bool = Field(True, description="the model takes a system message (else it is left out)")
    token_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens", description="name of the output-length parameter (newer OpenAI models want "
                                  "max_completion_tokens)")
    extra_body: dict = Field(default_factory=dict, description="extra request fields sent as they are")
    api_key_env: str | None = Field(
        None, description="NAME of the environment variable holding the API key (the key never goes in configs)")
    concurrency: int = Field(4, ge=1, description="requests in flight at once")
    requests_per_minute: float | None = Field(None, gt=0, description="rate limit on requests")
    tokens_per_minute: float | None = Field(None, gt=0, description="rate limit on (estimated) tokens")
    timeout_s: float = Field(60.0, gt=0, description="total deadline of one request, however the bytes arrive")
    max_retries: int = Field(6, ge=0, description="retries per request on 429, 5xx, timeouts, dropped connections, "
                                                  "malformed or empty responses")
    backoff_s: float = Field(1.0, gt=0, description="first retry delay; doubles each retry, with jitter")
    max_backoff_s: float = Field(60.0, gt=0)
    circuit_breaker: int = Field(8, ge=1, description="stop after this many consecutive connection failures")
    preflight: bool = Field(True, description="ask one question first and stop at once if the endpoint, model "
                                              "or key is wrong")
    supports_n: bool = Field(False, description="ask for K answers in one request with n=K (else K requests)")
    send_seed: bool = Field(True, description="send a per-answer seed (reproducible where the server honours it)")
    batch: bool = Field(False, description="ask through the OpenAI Batch API (files + batches endpoints)")
    batch_poll_s: float = Field(30.0, gt=0, description="batch mode: seconds between status checks")
    batch_max_requests: int = Field(50000, ge=1, description="batch mode: requests per batch")
    price_input_per_mtok: float = Field(0.0, ge=0, description="cost ledger: price per million prompt tokens")
    price_output_per_mtok: float = Field(0.0, ge=0)
    batch_discount: float = Field(0.5, ge=0, le=1, description="batch mode: share of the price paid")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        from .redact import check_url

        return check_url(v)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_NAME.match(v):
            raise ValueError("must be the NAME of an environment variable (letters, digits, _), not the key "
                             "itself; the value given is not shown")
        return v

    @field_validator("prompt_format")
    @classmethod
    def _format(cls, v: str) -> str:
        if "{prompt}" not in v:
            raise ValueError("prompt_format needs {prompt}")
        return v

    @property
    def label(self) -> str:
        return self.name or self.model


class ActiveConfig(_Frozen):
    """Active learning (``experiment.design: active``): rounds of ask, refit, choose."""

    strategy: Literal["bald", "paper", "random"] = Field(
        "bald", description="bald: most informative pairs under the posterior; paper: the reference scheme")
    round_pairs: int = Field(100, ge=1, description="new unordered pairs per round")
    budget_pairs: int | None = Field(None, ge=1, description="stop at this many pairs (default ceil(2 N log2 N))")
    target_width: float | None = Field(
        None, gt=0, description="or stop once the mean 90% interval width of the standardised utilities is below")
    target_accuracy_width: float | None = Field(
        None, gt=0, lt=1, description="or stop once the 94% interval of held-out accuracy is this narrow "
                                      "(a share `heldout_fraction` of the pairs is then held out of each fit)")
    heldout_fraction: float = Field(0.1, gt=0, lt=1)
    model: Literal["thurstonian", "bradley_terry"] = "thurstonian"
    chains: int = Field(2, ge=1)
    warmup: int = Field(300, ge=1)
    draws: int = Field(300, ge=1)


class ExperimentConfig(_Frozen):
    """What is asked: outcomes, pair design, prompt, sampling."""

    outcomes: str = Field(description="outcomes file or dataset folder (or builtin:NAME)")
    max_outcomes: int | None = Field(None, ge=2, description="use the first N outcomes only")
    design: Literal["all", "paper", "random", "regular", "active"] = Field(
        "paper", description="all pairs; ceil(2 N log2 N) pairs; `pairs` random pairs (a cycle plus extras); "
                             "a random `degree`-regular graph; or active learning (see `active`)")
    active: ActiveConfig = Field(default_factory=ActiveConfig)
    pairs: int | None = Field(None, ge=1)
    degree: int | None = Field(None, ge=1, description="for design 'regular'")
    answers_per_order: int = Field(2, ge=1, description="K: answers per prompt and presentation order")
    template: str = "forced_choice"
    template_file: str | None = Field(None, description="a user template with {option_A} and {option_B}")
    system_message: str | None = "You are a helpful assistant."
    temperature: float = Field(1.0, ge=0.0)
    max_tokens: int = Field(8, ge=1)
    reasoning: bool = Field(False, description="parse the final 'Answer: X' (for reasoning templates)")
    logprobs: bool = Field(False, description="also read P(A) from the first token's top logprobs")
    top_logprobs: int = Field(20, ge=1, le=20)
    seed: int = 0

    @model_validator(mode="after")
    def _pairs_for_random(self):
        if self.design == "random" and self.pairs is None:
            raise ValueError("design 'random' needs pairs")
        if self.design == "regular" and self.degree is None:
            raise ValueError("design 'regular' needs degree")
        return self


class ElicitConfig(_Frozen):
    """An elicitation recipe (``bayes-utility elicit``): results go to ``output.dir/name/``.

    The models asked: ``server`` (one model), or ``models`` (a list of model entries, or of
    names from ``models_file``), or both. Answers are kept in the answer store
    (``store``, default ``output.dir/answers.sqlite``), shared by every experiment there.
    """

    name: str = "elicitation"
    server: ServerConfig | None = None
    models: list[str | ServerConfig] = Field(default_factory=list)
    models_file: str | None = Field(None, description="YAML file: models: {name: {base_url, model, ...}}")
    experiment: ExperimentConfig
    store: str | None = Field(None, description="answer store (SQLite); default output.dir/answers.sqlite")
    output: OutputConfig = Field(default_factory=OutputConfig)

    _safe_name = field_validator("name")(_plain_folder_name)

    @model_validator(mode="after")
    def _some_model(self):
        if self.server is None and not self.models:
            raise ValueError("name the models to ask: server (one model) or models (a list)")
        if any(isinstance(m, str) for m in self.models) and not self.models_file:
            raise ValueError("models given by name need models_file")
        return self

    def store_path(self, out: str | Path | None = None) -> Path:
        return Path(self.store) if self.store else Path(out or self.output.dir) / "answers.sqlite"


class ConfigError(ValueError):
    """A config file could not be read or does not validate."""


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply to read") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


def _validate(cls, raw: dict, path: Path):
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError(f"{path}: invalid config\n" + "\n".join(lines)) from exc


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML recipe (unknown keys are rejected)."""
    path = Path(path)
    return _validate(RunConfig, _read_yaml(path), path)


def load_calibration_config(path: str | Path) -> CalibrationConfig:
    """Read and validate a calibration recipe (see :class:`CalibrationConfig`)."""
    path = Path(path)
    return _validate(CalibrationConfig, _read_yaml(path), path)


def load_elicit_config(path: str | Path) -> ElicitConfig:
    """Read and validate an elicitation recipe (see :class:`ElicitConfig`)."""
    path = Path(path)
    return _validate(ElicitConfig, _read_yaml(path), path)


def load_models_file(path: str | Path) -> dict[str, ServerConfig]:
    """The models of a models file: ``models: {name: {base_url, model, api_key_env, ...}}``."""
    path = Path(path)
    raw = _read_yaml(path)
    entries = raw.get("models")
    if set(raw) != {"models"} or not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{path}: expected one top-level key 'models' mapping names to model entries")
    out = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: models.{name}: expected a mapping of fields")
        try:
            out[str(name)] = ServerConfig.model_validate({"name": str(name), **entry})
        except ValidationError as exc:
            lines = [f"  models.{name}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
            raise ConfigError(f"{path}: invalid model entry\n" + "\n".join(lines)) from None
    return out


def resolve_models(cfg: ElicitConfig, select: list[str] | None = None,
                   models_file: str | Path | None = None) -> list[ServerConfig]:
    """The models an elicitation asks, in order: ``server``, then ``models`` (names looked up in the
    models file); ``select`` (e.g. from ``--models a,b``) picks by name from all of them and from the
    models file. Labels must be unique."""
    file = models_file or cfg.models_file
    registry = load_models_file(file) if file else {}
    chosen = ([cfg.server] if cfg.server is not None else [])
    for m in cfg.models:
        if isinstance(m, str):
            if m not in registry:
                raise ConfigError(f"model {m!r} is not in {file} (has {', '.join(sorted(registry))})")
            chosen.append(registry[m])
        else:
            chosen.append(m)
    if select:
        pool = {m.label: m for m in chosen} | {k: v for k, v in registry.items() if k not in {m.label for m in chosen}}
        unknown = [s for s in select if s not in pool]
        if unknown:
            raise ConfigError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(pool))}")
        chosen = [pool[s] for s in select]
    labels = [m.label for m in chosen]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ConfigError(f"two models share the label {dup[0]!r}: give each a distinct name")
    if not chosen:
        raise ConfigError("no model to ask")
    return chosen


def _public(obj):
    """A dumped config with credentials removed from every base_url."""
    from .redact import public_url

    if isinstance(obj, dict):
        return {k: public_url(v) if k == "base_url" and isinstance(v, str) else _public(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def dump_config(cfg: RunConfig | CalibrationConfig | ElicitConfig) -> str:
    """The resolved config as YAML (every default spelled out; no credentials in URLs)."""
    return yaml.safe_dump(_public(cfg.model_dump(mode="json")), sort_keys=False)
