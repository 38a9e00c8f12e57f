#!/usr/bin/env bash
# fault-suite.sh -- runs the fault suite of issue 8 and prints its figures,
# the rows of the table in docs/reliability.md:
#
#   TestFaultKill9UnderLoad   kill -9 of a peer under load (dist/faults_test.go)
#   TestFaultStopCont         SIGSTOP idle and loaded, then SIGCONT
#   TestPeerStoppedDetection  detection against the tick time (dist/liveness_peer_test.go)
#   TestFaultPartition        two network namespaces cut and healed (dist/netns_test.go;
#                             skipped unless root with ip(8))
#   TestStressMillion         1,000,000 sequenced messages (dist/stress_test.go)
#   TestFaultSoak             three nodes, mixed traffic (dist/soak_test.go;
#                             GONODE_SOAK sets its length, 15 s by default)
#
# Usage:  scripts/fault-suite.sh [go test flags...]   e.g. -race, -count=3
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"
cd "$ROOT"
out="$(mktemp "${TMPDIR:-/tmp}/fault-suite.XXXXXX")"
trap 'rm -f "$out"' EXIT
status=0
go test -count=1 -v -run '^(TestFault|TestPeerStoppedDetection$|TestStressMillion$)' "$@" ./dist/ >"$out" 2>&1 || status=$?
grep -E -- '--- (FAIL|SKIP)|^(FAIL|ok)' "$out" || true
echo "fault suite, $(date -u +%Y-%m-%d), $(git rev-parse --short HEAD 2>/dev/null || echo "(not a git tree)"), $(nproc) CPUs $*"
grep -E 'figure:|dropped after|messages in .* msgs/s' "$out" | sed -E 's/^ +//'
[ "$status" = 0 ] || { echo "--- output:"; cat "$out"; }
exit "$status"
