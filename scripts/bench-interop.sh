#!/usr/bin/env bash
# bench-interop.sh -- Erlang interop, in one sitting: a BEAM node (the
# driver, a@localhost) measures a BEAM peer (erl, b@localhost) beside a
# gonode peer (g@localhost, dist/erlang's TestInteropBenchPeer, a node
# speaking Erlang's protocol with compiled Go handlers), alternating
# between them ROUNDS times:
#
#   ping-pong  one driver process sends {Self, I} to echo on the peer,
#              which answers I; PP_N round trips one after another, each
#              timed (median and mean);
#   stream     one driver process sends STREAM_N {msg, I} to sink on the
#              peer, then {Self, done}; sink answers {ack, Count} (Count
#              checked): messages a second, ack included.
#
# The driver is the same compiled BEAM code for both peers, and the
# peers run the same two processes (compiled BEAM code on b, compiled Go
# on g), so the ratio is what gonode costs as a BEAM node's peer. Absolute figures drift 20-30% from
# run to run on a 2-core machine: only the ratios of one sitting carry.
#
# Usage:  scripts/bench-interop.sh
# Env:    ROUNDS    rounds, each BEAM peer then gonode peer (default 3)
#         PP_N      round trips a run (default 10000)
#         STREAM_N  messages a stream run (default 500000)
#         OUTDIR    where the raw lines and the table go (default a new dir under /tmp)
#         CPUPROFILE  a file for the gonode peer's CPU profile (go tool pprof)
#
# Everything runs on its own port mapper (a free port, ERL_EPMD_PORT) in
# a temporary home that is removed at the end; every process started here
# is stopped by pid.
set -eu -o pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
PP_N="${PP_N:-10000}"
STREAM_N="${STREAM_N:-500000}"
OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-interop.XXXXXX")}"
mkdir -p "$OUTDIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-interop-work.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
for cmd in erl epmd go; do
  command -v "$cmd" >/dev/null || { echo "bench-interop: $cmd is not on PATH" >&2; exit 1; }
done

# A free port for the port mapper: the kernel's choice for a listener.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export ERL_EPMD_PORT="$PORT" HOME="$WORK"
COOKIE="interop_bench_$$"
echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); epmd port $PORT; results in $OUTDIR" >&2

BIN="$WORK/erlang.test"
(cd "$ROOT" && go test -c -o "$BIN" ./dist/erlang)

epmd -port "$PORT" & PIDS+=($!)
for _ in $(seq 100); do epmd -names >/dev/null 2>&1 && break; sleep 0.05; done

# The BEAM side, compiled (erl -eval's funs run in erl_eval, many times
# slower than compiled code): peer/0 starts b's two processes, the same
# as TestInteropBenchPeer's; driver/0 is a's, and prints
# "pingpong PEER P50_US MEAN_US" and "stream PEER MSGS_PER_S" per run.
cat > "$WORK/interop_bench.erl" <<'ERL'
-module(interop_bench).
-export([peer/0, driver/0]).

peer() ->
    register(echo, spawn(fun echo/0)),
    register(sink, spawn(fun() -> sink(0) end)),
    io:format("ready ~s~n", [node()]).

echo() -> receive {From, M} -> From ! M, echo() end.

sink(C) ->
    receive
        {From, done} -> From ! {ack, C}, sink(0);
        _ -> sink(C + 1)
    end.

env(Name) -> list_to_integer(os:getenv(Name)).
now_ns() -> erlang:monotonic_time(nanosecond).

driver() ->
    Peers = ['b@localhost', 'g@localhost'],
    [true = net_kernel:connect_node(P) || P <- Peers],
    [begin ping_pong(P, env("PP_N")), stream(P, env("STREAM_N")) end
     || _ <- lists:seq(1, env("ROUNDS")), P <- Peers],
    halt().

ping_pong(Peer, N) ->
    Echo = {echo, Peer},
    Echo ! {self(), warm},
    receive warm -> ok after 10000 -> exit(no_echo) end,
    Ts = [round_trip(Echo, I) || I <- lists:seq(1, N)],
    S = lists:sort(Ts),
    io:format("pingpong ~s ~.2f ~.2f~n", [Peer, lists:nth(N div 2, S) / 1000, lists:sum(Ts) / N / 1000]).

