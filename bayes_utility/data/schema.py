"""The data model's vocabulary: column names, answer labels, the validation error and warning, and the
record of an excluded row.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


ANSWERS = ("A", "B", "unparseable")


OUTCOME_COLUMNS = ("id", "text", "category", "attributes")


RESPONSE_COLUMNS = (
    "respondent",
    "outcome_a",
    "outcome_b",
    "answer",
    "sample_index",
    "prompt_template",
    "raw_text",
)


COUNT_COLUMNS = (
    "respondent",
    "outcome_a",
    "outcome_b",
    "n_a",
    "n_b",
    "n_unparseable",
    "prompt_template",
)


COUNT_FIELDS = ("n_a", "n_b", "n_unparseable")


DEFAULT_RESPONDENT = "respondent"


DEFAULT_TEMPLATE = "default"


# Reported utilities have zero mean and unit *sample* sd (ddof = 1) across outcomes, as
# the reference code re-standardises its utilities (torch's unbiased std).
SCALE_DDOF = 1


def standardised(x) -> np.ndarray:
    """``x`` on the reported scale: zero mean, unit sample sd (ddof :data:`SCALE_DDOF`)."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean()
    return x / x.std(ddof=SCALE_DDOF)


MAX_REPORTED_PROBLEMS = 50


class DataValidationError(ValueError):
    """Raised when preference data is malformed; lists every problem found.

    Attributes
    ----------
    problems : list of str
        One message per problem, each naming the file, row and field.
    """

    def __init__(self, problems: list[str], source: str = "data"):
        self.problems = list(problems)
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        more = len(self.problems) - len(shown)
        text = f"{len(self.problems)} problem(s) in {source}:\n  - " + "\n  - ".join(shown)
        if more:
            text += f"\n  ... and {more} more"
        super().__init__(text)


class DisconnectedGraphWarning(UserWarning):
    """The comparison graph has several components: utilities in different
    components are not comparable with each other."""


@dataclass(frozen=True)
class Exclusion:
    """A comparison row that the analysis did not use, and why."""

    row: int
    outcome_a: str
    outcome_b: str
    respondent: str
    reason: str
