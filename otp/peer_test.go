package otp_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// Peer nodes in other OS processes, as dist/peer_test.go makes them: the
// test binary re-executes itself with GONODE_TEST_PEER set, and TestMain
// (main_test.go) then runs runPeer instead of the tests. The peer takes its
// port mapper from ERL_EPMD_PORT, as a real node does; this process's node
// (node1) serves an embedded one on a port of its own, so tests and
// benchmarks do not meet each other's nodes.
//
//	GONODE_TEST_PEER    the peer's full node name (required)
//	GONODE_TEST_COOKIE  its cookie (default peerCookie)
//	ERL_EPMD_PORT       the port mapper's port on 127.0.0.1
//	GONODE_TEST_PEER_CPUPROFILE  write a CPU profile of the peer's whole
//	                    life to this file
//
// The peer prints "ready port=P" on stdout once it is registered, and then
// serves until it is killed or its stdin closes (so it never outlives the
// test process).
const (
	envPeer    = "GONODE_TEST_PEER"
	envCookie  = "GONODE_TEST_COOKIE"
	envPprof   = "GONODE_TEST_PEER_CPUPROFILE"
	peerCookie = "otpbench"
	// peerWait bounds the start of a peer and every wait of the tests
	// below: reaching it is a failure, not a measurement. Peers start
	// slowly under -race on a loaded machine.
	peerWait = 60 * time.Second
)

var atomStarted = proc.Atom("started")

// peerWorker is registered as "worker" on every node: a child of a
// supervisor on another node. It tells obs [:started, id, pid] when it
// runs, then loops on its mailbox as a server does, and panics on "crash".
func peerWorker(ctx context.Context, obs proc.Pid, id string) error {
	p, _, ok := dist.ProcessFrom(ctx)
	if !ok {
		return errors.New("worker: not started as a process")
	}
	if err := p.Send(obs, []any{atomStarted, id, p.Pid()}); err != nil {
		return err
	}
	for {
		m, err := p.Receive(ctx)
		if err != nil {
			return nil
		}
		if m == "crash" {
			panic("crash")
		}
	}
}

// peerFuncs are the functions every node of these tests serves: the
// worker, the square of the stream benchmarks, and two questions about the
// node itself.
func peerFuncs(node func() *dist.Node) *dist.Funcs {
	f := dist.NewFuncs()
	for name, fn := range map[string]any{
		"worker":     peerWorker,
		"square":     func(x int) int { return x * x },
		"proc_count": func() int { return node().Proc().Count() },
		"os_pid":     func() int { return os.Getpid() },
	} {
		if err := f.Register(name, fn); err != nil {
			panic(err)
		}
	}
	return f
}

func runPeer(name string) int {
	cookie := os.Getenv(envCookie)
	if cookie == "" {
		cookie = peerCookie
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "peer %s: "+format+"\n", append([]any{name}, args...)...)
	}
	if path := os.Getenv(envPprof); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			logf("cpu profile: %v", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var n *dist.Node
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	n, err := dist.Start(ctx, dist.Config{Name: name, Cookie: cookie, Logf: logf,
		Functions: peerFuncs(func() *dist.Node { return n })})
	cancel()
	if err != nil {
		logf("start: %v", err)
		return 1
	}
	fmt.Printf("ready port=%d\n", n.Port())
	// Serve until stdin closes: the test closed it, or the test process died.
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := n.Close(); err != nil {
		logf("close: %v", err)
	}
	return 0
}

// peerCluster is node1, in this process, serving the port mapper that the
// peers it starts register with.
type peerCluster struct {
	tb   testing.TB
	epmd string // 127.0.0.1:port of node1's embedded port mapper
	n1   *dist.Node
}

func newPeerCluster(tb testing.TB) *peerCluster {
	tb.Helper()
	c := &peerCluster{tb: tb, epmd: testport.Addr(tb)}
	ctx, cancel := context.WithTimeout(context.Background(), peerWait)
	defer cancel()
	name := fmt.Sprintf("node1_%d@localhost", os.Getpid())
	n1, err := dist.Start(ctx, dist.Config{Name: name, Cookie: peerCookie, EPMDAddr: c.epmd,
		Functions: peerFuncs(func() *dist.Node { return c.n1 }), Logf: func(string, ...any) {}})
	if err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	c.n1 = n1
	tb.Cleanup(func() { n1.Close() })
	return c
}

