# Sourced by test.sh: headless Chromium and its WebDriver for the report's browser test
# (Debian packages chromium and chromium-driver). Installs them when missing and this
# shell may (root, or password-less sudo); then the browser test must run, not skip.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
        if sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
    fi
    if [ "$(id -u)" = "0" ] || [ -n "$SUDO" ]; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "installing chromium and chromium-driver (apt) for the report's browser test"
            $SUDO apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
        fi
    fi
fi
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    export BAYES_UTILITY_REQUIRE_BROWSER=1
else
    echo "warning: chromium/chromedriver not available: the report's browser test will be skipped" >&2
fi
