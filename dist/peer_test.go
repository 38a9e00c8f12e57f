package dist

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// Peer processes: tests and benchmarks that need a node in another OS
// process re-execute the test binary with GONODE_TEST_PEER set; TestMain
// then runs runPeer instead of the tests. The peer takes its port mapper
// from ERL_EPMD_PORT (as a real node does), so each test picks its own.
//
//	GONODE_TEST_PEER    the peer's full node name (required)
//	GONODE_TEST_COOKIE  its cookie (default "secret")
//	GONODE_TEST_TICK    its tick time, a time.Duration (default 60 s)
//	ERL_EPMD_PORT       the port mapper's port on 127.0.0.1
//	GONODE_TEST_PEER_CPUPROFILE  write a CPU profile of the peer's whole
//	                    life to this file (to see where a benchmark's
//	                    time goes on the peer's side)
//	GONODE_TEST_TLS_DIR a directory made by WriteCertDir: the peer talks
//	                    mutual TLS with its certificates (TLSDirFiles)
//
// The peer prints "ready port=P serving=B" on stdout once it is registered
// and its echo process runs, and then serves until it is killed or its
// stdin closes (so it never outlives the test process).
const (
	envPeer   = "GONODE_TEST_PEER"
	envCookie = "GONODE_TEST_COOKIE"
	envTick   = "GONODE_TEST_TICK"
	envPprof  = "GONODE_TEST_PEER_CPUPROFILE"
	envTLSDir = "GONODE_TEST_TLS_DIR"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envPeer); name != "" {
		os.Exit(runPeer(name))
	}
	os.Exit(m.Run())
}

// peerFuncs are the functions a peer serves to rpc and remote spawns.
func peerFuncs(node func() *Node) *Funcs {
	f := testFuncs()
	must(f.Register("echo", func(v any) any { return v }))
	must(f.Register("node_name", func() string { return node().Name() }))
	must(f.Register("os_pid", func() int { return os.Getpid() }))
	must(f.Register("whereis", func(name string) (proc.Pid, error) {
		pid, ok := node().Proc().Whereis(name)
		if !ok {
			return proc.Pid{}, fmt.Errorf("%s: %w", name, proc.ErrNotRegistered)
		}
		return pid, nil
	}))
	// links_of reports how many links and monitors the local process pid has
	// from others: []any{links, monitoredBy}.
	must(f.Register("links_of", func(pid proc.Pid) []any {
		info, _ := node().Proc().Info(pid)
		return []any{len(info.Links), len(info.MonitoredBy)}
	}))
	// counter, spawned by a peer, receives n messages []any{:msg, i} and
	// checks that i runs 1..n in order; then it sends
	// []any{:counted, self, n, problem} to replyTo, problem "" if none.
	must(f.Register("counter", func(ctx context.Context, n int, replyTo proc.Pid) error {
		p, _, _ := ProcessFrom(ctx)
		problem := ""
		for i := 1; i <= n; i++ {
			m, err := p.Receive(ctx)
			if err != nil {
				return err
			}
			if got, ok := streamSeq(m); !ok || got != i {
				if problem == "" {
					problem = fmt.Sprintf("message %d: got %#v", i, m)
				}
			}
		}
		return p.Send(replyTo, []any{atomCounted, p.Pid(), n, problem})
	}))
	registerFaultFuncs(f, node) // faults_peer_test.go
	return f
}

// Constants, as a Go program names its atoms: boxing a constant into an
// interface costs no allocation, boxing a variable's string does.
const (
	atomMsg     = proc.Atom("msg")
	atomCounted = proc.Atom("counted")
)

// streamSeq reads the sequence number of a stream message []any{:msg, i}.
func streamSeq(m any) (int, bool) {
	t, ok := m.([]any)
	if !ok || len(t) != 2 || t[0] != atomMsg {
		return 0, false
	}
	i, ok := t[1].(int)
	return i, ok
}

// echoLoop is the peer's process registered as "echo": it answers
// []any{from, payload} by sending payload to from.
func echoLoop(p *proc.Process) {
	for {
		m, err := p.Receive(nil)
		if err != nil {
			return
		}
		if t, ok := m.([]any); ok && len(t) == 2 {
			if from, ok := t[0].(proc.Pid); ok {
				_ = p.Send(from, t[1])
			}
		}
	}
}

func runPeer(name string) int {
	cookie := os.Getenv(envCookie)
	if cookie == "" {
		cookie = "secret"
	}
	var tick time.Duration
	if s := os.Getenv(envTick); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "peer %s: %s=%q: %v\n", name, envTick, s, err)
			return 2
		}
		tick = d
	}
	logger := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "peer %s: "+format+"\n", append([]any{name}, args...)...)
	}
	if path := os.Getenv(envPprof); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			logger("cpu profile: %v", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var transport Transport
	if dir := os.Getenv(envTLSDir); dir != "" {
		t, err := LoadTLS(TLSDirFiles(dir, name))
		if err != nil {
			logger("%s: %v", envTLSDir, err)
			return 2
		}
		transport = t
	}
	var n *Node
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	n, err := Start(ctx, Config{Name: name, Cookie: cookie, TickTime: tick, Logf: logger, Transport: transport,
		Functions: peerFuncs(func() *Node { return n })})
	cancel()
	if err != nil {
		logger("start: %v", err)
		return 1
	}
	if _, err := n.Proc().SpawnOpt(echoLoop, proc.SpawnOptions{Name: "echo"}); err != nil {
		logger("echo: %v", err)
		n.Close()
		return 1
	}
	fmt.Printf("ready port=%d serving=%v\n", n.Port(), n.reg.Serving())
	// Serve until stdin closes: the test closed it, or the test process died.
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := n.Close(); err != nil {
		logger("close: %v", err)
	}
	return 0
}

