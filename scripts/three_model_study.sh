#!/usr/bin/env bash
# A three-model study from one command: serve three simulated models on 127.0.0.1,
# ask each every question (one store, one dataset), then fit them as respondents of
# the hierarchical Thurstonian model. Extra arguments go to `bayes-utility fit`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""
python -m bayes_utility.elicitation.simserver --models alpha,beta,gamma --port 8765 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do
    python -c "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:8765/v1/models', timeout=1)" 2>/dev/null && break
    sleep 0.2
done
bayes-utility elicit inference_configs/elicit_three_models.yaml
bayes-utility fit inference_configs/hierarchical_three_models.yaml "$@"
