"""Datasets shipped with bayes_utility.

===================== ========================================================
``llama2_7b_sim``     default: answers simulated from the Thurstonian profile the
                      reference code fitted to Llama-2-7B-chat (100 of the
                      paper's 510 outcomes, paper design, K=10 per order)
``qwen25_vl_7b_sim``  the same design from Qwen2.5-VL-7B-Instruct's profile
``smollm2_135m_real`` real answers of SmolLM2-135M-Instruct (16 outcomes, both
                      orders, K=4): almost always "A", whatever the content
``lotteries_sim``     20 of the paper's outcomes and 20 lotteries over them,
                      one simulated respondent with a mild EU violation: the
                      expected-utility example
``respondents_sim``   six simulated respondents sharing population utilities
                      (30 outcomes), differing with capability: the hierarchical
                      example, with the paper's capability scores
===================== ========================================================

Refer to one as ``builtin:NAME`` wherever a data path is expected.
"""
from __future__ import annotations

from pathlib import Path

NAMES = ("llama2_7b_sim", "qwen25_vl_7b_sim", "smollm2_135m_real", "respondents_sim", "lotteries_sim")


def path(name: str) -> Path:
    """Folder of a bundled dataset."""
    if name not in NAMES:
        raise ValueError(f"unknown bundled dataset {name!r}; have {', '.join(NAMES)}")
    return Path(__file__).parent / name
