#!/usr/bin/env bash
# Runs the dashboard's browser test (dashboard.test.mjs) in Debian's headless
# Chromium (/usr/bin/chromium, deps/debian-packages.txt). Installs its one npm
# dependency, playwright-core, from the committed lock file first (npm ci; no
# browser download: the test drives the system Chromium).
#   tests/ui/run.sh --binary build/release/plancache [--artifacts DIR]
# The screenshot goes to DIR/dashboard.png (default: $PLANCACHE_TEST_ARTIFACTS,
# else build/test-artifacts).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

for tool in node npm /usr/bin/chromium; do
  command -v "$tool" >/dev/null || {
    echo "tests/ui/run.sh: $tool not found (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done

# npm ci only when node_modules does not hold the locked version already.
want="$(node -p "require('$here/package-lock.json').packages['node_modules/playwright-core'].version")"
have="$(node -p "try { require('$here/node_modules/playwright-core/package.json').version } catch (e) { '' }")"
if [[ "$have" != "$want" ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi

exec node --test-reporter=spec "$here/dashboard.test.mjs" "$@"
