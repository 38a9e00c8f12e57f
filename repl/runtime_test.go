package repl

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"
)

// Two shells in one test process, each with its own node, over loopback:
// the interpreter model (one shell interpreter, one per spawned process or
// rpc) must hold up under -race while they call into each other.

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testShell struct {
	t        *testing.T
	rt       *Runtime
	out, err *syncBuffer
}

func startShell(t *testing.T, name, epmdPort string) *testShell {
	t.Helper()
	t.Setenv("ERL_EPMD_PORT", epmdPort)
	ts := &testShell{t: t, out: &syncBuffer{}, err: &syncBuffer{}}
	rt, err := start(context.Background(), Config{
		NodeName: name, Cookie: "c", Stdin: os.Stdin, Stdout: ts.out, Stderr: ts.err, TickTime: time.Minute,
	}, false)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	ts.rt = rt
	t.Cleanup(rt.close)
	return ts
}

// eval runs one snippet as the shell loop does and returns what it printed.
func (ts *testShell) eval(src string) (string, error) {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ts.rt.evalCtx.Store(&ctx)
	defer ts.rt.evalCtx.Store(nil)
	res, err := ts.rt.session.Eval(ctx, src)
	return res.String(), err
}

func (ts *testShell) must(src, want string) {
	ts.t.Helper()
	got, err := ts.eval(src)
	if err != nil {
		ts.t.Fatalf("%s: %v", src, err)
	}
	if got != want {
		ts.t.Fatalf("%s: got %s, want %s", src, got, want)
	}
}

func (ts *testShell) waitOutput(what string) {
	ts.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(ts.out.String(), what) {
		if time.Now().After(deadline) {
			ts.t.Fatalf("no %q in the output:\n%s\nstderr:\n%s", what, ts.out.String(), ts.err.String())
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

func freeEPMDPort(t *testing.T) string { return testport.Port(t) }

func TestTwoShells(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "one@localhost", port)
	n2 := startShell(t, "two@localhost", port)

	n1.must(`connect("two@localhost")`, "true")
	n1.must(`list()`, `["two@localhost"]`)

	// rpc and async into a function declared in the other shell, and its
	// redefinition.
	n2.must(`func Compute(v int) int { return v * v }`, "")
	n1.must(`rpc("two@localhost", "Compute", 5)`, "25")
	n1.must(`await(async("two@localhost", "Compute", 6))`, "36")
	n2.must(`func Compute(v int) int { return v + 1 }`, "")
	n1.must(`rpc("two@localhost", "Compute", 5)`, "6")
	n1.must(`rpc("two@localhost", "strings.ToUpper", "hi")`, `"HI"`)

	// A literal spawned on the other node prints on the spawning node,
	// marked with the node it ran on, and takes captured values along.
	n1.must(`greeting := "hello from"`, "")
	if _, err := n1.eval(`spawn("two@localhost", func() { fmt.Println(greeting, nodeName()) })`); err != nil {
		t.Fatal(err)
	}
	n1.waitOutput("[two@localhost] hello from two@localhost\n")

	// A crash on the other node reaches a linked shell as a trapped exit.
	n1.must(`trapExit(true)`, "false")
	if _, err := n1.eval(`p := spawnLink("two@localhost", func() { receive(); panic("boom") })`); err != nil {
		t.Fatal(err)
	}
	n1.must(`send(p, "go")`, `"go"`)
	got, err := n1.eval(`receive(10*time.Second)`)
	if err != nil || !strings.Contains(got, "panic: boom") || !strings.HasPrefix(got, "{:EXIT, <two@localhost.") {
		t.Fatalf("linked crash: %s %v", got, err)
	}
}

func TestSnippetCancelKeepsProcesses(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "solo@localhost", port)
	n1.must(`register("counter", spawn(func() { n := 0; for { m := receive(); n++; send(m.(node.Pid), n) } }))`, "true")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := n1.rt.session.Eval(ctx, `for {}`)
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the runaway loop was not cancelled")
	}
	n1.must(`send("counter", self()); receive(10*time.Second)`, "1")
}

func TestPanicsStayInTheirProcess(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "p@localhost", port)
	if _, err := n1.eval(`panic("in the shell")`); err == nil || !strings.Contains(FormatError(err), "in the shell") {
		t.Fatalf("shell panic: %v", err)
	}
	n1.must(`pid, ref := spawnMonitor(func() { var m map[string]int; m["x"] = 1 }); ref == ref`, "true")
	got, err := n1.eval(`receive(10*time.Second)`)
	if err != nil || !strings.Contains(got, "nil map") {
		t.Fatalf("process panic: %s %v", got, err)
	}
	n1.must(`1 + 1`, "2")
}

func TestShellKilledWhileReceiving(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "k@localhost", port)
	// The linked process exits once the shell's process waits in the
	// receive below: sooner, a new shell process would take its place
	// before the receive, and wait forever.
	n1.must(`sh := self(); spawnLink(func() { for i(sh).(node.Info).Status != "waiting" { time.Sleep(time.Millisecond) }; exit("went wrong") }) == sh`, "false")
	_, err := n1.eval(`receive()`)
	if err == nil || !strings.Contains(FormatError(err), `exited while waiting: "went wrong"`) {
		t.Fatalf("receive in a shell killed by a link: %v", err)
	}
	n1.must(`1 + 1`, "2") // a new shell process took its place
}
