"""Outcome texts built from parts: a lottery over outcomes, a change of values."""
from __future__ import annotations


def lottery_text(items: list[tuple[str, float]]) -> str:
    """Option text of a lottery: one ``- <outcome> with probability p%`` line per outcome."""
    total = sum(p for _, p in items)
    if abs(total - 1.0) > 1e-9 or any(p <= 0 for _, p in items):
        raise ValueError(f"lottery probabilities must be positive and sum to 1, got {total}")
    return "\n".join(f"- {text} with probability {100 * p:g}%" for text, p in items)


def value_change_text(preferred: str, other: str) -> str:
    """Option text of a value change: a future preference for ``preferred`` over ``other``."""
    return (f"Your preferences are changed so that, between \"{preferred}\" and \"{other}\", "
            f"you prefer \"{preferred}\".")
