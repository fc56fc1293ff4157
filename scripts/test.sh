#!/usr/bin/env bash
# Set up (first run only) and run the test suite: unit tests plus the statistical
# tests (marked `statistical`); tests marked `slow` only with: scripts/test.sh -m slow
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "test"
source "$(dirname "${BASH_SOURCE[0]}")/_llm.sh"
source "$(dirname "${BASH_SOURCE[0]}")/_browser.sh"
# two worker processes (pytest-xdist; BAYES_UTILITY_TEST_WORKERS=0 runs in this process)
exec python -m pytest -n "${BAYES_UTILITY_TEST_WORKERS:-2}" "$@"
