#!/usr/bin/env bash
# bench-dist.sh -- gonode's distribution benchmarks (dist/bench_test.go) and
# BEAM's reference figures (../shared/bench/beam/run_beam.sh remote, fail),
# run back to back on this machine, then one table of both with the ratio
# and the goal. Absolute figures drift 20-30% from run to run on a 2-core
# machine (more when other work runs): only the ratios from one sitting
# carry over.
#
# Load from other work on the machine comes and goes within minutes, so the
# two sides alternate: ROUNDS times gonode's figures, then BEAM's; each
# side's figure is the median over all its runs.
#
# Usage:  scripts/bench-dist.sh
# Env:    ROUNDS    rounds of gonode then BEAM (default 2)
#         REPS      runs of each gonode figure per round (default 3)
#         BEAM      1 (default) runs the BEAM reference; 0 skips it
#         BEAM_DIR  where run_beam.sh lives (default ../shared/bench/beam)
#         GOLIMIT   1 also runs ../shared/bench/golimit/run_go.sh (Go's own limits)
#         OUTDIR    where raw outputs and the table go (default a new dir under /tmp)
#         SCHED     schedulers per node on both sides: GOMAXPROCS=$SCHED for
#                   gonode and its peer, ERL_FLAGS="+S $SCHED:$SCHED" for BEAM's
#                   nodes (default: each runtime's own, one per CPU)
#
# Every process started here is stopped by pid: the gonode peers by the
# benchmarks themselves, BEAM's nodes by run_beam.sh.
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-2}"
REPS="${REPS:-3}"
BEAM="${BEAM:-1}"
BEAM_DIR="${BEAM_DIR:-$ROOT/../shared/bench/beam}"
GOLIMIT="${GOLIMIT:-0}"
OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-dist.XXXXXX")}"
SCHED="${SCHED:-}"
GO_ENV=() BEAM_ENV=()
if [ -n "$SCHED" ]; then
  GO_ENV=("GOMAXPROCS=$SCHED")
  BEAM_ENV=("ERL_FLAGS=+S $SCHED:$SCHED")
fi
mkdir -p "$OUTDIR"
GO_OUT="$OUTDIR/gonode.txt"
: > "$GO_OUT"

echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); results in $OUTDIR" >&2

# --- gonode ---------------------------------------------------------------
BIN="$OUTDIR/dist.test"
(cd "$ROOT" && go test -c -o "$BIN" ./dist)
run_go() { # benchmark regexp, -benchtime
  echo "-- gonode $1 (-benchtime=$2, -count=$REPS)" >&2
  (cd "$ROOT/dist" && env "${GO_ENV[@]}" "$BIN" -test.run '^$' -test.bench "$1" -test.benchtime="$2" -test.count="$REPS") \
    | grep "^Benchmark" | tee -a "$GO_OUT" >&2 || echo "gonode $1 failed" >&2
}
run_gonode() {
  # The counts follow bench.exs: 10k round trips, 1M streamed messages,
  # 5k rpc calls, 8 callers x 2000 calls, fresh peers one at a time.
  run_go '^BenchmarkRemotePingPong$' 10000x
  run_go '^BenchmarkRemotePingPongTLS$' 10000x
  run_go '^BenchmarkRemoteStream$' 1000000x
  run_go '^BenchmarkRemoteStreamTLS$' 1000000x
  run_go '^BenchmarkRPCLatency$' 5000x
  run_go '^BenchmarkRPCThroughput8$' 16000x
  run_go '^BenchmarkConnect$' 20x
  run_go '^BenchmarkNodeDownAfterKill$' 20x
}

# --- BEAM -----------------------------------------------------------------
run_beam() {
  [ "$BEAM" = 1 ] || return 0
  if ! command -v elixir >/dev/null || [ ! -x "$BEAM_DIR/run_beam.sh" ]; then
    echo "-- BEAM skipped: elixir or $BEAM_DIR/run_beam.sh missing" >&2
    return 0
  fi
  for what in remote fail; do
    echo "-- BEAM $what" >&2
    OUTDIR="$OUTDIR/beam" MAIN_NAME=distbench_a PEER_NAME=distbench_b \
      env "${BEAM_ENV[@]}" "$BEAM_DIR/run_beam.sh" "$what" >&2 || echo "run_beam.sh $what failed" >&2
  done
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS" >&2
  run_gonode
  run_beam
done
if [ "$GOLIMIT" = 1 ]; then
  OUTDIR="$OUTDIR/golimit" "$ROOT/../shared/bench/golimit/run_go.sh" >&2 || true
fi

# --- table ----------------------------------------------------------------
# The median of the numbers on stdin, or nothing.
median() {
  sort -g | awk '{ v[++k] = $1 } END { if (!k) exit
    m = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
    if (m >= 1000) printf "%.0f\n", m; else if (m >= 10) printf "%.1f\n", m; else printf "%.2f\n", m }'
}
# gonode: the median over all runs of one metric of one benchmark.
go_metric() { # benchmark name (without -GOMAXPROCS), unit
  awk -v name="$1" -v unit="$2" '
    { n = $1; sub(/-[0-9]+$/, "", n); if (n != name) next
      for (i = 3; i < NF; i++) if ($(i+1) == unit) print $i }' "$GO_OUT" | median
}
# BEAM: the median over all rounds of row id of its result tables.
beam_metric() { # id
  cat "$OUTDIR"/beam/beam.*.md 2>/dev/null |
    awk -F'|' -v id="$1" '{ gsub(/ /, "", $2) } $2 == id { v = $4; gsub(/[ ,]/, "", v); print v }' | median
}
connect_go="$(go_metric BenchmarkConnect/mapper=epmd ms/connect)"
connect_how="real epmd"
if [ -z "$connect_go" ]; then
  connect_go="$(go_metric BenchmarkConnect/mapper=embedded ms/connect)"
  connect_how="embedded port mapper"
