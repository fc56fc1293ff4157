#!/usr/bin/env bash
# The GPU path, checked on one accelerator in under 8 minutes: JAX sees the GPU, the fits
# run there (4 chains vectorised in one program), and the scale figures are printed:
#   P1/P1b  flat Thurstonian, N = 510 and 2,000 (bench_thurstonian.py)
#   P2      hierarchical, 20 respondents x 510 outcomes, then 100 x 2,000 (bench_hierarchical.py;
#           the data are simulated first, on the CPU, outside the timed steps)
#   SBC     replications one at a time against 16 per vectorised run (bench_sbc_batch.py)
# Needs the project and JAX with CUDA (pip install -e '.[gpu]'). Each step has its own
# time limit, so one slow step cannot hide the others.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
"$PY" - <<'PYEOF' || exit 1
import jax
print("JAX", jax.__version__, "backend", jax.default_backend(), jax.devices())
if jax.default_backend() == "cpu":
    raise SystemExit("no accelerator: JAX runs on the CPU (install jax with CUDA: pip install -e '.[gpu]')")
PYEOF
step() { local limit=$1; shift; echo; echo "################ $* (limit ${limit} s)"; local t0=$SECONDS
         timeout "$limit" "$PY" "$@"; echo "################ exit $?, $((SECONDS - t0)) s"; }
step 170 benchmarks/bench_thurstonian.py --platform gpu --no-pymc --no-nutpie --outcomes 510 2000 --repeats 2
CACHE=${DATA_CACHE:-/tmp/bayes_utility_gpu_check}
JAX_PLATFORMS=cpu step 300 benchmarks/bench_hierarchical.py --respondents 20 --outcomes 510 --data-cache "$CACHE" --simulate-only
JAX_PLATFORMS=cpu step 300 benchmarks/bench_hierarchical.py --respondents 100 --outcomes 2000 --data-cache "$CACHE" --simulate-only
step 120 benchmarks/bench_hierarchical.py --data-cache "$CACHE" --platform gpu --respondents 20 --outcomes 510 --chains 4 \
     --warmup 300 --draws 300 --target-accept 0.8 --no-svi
step 150 benchmarks/bench_hierarchical.py --data-cache "$CACHE" --platform gpu --respondents 100 --outcomes 2000 --chains 4 \
     --warmup 300 --draws 300 --target-accept 0.8 --no-svi --no-log-likelihood
step 60 benchmarks/bench_sbc_batch.py --platform gpu --replications 32 --batches 1 16