// peerNode is a node running in another OS process.
type peerNode struct {
	Name    string
	Pid     int // its OS process id
	tb      testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *peerBuffer
	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // set before exited is closed
}

// startPeer starts the peer node name, connects node1 to it, and stops it
// at the end of the test; a peer that cannot start skips the test.
func (c *peerCluster) startPeer(name string) *peerNode {
	c.tb.Helper()
	p, err := c.launch(name)
	if err != nil {
		c.tb.Skipf("cannot start a peer node: %v", err)
	}
	c.tb.Cleanup(p.stop)
	c.connect(p.Name)
	return p
}

func (c *peerCluster) connect(name string) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerWait)
	defer cancel()
	if err := c.n1.Connect(ctx, name); err != nil {
		c.tb.Fatalf("connect to %s: %v", name, err)
	}
}

// rpc calls fn on node from node1.
func (c *peerCluster) rpc(node, fn string, args ...any) any {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerWait)
	defer cancel()
	v, err := c.n1.RPC(ctx, node, fn, args...)
	if err != nil {
		c.tb.Fatalf("rpc %s on %s: %v", fn, node, err)
	}
	return v
}

func (c *peerCluster) launch(name string) (*peerNode, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	_, port, err := net.SplitHostPort(c.epmd)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-test.run=^$", "-test.bench=^$")
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_PORT=") && !strings.HasPrefix(kv, envPeer+"=") &&
			!strings.HasPrefix(kv, envCookie+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, envPeer+"="+name, envCookie+"="+peerCookie, "ERL_EPMD_PORT="+port)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &peerNode{Name: name, tb: c.tb, cmd: cmd, stdin: stdin, stderr: &peerBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start peer %s: %w", name, err)
	}
	p.Pid = cmd.Process.Pid
	lines := make(chan string, 1)
	go func() {
		// Ends when the peer's stdout closes, that is when it exits.
		br := bufio.NewReader(stdout)
		line, err := br.ReadString('\n')
		if err == nil {
			lines <- line
		}
		close(lines)
		_, _ = io.Copy(io.Discard, br)
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	timer := time.NewTimer(peerWait)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		var port int
		if ok {
			if _, err := fmt.Sscanf(line, "ready port=%d", &port); err == nil {
				return p, nil
			}
		}
		p.stop()
		return nil, fmt.Errorf("peer %s did not get ready (said %q): %v\n%s", name, line, p.waitErr, p.stderr.String())
	case <-timer.C:
		p.stop()
		return nil, fmt.Errorf("peer %s not ready after %v\n%s", name, peerWait, p.stderr.String())
	}
}

// kill9 sends SIGKILL to the peer process; the caller times from just
// before it, as BEAM's reference does.
func (p *peerNode) kill9() {
	if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil {
		p.tb.Fatalf("kill -9 %s (pid %d): %v", p.Name, p.Pid, err)
	}
}

// wait waits up to d for the peer process to exit.
func (p *peerNode) wait(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
		return true
	case <-timer.C:
		return false
	}
}

// stop closes the peer's stdin, which makes it close its node and exit,
// kills it (by its pid) if it has not exited within a few seconds, and
// waits for it. It is idempotent.
func (p *peerNode) stop() {
	_ = p.stdin.Close()
	if !p.wait(5 * time.Second) {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
		}
		<-p.exited
	}
	if p.tb.Failed() {
		if s := p.stderr.String(); s != "" {
			p.tb.Logf("peer %s stderr:\n%s", p.Name, s)
		}
	}
}

type peerBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *peerBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *peerBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventLog keeps what a supervisor reports; Report runs on the
// supervisor's goroutine.
type eventLog struct {
	mu     sync.Mutex
	events []otp.Event
}

