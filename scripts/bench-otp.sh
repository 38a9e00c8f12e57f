#!/usr/bin/env bash
# bench-otp.sh -- gonode's supervisor and task benchmarks (otp/bench_test.go)
# and BEAM's reference figures for the same experiments
# (scripts/bench-otp-beam.sh, which runs scripts/bench-otp-beam.exs), run in
# alternation on this machine, then one Markdown table of both with the
# ratio and the goal. Absolute figures drift 20-30% from run to run on a
# 2-core machine (more when other work runs): only the ratios of one sitting
# carry over.
#
# Usage:  scripts/bench-otp.sh
# Env:    ROUNDS     rounds of gonode then BEAM (default 2)
#         REPS       runs (-test.count) of each gonode benchmark per round (default 3)
#         BEAM_REPS  runs of each BEAM figure per round (BENCH_REPS, default 3)
#         BEAM       1 (default) runs the BEAM side; 0 skips it
#         EPMD_PORT  port of the epmd BEAM's nodes use (default 4417, see bench-otp-beam.sh)
#         OUTDIR     where raw outputs and the table go, kept (default a new dir under /tmp)
#
# gonode's figures, each the median over all its runs (BEAM's, over its rounds):
#   restart latency     BenchmarkRestartLatency, 1000 crashes a run     BEAM r1, r1l
#   start 10,000        BenchmarkSupervisorStart10k                     BEAM r2
#   restarts/s          BenchmarkRestartsPerSecond, 10,000 children     BEAM r3, r4
#   failover            BenchmarkFailoverKill9, 1,000 children, 5 kills a run  BEAM f0-f4
#   streams             BenchmarkStreamLocal, BenchmarkStreamOverNodes  BEAM s1, s1c, s3, s3c
#
# Every process started here is stopped by its pid: the benchmark binary and
# BEAM's runner run in the background and are waited for (killed by pid on
# interrupt); the gonode peers are stopped by the benchmarks themselves, and
# BEAM's nodes and epmd by bench-otp-beam.sh.
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-2}"
REPS="${REPS:-3}"
BEAM_REPS="${BEAM_REPS:-3}"
BEAM="${BEAM:-1}"
OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-otp.XXXXXX")}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)" # absolute: the benchmarks run in otp/
GO_OUT="$OUTDIR/gonode.txt"
: > "$GO_OUT"

