#!/usr/bin/env bash
# Start-up and idle-memory figures of the gonode binary beside Elixir's,
# measured back to back in one sitting. Needs elixir (apt-get install -y
# erlang-nox elixir). Usage: scripts/bench-shell.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
bin=$(mktemp -d)/gonode
go build -o "$bin" ./cmd/gonode
port=$(( 40000 + RANDOM % 20000 ))
export ERL_EPMD_PORT=$port
trap 'epmd -port $port -kill >/dev/null 2>&1 || true' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }

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
