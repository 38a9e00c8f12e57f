#!/usr/bin/env bash
# bench-otp-beam.sh -- BEAM reference figures for gonode's supervisors (otp/),
# measured by bench-otp-beam.exs beside this script, printed as a Markdown table:
# restart latency and restarts per second of Supervisor and DynamicSupervisor,
# failover of 1,000 children after kill -9 of the node they ran on, and
# async_stream of 10,000 items over three nodes. About 1-2 minutes.
#
# Usage:  scripts/bench-otp-beam.sh [all|restart|fail|stream]      (default: all)
# Env:    BENCH_REPS   runs of each figure, the table gives the median (default 5)
#         EPMD_PORT    port of the epmd the nodes use (default 4417; one is started
#                      there unless one already answers, and stopped on exit)
#         OUT          also write the table to this file
#         KEEP_LOGS=1  keep the temporary directory with the nodes' logs
#         ELIXIR_ERL_OPTIONS  VM flags for every node, e.g. "+sbwt none" (none by default)
#
# Nodes: otpbench_a (main, measures), otpbench_c and otpbench_d (long-lived
# peers, each with a Task.Supervisor), and one fresh otpbench_b<i>_<pid> per
# failover run, started by main and killed with kill -9. Everything started
# here is stopped by pid on exit, never by name.
set -u -o pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
EXS="$DIR/bench-otp-beam.exs"
WHAT="${1:-all}"
case "$WHAT" in all|restart|fail|stream) ;; *) sed -n '2,19p' "$0"; exit 2 ;; esac
EPMD_PORT="${EPMD_PORT:-4417}"
export ERL_EPMD_PORT="$EPMD_PORT"
HOSTPART=localhost
COOKIE="otpbench$$"
TMPD="$(mktemp -d "${TMPDIR:-/tmp}/bench-otp-beam.XXXXXX")"
PIDFILE="$TMPD/pids"
: > "$PIDFILE"
EPMD_PID=""

# kill a pid only if it is still one of our nodes (guards against pid reuse)
kill_ours() {
  local p="$1"
  [ -n "$p" ] || return 0
  if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "-sname otpbench_[^ ]* -setcookie $COOKIE "; then
    kill -9 "$p" 2>/dev/null && echo "cleanup: killed leftover node pid $p" >&2
  fi
}

cleanup() {
  while read -r p; do kill_ours "$p"; done < "$PIDFILE"
  if [ -n "$EPMD_PID" ] && kill -0 "$EPMD_PID" 2>/dev/null; then
    kill "$EPMD_PID" 2>/dev/null && echo "cleanup: stopped epmd pid $EPMD_PID (port $EPMD_PORT, started here)" >&2
  fi
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $TMPD" >&2; else rm -rf "$TMPD"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# epmd on our own port: use one that answers there, else start one (foreground, so we own its pid)
if ! epmd -port "$EPMD_PORT" -names >/dev/null 2>&1; then
  epmd -port "$EPMD_PORT" -address 127.0.0.1 >/dev/null 2>&1 &
  EPMD_PID=$!
  for _ in $(seq 50); do epmd -port "$EPMD_PORT" -names >/dev/null 2>&1 && break; sleep 0.1; done
  echo "started epmd pid $EPMD_PID on port $EPMD_PORT" >&2
fi
for n in otpbench_a otpbench_c otpbench_d; do
  if epmd -port "$EPMD_PORT" -names 2>/dev/null | grep -q "^name $n at"; then
    echo "node name $n is already registered in epmd on port $EPMD_PORT; another run? set EPMD_PORT" >&2; exit 2
  fi
done

echo "== $(date -u '+%Y-%m-%d %H:%M:%SZ') $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), epmd port $EPMD_PORT" >&2

PEERS=""
PEER_PIDS=""
if [ "$WHAT" != restart ]; then
  for n in otpbench_c otpbench_d; do
    # a peer exits on :stop, when main goes down, or after 600 s
    elixir --sname "$n@$HOSTPART" --cookie "$COOKIE" "$EXS" peer 600 > "$TMPD/$n.log" 2>&1 &
    echo $! >> "$PIDFILE"   # elixir/erl exec into beam.smp, so this is the VM's pid
    PEER_PIDS="$PEER_PIDS $!"
    PEERS="${PEERS:+$PEERS,}$n@$HOSTPART"
  done
fi

# main runs in the background so that INT/TERM reach the trap at once; it
# appends its own VM pid to $PIDFILE, as it does for each node B it starts.
BENCH_PEERS="$PEERS" BENCH_PIDFILE="$PIDFILE" BENCH_OUT="$TMPD/table.md" \
  timeout -k 5 290 elixir --sname "otpbench_a@$HOSTPART" --cookie "$COOKIE" "$EXS" main "$WHAT" \
  > "$TMPD/main.out" 2> >(tee "$TMPD/main.log" >&2) &
MAIN_PID=$!
wait "$MAIN_PID"
rc=$?

if [ $rc = 0 ] && [ -s "$TMPD/table.md" ]; then
  cat "$TMPD/table.md"
  if [ -n "${OUT:-}" ]; then cp "$TMPD/table.md" "$OUT"; fi
else
  echo "== main node failed (rc=$rc); its stdout:" >&2
  cat "$TMPD/main.out" >&2
  for f in "$TMPD"/otpbench_*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }; done
fi

# give the peers up to 5 s to exit on their own; cleanup() kills what is left
for _ in $(seq 50); do
  alive=0
  for p in $PEER_PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.1
done
echo "== done rc=$rc $(date -u '+%H:%M:%SZ') load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exit $rc
