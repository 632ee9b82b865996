#!/usr/bin/env bash
# Runs every test of gatepost. Installs the system packages the tests need
# when they are missing (Debian/Ubuntu: apt-get update once, then install),
# so it works the same on a fresh machine and in CI.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
# The kiosk cross-built for arm64 runs under user-mode emulation (e2e/arm_test.go).
command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
# systemd-analyze verifies the units in packaging/systemd.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# The e2e tamper test edits hub.db with the sqlite3 tool (e2e/verify_test.go).
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# The guard screen's and the console's browser tests: Debian's Chromium, and a CJK font so
# Chinese renders in them and in the screenshots.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The Debian packages' checker (tools/package's test; errors fail it).
command -v lintian >/dev/null 2>&1 || need+=(lintian)
# The stores' tests on PostgreSQL run against a throwaway server (.ci/postgres).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
[ -n "$(fc-list "WenQuanYi Micro Hei" 2>/dev/null)" ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian installs the broker in /usr/sbin, which a plain user's PATH may lack.
export PATH="$PATH:/usr/sbin"

echo "test.sh: go vet"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt would change:"; echo "$unformatted"; exit 1
fi
# A throwaway PostgreSQL for this run, unless GATEPOST_TEST_POSTGRES names one
# already; stopped and removed at the end, failed or not.
if [ -z "${GATEPOST_TEST_POSTGRES:-}" ]; then
  pgdir=$(mktemp -d /tmp/gatepost-pg.XXXXXX)
  trap '.ci/postgres stop "$pgdir"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if url=$(.ci/postgres start "$pgdir"); then
    export GATEPOST_TEST_POSTGRES="$url"
    echo "test.sh: PostgreSQL for the tests at $url"
  elif [ -n "${CI:-}" ]; then
    echo "test.sh: the tests' PostgreSQL did not start, and CI must run every test"; exit 1
  else
    echo "test.sh: the tests' PostgreSQL did not start: the tests on PostgreSQL will skip"
  fi
fi
# Each test binary is bounded, so a hang fails within minutes, not CI's limit.
echo "test.sh: go test"
# e2e runs the programs as processes (the replica fault suite among them):
# about 5 minutes on a quiet 2-core machine, more on a loaded one.
go test -count=1 -timeout 15m ./...
echo "test.sh: go test -race (packages with concurrency of their own)"
go test -count=1 -race -timeout 8m ./internal/... ./hardware/... \
  ./kiosk/uplink/... ./kiosk/journal/... ./kiosk/screen/... ./kiosk/gate/... ./kiosk/daemon/... ./kiosk/passcheck/... ./kiosk/identity/... \
  ./kiosk/enrollment/... ./hub/server/... ./hub/link/... ./hub/ingest/... ./hub/alerts/... ./hub/retention/... ./hub/broker/... ./hub/console/... \
  ./hub/enroll/... ./hub/registry/... ./hub/leader/...
# The records' concurrent tests (two stores on one database, group commits).
go test -count=1 -race -timeout 8m -run 'Replicas|Group|Concurrent|Prepared' ./hub/records/