fi

TABLE="$OUTDIR/dist-compare.md"
{
  echo "Distribution benchmarks, $(date -u '+%Y-%m-%d'), $(nproc) cpus, $(go version | awk '{print $3}'), medians of $ROUNDS rounds (gonode: $REPS runs a round)${SCHED:+, $SCHED scheduler(s) per node (GOMAXPROCS=$SCHED, BEAM +S $SCHED:$SCHED)}"
  echo
  echo "| figure | gonode | BEAM | gonode/BEAM | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  row() { # label, gonode, beam, unit, goal op (le|ge), goal ratio
    awk -v l="$1" -v g="$2" -v b="$3" -v u="$4" -v op="$5" -v goal="$6" 'BEGIN {
      r = (g != "" && b != "" && b + 0 > 0) ? g / b : -1
      gs = (op == "le") ? "<= " goal "x" : ">= " goal "x"
      met = (r < 0) ? "?" : ((op == "le" && r <= goal) || (op == "ge" && r >= goal)) ? "yes" : "no"
      printf "| %s | %s %s | %s %s | %s | %s | %s |\n", l, (g == "" ? "-" : g), u, (b == "" ? "-" : b), u, (r < 0 ? "-" : sprintf("%.2f", r)), gs, met }'
  }
  row "remote ping-pong round trip (median)" "$(go_metric BenchmarkRemotePingPong us/rt-p50)" "$(beam_metric d1)" us le 0.8
  row "remote stream, 1 pair, until ack" "$(go_metric BenchmarkRemoteStream/pairs=1 msgs/s)" "$(beam_metric e1)" msgs/s ge 8
  row "remote stream, 4 pairs, until ack" "$(go_metric BenchmarkRemoteStream/pairs=4 msgs/s)" "$(beam_metric e4)" msgs/s ge 5
  row "rpc latency (median)" "$(go_metric BenchmarkRPCLatency us/call-p50)" "$(beam_metric f-erpc)" us le 0.8
  row "rpc throughput, 8 callers" "$(go_metric BenchmarkRPCThroughput8 calls/s)" "$(beam_metric f-erpc-8)" calls/s ge 2
  row "connect to a fresh node ($connect_how)" "$connect_go" "$(beam_metric h2)" ms le 1
  row "nodedown after kill -9" "$(go_metric BenchmarkNodeDownAfterKill ms/nodedown)" "$(beam_metric g1)" ms le 1
  echo
  echo "gonode means: ping-pong $(go_metric BenchmarkRemotePingPong us/rt) us/rt, rpc $(go_metric BenchmarkRPCLatency us/call) us/call;" \
    "connect with the embedded port mapper $(go_metric BenchmarkConnect/mapper=embedded ms/connect) ms"
  echo
  echo "Mutual TLS 1.3 (dist.TLS), same sitting: TLS / plaintext"
  echo
  echo "| figure | plaintext | TLS | TLS/plaintext | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  row "remote ping-pong round trip (median)" "$(go_metric BenchmarkRemotePingPongTLS us/rt-p50)" "$(go_metric BenchmarkRemotePingPong us/rt-p50)" us le 1.15 |
    awk -F'|' -v OFS='|' '{ t = $3; $3 = $4; $4 = t } 1'
  row "remote stream, 1 pair, until ack" "$(go_metric BenchmarkRemoteStreamTLS/pairs=1 msgs/s)" "$(go_metric BenchmarkRemoteStream/pairs=1 msgs/s)" msgs/s ge 0.85 |
    awk -F'|' -v OFS='|' '{ t = $3; $3 = $4; $4 = t } 1'
  row "remote stream, 4 pairs, until ack" "$(go_metric BenchmarkRemoteStreamTLS/pairs=4 msgs/s)" "$(go_metric BenchmarkRemoteStream/pairs=4 msgs/s)" msgs/s ge 0.85 |
    awk -F'|' -v OFS='|' '{ t = $3; $3 = $4; $4 = t } 1'
  lim() { cat "$OUTDIR"/golimit/go.*.md 2>/dev/null | awk -F'|' -v id="$1" '{ gsub(/ /, "", $2) } $2 == id { v = $4; gsub(/ /, "", v); print v }' | tail -1; }
  if [ -n "$(lim go-actor-rtt)" ]; then
    echo "Go's own limits, same sitting (golimit): raw TCP round trip $(lim go-tcp-rtt-f) us," \
      "actor-shaped TCP round trip $(lim go-actor-rtt) us, actor-shaped stream $(lim go-actor-stream-1) msgs/s (medians)"
  fi
} > "$TABLE"
cat "$TABLE"
echo "== table in $TABLE" >&2