// peerProc is a peer node running in another OS process.
type peerProc struct {
	Name    string
	Pid     int  // the OS process id
	Port    int  // the node's distribution port
	Serving bool // it serves the port mapper
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *lockedBuffer
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // set before exited is closed
}

type peerOpts struct {
	cookie string
	tick   time.Duration
	netns  string // run the peer in this network namespace (ip netns exec)
	tlsDir string // talk mutual TLS with the certificates in this directory (WriteCertDir)
}

// epmdPort returns the port of a host:port address.
func epmdPort(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startPeer starts a peer node named name in a new OS process, registered
// with the port mapper at epmdAddr (which must be on 127.0.0.1), and waits
// until it is ready. The peer is stopped and waited for by t.Cleanup.
func startPeer(t testing.TB, epmdAddr, name string, o peerOpts) *peerProc {
	t.Helper()
	p, err := launchPeer(t, epmdAddr, name, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	return p
}

func launchPeer(t testing.TB, epmdAddr, name string, o peerOpts) (*peerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe, "-test.run=^$", "-test.bench=^$")
	if o.netns != "" {
		// ip execs the binary in the namespace: the pid is the peer's.
		cmd = exec.Command("ip", "netns", "exec", o.netns, exe, "-test.run=^$", "-test.bench=^$")
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_PORT=") && !strings.HasPrefix(kv, envPeer+"=") &&
			!strings.HasPrefix(kv, envCookie+"=") && !strings.HasPrefix(kv, envTick+"=") &&
			!strings.HasPrefix(kv, envTLSDir+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, envPeer+"="+name, "ERL_EPMD_PORT="+epmdPort(t, epmdAddr))
	if o.cookie != "" {
		env = append(env, envCookie+"="+o.cookie)
	}
	if o.tick > 0 {
		env = append(env, envTick+"="+o.tick.String())
	}
	if o.tlsDir != "" {
		env = append(env, envTLSDir+"="+o.tlsDir)
	}
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &peerProc{Name: name, t: t, cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start peer %s: %w", name, err)
	}
	p.Pid = cmd.Process.Pid
	lines := make(chan string, 1)
	go func() {
		// The reader ends when the peer's stdout closes, that is when it exits.
		br := bufio.NewReader(stdout)
		line, err := br.ReadString('\n')
		if err == nil {
			lines <- line
		}
		close(lines)
		_, _ = io.Copy(io.Discard, br)
	}()
	go func() {
		err := cmd.Wait()
		p.waitErr = err
		close(p.exited)
	}()
	timer := time.NewTimer(waitTime)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if ok {
			if _, err := fmt.Sscanf(line, "ready port=%d serving=%t", &p.Port, &p.Serving); err == nil {
				return p, nil
			}
		}
		p.stop()
		return nil, fmt.Errorf("peer %s did not get ready (said %q): %v\n%s", name, line, p.waitErr, p.stderr.String())
	case <-timer.C:
		p.stop()
		return nil, fmt.Errorf("peer %s not ready after %v\n%s", name, waitTime, p.stderr.String())
	}
}

// signal sends sig to the peer process.
func (p *peerProc) signal(sig syscall.Signal) error {
	select {
	case <-p.exited:
		return os.ErrProcessDone
	default:
	}
	return p.cmd.Process.Signal(sig)
}

// kill9 kills the peer with SIGKILL and returns when kill(2) has returned.
func (p *peerProc) kill9() {
	if err := p.signal(syscall.SIGKILL); err != nil {
		p.t.Errorf("kill -9 %s: %v", p.Name, err)
	}
}

// wait waits for the peer process to exit.
func (p *peerProc) wait(d time.Duration) bool {
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
// kills it if it has not exited within a few seconds, and waits for it.
// It is idempotent.
func (p *peerProc) stop() {
	_ = p.stdin.Close()
	_ = p.signal(syscall.SIGCONT) // in case a test stopped it
	if !p.wait(5 * time.Second) {
		_ = p.signal(syscall.SIGKILL)
		<-p.exited
	}
	if p.t.Failed() {
		if s := p.stderr.String(); s != "" {
			p.t.Logf("peer %s stderr:\n%s", p.Name, s)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// uniqueName gives each peer of a test run its own node name.
var peerSeq struct {
	mu sync.Mutex
	n  int
}

func uniqueName(prefix string) string {
	peerSeq.mu.Lock()
	defer peerSeq.mu.Unlock()
	peerSeq.n++
	return prefix + strconv.Itoa(peerSeq.n) + "_" + strconv.Itoa(os.Getpid()) + "@localhost"
}

// TestPeerProcess checks the peer machinery itself: a peer in another OS
// process answers rpc and its echo process, and exits when stdin closes.
func TestPeerProcess(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost")
	p := startPeer(t, c.epmd, "peer@localhost", peerOpts{})
	if p.Serving {
		t.Fatal("the peer serves the port mapper although a was started first")
	}
	v, err := a.RPC(ctx(t), p.Name, "os_pid")
	if err != nil || v != int(p.Pid) {
		t.Fatalf("os_pid: %v %v, want %d", v, err, p.Pid)
	}
	me := attach(t, a)
	if err := me.SendName(proc.Name{Name: "echo", Node: p.Name}, []any{me.Pid(), "hello"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, me); got != "hello" {
		t.Fatalf("echo: %#v", got)
	}
	_ = p.stdin.Close()
	if !p.wait(waitTime) {
		t.Fatal("peer did not exit when its stdin closed")
	}
	if p.waitErr != nil {
		t.Fatalf("peer exit: %v\n%s", p.waitErr, p.stderr.String())
	}
}