CHILD=""
stop_child() {
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
}
BIN="$OUTDIR/otp.test"
# On exit: stop what runs, drop the test binary (the outputs and table stay).
finish() {
  stop_child
  rm -f "$BIN" "$OUTDIR/go.last.txt"
}
trap finish EXIT
trap 'exit 130' INT TERM
# run_bg CMD...: runs CMD in the background as $CHILD and waits for it.
run_bg() {
  "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return $rc
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
START="$(date -u '+%Y-%m-%d %H:%M:%SZ')"
LOAD_START="$(load)"
echo "== $START $(nproc) cpus, load $LOAD_START; results in $OUTDIR" >&2

# --- gonode ---------------------------------------------------------------
(cd "$ROOT" && go test -c -o "$BIN" ./otp)
cd "$ROOT/otp" # the benchmarks' working directory, as under go test
run_go() { # benchmark regexp, -benchtime
  echo "-- gonode $1 (-benchtime=$2, -count=$REPS)" >&2
  # In this shell (cd'ed to otp/ above), not a subshell, so that the trap
  # knows the binary's pid.
  run_bg "$BIN" -test.run '^$' -test.bench "$1" -test.benchtime="$2" -test.count="$REPS" \
    > "$OUTDIR/go.last.txt" 2>&1 || echo "gonode $1 failed: $(tail -5 "$OUTDIR/go.last.txt")" >&2
  grep "^Benchmark" "$OUTDIR/go.last.txt" | tee -a "$GO_OUT" >&2 || true
}
run_gonode() {
  # The counts follow bench-otp-beam.exs: 1000 crashes of one child, one
  # pass over 10,000 children, kill -9 of a node with 1,000 children,
  # 10,000 streamed items.
  run_go '^BenchmarkRestartLatency$' 1000x
  run_go '^BenchmarkSupervisorStart10k$' 1x
  run_go '^BenchmarkRestartsPerSecond$' 1x
  run_go '^BenchmarkFailoverKill9$' 5x
  run_go '^BenchmarkStream(Local|OverNodes)$' 3x
}

# --- BEAM -----------------------------------------------------------------
BEAM_SH="$ROOT/scripts/bench-otp-beam.sh"
run_beam() { # round
  [ "$BEAM" = 1 ] || return 0
  if ! command -v elixir >/dev/null || [ ! -x "$BEAM_SH" ]; then
    echo "-- BEAM skipped: elixir or $BEAM_SH missing" >&2
    return 0
  fi
  echo "-- BEAM (BENCH_REPS=$BEAM_REPS)" >&2
  BENCH_REPS="$BEAM_REPS" OUT="$OUTDIR/beam.$1.md" run_bg "$BEAM_SH" all > "$OUTDIR/beam.$1.out" 2> "$OUTDIR/beam.$1.log" ||
    echo "bench-otp-beam.sh failed (round $1): $(tail -5 "$OUTDIR/beam.$1.log")" >&2
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS, load $(load)" >&2
  run_gonode
  run_beam "$round"
done
LOAD_END="$(load)"

# --- table ----------------------------------------------------------------
# The median of the numbers on stdin, or nothing.
median() {
  sort -g | awk '{ v[++k] = $1 } END { if (!k) exit
    m = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
    if (m >= 1000) printf "%.0f\n", m; else if (m >= 10) printf "%.1f\n", m; else printf "%.2f\n", m }'
}
# gonode: the median over all runs of one metric of one benchmark, times scale.
go_metric() { # benchmark name (without -GOMAXPROCS), unit, [scale]
  awk -v name="$1" -v unit="$2" -v scale="${3:-1}" '
    { n = $1; sub(/-[0-9]+$/, "", n); if (n != name) next
      for (i = 3; i < NF; i++) if ($(i+1) == unit) print $i * scale }' "$GO_OUT" | median
}
# BEAM: the median over all rounds of row id of its tables (each value is
# already the median of its BEAM_REPS runs).
beam_metric() { # id
  cat "$OUTDIR"/beam.*.md 2>/dev/null |
    awk -F'|' -v id="$1" '{ gsub(/ /, "", $2) } $2 == id { v = $4; gsub(/[ ,]/, "", v); print v }' | median
}
# The first of BEAM's rows ids that has a value (row ids of an older script).
beam_first() {
  local id v
  for id in "$@"; do
    v="$(beam_metric "$id")"
    if [ -n "$v" ]; then echo "$v"; return; fi
  done
}
# BEAM's failover time beyond detection: first restart call to the 1,000th
# child running, from its rate row f4 (children/s).
beam_beyond() {
  cat "$OUTDIR"/beam.*.md 2>/dev/null |
    awk -F'|' '{ gsub(/ /, "", $2) } $2 == "f4" { v = $4; gsub(/[ ,]/, "", v); if (v > 0) print 1000 * 1000 / v }' | median
}
commas() { # 12345.6 -> 12,346 (numbers >= 1000 only)
  awk -v x="$1" 'BEGIN { if (x == "" || x + 0 < 1000) { print x; exit }
    s = sprintf("%.0f", x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'
}
NCPU="$(nproc)"
TABLE="$OUTDIR/otp-compare.md"
{
  echo "Supervisors and tasks (otp), $START to $(date -u '+%H:%M:%SZ'), $NCPU cpus, load $LOAD_START at start, $LOAD_END at end;"
  echo "$(go version | awk '{print $3}'); $(grep -h -m1 '^- OTP' "$OUTDIR"/beam.*.md 2>/dev/null | head -1 | sed 's/^- //')."
  echo "Medians over $ROUNDS rounds (gonode: $REPS runs a round; BEAM: $BEAM_REPS runs a round)."
  echo
  echo "| figure | gonode | BEAM | ratio | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  row() { # label, gonode, beam, unit, goal op (le|ge|abs-lt|-), goal value
    local g b
    g="$(commas "$2")"; b="$(commas "$3")"
    awk -v l="$1" -v g="$2" -v b="$3" -v gs="$g" -v bs="$b" -v u="$4" -v op="$5" -v goal="$6" 'BEGIN {
      r = (g != "" && b != "" && b + 0 > 0) ? g / b : -1
      if (op == "le") gl = "<= " goal "x BEAM"; else if (op == "ge") gl = ">= " goal "x BEAM"
      else if (op == "abs-lt") gl = "< " goal " " u; else gl = "(report)"
      if (op == "-") met = ""
      else if (op == "abs-lt") met = (g == "") ? "?" : (g + 0 < goal + 0) ? "met" : "missed"
      else met = (r < 0) ? "?" : ((op == "le" && r <= goal) || (op == "ge" && r >= goal)) ? "met" : "missed"
      printf "| %s | %s %s | %s %s | %s | %s | %s |\n", l, (g == "" ? "-" : gs), u, (b == "" ? "-" : bs), (b == "" ? "" : u),
        (r < 0 ? "-" : sprintf("%.2fx", r)), gl, met }'
  }
  row "restart latency, median (crash -> replacement's init)" "$(go_metric BenchmarkRestartLatency/report=none ns/restart-p50 0.001)" "$(beam_metric r1)" us le 0.7
  row "restart latency, median, restarts logged" "$(go_metric BenchmarkRestartLatency/report=log ns/restart-p50 0.001)" "$(beam_metric r1l)" us - -
  row "start a supervisor with 10,000 children" "$(go_metric BenchmarkSupervisorStart10k children/s)" "$(beam_metric r2)" children/s - -
  row "restarts/s, 10,000 children crashed in turn" "$(go_metric BenchmarkRestartsPerSecond/one-at-a-time restarts/s)" "$(beam_metric r3)" restarts/s ge 2
  row "restarts/s, 10,000 children crashed at once" "$(go_metric BenchmarkRestartsPerSecond/all-at-once restarts/s)" "$(beam_metric r4)" restarts/s ge 2
  row "kill -9 -> nodedown at a node monitor" "$(go_metric BenchmarkFailoverKill9 ms/nodedown)" "$(beam_metric f0)" ms - -
  row "kill -9 -> supervisor detects (first child moved)" "$(go_metric BenchmarkFailoverKill9 ms/detect)" "$(beam_metric f1)" ms - -
  row "detection -> all 1,000 children running on node3" "$(go_metric BenchmarkFailoverKill9 ms/failover)" "$(beam_beyond)" ms abs-lt 1000
  row "kill -9 -> all 1,000 running on node3" "$(go_metric BenchmarkFailoverKill9 ms/all)" "$(beam_metric f3)" ms - -
  row "async_stream 10,000 x*x, local, concurrency $NCPU" "$(go_metric BenchmarkStreamLocal/conc=ncpu items/s)" "$(beam_metric s1)" items/s - -
  row "async_stream 10,000 x*x, local, concurrency 64" "$(go_metric BenchmarkStreamLocal/conc=64 items/s)" "$(beam_metric s1c)" items/s - -
  row "async_stream 10,000 x*x over 3 nodes, $NCPU per node" "$(go_metric BenchmarkStreamOverNodes/perNode=ncpu items/s)" "$(beam_first s3 "s3-$NCPU")" items/s - -
  row "async_stream 10,000 x*x over 3 nodes, 64 per node" "$(go_metric BenchmarkStreamOverNodes/perNode=64 items/s)" "$(beam_first s3c s3-64)" items/s - -
  echo
  echo "Ratios are gonode / BEAM: above 1 is better for rates, below 1 for times."
  echo "gonode restart latency p99: $(go_metric BenchmarkRestartLatency/report=none ns/restart-p99 0.001) us; mean $(go_metric BenchmarkRestartLatency/report=none ns/restart 0.001) us."
} > "$TABLE"
cat "$TABLE"
echo "== table in $TABLE" >&2
