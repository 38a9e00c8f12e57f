#!/usr/bin/env bash
# bench-global.sh -- global names on three nodes over loopback: gonode's
# cluster/global benchmarks (cluster/global/bench_test.go) beside BEAM's
# :global (three `erl -sname` nodes), in one sitting, then one table of
# both with the ratio and the goal. Absolute figures drift 20-30% from run
# to run on a 2-core machine: only the ratios from one sitting carry over.
#
# The two sides alternate, ROUNDS times gonode then BEAM; each figure is
# the median over all runs.
#
# Usage:  scripts/bench-global.sh
# Env:    ROUNDS  rounds of gonode then BEAM (default 2)
#         REPS    runs of each gonode benchmark per round (default 3)
#         N       registrations per run, both sides (default 2000)
#         BEAM    1 (default) runs BEAM's side; 0 skips it
#         OUTDIR  where raw outputs and the table go (default a new dir under /tmp)
#
# BEAM's side: three nodes gbench_a, gbench_b, gbench_c @localhost with a
# random cookie; a registers N names, each for a process of its own, with
# :global.register_name (which returns when every node has it), looks them
# up with :global.whereis_name and unregisters them; the same as gonode's
# BenchmarkRegister and BenchmarkWhereis. Every node, and epmd if this
# script had to start it, is stopped by pid on exit.
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-2}"
REPS="${REPS:-3}"
N="${N:-2000}"
BEAM="${BEAM:-1}"
OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-global.XXXXXX")}"
mkdir -p "$OUTDIR"
GO_OUT="$OUTDIR/gonode.txt"
BEAM_OUT="$OUTDIR/beam.txt"
: > "$GO_OUT"
: > "$BEAM_OUT"
PIDS=()
EPMD_PID=""
cleanup() {
  for p in "${PIDS[@]}"; do
    if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "-sname gbench_"; then
      kill "$p" 2>/dev/null || true
    fi
  done
  if [ -n "$EPMD_PID" ] && kill -0 "$EPMD_PID" 2>/dev/null; then kill "$EPMD_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); results in $OUTDIR" >&2

# --- gonode ---------------------------------------------------------------
BIN="$OUTDIR/global.test"
(cd "$ROOT" && go test -c -o "$BIN" ./cluster/global)
run_go() { # benchmark regexp, -benchtime
  echo "-- gonode $1 (-benchtime=$2, -count=$REPS)" >&2
  (cd "$ROOT/cluster/global" && "$BIN" -test.run '^$' -test.bench "$1" -test.benchtime="$2" -test.count="$REPS") \
    | grep "^Benchmark" | tee -a "$GO_OUT" >&2 || echo "gonode $1 failed" >&2
}
run_gonode() {
  run_go '^BenchmarkRegister$' "${N}x"
  run_go '^BenchmarkWhereis$' 1s
}

# --- BEAM -----------------------------------------------------------------
cat > "$OUTDIR/gbench.erl" <<'ERL'
-module(gbench).
-export([main/1]).
now_ns() -> erlang:monotonic_time(nanosecond).
median(L) -> S = lists:sort(L), lists:nth((length(S) + 1) div 2, S).
lookups(_Pids, _N, 0) -> ok;
lookups(Pids, N, K) ->
    I = K rem N + 1,
    P = element(I, Pids), P = global:whereis_name({n, I}),
    lookups(Pids, N, K - 1).
main([N0, B0, C0]) ->
    N = list_to_integer(N0), B = list_to_atom(B0), C = list_to_atom(C0),
    true = net_kernel:connect_node(B), true = net_kernel:connect_node(C),
    global:sync(),
    Pids = list_to_tuple([spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)]),
    W = [begin yes = global:register_name({w, I}, element(I, Pids)), global:unregister_name({w, I}) end
         || I <- lists:seq(1, min(200, N))],
    _ = W,
    Reg = [begin P = element(I, Pids), T0 = now_ns(), yes = global:register_name({n, I}, P), now_ns() - T0 end
           || I <- lists:seq(1, N)],
    %% Registered on every node when register_name returns.
    P1 = element(1, Pids), P1 = rpc:call(B, global, whereis_name, [{n, 1}]),
    K = 200000,
    T1 = now_ns(), lookups(Pids, N, K), Look = (now_ns() - T1) / K,
    Unreg = [begin T0 = now_ns(), global:unregister_name({n, I}), now_ns() - T0 end || I <- lists:seq(1, N)],
    io:format("register_us_p50 ~.1f~nregister_us_mean ~.1f~nwhereis_ns ~.1f~nunregister_us_p50 ~.1f~n",
              [median(Reg) / 1000, lists:sum(Reg) / N / 1000, Look, median(Unreg) / 1000]),
    halt().
