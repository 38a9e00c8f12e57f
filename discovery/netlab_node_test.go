package discovery_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cookie is every lab node's cookie.
const Cookie = "netlab"

// watchScript is the shell script every node runs: whenever the nodes it
// is connected to (list()) or the nodes discovery found (discovered())
// change, it prints both with the time, Unix milliseconds. That line is
// the tests' one observable of a node, timed by the node itself.
const watchScript = `last := ""
for {
	l, d := list(), discovered()
	sort.Strings(l)
	sort.Strings(d)
	s := strings.Join(l, ",") + " | " + strings.Join(d, ",")
	if s != last {
		fmt.Println("gonode-watch", time.Now().UnixMilli(), s)
		last = s
	}
	time.Sleep(20 * time.Millisecond)
}
`

// Node is a gonode process on a Host, named base@address, running
// watchScript. It runs until Kill or the end of the test.
type Node struct {
	Name string // name@address
	Host *Host
	args []string
	lab  *Lab

	cmd    *exec.Cmd     // the running process; only the test's goroutine touches it
	done   chan struct{} // closed when cmd has exited and its output is read
	stderr tail
}

// Start starts a node named base@h.Addr with the flags given (the
// discovery flags; --name, --cookie and the script are added), and
// returns once the process runs.
func (h *Host) Start(base string, flags ...string) *Node {
	l := h.lab
	l.t.Helper()
	n := &Node{Name: base + "@" + h.Addr, Host: h, lab: l}
	n.args = append([]string{"--name", n.Name, "--cookie", Cookie, "-q"}, flags...)
	l.mu.Lock()
	l.nodes = append(l.nodes, n)
	l.mu.Unlock()
	n.start()
	return n
}

// Pin pins the nodes started on h from then on to cpus (taskset -c
// LIST): a host of its own CPUs, for load that stays on it.
func (h *Host) Pin(cpus string) { h.cpus = cpus }

func (n *Node) start() {
	l := n.lab
	l.t.Helper()
	script := filepath.Join(l.dir, "watch.gos")
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(script, []byte(watchScript), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
	argv := []string{"netns", "exec", n.Host.NS}
	if n.Host.cpus != "" {
		argv = append(argv, "taskset", "-c", n.Host.cpus)
	}
	argv = append(argv, l.bin)
	argv = append(argv, n.args...)
	n.cmd = exec.Command("ip", append(argv, script)...)
	n.cmd.Env = l.env()
	n.cmd.Dir = l.dir
	n.cmd.Stderr = &n.stderr
	out, err := n.cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		l.t.Fatalf("netlab: starting %s: %v", n.Name, err)
	}
	l.watch.update(n.Name, State{Running: true}, time.Now())
	n.done = make(chan struct{})
	go n.read(out, n.cmd, n.done)
}

// read passes the node's state lines to the lab's watcher until the
// process ends, then reaps it. It is owned by the node: stop and Kill
// wait for it.
func (n *Node) read(out io.Reader, cmd *exec.Cmd, done chan struct{}) {
	defer close(done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if st, at, ok := parse(sc.Text()); ok {
			n.lab.watch.update(n.Name, st, at)
		}
	}
	_ = cmd.Wait()
	n.lab.watch.update(n.Name, State{}, time.Now())
}

// parse reads "gonode-watch MS a,b | c,d".
func parse(line string) (State, time.Time, bool) {
	rest, ok := strings.CutPrefix(line, "gonode-watch ")
	if !ok {
		return State{}, time.Time{}, false
	}
	ms, sets, ok := strings.Cut(rest, " ")
	msec, err := strconv.ParseInt(ms, 10, 64)
	connected, found, ok2 := strings.Cut(sets, "|")
	if !ok || !ok2 || err != nil {
		return State{}, time.Time{}, false
	}
	split := func(s string) []string {
		var out []string
		for _, name := range strings.Split(strings.TrimSpace(s), ",") {
			if name != "" {
				out = append(out, name)
			}
		}
		return out
	}
	return State{Running: true, Connected: split(connected), Found: split(found)}, time.UnixMilli(msec), true
}

// Kill kills the node with SIGKILL and waits until it has exited. It
// returns the time the signal was sent.
func (n *Node) Kill() time.Time {
	at := time.Now()
	n.stop()
	return at
}

// Restart starts the node again with the same flags, after Kill.
func (n *Node) Restart() {
	n.lab.t.Helper()
	n.stop()
	n.start()
}

// stop kills the process if it runs and waits for its reader.
func (n *Node) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.done
}

// State is what a node printed last.
type State struct {
	Running   bool
	Connected []string // list(), sorted
	Found     []string // discovered(), sorted
}

// Sees reports whether the node is running and has every one of names
// both connected and found, and nothing else.
func (s State) Sees(names []string) bool {
	return s.Running && slices.Equal(s.Connected, names) && slices.Equal(s.Found, names)
}

// Has reports whether name is connected or found.
func (s State) Has(name string) bool {
	return slices.Contains(s.Connected, name) || slices.Contains(s.Found, name)
}

// tail keeps the last 8 KiB written to it: a node's stderr, shown when a
// wait fails.
type tail struct {
	mu  sync.Mutex
	buf []byte // guarded by mu
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - 8<<10; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// dump describes every node for a failed wait.
func (l *Lab) dump() string {
	var b strings.Builder
	l.mu.Lock()
	nodes := slices.Clone(l.nodes)
	l.mu.Unlock()
	states := l.watch.snapshot()
	for _, n := range nodes {
		s := states[n.Name]
		fmt.Fprintf(&b, "\n%s: running %v, connected %v, found %v", n.Name, s.Running, s.Connected, s.Found)
		if e := n.stderr.String(); e != "" {
			fmt.Fprintf(&b, "\n  stderr: %s", strings.ReplaceAll(e, "\n", "\n  "))
		}
	}
	return b.String()
}
