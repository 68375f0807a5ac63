#!/usr/bin/env bash
# Runs every test of the workspace, the way CI does: installs the Debian packages it needs
# when missing (Chromium and ChromeDriver for the browser tests, xmlsec for the SAML grant;
# see scripts/system-deps.sh), makes sure PostgreSQL and Redis answer (starting them if
# they are installed but stopped), then `cargo test --workspace`.
# A service or browser that stays missing fails the run: nothing is skipped.
#
#   bash scripts/test.sh                # everything
#   bash scripts/test.sh -p local-server # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s ==\n' "$*"; }

export PORTCULLIS_TEST_POSTGRES="${PORTCULLIS_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
export PORTCULLIS_TEST_REDIS="${PORTCULLIS_TEST_REDIS:-redis://127.0.0.1:6379}"
# Tests that need a service or the browser fail instead of skipping when CI is set.
export CI="${CI:-true}"

step "system packages (browser, xmlsec)"
bash scripts/system-deps.sh
/usr/bin/chromium --version 2>/dev/null
/usr/bin/chromedriver --version

step "services"
reachable() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! reachable 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if ! reachable 6379 && command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
for _ in $(seq 1 30); do
  reachable 5432 && reachable 6379 && break
  sleep 1
done
reachable 5432 || { echo "PostgreSQL is unreachable at 127.0.0.1:5432: the store tests need it"; exit 1; }
reachable 6379 || { echo "Redis is unreachable at 127.0.0.1:6379: the store tests need it"; exit 1; }
echo "PostgreSQL and Redis are reachable"

step "cargo test --workspace"
cargo test --workspace "$@"
echo
echo "Browser screenshots: target/browser-screenshots/"