ERL
run_beam() {
  [ "$BEAM" = 1 ] || return 0
  if ! command -v erl >/dev/null; then
    echo "-- BEAM skipped: erl missing (apt-get install -y erlang-nox)" >&2
    return 0
  fi
  [ -f "$OUTDIR/gbench.beam" ] || erlc -o "$OUTDIR" "$OUTDIR/gbench.erl"
  if [ -z "$EPMD_PID" ] && ! epmd -names >/dev/null 2>&1; then
    epmd -address 127.0.0.1 >/dev/null 2>&1 &
    EPMD_PID=$!
    for _ in $(seq 50); do epmd -names >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  local cookie="gbench$$$RANDOM"
  # b and c live until killed here, or 20 minutes at most.
  for n in gbench_b gbench_c; do
    erl -sname "$n@localhost" -setcookie "$cookie" -noshell -eval 'timer:sleep(1200000), halt().' \
      > "$OUTDIR/$n.log" 2>&1 &
    PIDS+=($!)
  done
  for n in gbench_b gbench_c; do
    for _ in $(seq 100); do epmd -names 2>/dev/null | grep -q "^name $n at" && break; sleep 0.05; done
  done
  echo "-- BEAM :global, $N names" >&2
  timeout -k 5 600 erl -sname gbench_a@localhost -setcookie "$cookie" -noshell -pa "$OUTDIR" \
    -run gbench main "$N" gbench_b@localhost gbench_c@localhost | tee -a "$BEAM_OUT" >&2 || echo "BEAM run failed" >&2
  cleanup_peers
}
cleanup_peers() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
  # the names leave epmd when their nodes go
  for _ in $(seq 100); do epmd -names 2>/dev/null | grep -q "^name gbench_" || break; sleep 0.05; done
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS" >&2
  run_gonode
  run_beam
done
# From a heal to the losers told, gonode only (BEAM's :global has no
# equivalent bound): 5 rounds of split, register on both sides, heal.
run_go '^BenchmarkHealResolve$' 5x

# --- table ----------------------------------------------------------------
median() {
  sort -g | awk '{ v[++k] = $1 } END { if (!k) exit
    m = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
    if (m >= 1000) printf "%.0f\n", m; else if (m >= 10) printf "%.1f\n", m; else printf "%.2f\n", m }'
}
go_metric() { # benchmark name (without -GOMAXPROCS), unit
  awk -v name="$1" -v unit="$2" '
    { n = $1; sub(/-[0-9]+$/, "", n); if (n != name) next
      for (i = 3; i < NF; i++) if ($(i+1) == unit) print $i }' "$GO_OUT" | median
}
beam_metric() { awk -v k="$1" '$1 == k { print $2 }' "$BEAM_OUT" | median; }

TABLE="$OUTDIR/global-compare.md"
{
  echo "Global names on 3 nodes over loopback, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus, $(go version | awk '{print $3}'), medians of $ROUNDS rounds (gonode: $REPS runs a round, $N names a run)"
  echo
  echo "| figure | gonode | BEAM | gonode/BEAM | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  row() { # label, gonode, beam, unit, goal ratio (le)
    awk -v l="$1" -v g="$2" -v b="$3" -v u="$4" -v goal="$5" 'BEGIN {
      r = (g != "" && b != "" && b + 0 > 0) ? g / b : -1
      gs = (goal == "") ? "-" : "<= " goal "x"
      met = (r < 0 || goal == "") ? "-" : (r <= goal) ? "yes" : "no"
      printf "| %s | %s %s | %s %s | %s | %s | %s |\n", l, (g == "" ? "-" : g), u, (b == "" ? "-" : b), u, (r < 0 ? "-" : sprintf("%.3f", r)), gs, met }'
  }
  row "register, returns when all 3 nodes have it (median)" "$(go_metric BenchmarkRegister us/register-p50)" "$(beam_metric register_us_p50)" us 0.5
  row "register (mean)" "$(go_metric BenchmarkRegister us/register)" "$(beam_metric register_us_mean)" us 0.5
  row "whereis, from the local replica (gonode: on a node that did not register)" "$(go_metric BenchmarkWhereis ns/op)" "$(beam_metric whereis_ns)" ns 1
  row "unregister (median)" "$(go_metric BenchmarkRegister us/unregister-p50)" "$(beam_metric unregister_us_p50)" us ""
  echo
  echo "gonode only: from the heal of a partition to the losers of two conflicting names told" \
    "(MemNetwork, 5 rounds): exit signal $(go_metric BenchmarkHealResolve ms/exit-p50) ms," \
    "message $(go_metric BenchmarkHealResolve ms/notify-p50) ms (medians), at most $(go_metric BenchmarkHealResolve ms/told-max) ms; goal < 1000 ms"
} > "$TABLE"
cat "$TABLE"
echo "== table in $TABLE" >&2