round_trip(Echo, I) ->
    T0 = now_ns(),
    Echo ! {self(), I},
    receive I -> now_ns() - T0 end.

stream(Peer, N) ->
    Sink = {sink, Peer},
    T0 = now_ns(),
    send(Sink, N),
    Sink ! {self(), done},
    C = receive {ack, X} -> X after 120000 -> exit(no_ack) end,
    T = now_ns() - T0,
    C =:= N orelse exit({lost, N - C}),
    io:format("stream ~s ~w~n", [Peer, round(N / (T / 1.0e9))]).

send(_, 0) -> ok;
send(Sink, I) -> Sink ! {msg, I}, send(Sink, I - 1).
ERL
(cd "$WORK" && erlc interop_bench.erl)
cd "$WORK" # a crash dump, if any, stays in the temporary home
erl -sname b@localhost -setcookie "$COOKIE" -noshell -start_epmd false -pa "$WORK" -eval 'interop_bench:peer()' \
  > "$WORK/b.out" 2>&1 & PIDS+=($!)
GONODE_INTEROP_PEER=g@localhost GONODE_INTEROP_COOKIE="$COOKIE" "$BIN" -test.run '^TestInteropBenchPeer$' \
  ${CPUPROFILE:+-test.cpuprofile "$CPUPROFILE"} \
  > "$WORK/g.out" 2>&1 & PIDS+=($!)
for _ in $(seq 200); do
  names="$(epmd -names 2>/dev/null || true)"
  if grep -q "name b at" <<<"$names" && grep -q "name g at" <<<"$names"; then break; fi
  sleep 0.05
done

RAW="$OUTDIR/raw.txt"
ROUNDS="$ROUNDS" PP_N="$PP_N" STREAM_N="$STREAM_N" \
  erl -sname a@localhost -setcookie "$COOKIE" -noshell -start_epmd false -pa "$WORK" -eval 'interop_bench:driver()' \
  | tee "$RAW" >&2

# --- table ----------------------------------------------------------------
median() {
  sort -g | awk '{ v[++k] = $1 } END { if (!k) exit
    m = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
    if (m >= 1000) printf "%.0f\n", m; else if (m >= 10) printf "%.1f\n", m; else printf "%.2f\n", m }'
}
metric() { awk -v k="$1" -v p="$2" -v f="$3" '$1 == k && $2 == p { print $f }' "$RAW" | median; }
TABLE="$OUTDIR/interop.md"
{
  echo "Erlang interop, $(date -u '+%Y-%m-%d'), $(nproc) cpus, $(erl -noshell -eval 'io:format("OTP ~s", [erlang:system_info(otp_release)]), halt().'), $(go version | awk '{print $3}'); a BEAM driver, medians of $ROUNDS rounds"
  echo
  echo "| figure | BEAM peer | gonode peer | gonode/BEAM | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  row() { # label, beam, gonode, unit, op (le|ge)
    awk -v l="$1" -v b="$2" -v g="$3" -v u="$4" -v op="$5" 'BEGIN {
      r = (g != "" && b != "" && b + 0 > 0) ? g / b : -1
      met = (r < 0) ? "?" : ((op == "le" && r <= 1) || (op == "ge" && r >= 1)) ? "yes" : "no"
      printf "| %s | %s %s | %s %s | %s | %s | %s |\n", l, b, u, g, u, (r < 0 ? "-" : sprintf("%.2f", r)), (op == "le" ? "<= 1x" : ">= 1x"), met }'
  }
  row "ping-pong round trip, median ($PP_N)" "$(metric pingpong b@localhost 3)" "$(metric pingpong g@localhost 3)" us le
  row "ping-pong round trip, mean" "$(metric pingpong b@localhost 4)" "$(metric pingpong g@localhost 4)" us le
  row "stream, 1 sender, until ack ($STREAM_N msgs)" "$(metric stream b@localhost 3)" "$(metric stream g@localhost 3)" msgs/s ge
} > "$TABLE"
cat "$TABLE"
