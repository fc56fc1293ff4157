#!/usr/bin/env bash
# Set up (first run only) and run the main job: Bayesian Thurstonian fit (NUTS) of the
# bundled default data; writes a run folder under outputs/. Extra args go to `fit`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""
exec bayes-utility fit inference_configs/default.yaml "$@"
