#!/usr/bin/env bash
# bench-proc.sh -- run the process-runtime benchmarks (proc/bench_test.go) and
# print a summary: the median, min and max of each figure, and, with -beam,
# each figure beside BEAM's measured in the same sitting, with the ratio and
# the goal from docs/benchmarks.md.
#
# Usage: scripts/bench-proc.sh [-beam] [-golimit] [-rounds R] [-count N] [-benchtime T] [-bench REGEX] [-out DIR]
#   -beam       also run the BEAM reference (bench/beam/run_beam.sh local), plus
#               two rows it lacks (send 4->1, selective receive) measured by a
#               small Elixir script in this file
#   -golimit    also run Go's physical limits once (bench/golimit/run_go.sh)
#   -rounds R   alternate BEAM and gonode R times (default 1); figures are
#               medians over all rounds, so a burst of load elsewhere on the
#               machine weighs on both sides alike
#   -count N    runs of each Go benchmark per round (default 5)
#   -benchtime  go test -benchtime (default 1s; one round of the suite takes
#               about 2 minutes with -count 5, 40 s with -count 1)
#   -bench      go test -bench regex (default .)
#   -out DIR    where raw outputs and the summary go (default /tmp/bench-results/proc-<time>)
# Env: BENCH_REF, the directory holding beam/ and golimit/ (default ../shared/bench
# beside the repository); BENCH_REPS for the BEAM scripts; MAIN_NAME/PEER_NAME
# for run_beam.sh's node names (default procbench_a/procbench_b).
#
# Absolute figures drift by 20-30% between runs on a 2-core machine: only the
# ratios against a reference run in the same sitting mean much.
set -eu -o pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REF="${BENCH_REF:-$ROOT/../shared/bench}"
COUNT=5
ROUNDS=1
BENCHTIME=1s
BENCH=.
BEAM=0
GOLIMIT=0
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    -beam) BEAM=1 ;;
    -golimit) GOLIMIT=1 ;;
    -count) COUNT="$2"; shift ;;
    -rounds) ROUNDS="$2"; shift ;;
    -benchtime) BENCHTIME="$2"; shift ;;
    -bench) BENCH="$2"; shift ;;
    -out) OUT="$2"; shift ;;
    -h|-help|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench-proc.sh: unknown argument $1 (try -help)" >&2; exit 2 ;;
  esac
  shift
done
OUT="${OUT:-${TMPDIR:-/tmp}/bench-results/proc-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
log() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
log "$(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT"

# ---------------------------------------------------------------- BEAM ---
# beam_round I runs BEAM's local rows and the extra ones, and appends every
# figure to $OUT/beam-values.txt as "id value" (c1mean: ping-pong batch mean).
beam_round() {
  local i="$1" md
  log "round $i: BEAM reference, $REF/beam/run_beam.sh local"
  # Node names of our own, so as not to collide with another bench run's.
  OUTDIR="$OUT/beam-$i" MAIN_NAME="${MAIN_NAME:-procbench_a}" PEER_NAME="${PEER_NAME:-procbench_b}" \
    "$REF/beam/run_beam.sh" local > "$OUT/beam-$i.log" 2>&1 ||
    { echo "run_beam.sh failed, see $OUT/beam-$i.log" >&2; exit 1; }
  md="$(ls -t "$OUT/beam-$i"/beam.*.md | head -1)"
  awk -F'|' '/^\| [a-z0-9]+ \|/ {
      id = $2; gsub(/ /, "", id); if (id == "id") next
      v = $4; gsub(/[ ,]/, "", v); print id, v
      if (id == "c1" && match($6, /batch mean [0-9.]+/)) print "c1mean", substr($6, RSTART + 11, RLENGTH - 11)
    }' "$md" >> "$OUT/beam-values.txt"
  log "round $i: BEAM extra rows (send 4->1, selective receive over 10k messages)"
  timeout -k 5 300 elixir "$OUT/extra.exs" > "$OUT/beam-extra-$i.txt" 2> "$OUT/beam-extra-$i.log" ||
    { echo "extra BEAM rows failed, see $OUT/beam-extra-$i.log" >&2; exit 1; }
  awk '{print $1, $2}' "$OUT/beam-extra-$i.txt" >> "$OUT/beam-values.txt"
}

