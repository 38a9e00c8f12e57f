//go:build unix

package dist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
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

// relisten puts a listener made by wrap from a fresh listener on the same
// address in place of n's, and starts a new accept loop on it. The old loop
// stops when its listener is closed; it says so in the log, after its last
// use of n.ln.
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

// fakeClock is a clock the test moves by hand; AfterFunc's functions run
// in Advance, in the order they are due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if !tm.stopped {
			n++
		}
	}
	return n
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, tm := range c.timers {
		if !tm.stopped && !tm.at.After(c.now) {
			tm.stopped = true
			due = append(due, tm)
		}
	}
	c.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

func TestLogLimiter(t *testing.T) {
	clk := newFakeClock()
	var lines []string
	l := newLogLimiter(func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	}, clk, 3, 10*time.Second)
	for i := 1; i <= 1000; i++ {
		l.log("cookie", "refused %d", i)
		if i%2 == 0 {
			l.log("handshake", "failed %d", i)
		}
	}
	want := []string{"refused 1", "refused 2", "failed 2", "refused 3", "failed 4", "failed 6"}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("first lines %q, want %q", lines, want)
	}
	clk.Advance(9 * time.Second)
	if len(lines) != len(want) {
		t.Fatalf("lines before the interval ended: %q", lines[len(want):])
	}
	clk.Advance(time.Second)
	got := lines[len(want):]
	slicesSort(got)
	if fmt.Sprint(got) != fmt.Sprint([]string{"failed 1000 (496 more suppressed)", "refused 1000 (996 more suppressed)"}) {
		t.Fatalf("summaries %q", got)
	}
	// A new interval: the burst again, and a quiet reason logs nothing.
	lines = nil
	clk.Advance(time.Minute)
	for i := 1; i <= 5; i++ {
		l.log("cookie", "again %d", i)
	}
	if fmt.Sprint(lines) != "[again 1 again 2 again 3]" {
		t.Fatalf("next interval: %q", lines)
	}
	// The next line after the interval writes the summary first, even if
	// its timer has not run yet.
	clk.mu.Lock()
	clk.now = clk.now.Add(10 * time.Second)
	clk.mu.Unlock()
	l.log("cookie", "later")
	if fmt.Sprint(lines) != "[again 1 again 2 again 3 again 5 (1 more suppressed) later]" {
		t.Fatalf("summary before the next interval's first line: %q", lines)
	}
	if clk.pending() != 0 {
		t.Fatalf("%d timers left running", clk.pending())
	}
	// close writes what is pending and stops the timers; later lines are
	// written as they come.
	lines = nil
	for i := 1; i <= 4; i++ {
		l.log("cookie", "x %d", i)
	}
	l.close()
	if fmt.Sprint(lines) != "[x 1 x 2 x 4 (1 more suppressed)]" {
		t.Fatalf("close: %q", lines)
	}
	if clk.pending() != 0 {
		t.Fatalf("%d timers left running after close", clk.pending())
	}
	l.log("cookie", "after close")
	if lines[len(lines)-1] != "after close" {
		t.Fatalf("after close: %q", lines)
	}
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestFailTracker(t *testing.T) {
	clk := newFakeClock()
	tr := newFailTracker(clk)
	tr.cap = 2
	a := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1000}
	a2 := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 2000} // same IP
	admit := func(addr net.Addr) (time.Duration, bool) {
		w, done, ok := tr.admit(addr)
		done()
		done() // idempotent
		return w, ok
	}
	if w, ok := admit(a); w != 0 || !ok {
		t.Fatalf("no failures yet: %v %v", w, ok)
	}
	tr.failed(a)
	// Turns 10 ms apart, the first 10 ms after the failure.
	var waits []time.Duration
	for _, addr := range []net.Addr{a, a2, a} {
		w, ok := admit(addr)
		if !ok {
			t.Fatal("refused")
		}
		waits = append(waits, w)
	}
	if fmt.Sprint(waits) != "[10ms 20ms 30ms]" {
		t.Fatalf("waits %v", waits)
	}
	// Each failure doubles the spacing.
	clk.Advance(time.Second)
	tr.failed(a2)
	tr.failed(a)
	if w, _ := admit(a); w != 40*time.Millisecond {
		t.Fatalf("after 3 failures: %v", w)
	}
	clk.Advance(time.Second)
	for i := 0; i < 30; i++ {
		tr.failed(a)
	}
	if w, _ := admit(a); w != failPenaltyMax {
		t.Fatalf("after many failures: %v, want the bound %v", w, failPenaltyMax)
	}
	// A connection that would queue longer than failQueueMax is closed.
	if w, ok := admit(a); ok || w <= failQueueMax {
		t.Fatalf("over the queue: %v %v", w, ok)
	}
	// At most hold connections wait at once.
	clk.Advance(time.Minute - 2*time.Second)
	tr.failed(a)
	tr.hold = 2
	tr.maxQueue = time.Hour
	_, d1, ok1 := tr.admit(a)
	_, d2, ok2 := tr.admit(a)
	if _, _, ok := tr.admit(a); !ok1 || !ok2 || ok {
		t.Fatalf("hold cap: %v %v %v", ok1, ok2, ok)
	}
	d1()
	if _, d3, ok := tr.admit(a); !ok {
		t.Fatal("no room after a release")
	} else {
		d3()
	}
	d2()
	// Another address is not delayed.
	b := &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 1}
	if w, ok := admit(b); w != 0 || !ok {
		t.Fatalf("other address: %v %v", w, ok)
	}
	// Failures are forgotten after failMemory.
	clk.Advance(failMemory)
	if w, ok := admit(a); w != 0 || !ok {
		t.Fatalf("after %v: %v %v", failMemory, w, ok)
	}
	// The table is bounded.
	for i := 0; i < 10; i++ {
		tr.failed(&net.TCPAddr{IP: net.IPv4(203, 0, 113, byte(i)), Port: 1})
	}
	if len(tr.addrs) > tr.cap {
		t.Fatalf("%d addresses remembered, cap %d", len(tr.addrs), tr.cap)
	}
	if w, _ := admit(&net.TCPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 1}); w != failPenaltyBase {
		t.Fatalf("the newest address was evicted: %v", w)
	}
}

