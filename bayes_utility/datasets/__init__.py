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
``maximization_sim``  candidate answers of the paper's 30 free-form questions
                      (6 each, compared within a question) and the respondent's
                      free-form answers: the utility-maximisation example
``markov_sim``        histories of the paper's 21 Markov processes, a respondent
                      valuing start states instrumentally: the instrumental-
                      values example
``implicit_lotteries_sim`` 8 of the paper's uncertain events (implicit lotteries)
                      and their resolutions: the implicit-lottery example
``discounting_sim``   "$1,000 now" against larger amounts later, a hyperbolic
                      discounter: the time-discounting example
``exchange_sim``      "N people from X are saved", dollar anchors, paperclips:
                      the exchange-rate example
``corrigibility_sim`` value changes from the llama2_7b_sim profile and the
                      status quo: the corrigibility example
``political_sim``     24 policies, an assistant and eight stated entities: the
                      political-positions example
``power_sim``         30 outcomes under the ordinary and the power prompt
``control_sim``       an LLM before and after an intervention, and a citizen
                      assembly's target profile: the utility-control example
===================== ========================================================

Refer to one as ``builtin:NAME`` wherever a data path is expected.

``emergent_values/`` holds the paper's option sets the coherence analyses build on
(free-form questions, Markov processes, implicit lotteries): :func:`paper_file`.
"""
from __future__ import annotations

from pathlib import Path

NAMES = ("llama2_7b_sim", "qwen25_vl_7b_sim", "smollm2_135m_real", "respondents_sim", "lotteries_sim",
         "maximization_sim", "markov_sim", "implicit_lotteries_sim", "discounting_sim", "exchange_sim",
         "corrigibility_sim", "political_sim", "power_sim", "control_sim")


PAPER_FILES = ("utility_maximization_questions.json", "markov_processes.json", "markov_processes_unnatural.json",
               "implicit_lotteries.json")


def paper_file(name: str) -> Path:
    """One of the paper's option-set files shipped with the package (MIT licence)."""
    if name not in PAPER_FILES:
        raise ValueError(f"unknown paper file {name!r}; have {', '.join(PAPER_FILES)}")
    return Path(__file__).parent / "emergent_values" / name


def path(name: str) -> Path:
    """Folder of a bundled dataset."""
    if name not in NAMES:
        raise ValueError(f"unknown bundled dataset {name!r}; have {', '.join(NAMES)}")
    return Path(__file__).parent / name