# -------------------------------------------------------------- gonode ---
go_round() {
  log "round $1: go test -bench '$BENCH' -benchtime $BENCHTIME -count $COUNT ./proc/"
  (cd "$ROOT" && go test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" -count "$COUNT" -timeout 30m ./proc/) \
    | tee -a "$OUT/go-bench.txt" >&2
}

if [ "$BEAM" = 1 ]; then
  cat > "$OUT/extra.exs" <<'EOF'
# Rows of gonode's proc benchmarks that bench.exs has no counterpart for.
defmodule Extra do
  def median(l), do: Enum.at(Enum.sort(l), div(length(l), 2))

  def count(0, to), do: send(to, :counted)
  def count(n, to), do: (receive do: ({:msg, _} -> count(n - 1, to)))

  def sender(dest, n), do: (receive do: (:start -> stream(dest, 1, n)))
  defp stream(_dest, i, n) when i > n, do: :ok
  defp stream(dest, i, n), do: (send(dest, {:msg, i}); stream(dest, i + 1, n))

  # 4 senders -> 1 receiver, n messages in all, until the receiver has them
  def send4(n) do
    me = self()
    rcv = spawn(fn -> count(n, me) end)
    snds = for _ <- 1..4, do: spawn(fn -> sender(rcv, div(n, 4)) end)
    t0 = :erlang.monotonic_time(:nanosecond)
    Enum.each(snds, &send(&1, :start))
    receive do: (:counted -> :ok)
    n * 1.0e9 / (:erlang.monotonic_time(:nanosecond) - t0)
  end

  # depth unmatched messages stay queued; each op sends one that matches and
  # takes it, scanning past all the others (gonode's BenchmarkSelectiveReceiveDeep)
  def deep(depth, ops) do
    me = self()
    p =
      spawn(fn ->
        for i <- 1..depth, do: send(self(), {:filler, i})
        t0 = :erlang.monotonic_time(:nanosecond)
        take(ops)
        send(me, {:deep, (:erlang.monotonic_time(:nanosecond) - t0) / ops})
      end)
    receive do: ({:deep, ns} -> (Process.exit(p, :kill); ns))
  end

  defp take(0), do: :ok
  defp take(k), do: (send(self(), {:wanted, k}); receive do: ({:wanted, ^k} -> take(k - 1)))
end

reps = String.to_integer(System.get_env("BENCH_REPS", "5"))
s4 = for _ <- 1..reps, do: Extra.send4(1_000_000)
IO.puts("x-send4 #{round(Extra.median(s4))} msgs/s min #{round(Enum.min(s4))} max #{round(Enum.max(s4))}")
dp = for _ <- 1..reps, do: Extra.deep(10_000, 2_000)
IO.puts("x-deep #{round(Extra.median(dp))} ns/op min #{round(Enum.min(dp))} max #{round(Enum.max(dp))}")
EOF
fi
: > "$OUT/go-bench.txt"
: > "$OUT/beam-values.txt"
(cd "$ROOT" && go test -c -o /dev/null ./proc/) # compile once before timing anything
for i in $(seq 1 "$ROUNDS"); do
  [ "$BEAM" = 1 ] && beam_round "$i"
  go_round "$i"
done

GO_MD=""
if [ "$GOLIMIT" = 1 ]; then
  log "Go limits: $REF/golimit/run_go.sh"
  OUTDIR="$OUT/golimit" "$REF/golimit/run_go.sh" > "$OUT/golimit.log" 2>&1 ||
    { echo "run_go.sh failed, see $OUT/golimit.log" >&2; exit 1; }
  GO_MD="$(ls -t "$OUT"/golimit/go.*.md | head -1)"
fi

# ------------------------------------------------------------- summary ---
# One awk program reads the go test output (stdin), the BEAM figures ("id
# value" lines, one per round) and Go's limits table, and prints Markdown.
# Every figure is the median over all runs and rounds.
awk -v beam="$BEAM" -v go_md="$GO_MD" -v rounds="$ROUNDS" \
    -v when="$(date -u '+%Y-%m-%d %H:%M UTC')" -v host="$(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
    -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v gover="$(go env GOVERSION)" -v count="$COUNT" -v benchtime="$BENCHTIME" '
function median(key,   n, i, j, t, a) {
  n = cnt[key]; for (i = 1; i <= n; i++) a[i] = vals[key, i]
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
  lo[key] = a[1]; hi[key] = a[n]
  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
function add(key, v) { cnt[key]++; vals[key, cnt[key]] = v + 0; if (!(key in seen)) { seen[key] = 1; order[++nk] = key } }
function fmt(x) {
  if (x == "") return "n/a"
  if (x >= 1e6) return sprintf("%.2f M", x / 1e6)
  if (x >= 1e4) return sprintf("%.0f k", x / 1e3)
  if (x >= 100) return sprintf("%.0f", x)
  return sprintf("%.2f", x)
}
function num(s) { gsub(/,/, "", s); gsub(/^ +| +$/, "", s); return s + 0 }
# row: label, gonode key, BEAM key, BEAM scale, unit shown, better ("higher"/"lower"), goal ratio ("" if none)
function row(label, key, bkey, scale, unit, better, goal,   g, bv, r, ok, gs) {
  if (!(key in med)) return
  g = med[key]
  bv = (bkey in med) ? med[bkey] * scale : ""
  r = (bv != "" && bv > 0) ? g / bv : ""
  ok = ""
  if (goal != "" && r != "") ok = ((better == "higher" && r >= goal) || (better == "lower" && r <= goal)) ? "met" : "missed"
  gs = goal == "" ? "-" : (better == "higher" ? ">= " : "<= ") goal "x"
  printf "| %s | %s %s | %s | %s | %s | %s |\n", label, fmt(g), unit, (bv == "" ? "n/a" : fmt(bv) " " unit), (r == "" ? "n/a" : sprintf("%.2fx", r)), gs, ok
}
FILENAME == "-" && /^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
  for (i = 3; i < NF; i += 2) add(name " " $(i+1), $i)
  next
}
FILENAME != "-" && FILENAME != go_md && NF == 2 { add("beam " $1, $2); next }
FILENAME == go_md && /^\| go-/ { split($0, f, "|"); id = f[2]; gsub(/ /, "", id); gval[id] = num(f[4]); gnote[id] = f[6]; next }
END {
  for (k = 1; k <= nk; k++) med[order[k]] = median(order[k])
  printf "# gonode proc benchmarks\n\n- %s; %s; load at end %s; %s; %s round(s) of -count %s -benchtime %s\n\n", when, host, load, gover, rounds, count, benchtime
  print "| benchmark | metric | median | min | max |"
  print "|---|---|---:|---:|---:|"
  for (k = 1; k <= nk; k++) {
    if (order[k] ~ /^beam /) continue
    split(order[k], p, " "); printf "| %s | %s | %s | %s | %s |\n", p[1], p[2], fmt(med[order[k]]), fmt(lo[order[k]]), fmt(hi[order[k]])
  }
  if (beam != 1) exit
  print "\n## Against BEAM, same sitting (medians over rounds)\n"
  print "| figure | gonode | BEAM | ratio | goal | |"
  print "|---|---:|---:|---:|---|---|"
  row("spawn + monitor + exit, one at a time", "SpawnMonitorExit procs/s", "beam a1s", 1, "procs/s", "higher", 2)
  row("spawn chain", "SpawnChain procs/s", "beam a1c", 1, "procs/s", "higher", "")
  row("memory per idle process, goroutine style", "IdleMemory/goroutine bytes/proc", "beam a2", 1, "B", "lower", 1)
  row("memory per idle process, handler style", "IdleMemory/handler bytes/proc", "beam a2", 1, "B", "lower", 1)
  row("local send 1->1", "Send1to1 msgs/s", "beam b1", 1, "msgs/s", "higher", 2)
  row("local send 4->1", "Send4to1 msgs/s", "beam x-send4", 1, "msgs/s", "higher", "")
  row("ping-pong round trip, median", "PingPong p50-ns", "beam c1", 1000, "ns", "lower", 0.7)
  row("ping-pong round trip, mean", "PingPong ns/rt", "beam c1mean", 1000, "ns", "lower", 0.7)
  row("Call round trip, median (GenServer.call)", "Call p50-ns", "beam c2", 1000, "ns", "lower", "")
  row("selective receive past 10k messages", "SelectiveReceiveDeep ns/op", "beam x-deep", 1, "ns", "lower", "")
  print "\nMemory: the goal is met when either style is at or under BEAM."
  print "\nBEAM rows over the rounds (bench.exs ids; x- rows from this script):\n"
  print "| BEAM row | median | min | max |"
  print "|---|---:|---:|---:|"
  for (k = 1; k <= nk; k++) if (order[k] ~ /^beam /) printf "| %s | %s | %s | %s |\n", substr(order[k], 6), fmt(med[order[k]]), fmt(lo[order[k]]), fmt(hi[order[k]])
  if (go_md == "") exit
  print "\n## Go limits, same sitting\n"
  print "| figure | Go | |"
  print "|---|---:|---|"
  printf "| goroutine spawn + wait, sequential | %s goroutines/s | |\n", fmt(gval["go-a1s"])
  printf "| goroutine chain | %s goroutines/s | |\n", fmt(gval["go-a1chain"])
  printf "| blocked goroutine + own chan | %s B | |\n", fmt(gval["go-a2"])
  printf "| chan any, cap 1024, 1->1 | %s msgs/s | |\n", fmt(gval["go-b-any"])
  printf "| goroutine ping-pong, median | %s us |%s|\n", gval["go-c"], gnote["go-c"]
}' - "$OUT/beam-values.txt" "${GO_MD:-/dev/null}" < "$OUT/go-bench.txt" | tee "$OUT/summary.md"
log "summary in $OUT/summary.md"
