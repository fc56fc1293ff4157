# Sourced by main.sh and test.sh: make .venv with the project installed (idempotent).
# Re-installs only when setup.cfg/pyproject.toml change or the extras asked for differ.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
VENV="${BAYES_UTILITY_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.bayes_utility-installed"
WANT="$(cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-[$EXTRAS]"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if [ -n "$EXTRAS" ]; then
        "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$EXTRAS]"
    else
        "$VENV/bin/python" -m pip install --quiet -e "$ROOT"
    fi
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