func (l *eventLog) add(e otp.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) take() []otp.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// failover is a supervisor on node1 whose k children run on node2 and
// fail over to node3; obs is the process they report their starts to.
type failover struct {
	tb     testing.TB
	c      *peerCluster
	obs    *proc.Process
	log    *eventLog
	k      int
	sup    proc.Pid
	node3  string
	starts map[string][]proc.Pid // every start reported, by child id, in order
}

// failoverTimes are measured from just before kill(2).
type failoverTimes struct {
	nodedown time.Duration // NodeDown reaches a MonitorNodes subscriber on node1
	detect   time.Duration // the supervisor reports its first child lost with noconnection (and moved)
	lastMove time.Duration // it reports its k-th
	all      time.Duration // the k-th replacement's start message from node3 is received on node1
}

// beyond is the failover time beyond detection: first report to the
// last replacement running.
func (f failoverTimes) beyond() time.Duration { return f.all - f.detect }

func newFailover(c *peerCluster, k int, node3 string) *failover {
	tb := c.tb
	tb.Helper()
	obs, err := c.n1.Proc().Attach(proc.SpawnOptions{Label: "failover observer"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { obs.Exit(proc.Normal) })
	c.n1.MonitorNodes(obs.Pid(), true, false)
	return &failover{tb: tb, c: c, obs: obs, log: &eventLog{}, k: k, node3: node3}
}

// start starts the supervisor with its k children on [node2, node3] and
// waits until all of them run on node2.
func (f *failover) start(node2 string) {
	f.tb.Helper()
	f.starts = make(map[string][]proc.Pid, f.k)
	specs := make([]otp.ChildSpec, f.k)
	for i := range specs {
		id := fmt.Sprintf("w%d", i)
		specs[i] = otp.ChildSpec{ID: id, Nodes: []string{node2, f.node3},
			Start: otp.Named(f.c.n1, "worker", f.obs.Pid(), id)}
	}
	sup, err := otp.StartSupervisor(f.obs, nil, otp.SupervisorOptions{Cluster: f.c.n1,
		MaxRestarts: 1_000_000, Report: f.log.add}, specs...)
	if err != nil {
		f.tb.Fatal(err)
	}
	f.sup = sup
	if got := f.collect(node2, f.k, ""); len(got) != f.k {
		f.tb.Fatalf("%d children started on %s, want %d", len(got), node2, f.k)
	}
	f.obs.Flush() // NodeUp messages
}

// collect receives start messages until k children have started on node
// (and, if down is set, NodeDown for it has come), and returns when each
// came. A start anywhere else, or twice of one child, fails the test.
func (f *failover) collect(node string, k int, down string) (at map[string]time.Time) {
	f.tb.Helper()
	at = make(map[string]time.Time, k)
	var downAt time.Time
	for len(at) < k || (down != "" && downAt.IsZero()) {
		m, err := f.obs.ReceiveTimeout(peerWait)
		if err != nil {
			f.tb.Fatalf("%d of %d children started on %s: %v", len(at), k, node, err)
		}
		now := time.Now()
		switch m := m.(type) {
		case []any:
			if len(m) != 3 || m[0] != atomStarted {
				f.tb.Fatalf("unexpected message %#v", m)
			}
			id, pid := m[1].(string), m[2].(proc.Pid)
			f.starts[id] = append(f.starts[id], pid)
			if pid.Node != node {
				f.tb.Fatalf("child %s started on %s, want %s", id, pid.Node, node)
			}
			if _, twice := at[id]; twice {
				f.tb.Fatalf("child %s started twice on %s", id, node)
			}
			at[id] = now
		case dist.NodeDown:
			if m.Node == down {
				downAt = now
			}
		}
	}
	if down != "" {
		at[""] = downAt
	}
	return at
}

// kill kills node2 with SIGKILL, waits until every child runs on node3,
// checks what the supervisor reported and what it says its children are,
// and returns the times.
func (f *failover) kill(node2 *peerNode) failoverTimes {
	f.tb.Helper()
	f.log.take()
	t0 := time.Now()
	node2.kill9()
	at := f.collect(f.node3, f.k, node2.Name)
	var ft failoverTimes
	ft.nodedown = at[""].Sub(t0)
	delete(at, "")
	for _, t := range at {
		ft.all = max(ft.all, t.Sub(t0))
	}

	cs, err := otp.WhichChildren(f.obs, f.sup) // after every report of the moves
	if err != nil {
		f.tb.Fatal(err)
	}
	events := f.log.take()
	if len(events) != f.k {
		f.tb.Fatalf("the supervisor reported %d events, want %d moves: %v", len(events), f.k, events)
	}
	moved := make(map[string]bool, f.k)
	for i, e := range events {
		if e.Action != otp.ActionMoved || e.Reason != proc.NoConnection || e.Pid.Node != node2.Name || e.NewPid.Node != f.node3 {
			f.tb.Fatalf("report %v, want a move from node2 to node3 after noconnection", e)
		}
		if moved[e.Child] {
			f.tb.Fatalf("child %s moved twice", e.Child)
		}
		moved[e.Child] = true
		d := e.Time.Sub(t0)
		if i == 0 {
			ft.detect = d
		}
		ft.lastMove = max(ft.lastMove, d)
	}
	if len(cs) != f.k {
		f.tb.Fatalf("the supervisor has %d children, want %d", len(cs), f.k)
	}
	for _, ch := range cs {
		s := f.starts[ch.ID]
		if ch.Pid.Node != f.node3 || len(s) == 0 || s[len(s)-1] != ch.Pid {
			f.tb.Fatalf("child %s is %v, want the replacement that started on %s (%v)", ch.ID, ch.Pid, f.node3, s)
		}
	}
	return ft
}

// stop stops the supervisor and its children.
func (f *failover) stop() {
	f.tb.Helper()
	if err := otp.StopSupervisor(f.obs, f.sup, proc.Normal); err != nil {
		f.tb.Fatal(err)
	}
}

// A supervisor on node1 with children on node2 (another OS process): node2
// is killed with SIGKILL, every child moves to node3, and when node2 comes
// back nothing runs there and each child runs once.
func TestFailoverAfterKill9(t *testing.T) {
	const k = 200
	c := newPeerCluster(t)
	name2 := fmt.Sprintf("node2_%d@localhost", os.Getpid())
	p2 := c.startPeer(name2)
	p3 := c.startPeer(fmt.Sprintf("node3_%d@localhost", os.Getpid()))
	f := newFailover(c, k, p3.Name)
	f.start(name2)

	ft := f.kill(p2)
	t.Logf("%d children: nodedown %v, first move reported %v, last %v, all running on node3 %v after kill -9",
		k, ft.nodedown, ft.detect, ft.lastMove, ft.all)
	if !p2.wait(peerWait) {
		t.Fatal("node2 did not exit after kill -9")
	}

	// node2 comes back under the same name: nothing starts there, and
	// every child runs once, on node3.
	p2b, err := c.launch(name2)
	if err != nil {
		t.Fatalf("start node2 again: %v", err)
	}
	t.Cleanup(p2b.stop)
	c.connect(name2)
	cs, err := otp.WhichChildren(f.obs, f.sup)
	if err != nil {
		t.Fatal(err)
	}
	// The rpcs come back on the connections any late start message would
	// have come on, after it.
	if n := c.rpc(name2, "proc_count"); n != int(0) {
		t.Errorf("the new node2 runs %v processes, want none", n)
	}
	if n := c.rpc(p3.Name, "proc_count"); n != int(k) {
		t.Errorf("node3 runs %v processes, want the %d children", n, k)
	}
	if m, err := f.obs.ReceiveMatchTimeout(0, func(m any) bool { _, ok := m.([]any); return ok }); err == nil {
		t.Errorf("a child started after the failover: %v", m)
	}
	for _, ch := range cs {
		s := f.starts[ch.ID]
		if len(s) != 2 || s[0].Node != name2 || s[1].Node != p3.Name || ch.Pid != s[1] {
			t.Errorf("child %s: started as %v, now %v; want once on node2, then once on node3", ch.ID, s, ch.Pid)
		}
	}
	if len(f.starts) != k {
		t.Errorf("%d children started, want %d", len(f.starts), k)
	}
}
