"""Time discounting with the exponential discount function: see :mod:`models._time_discounting`."""
from __future__ import annotations

from functools import partial

from bayes_utility.models import _time_discounting as _td

LINK, PRIORS, DIMS, REPORTED = _td.LINK, _td.PRIORS, _td.DIMS, _td.REPORTED
CALIBRATED, SCORE_SITES, ML_PARAMS, SCALE_NOTE = _td.CALIBRATED, _td.SCORE_SITES, _td.ML_PARAMS, _td.SCALE_NOTE
DISCOUNT = "exponential"
latent_score = _td.latent_score
data_structure = _td.data_structure
sbc_structure = _td.sbc_structure
model = partial(_td.model, discount=DISCOUNT)