// wrongCookieAttempt dials n as node name with a wrong cookie and runs the
// handshake, which must fail.
func wrongCookieAttempt(n *Node, name string) error {
	nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())))
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTime))
	cfg := wire.HandshakeConfig{Name: name, Creation: 1, Cookie: "guess"}
	if _, err = n.cfg.Protocol.Handshake.Initiate(nc, bufio.NewReader(nc), cfg, n.Name()); err == nil {
		return errors.New("the handshake succeeded with a wrong cookie")
	}
	return nil
}

var suppressedRE = regexp.MustCompile(`\((\d+) more suppressed\)`)

// linesAccounted adds up the events that log lines containing all of
// subs account for: one per line written, K+1 per summary line.
func linesAccounted(logs string, subs ...string) (lines, events int) {
next:
	for _, l := range strings.Split(logs, "\n") {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		lines++
		events++
		if m := suppressedRE.FindStringSubmatch(l); m != nil {
			k, _ := strconv.Atoi(m[1])
			events += k
		}
	}
	return lines, events
}

// TestWrongCookieFlood: 1,000 wrong-cookie attempts at once all fail (the
// handshake refuses the cookie, or the address is throttled and the
// connection closed before it); a bounded number of log lines accounts for
// every one, and a legitimate peer from the same address connects
// afterwards.
func TestWrongCookieFlood(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost")
	const attempts = 1000
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, attempts)
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := wrongCookieAttempt(a, fmt.Sprintf("evil%d@localhost", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	b := c.start("b@localhost")
	if got := b.Ping(ctx(t), a.Name()); got != "pong" {
		t.Fatalf("a legitimate peer after the flood: %s", got)
	}
	a.Close()
	lines, events := linesAccounted(c.logs.text(), "connection from evil", "cookie mismatch")
	tlines, tevents := linesAccounted(c.logs.text(), "too many recent wrong-cookie attempts")
	// Past maxHandshakes at once, the oldest in their handshake are shed.
	slines, sevents := linesAccounted(c.logs.text(), "connections in their handshake; closed the oldest")
	lines += tlines + slines
	if events+tevents+sevents < attempts {
		t.Fatalf("the log accounts for %d+%d+%d refusals, want at least %d (a connection shed just after its refusal counts twice):\n%s", events, tevents, sevents, attempts, c.logs.text())
	}
	// At most logBurst+1 lines per logInterval for each kind of line, and
	// a few kinds: the bound grows with the intervals the flood took, so
	// that a slow machine does not fail it.
	intervals := int(time.Since(start)/logInterval) + 1
	if lines > 10*(logBurst+1)*intervals {
		t.Fatalf("%d log lines for %d refusals in %d log intervals", lines, attempts, intervals)
	}
	t.Logf("%d attempts: %d refused after the handshake, %d closed before it, %d shed; %d log lines", attempts, events, tevents, sevents, lines)
}

// TestWrongCookieSlowed: one after another, wrong-cookie attempts from one
// address each wait longer for their turn. The client learns of a failure
// a moment before the node records it, so the test starts each attempt
// only once the previous failure is in the log (which the node writes
// after recording it). Then attempt k+1 starts its handshake no sooner
// than the penalty of failure k (base doubled k-1 times) after that
// failure, so from the start of the first attempt to the end of the last
// at least the sum of the penalties passes (timers never fire early, so
// this lower bound holds on any machine).
func TestWrongCookieSlowed(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost")
	const attempts = logBurst + 1 // failures 1..logBurst are all logged
	start := time.Now()
	for i := 0; i < attempts; i++ {
		if err := wrongCookieAttempt(a, "evil@localhost"); err != nil {
			t.Fatal(err)
		}
		if i+1 < attempts {
			eventually(t, "the failure to be logged", func() bool {
				return countLines(c.logs.text(), "cookie mismatch") == i+1
			})
		}
	}
	took := time.Since(start)
	min := failPenaltyBase * (1<<(attempts-1) - 1) // base + 2 base + ...
	if took < min {
		t.Fatalf("%d attempts took %v, less than the penalties (%v)", attempts, took, min)
	}
	t.Logf("%d sequential wrong-cookie attempts took %v (penalties %v)", attempts, took.Round(time.Millisecond), min)
	// The right cookie from the same address is not slowed down by them.
	b := c.start("b@localhost")
	if got := b.Ping(ctx(t), a.Name()); got != "pong" {
		t.Fatalf("ping: %s", got)
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
