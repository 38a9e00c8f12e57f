#!/usr/bin/env bash
# bench-pg.sh -- process groups beside BEAM's :pg, in one sitting: a join
# on node a until it is visible on b and c (each of b and c has a watcher
# monitoring the group, which acks to a: the time runs until both acks are
# back), the same for a leave, and joins one after another until b and c
# saw the last. gonode's side is cluster/pg/bench_test.go (three nodes in
# one process on real loopback TCP); BEAM's is scripts/bench-pg-beam.erl
# (three `erl -sname` nodes on loopback, pg:start_link() on each).
#
# Absolute figures drift 20-30% from run to run on a 2-core machine, more
# under other load: the two sides alternate ROUNDS times and each figure
# is the median over all runs of its side; only ratios carry over.
#
# Usage:  scripts/bench-pg.sh
# Env:    ROUNDS  rounds of gonode then BEAM (default 3)
#         REPS    runs of each side per round (default 3)
#         N       joins per run (default 2000)
#         BEAM    1 (default) runs BEAM's side; 0 skips it
#         OUTDIR  raw outputs and the table (default a new dir under /tmp)
#
# BEAM needs erl and erlc (Debian: apt-get install -y erlang-nox). Every
# process started here is stopped by pid: BEAM's nodes b and c (and epmd,
# if none was running) on exit; gonode's nodes by the benchmark itself.
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
REPS="${REPS:-3}"
N="${N:-2000}"
BEAM="${BEAM:-1}"
OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-pg.XXXXXX")}"
mkdir -p "$OUTDIR"
GO_OUT="$OUTDIR/gonode.txt"
BEAM_OUT="$OUTDIR/beam.txt"
: > "$GO_OUT"
: > "$BEAM_OUT"
COOKIE="pgbench$$"
PIDS=()
EPMD_PID=""

cleanup() {
  for p in "${PIDS[@]}"; do
    # only if it is still one of our nodes (guards against pid reuse)
    if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "-setcookie $COOKIE"; then
      kill "$p" 2>/dev/null || true
    fi
  done
  if [ -n "$EPMD_PID" ] && kill -0 "$EPMD_PID" 2>/dev/null; then
    kill "$EPMD_PID" 2>/dev/null && echo "stopped epmd pid $EPMD_PID (started here)" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); results in $OUTDIR" >&2

# --- gonode ---------------------------------------------------------------
BIN="$OUTDIR/pg.test"
(cd "$ROOT" && go test -c -o "$BIN" ./cluster/pg)
run_gonode() {
  echo "-- gonode (-benchtime=${N}x, -count=$REPS)" >&2
  (cd "$ROOT/cluster/pg" && "$BIN" -test.run '^$' -test.bench '^Benchmark(Join(Visible|Throughput)3(Proc)?|PingBaseline3Proc)$' \
    -test.benchtime="${N}x" -test.count="$REPS") | grep "^Benchmark" | tee -a "$GO_OUT" >&2
  (cd "$ROOT/cluster/pg" && "$BIN" -test.run '^$' -test.bench '^BenchmarkMembers$' \
    -test.benchtime=200000x -test.count="$REPS") | grep "^Benchmark" | tee -a "$GO_OUT" >&2
}

# --- BEAM -----------------------------------------------------------------
BEAM_DIR="$OUTDIR/beam"
if [ "$BEAM" = 1 ]; then
  if ! command -v erl >/dev/null || ! command -v erlc >/dev/null; then
    echo "-- BEAM skipped: erl/erlc missing (apt-get install -y erlang-nox)" >&2
    BEAM=0
  else
    mkdir -p "$BEAM_DIR"
    erlc -o "$BEAM_DIR" "$ROOT/scripts/bench-pg-beam.erl"
    if ! epmd -names >/dev/null 2>&1; then
      epmd -address 127.0.0.1 >/dev/null 2>&1 &
      EPMD_PID=$!
      for _ in $(seq 50); do epmd -names >/dev/null 2>&1 && break; sleep 0.1; done
    fi
  fi
fi
run_beam() {
  [ "$BEAM" = 1 ] || return 0
  echo "-- BEAM (N=$N, $REPS runs)" >&2
  local b="pgbench_b$$@localhost" c="pgbench_c$$@localhost"
  for n in "$b" "$c"; do
    erl -sname "$n" -setcookie "$COOKIE" -noshell -pa "$BEAM_DIR" >> "$OUTDIR/beam-peers.log" 2>&1 &
    PIDS+=("$!") # erl execs into beam.smp: this is the VM's pid
  done
  for n in "$b" "$c"; do # wait until both are registered with epmd
    for _ in $(seq 100); do epmd -names | grep -q "^name ${n%@*} " && break; sleep 0.05; done
  done
  timeout -k 5 600 erl -sname "pgbench_a$$@localhost" -setcookie "$COOKIE" -noshell -pa "$BEAM_DIR" \
    -run bench-pg-beam main "$b" "$c" "$N" "$REPS" | grep "^Benchmark" | tee -a "$BEAM_OUT" >&2 \
    || echo "BEAM run failed" >&2
  # main stops b and c; wait for them so that the next round can reuse nothing of theirs
  for p in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  done
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS" >&2
  run_gonode
  run_beam
done

# --- the table ------------------------------------------------------------
# median of the values that follow the unit $2 on lines of benchmark $1
med() { # file, benchmark, unit
  grep "^$2[ -]" "$1" | awk -v u="$3" '{for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2}'
}
row() { # label, gonode benchmark, BEAM benchmark, unit, lower-is-better
  local g b r
  g=$(med "$GO_OUT" "$2" "$4")
  b=$(med "$BEAM_OUT" "$3" "$4")
  r=$(awk -v g="$g" -v b="$b" -v low="$5" 'BEGIN {if (g == "-" || b == "-" || b == 0 || g == 0) print "-"; else printf "%.2fx", (low ? g / b : b / g)}')
  echo "| $1 | $g | $b | $r |"
}
{
  echo "| figure (median of $((ROUNDS * REPS)) runs each, N=$N) | gonode | BEAM :pg | gonode / BEAM (time) |"
  echo "|---|---:|---:|---:|"
  row "join on a visible on b and c (us); 3 OS processes" BenchmarkJoinVisible3Proc BenchmarkJoinVisible3 join-us 1
  row "leave on a visible on b and c (us); 3 OS processes" BenchmarkJoinVisible3Proc BenchmarkJoinVisible3 leave-us 1
  row "joins one after another until b and c saw the last (joins/s); 3 OS processes" BenchmarkJoinThroughput3Proc BenchmarkJoinThroughput3 joins/s 0
  row "baseline: a message to b and c, each acking back (us); 3 OS processes" BenchmarkPingBaseline3Proc BenchmarkPingBaseline3 rt-us 1
  row "join visible, gonode's 3 nodes in 1 OS process (us)" BenchmarkJoinVisible3 BenchmarkJoinVisible3 join-us 1
  row "leave visible, gonode's 3 nodes in 1 OS process (us)" BenchmarkJoinVisible3 BenchmarkJoinVisible3 leave-us 1
  row "joins in a row, gonode's 3 nodes in 1 OS process (joins/s)" BenchmarkJoinThroughput3 BenchmarkJoinThroughput3 joins/s 0
  row "Members of a group of 10 (ns a read; BEAM: pg:get_members)" BenchmarkMembers/Members BenchmarkMembers ns/read 1
  row "AppendMembers into a reused buffer (ns a read; BEAM: pg:get_members)" BenchmarkMembers/AppendMembers BenchmarkMembers ns/read 1
} | tee "$OUTDIR/table.md"
