#!/usr/bin/env bash
# bench-placement.sh -- placement under skew: cluster/placement's
# BenchmarkSkew (cluster/placement/bench_test.go) run REPS times, then one
# table of the medians against the goal. Three gonode nodes, each in an OS
# process of its own on loopback TCP; node c runs SPIN processes spinning
# on the CPU (real load, on purpose); node a places RATE tasks a second
# (each a process burning about 1 ms of CPU on the chosen node) with
# LeastLoaded for SECONDS seconds. Goal: the tasks placed on the two idle
# nodes within 1.2x of each other (max/min), and few on the busy one.
#
# BEAM has no built-in equivalent (no load records shared between nodes,
# no placement: Task.async_stream and :rpc take the node from the caller),
# so this reports gonode's figures alone.
#
# Usage:  scripts/bench-placement.sh
# Env:    REPS      runs (default 3)
#         DURATION  seconds of placing per run (default 10)
#         RATE      tasks placed a second (default 400)
#         SPIN      spinning processes on the busy node (default 2 per core)
#         INTERVAL  sampling interval in ms (default 250)
#         OUTDIR    where raw outputs and the table go (default a new dir under /tmp)
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${REPS:-3}"
SECS="${DURATION:-10}"
RATE="${RATE:-400}"
SPIN="${SPIN:-$((2 * $(nproc)))}"
INTERVAL="${INTERVAL:-250}"
OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-placement.XXXXXX")}"
mkdir -p "$OUTDIR"
GO_OUT="$OUTDIR/gonode.txt"
: > "$GO_OUT"

echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); results in $OUTDIR" >&2
BIN="$OUTDIR/placement.test"
(cd "$ROOT" && go test -c -o "$BIN" ./cluster/placement)
# The peers are the test binary run again; each exits when its stdin
# (held by the benchmark) closes, so none outlives a run.
echo "-- BenchmarkSkew x$REPS: ${SECS}s, $RATE tasks/s, $SPIN spinners on c, sampled every ${INTERVAL} ms" >&2
(cd "$ROOT/cluster/placement" && PLACEMENT_SECONDS="$SECS" PLACEMENT_RATE="$RATE" PLACEMENT_SPIN="$SPIN" \
  PLACEMENT_INTERVAL_MS="$INTERVAL" "$BIN" -test.run '^$' -test.bench '^BenchmarkSkew$' -test.benchtime=1x \
  -test.count="$REPS" -test.v) | tee "$OUTDIR/raw.txt" | grep "^BenchmarkSkew" | tee -a "$GO_OUT" >&2

median() {
  sort -g | awk '{ v[++k] = $1 } END { if (!k) exit
    m = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
    if (m >= 100) printf "%.0f\n", m; else if (m >= 10) printf "%.1f\n", m; else printf "%.3f\n", m }'
}
metric() { # unit; prints the median over runs
  awk -v unit="$1" '{ for (i = 3; i < NF; i++) if ($(i+1) == unit) print $i }' "$GO_OUT" | median
}
most() { awk -v unit="$1" '{ for (i = 3; i < NF; i++) if ($(i+1) == unit) print $i }' "$GO_OUT" | sort -g | tail -1 | median; }

TABLE="$OUTDIR/placement.md"
{
  echo "Placement under skew, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg), $(go version | awk '{print $3}'), medians of $REPS runs (${SECS} s, $RATE tasks/s, $SPIN spinners on c)"
  echo
  echo "| figure | gonode | BEAM | ratio | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  r=$(metric tasks-ratio); w=$(most tasks-ratio)
  met=$(awk -v r="$w" 'BEGIN { print (r <= 1.2) ? "yes (every run)" : "no" }')
  echo "| tasks placed on the two idle nodes, max/min (worst run $w) | ${r}x | - | | <= 1.2x | $met |"
  echo "| their CPU as the records showed it, max/min | $(metric cpu-ratio)x | - | | (report) | |"
  echo "| their mean score, max/min (a snapshot a record: noisy) | $(metric score-ratio)x | - | | (report) | |"
  echo "| tasks that went to the busy node (worst run $(most busy-%) %) | $(metric busy-%) % | - | | few | |"
  echo "| mean score, idle a / idle b / busy c | $(metric score-a) / $(metric score-b) / $(metric score-c) | - | | | |"
  echo "| tasks placed a second (asked: $RATE) | $(metric tasks/s) | - | | | |"
  echo "| Choose calls that found no live node | $(metric failed) | - | | 0 | |"
} > "$TABLE"
cat "$TABLE"
echo "== table in $TABLE" >&2
