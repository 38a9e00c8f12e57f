#!/usr/bin/env bash
# Figures of the gonode binary beside Elixir's, measured back to back in one
# sitting. Needs elixir (apt-get install -y erlang-nox elixir).
#
# Usage: scripts/bench-shell.sh [RUNS]
# Env:   PARTS   which parts to run (default "start calls"):
#          start  start-up time and idle memory (RUNS runs of gonode -e)
#          calls  shell functions: rpc into a function typed in the shell
#                 vs into strings.ToUpper, fib(25), a literal spawned on
#                 the other node; beside BEAM's :erpc.call into a module
#                 compiled at run time, String.upcase and Node.spawn
#        N       rpc calls per figure and round (default 2000)
#        ROUNDS  rounds of gonode then BEAM for "calls" (default 3)
#
# "calls" runs two real nodes of each kind on loopback: node2 started with
# a setup script declaring Sq and Fib (gonode) or a peer where the main
# node compiles a module with Code.compile_string (BEAM); node1 times each
# call in a loop (gonode: a shell script, so its interpreted loop is part
# of the figure; BEAM: compiled code) and prints the median per call. Every
# node started here is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
PARTS=${PARTS:-start calls}
N=${N:-2000}
ROUNDS=${ROUNDS:-3}
dir=$(mktemp -d)
bin=$dir/gonode
go build -o "$bin" ./cmd/gonode
port=$(( 40000 + RANDOM % 20000 ))
export ERL_EPMD_PORT=$port
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	epmd -port $port -kill >/dev/null 2>&1 || true
}
trap cleanup EXIT

calls() {
	echo "== calls: $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), N=$N, ROUNDS=$ROUNDS; raw output in $dir"
	cat > "$dir/setup.gos" <<'GOS'
func Sq(v int) int { return v * v }
func Fib(n int) int { if n < 2 { return n }; return Fib(n-1) + Fib(n-2) }
func Sum(n int) int { s := 0; for i := 1; i <= n; i++ { s += i }; return s }
GOS
	cat > "$dir/bench.gos" <<GOS
peer := "bsh2@localhost"
waitFor(peer, 20*time.Second)
median := func(xs []time.Duration) float64 { sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] }); return float64(xs[len(xs)/2].Nanoseconds()) / 1e3 }
timeRPC := func(fn string, arg any, n int) {
	samples := make([]time.Duration, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		r := rpc(peer, fn, arg)
		samples[i] = time.Since(t0)
		if _, bad := r.(error); bad { fmt.Println("error", r); return }
	}
	fmt.Printf("RESULT rpc-%s %.1f\n", fn, median(samples))
}
timeRPC("strings.ToUpper", "hi", 200) // warm-up
timeRPC("Sq", 5, 200)
timeRPC("strings.ToUpper", "hi", $N)
timeRPC("Sq", 5, $N)
timeRPC("Fib", 25, 5)
timeRPC("Sum", 1000000, 5)
me := self()
spawns := make([]time.Duration, 1000)
for i := 0; i < len(spawns); i++ {
	t0 := time.Now()
	spawn(peer, func() { send(me, 1) })
	receive(5 * time.Second)
	spawns[i] = time.Since(t0)
}
fmt.Printf("RESULT spawn-remote %.1f\n", median(spawns))
GOS
	: > "$dir/gonode.txt"
	: > "$dir/beam.txt"
	for r in $(seq "$ROUNDS"); do
		echo "-- round $r: gonode"
		"$bin" --sname bsh2@localhost --cookie c --no-halt "$dir/setup.gos" >"$dir/node2.log" 2>&1 </dev/null &
		pids+=($!)
		"$bin" --sname bsh1@localhost --cookie c "$dir/bench.gos" | tee -a "$dir/gonode.txt" || echo "gonode round $r failed"
		kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
		if command -v elixir >/dev/null; then
			echo "-- round $r: BEAM"
			# New names each round: the last round's may still be registered.
			elixir --sname "bshb$r@localhost" --cookie c scripts/bench-shell-beam.exs peer >"$dir/beam-peer$r.log" 2>&1 &
			pids+=($!)
			elixir --sname "bsha$r@localhost" --cookie c scripts/bench-shell-beam.exs main "bshb$r@localhost" "$N" | tee -a "$dir/beam.txt" ||
				echo "BEAM round $r failed"
			kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
		fi
	done
	echo "-- compiled Go, and the call path in process (go test -bench 'Fib25|SessionCall' ./repl/eval/)"
	{
		go test -run '^$' -bench 'SessionCall' -benchtime 5000x -count 3 ./repl/eval/
		go test -run '^$' -bench 'ShellRPC' -benchtime 3000x -count 3 ./repl/
		go test -run '^$' -bench 'Fib25/go' -benchtime 200x -count 3 ./repl/eval/
		go test -run '^$' -bench 'Fib25/shell' -benchtime 3x -count 3 ./repl/eval/
		go test -run '^$' -bench 'Sum1M/go' -benchtime 200x -count 3 ./repl/eval/
		go test -run '^$' -bench 'Sum1M/shell' -benchtime 3x -count 3 ./repl/eval/
	} | grep '^Benchmark' | tee "$dir/gotest.txt"

	# The median over rounds of each figure (the last line of each name in a
	# round is the measured one; the first rpc lines are warm-up).
	med() { awk -v n="$1" '$1 == "RESULT" && $2 == n { v[n] = $3 } $1 == "RESULT" && $2 == "spawn-remote" { if (n in v) print v[n]; delete v }' "$2" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR+1)/2)] }'; }
	gofm() { awk -v n="$1" '$1 ~ "^"n"-" { for (i = 3; i < NF; i++) if ($(i+1) == "us/call-p50") print $i }' "$dir/gotest.txt" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR+1)/2)] }'; }
	gof() { awk -v n="$1" '$1 ~ "^"n"-" { print $3 }' "$dir/gotest.txt" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR+1)/2)] }'; }
	row() { # label, gonode, beam, goal text, goal ratio
		awk -v l="$1" -v g="$2" -v b="$3" -v gt="$4" -v goal="$5" 'BEGIN {
			r = (g != "" && b != "" && b + 0 > 0) ? g / b : -1
			met = (r < 0 || goal == "") ? "" : (r <= goal ? "met" : "missed")
			printf "| %s | %s | %s | %s | %s | %s |\n", l, g, b, (r < 0 ? "-" : sprintf("%.2fx", r)), gt, met }'
	}
	gu=$(med rpc-strings.ToUpper "$dir/gonode.txt"); gs=$(med rpc-Sq "$dir/gonode.txt")
	bu=$(med rpc-strings.ToUpper "$dir/beam.txt"); bs=$(med rpc-Sq "$dir/beam.txt")
	echo
	echo "Shell functions, medians over $ROUNDS rounds (us per call; Fib in us)"
	echo
	echo "| figure | gonode | BEAM | ratio | goal | |"
	echo "|---|---:|---:|---:|---|---|"
	row "rpc into a function typed in the shell (BEAM: :erpc.call into a module compiled at run time)" "$gs" "$bs" "<= 1x BEAM" 1
	row "rpc into strings.ToUpper (BEAM: String.upcase)" "$gu" "$bu" "" ""
	row "gonode: shell function / strings.ToUpper, same nodes" "$gs" "$gu" "<= 1.2x" 1.2
	row "BEAM: run-time module / String.upcase" "$bs" "$bu" "" ""
	row "spawn of a literal on the other node, until its reply (BEAM: Node.spawn of an iex-style fun)" "$(med spawn-remote "$dir/gonode.txt")" "$(med spawn-remote "$dir/beam.txt")" "<= 2x BEAM" 2
	row "rpc into fib(25)" "$(med rpc-Fib "$dir/gonode.txt")" "$(med rpc-Fib "$dir/beam.txt")" "(report)" ""
	row "rpc into sum(1..1,000,000), a for loop (BEAM: tail recursion)" "$(med rpc-Sum "$dir/gonode.txt")" "$(med rpc-Sum "$dir/beam.txt")" "(report)" ""
	echo
	echo "compiled Go fib(25): $(awk '{ print $1 / 1000 }' <<<"$(gof BenchmarkFib25/go)") us; shell fib(25) in process: $(awk '{ print $1 / 1000 }' <<<"$(gof BenchmarkFib25/shell)") us;" \
		"compiled Go sum(1M): $(awk '{ print $1 / 1000 }' <<<"$(gof BenchmarkSum1M/go)") us; shell sum(1M) in process: $(awk '{ print $1 / 1000 }' <<<"$(gof BenchmarkSum1M/shell)") us;" \
		"in-process call path (no network): strings.ToUpper $(gof 'BenchmarkSessionCall/fn=strings.ToUpper') ns, shell function $(gof 'BenchmarkSessionCall/fn=Compute') ns;" \
		"rpc between two nodes in one process from compiled Go, median: strings.ToUpper $(gofm 'BenchmarkShellRPC/fn=strings.ToUpper') us, shell function $(gofm 'BenchmarkShellRPC/fn=Sq') us"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }

case " $PARTS " in *" calls "*) calls ;; esac
case " $PARTS " in *" start "*) ;; *) exit 0 ;; esac

echo "gonode -e 'list()', $runs runs (ms):"
g=$(for _ in $(seq "$runs"); do ms "$bin" --sname "b$RANDOM@localhost" --cookie c -e 'list()'; done | median)
echo "  median $g"
if command -v elixir >/dev/null; then
	echo "elixir --sname x@localhost -e '', 5 runs (ms):"
	e=$(for _ in $(seq 5); do ms elixir --sname "x$RANDOM@localhost" --cookie c -e ''; done | median)
	echo "  median $e"
fi

echo "time to a ready prompt on a terminal (go test -bench StartToPrompt):"
go test -run '^$' -bench StartToPrompt -benchtime 10x ./cmd/gonode/ | grep -E '^Benchmark'

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
echo "idle node resident memory (KB):"
mkfifo "${bin}.in"
"$bin" --sname idle@localhost --cookie c --no-halt <"${bin}.in" >/dev/null 2>&1 &
gpid=$!
exec 3>"${bin}.in"
for _ in $(seq 100); do epmd -port "$port" -names 2>/dev/null | grep -q 'name idle ' && break; sleep 0.05; done
sleep 1
echo "  gonode $(rss $gpid)"
exec 3>&-
kill $gpid; wait $gpid 2>/dev/null || true
if command -v elixir >/dev/null; then
	elixir --sname idlex@localhost --cookie c -e ':timer.sleep(:infinity)' >/dev/null 2>&1 &
	epid=$!
	for _ in $(seq 100); do epmd -port "$port" -names 2>/dev/null | grep -q 'name idlex ' && break; sleep 0.05; done
	sleep 1
	beam=$(pgrep -P $epid -f beam || echo $epid)
	echo "  BEAM (elixir) $(rss "$beam")"
	kill $epid $beam 2>/dev/null; wait $epid 2>/dev/null || true
fi
