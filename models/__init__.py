"""NumPyro model definitions, one module per statistical model.

Installed as :mod:`bayes_utility.models`; load a model by name with
:func:`bayes_utility.models.get_model` (or ``model: NAME`` in a config). **Adding a model is
adding one file here** (and its test): every module whose name does not start with an
underscore is a model, found by its file name; shared pieces live in ``likelihood`` (the
building blocks every model uses) and in underscored modules (``_parametric``,
``_time_discounting``).

Every model module defines

``model(idx_a, idx_b, n, n_outcomes, k_a=None, *, order_bias=False, **priors)``
    the plain NumPyro model; ``k_a=None`` gives the prior predictive.
``latent_score(params, idx_a, idx_b, order_bias=False)``
    the link-scale score of "A" for each row, from a dict of parameter values
    (used inside the model and for predictions, so the two never disagree).
``LINK``, ``PRIORS`` (default prior hyper-parameters), ``DIMS`` (site -> dims),
``REPORTED`` (the sites summarised per outcome), ``CALIBRATED`` (the sites whose
calibration simulation-based calibration checks; the data log-likelihood is added),
``ML_PARAMS`` (the free parameters of the maximum-likelihood estimate and their
constraint: ``zero_sum`` or ``log_zero_sum``; None: no ML estimate), ``SCALE_NOTE``.

and, where it needs them,

``data_structure(data, model_cfg) -> DataStructure``
    what the model takes from the data besides the comparisons (which outcomes are
    lotteries, each outcome's amount and delay, who the respondents are) and what it adds
    to the InferenceData: coordinates, ``constant_data``, posterior attributes
    (:class:`DataStructure`). ``sbc_structure(design) -> keywords``: a synthetic one for
    simulation-based calibration.
``INPUTS``, ``SCORE_SITES``
    per-comparison inputs besides ``idx_a, idx_b, n`` (e.g. ``respondent``), and the sites
    ``latent_score`` reads.
``ARTEFACTS``
    the names of the analyses (:mod:`bayes_utility.analyses.registry`) whose files every
    run folder of this model gets, e.g. ``("expected_utility",)``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType

# modules of building blocks, not models
BUILDING_BLOCKS = frozenset({"likelihood"})

# listed first, in this order; any other model module follows by name
_CORE = ("thurstonian", "bradley_terry", "thurstonian_hierarchical")


def _discover() -> tuple[str, ...]:
    found = {m.name for m in pkgutil.iter_modules(__path__)
             if not m.name.startswith("_") and not m.ispkg and m.name not in BUILDING_BLOCKS}
    return tuple(n for n in _CORE if n in found) + tuple(sorted(found - set(_CORE)))


MODEL_NAMES = _discover()

__all__ = ["MODEL_NAMES", "DataStructure", "get_model", "structure_of"]


def get_model(name: str) -> ModuleType:
    """Return the model module called ``name`` (e.g. ``"thurstonian"``)."""
    key = name.replace("-", "_").lower()
    if key not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(MODEL_NAMES)}")
    return importlib.import_module(f"{__name__}.{key}")


@dataclass
class DataStructure:
    """What a model takes from the data besides the comparisons, and what it adds to the fit.

    ``keywords``: structural keyword arguments of ``model()``; ``coords``: coordinates of
    the model's extra dims (those its ``DIMS`` name); ``constant_data``: ``name -> (dims,
    values)`` stored in the InferenceData's ``constant_data`` group; ``posterior_coords``:
    ``name -> (dim, values)`` added to the posterior; ``attrs``: posterior attributes that
    describe the structure; ``group_by``/``respondents``: how a multi-respondent model tells
    respondents apart (held-out pairs are then drawn per respondent).
    """

    keywords: dict = field(default_factory=dict)
    coords: dict = field(default_factory=dict)
    constant_data: dict = field(default_factory=dict)
    posterior_coords: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    group_by: tuple[str, ...] = ()
    respondents: tuple[str, ...] = ()

    @property
    def grouping(self) -> dict:
        """Keywords of :meth:`PreferenceData.arrays` that keep respondents apart."""
        return {"group_by": self.group_by, "respondents": self.respondents} if self.respondents else {}


def structure_of(mod: ModuleType, data, model_cfg=None) -> DataStructure:
    """The model's :class:`DataStructure` for ``data`` (empty when it needs nothing more)."""
    if not hasattr(mod, "data_structure"):
        return DataStructure()
    return mod.data_structure(data, model_cfg)
