package discovery_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDiscoveryFigures measures what docs/reliability.md's Discovery
// table shows, per strategy, with gonode processes on hosts of a netlab (netlab_*_test.go):
// time to a full mesh of 3 and of 10 nodes, the time a node killed with
// SIGKILL takes to leave the others' connections and what their
// discovery found, the time a restarted one takes to be back in a full
// mesh, and the false drops while one host's CPU is fully loaded. It
// asserts nothing about the times: it runs only when
// GONODE_DISCOVERY_FIGURES names the file to write the table to
// (scripts/discovery-figures.sh).
func TestDiscoveryFigures(t *testing.T) {
	out := os.Getenv("GONODE_DISCOVERY_FIGURES")
	if out == "" {
		t.Skip("set GONODE_DISCOVERY_FIGURES=FILE (scripts/discovery-figures.sh) to measure discovery's figures")
	}
	runs := envInt(t, "RUNS", 3)
	load := time.Duration(envInt(t, "LOAD_SECONDS", 60)) * time.Second
	burners := envInt(t, "BURNERS", 4)
	// LOAD_ALL=1 leaves the busy loops unpinned: every CPU, so every
	// node, is loaded, not only the third host's.
	loadAll := os.Getenv("LOAD_ALL") == "1"
	labUsable(t)
	bin := buildGonode(t, t.TempDir())
	var b strings.Builder
	fmt.Fprintf(&b, "| strategy | full mesh, 3 nodes: connected / found | full mesh, 10 nodes: connected / found | killed: connections gone (3 / 10 nodes) | killed: no longer found (3 / 10) | restarted: full mesh again (3 / 10) | false drops, %v of full CPU load on one of 3 |\n|---|---|---|---|---|---|---|\n", load)
	for _, s := range labStrategies {
		var f3, f10 figures
		t.Run(s.name+"/3", func(t *testing.T) {
			f3 = measure(t, bin, s, 3, runs, true)
			f3.drops = underLoad(t, bin, s, load, burners, loadAll)
		})
		t.Run(s.name+"/10", func(t *testing.T) { f10 = measure(t, bin, s, 10, runs, false) })
		fmt.Fprintf(&b, "| %s | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s | %s |\n", s.name,
			span(f3.connected), span(f3.mesh), span(f10.connected), span(f10.mesh), span(f3.gone), span(f10.gone),
			span(f3.unfound), span(f10.unfound), span(f3.back), span(f10.back), f3.drops)
	}
	t.Logf("\n%s", b.String())
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// figures are one strategy's times over its runs, in seconds.
type figures struct {
	connected, mesh, gone, unfound, back []float64
	drops                                string
}

// measure starts n nodes runs times: each time to a full mesh, then
// kills the first and restarts it once the others dropped it.
func measure(t *testing.T, bin string, s labStrategy, n, runs int, pin bool) figures {
	l := newLab(t, bin, n)
	if pin {
		pinHosts(l)
	}
	if s.setup != nil {
		s.setup(l)
	}
	var f figures
	var nodes []*Node
	for run := 0; run < runs; run++ {
		for _, node := range nodes {
			node.Kill()
		}
		start := time.Now()
		nodes = nodes[:0]
		for i, h := range l.Hosts {
			nodes = append(nodes, h.Start("n"+strconv.Itoa(i+1), s.flags(l.Hosts, i)...))
		}
		f.connected = append(f.connected, l.Wait(2*time.Minute, "every node connected to every other", connectedMesh(nodes)).Sub(start).Seconds())
		f.mesh = append(f.mesh, l.Wait(2*time.Minute, "a full mesh", mesh(nodes)).Sub(start).Seconds())
		victim, survivors := nodes[0], nodes[1:]
		killed := victim.Kill()
		f.gone = append(f.gone, l.Wait(time.Minute, "connections gone", dropped(victim, survivors, true)).Sub(killed).Seconds())
		f.unfound = append(f.unfound, l.Wait(time.Minute, "no longer found", dropped(victim, survivors, false)).Sub(killed).Seconds())
		restarted := time.Now()
		victim.Restart()
		f.back = append(f.back, l.Wait(2*time.Minute, "a full mesh after the restart", mesh(nodes)).Sub(restarted).Seconds())
	}
	return f
}

// connectedMesh holds when every node of nodes is connected to every
// other, whatever its discovery found so far (a node found by one side is
// connected to both).
func connectedMesh(nodes []*Node) func(map[string]State) bool {
	all := names(nodes)
	return func(states map[string]State) bool {
		for _, n := range all {
			s := states[n]
			if !s.Running || len(s.Connected) != len(all)-1 {
				return false
			}
		}
		return true
	}
}

// pinHosts gives the last host the last CPU and the others the rest, as
// if it were a machine of its own (on one CPU, nothing is pinned).
func pinHosts(l *Lab) {
	if cpus := runtime.NumCPU(); cpus > 1 {
		last := len(l.Hosts) - 1
		for i, h := range l.Hosts {
			if i == last {
				h.Pin(strconv.Itoa(cpus - 1))
			} else {
				h.Pin(fmt.Sprintf("0-%d", cpus-2))
			}
		}
	}
}

// underLoad runs 3 nodes to a full mesh, then loads the third host's CPU
// with busy loops for d and counts the nodes that, meanwhile, lost a
// node from their connections or from what discovery found: none went
// down, so each is a false drop.
func underLoad(t *testing.T, bin string, s labStrategy, d time.Duration, burners int, all bool) string {
	l := newLab(t, bin, 3)
	pinHosts(l)
	nodes := startAll(l, s)
	l.Wait(2*time.Minute, "a full mesh", mesh(nodes))
	cpus := ""
	if n := runtime.NumCPU(); n > 1 && !all {
		cpus = strconv.Itoa(n - 1)
	}
	from := time.Now()
	stop := l.Hosts[2].Burn(burners, cpus)
	time.Sleep(d) // the load's duration: what is measured happens meanwhile
	stop()
	// What was lost under load is back once the load ends, if it ever left.
	l.Wait(2*time.Minute, "a full mesh after the load", mesh(nodes))
	to := time.Now()
	var connLost, foundLost int
	last := map[string]State{}
	for _, e := range l.Events() {
		prev, seen := last[e.Node]
		last[e.Node] = e.State
		if !seen || e.At.Before(from) || e.At.After(to) {
			continue
		}
		for _, name := range prev.Connected {
			if !slices.Contains(e.State.Connected, name) {
				connLost++
			}
		}
		for _, name := range prev.Found {
			if !slices.Contains(e.State.Found, name) {
				foundLost++
			}
		}
	}
	return fmt.Sprintf("%d connections lost, %d found nodes lost (%d busy loops on %s)", connLost, foundLost, burners, cpuName(cpus))
}

func cpuName(cpus string) string {
	if cpus == "" {
		return "every CPU"
	}
	return "CPU " + cpus + ", the node's"
}

// span prints a range of seconds, "1.2-3.4 s".
func span(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	lo, hi := slices.Min(v), slices.Max(v)
	if hi-lo < 0.005 {
		return fmt.Sprintf("%.2f s", lo)
	}
	return fmt.Sprintf("%.2f-%.2f s", lo, hi)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
