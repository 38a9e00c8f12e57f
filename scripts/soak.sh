#!/usr/bin/env bash
# soak.sh -- the long run of the fault suite's soak (dist/soak_test.go,
# TestFaultSoak): three nodes (the test's and two peer processes) under
# mixed traffic for DURATION, sampling each node's goroutines and heap,
# which must stay bounded. CI runs the same test for 15 s.
#
# Usage:  scripts/soak.sh [DURATION]      (default 10m; any Go duration)
# Env:    RACE=1  build with the race detector (about ten times slower)
#         OUT     also write the test's output to this file
#
# Prints every sample, then the figures (lines "figure: soak ...") for the
# table in docs/reliability.md. The peers are stopped by the test itself.
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DURATION="${1:-10m}"
export PATH="$PATH:/usr/local/go/bin"
flags=(-count=1 -v -run '^TestFaultSoak$' -timeout 0)
[ "${RACE:-0}" = 1 ] && flags+=(-race)
cd "$ROOT"
echo "soak: $DURATION, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo "(not a git tree)"), $(nproc) CPUs"
GONODE_SOAK="$DURATION" go test "${flags[@]}" ./dist/ 2>&1 | tee "${OUT:-/dev/null}"
