#!/usr/bin/env bash
# discovery-figures.sh -- the figures of docs/reliability.md's Discovery
# table: for each strategy (static, dns, gossip), gonode processes on hosts
# made of network namespaces (discovery/netlab_*_test.go: a bridge, a port
# mapper and an address per host, a DNS server for dns) measured by
# TestDiscoveryFigures in discovery/figures_test.go:
#   - time from the first node's start to a full mesh of 3 and of 10 nodes
#     (every node connected to every other; and every node's discovery
#     having found every other),
#   - a node killed with SIGKILL: time until the others' connections to it
#     are gone, and until their discovery no longer finds it,
#   - it restarted: time until a full mesh again,
#   - false drops (connections lost, found nodes lost) while busy loops
#     load one host's CPU for LOAD_SECONDS (that host pinned to the last
#     CPU, the others to the rest).
# Times are those the nodes print (each node prints its list() and
# discovered() when they change, polled every 20 ms).
#
# Usage:  sudo scripts/discovery-figures.sh      (root: it makes namespaces)
# Env:    RUNS          runs of each mesh/kill/restart figure (default 3)
#         LOAD_SECONDS  length of the CPU load (default 60)
#         BURNERS       busy loops on the loaded host's CPU (default 4)
#         LOAD_ALL      1: the busy loops run on every CPU (every node loaded)
#
# Prints the table (markdown) on stdout. The namespaces, processes and
# temporary files are removed by the test itself, failed or not; if the
# test is killed, what it left is removed here (and by the next run).
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(id -u)" != 0 ]; then
	echo "discovery-figures.sh: needs root (network namespaces)" >&2
	exit 1
fi
OUT="$(mktemp "${TMPDIR:-/tmp}/discovery-figures.XXXXXX")"

# sweep removes the namespaces of netlabs whose test process is gone
# (gnd-PIDxN-...), and their resolver files.
sweep() {
	for ns in $(ip netns list | awk '{print $1}' | grep '^gnd-[0-9]*x' || true); do
		pid="${ns#gnd-}"
		pid="${pid%%x*}"
		if [ ! -d "/proc/$pid" ]; then
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
			ip netns del "$ns" 2>/dev/null || true
			rm -rf "/etc/netns/$ns"
		fi
	done
	rmdir /etc/netns 2>/dev/null || true
}
trap 'rm -f "$OUT"; sweep' EXIT

echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$ROOT" rev-parse --short HEAD)" >&2
(cd "$ROOT" && GONODE_DISCOVERY_FIGURES="$OUT" RUNS="${RUNS:-3}" LOAD_SECONDS="${LOAD_SECONDS:-60}" BURNERS="${BURNERS:-4}" LOAD_ALL="${LOAD_ALL:-0}" \
	go test -count=1 -timeout 60m -run '^TestDiscoveryFigures$' -v ./discovery/ >&2)
cat "$OUT"
