//go:build unix

package dist

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"
)

// flakyListener returns EMFILE from Accept while fails is above zero.
type flakyListener struct {
	net.Listener
	mu       sync.Mutex
	fails    int // errors still to return
	returned int // errors returned so far
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.fails > 0 {
		l.fails--
		l.returned++
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *flakyListener) errorsReturned() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.returned
}

// fixedPortTCP listens at a port below the kernel's ephemeral range
// (testport), so that relisten can bind it again after closing it: no
// listener on port 0 elsewhere in the run can take it meanwhile.
type fixedPortTCP struct {
	TCP
	port string
}

func (f fixedPortTCP) Listen(host string) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, f.port))
}

// atFixedPort makes a node listen through fixedPortTCP: for relisten.
func atFixedPort(t *testing.T) func(*Config) {
	port := testport.Port(t)
	return func(cfg *Config) { cfg.Transport = fixedPortTCP{port: port} }
}

// relisten puts a listener made by wrap from a fresh listener on the same
// address in place of n's, and starts a new accept loop on it. The old loop
// stops when its listener is closed; it says so in the log, after its last
// use of n.ln.
func relisten(t *testing.T, c *cluster, n *Node, wrap func(net.Listener) net.Listener) {
	t.Helper()
	addr := n.ln.Addr().String()
	n.ln.Close()
	eventually(t, "the old accept loop to stop", func() bool {
		return strings.Contains(c.logs.text(), "no longer accepting peers")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n.ln = wrap(ln)
	n.wg.Add(1)
	go n.acceptLoop()
}

// countLines counts the log lines that contain s.
func countLines(text, s string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// TestAcceptRetriesAfterEMFILE: Accept fails with EMFILE seven times; the
// loop backs off 5 ms, 10 ms, ... and then serves a peer. The errors are
// logged rate-limited: five lines, then at close one with the rest counted.
func TestAcceptRetriesAfterEMFILE(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost", atFixedPort(t))
	b := c.start("b@localhost")
	fl := &flakyListener{fails: 7}
	relisten(t, c, a, func(l net.Listener) net.Listener { fl.Listener = l; return fl })

	if err := b.Connect(ctx(t), a.Name()); err != nil {
		t.Fatalf("connect after EMFILE: %v\n%s", err, c.logs.text())
	}
	if got := fl.errorsReturned(); got != 7 {
		t.Fatalf("%d accept errors returned, want 7", got)
	}
	if got := b.Ping(ctx(t), a.Name()); got != "pong" {
		t.Fatalf("ping: %s", got)
	}
	logs := c.logs.text()
	for i, d := range []string{"5ms", "10ms", "20ms", "40ms", "80ms"} {
		want := "too many open files; retrying in " + d
		if !strings.Contains(logs, want) {
			t.Fatalf("line %d: no %q in\n%s", i, want, logs)
		}
	}
	if got := countLines(logs, "retrying in"); got != logBurst {
		t.Fatalf("%d lines about accept errors, want %d (rate-limited):\n%s", got, logBurst, logs)
	}
	a.Close()
	logs = c.logs.text()
	if !strings.Contains(logs, "retrying in 320ms (1 more suppressed)") {
		t.Fatalf("no summary of the suppressed lines at close:\n%s", logs)
	}
	if strings.Count(logs, "no longer accepting peers") != 1 {
		t.Fatalf("the new accept loop gave up:\n%s", logs)
	}
}

// The child side of TestAcceptAfterFileLimit: a node under a low
// RLIMIT_NOFILE, registered with the parent's port mapper.
const (
	envNofileNode  = "GONODE_TEST_NOFILE_NODE"
	envNofileLimit = "GONODE_TEST_NOFILE_LIMIT"
)

func runNofileChild(t *testing.T) {
	name := os.Getenv(envNofileNode)
	limit, err := strconv.ParseUint(os.Getenv(envNofileLimit), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad limit:", err)
		os.Exit(2)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "child: "+format+"\n", args...)
	}
	n, err := Start(context.Background(), Config{Name: name, Cookie: "secret", Logf: logf})
	if err != nil {
		logf("start: %v", err)
		os.Exit(1)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		logf("getrlimit: %v", err)
		os.Exit(1)
	}
	rl.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		logf("setrlimit: %v", err)
		os.Exit(1)
	}
	fmt.Printf("ready port=%d\n", n.Port())
	_, _ = io.Copy(io.Discard, os.Stdin)
	n.Close()
	os.Exit(0)
}

// TestAcceptAfterFileLimit: a node in a child process with RLIMIT_NOFILE
// at 64 is sent connections that are held open until its accept fails
// (EMFILE); a legitimate peer connects while they are still held.
func TestAcceptAfterFileLimit(t *testing.T) {
	if os.Getenv(envNofileNode) != "" {
		runNofileChild(t)
		return
	}
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost") // serves the port mapper: the child does not
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestAcceptAfterFileLimit$", "-test.count=1")
	cmd.Env = append(envWithout("ERL_EPMD_PORT="),
		envNofileNode+"=limited@localhost", envNofileLimit+"=64", "ERL_EPMD_PORT="+epmdPort(t, c.epmd))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(waitTime):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("child stderr:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var port int
	if _, serr := fmt.Sscanf(line, "ready port=%d", &port); err != nil || serr != nil {
		t.Fatalf("child not ready: %q %v\n%s", line, err, stderr.String())
	}

	// Hold connections until the child's accept fails for want of files.
	var held []net.Conn
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	deadline := time.Now().Add(waitTime)
	for !strings.Contains(stderr.String(), "too many open files") {
		if time.Now().After(deadline) || len(held) > 2000 {
			t.Fatalf("no EMFILE in the child after %d connections:\n%s", len(held), stderr.String())
		}
		h, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("dial %d: %v", len(held), err)
		}
		held = append(held, h)
	}
	t.Logf("EMFILE after %d held connections", len(held))

	// While they are still held, a legitimate peer is served: the oldest
	// held connections are shed to make room.
	connectEventually(t, a, "limited@localhost")
	if got := a.Ping(ctx(t), "limited@localhost"); got != "pong" {
		t.Fatalf("ping: %s", got)
	}
	s := stderr.String()
	if strings.Contains(s, "no longer accepting") {
		t.Fatalf("the child stopped accepting:\n%s", s)
	}
	if !strings.Contains(s, "closed the oldest connection in its handshake") {
		t.Fatalf("the child shed no held connection:\n%s", s)
	}
}

// Past maxHandshakes connections in their handshake, the oldest goes.
func TestHandshakingShedsOldest(t *testing.T) {
	var h handshaking
	conns := make([]net.Conn, maxHandshakes+1)
	for i := range conns {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		conns[i] = a
		if shed := h.add(a); (shed != nil) != (i == maxHandshakes) || (shed != nil && shed != conns[0]) {
			t.Fatalf("add %d shed %v", i, shed)
		}
	}
	h.done(conns[1])
	if got := h.oldest(); got != conns[2] {
		t.Fatal("oldest after done(1) is not conn 2")
	}
}

// TestHeldHandshakesDoNotKeepPeersOut: 1,000 connections that open a hello
// and never finish it are held against a node; a legitimate peer connects
// and is answered meanwhile (past maxHandshakes the oldest held ones are
// shed), and the node's handshakes in progress stay bounded.
func TestHeldHandshakesDoNotKeepPeersOut(t *testing.T) {
	t.Parallel()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2600 {
		t.Skipf("needs 2,600 open files (two ends of 1,000 connections and the rest), the limit is %d", rl.Cur)
	}
	c := newCluster(t)
	a := c.start("a@localhost")
	var held []net.Conn
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	for range 1000 {
		h, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port())))
		if err != nil {
			t.Fatalf("dial %d: %v", len(held), err)
		}
		_, _ = h.Write([]byte{0, 40, 1}) // a hello that never ends
		held = append(held, h)
	}
	b := c.start("b@localhost")
	if got := b.Ping(ctx(t), a.Name()); got != "pong" {
		t.Fatalf("a legitimate peer among 1,000 held connections: %s\n%s", got, c.logs.text())
	}
	if !strings.Contains(c.logs.text(), "connections in their handshake; closed the oldest") {
		t.Fatalf("no held connection was shed:\n%s", c.logs.text())
	}
}
