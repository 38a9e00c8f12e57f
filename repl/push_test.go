package repl

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// Hot code upgrade between shells in one test process (push.go): every
// node switches or none does, versions count up from the highest any node
// had, a process calling a function by name gets the new code at its next
// call, and a node that fails in either phase is named.

const (
	pushA = "pusha@localhost"
	pushB = "pushb@localhost"
	pushC = "pushc@localhost"
)

// startPushShell is startShell with an rpc allow-list (nil: none).
func startPushShell(t *testing.T, name, port string, allow []string) *testShell {
	t.Helper()
	t.Setenv("ERL_EPMD_PORT", port)
	ts := &testShell{t: t, out: &syncBuffer{}, err: &syncBuffer{}}
	rt, err := start(context.Background(), Config{
		NodeName: name, Cookie: "c", Stdin: os.Stdin, Stdout: ts.out, Stderr: ts.err, TickTime: time.Minute, RPCAllow: allow,
	}, false)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	ts.rt = rt
	t.Cleanup(rt.close)
	return ts
}

// threeShells starts A, B and C, B and C serving Greet v1, and connects A
// to both.
func threeShells(t *testing.T) (a, b, c *testShell) {
	port := freeEPMDPort(t)
	a, b, c = startPushShell(t, pushA, port, nil), startPushShell(t, pushB, port, nil), startPushShell(t, pushC, port, nil)
	for _, n := range []*testShell{b, c} {
		n.must(`func Greet() string { return "v1" }`, "")
		a.must(`connect("`+n.rt.dist.Name()+`")`, "true")
	}
	return a, b, c
}

func TestPushSwitchesEveryNode(t *testing.T) {
	a, b, c := threeShells(t)
	a.must(`func Greet() string { return "v2" }`, "")
	a.must(`type Point struct{ X, Y int }`, "")
	a.must(`func (p Point) Sum() int { return p.X + p.Y }`, "")
	start := time.Now()
	a.must(`push()`, `%Push{version: 1, took: ["pusha@localhost", "pushb@localhost", "pushc@localhost"]}`)
	t.Logf("push to two peers and itself: %v", time.Since(start))
	for _, n := range []string{pushB, pushC} {
		a.must(`rpc("`+n+`", "Greet")`, `"v2"`)
		a.must(`codeVersion("`+n+`")`, "1")
	}
	a.must(`codeVersion()`, "1")
	// As if typed there: B's own shell calls the new code and uses the
	// new type.
	b.must(`Greet()`, `"v2"`)
	b.must(`Point{2, 3}.Sum()`, "5")

	// Versions: the highest any node taking part has, plus one. Two
	// pushes to C alone bring A and C to 3; B, at 1, then jumps to 4.
	a.must(`push("`+pushC+`")`, `%Push{version: 2, took: ["pusha@localhost", "pushc@localhost"]}`)
	a.must(`push("`+pushC+`")`, `%Push{version: 3, took: ["pusha@localhost", "pushc@localhost"]}`)
	a.must(`push().Version`, "4")
	for _, n := range []*testShell{a, b, c} {
		n.must(`codeVersion()`, "4")
	}
}

// One node refusing the code (it does not compile with that node's own
// declarations) means no node switches, and the error says who and why.
func TestPushAllOrNone(t *testing.T) {
	a, b, c := threeShells(t)
	// B's Twice needs Greet to return an int.
	b.must(`func Greet() int { return 1 }`, "")
	b.must(`func Twice() int { return Greet() * 2 }`, "")
	a.must(`func Greet() string { return "v2" }`, "")
	_, err := a.eval(`push()`)
	if err == nil || !strings.Contains(err.Error(), "push refused by pushb@localhost: code rejected: it does not compile with this node's declarations: Twice (this node's): ") ||
		!strings.Contains(err.Error(), "no node switched") || strings.Contains(err.Error(), pushC) {
		t.Fatalf("push with B refusing: %v", err)
	}
	a.must(`rpc("`+pushC+`", "Greet")`, `"v1"`)
	a.must(`rpc("`+pushB+`", "Twice")`, "2")
	for _, n := range []*testShell{a, b, c} {
		n.must(`codeVersion()`, "0")
	}
	// C's loader is free again: a push that leaves B out goes through.
	a.must(`push("`+pushC+`").Took`, `["pusha@localhost", "pushc@localhost"]`)

	// Code that uses a variable B does not have is refused with that reason.
	a.must(`greeting := "hi"`, "")
	a.must(`func Hello() string { return greeting }`, "")
	if _, err := a.eval(`push("` + pushB + `")`); err == nil || !strings.Contains(err.Error(), "it uses the variable greeting, which this node has not declared") {
		t.Fatalf("push of code using a variable B lacks: %v", err)
	}
	b.must(`func Twice() string { return Greet() + Greet() }`, "") // B's own code, fixed
	b.must(`greeting := "hello from B"`, "")
	a.must(`push("`+pushB+`").Version`, "2")
	a.must(`rpc("`+pushB+`", "Hello")`, `"hello from B"`) // B's state, A's code
}

// A process that calls a function by name runs the new code from its
// next call; a direct call inside it keeps the code it was spawned with,
// and nothing is killed.
func TestPushNamedCallPicksUpNewVersion(t *testing.T) {
	a, b, _ := threeShells(t)
	b.must(`register("greeter", spawn(func() {
	for {
		from := receive().(node.Pid)
		send(from, []any{rpc(nodeName(), "Greet"), Greet()})
	}
}))`, "true")
	ask := `send(at("greeter", "` + pushB + `"), self()); receive(5*time.Second)`
	a.must(ask, `["v1", "v1"]`)
	a.must(`func Greet() string { return "v2" }`, "")
	a.must(`push().Version`, "1")
	a.must(ask, `["v2", "v1"]`)
	a.must(`func Greet() string { return "v3" }`, "")
	a.must(`push().Version`, "2")
	a.must(ask, `["v3", "v1"]`)
}

// A node that is not there refuses by not answering: nobody switches. A
// node that goes down between the phases is reported as unconfirmed while
// the others switch.
func TestPushNodeDown(t *testing.T) {
	a, _, c := threeShells(t)
	a.must(`func Greet() string { return "v2" }`, "")
	_, err := a.eval(`push("` + pushB + `", "gone@localhost")`)
	if err == nil || !strings.Contains(err.Error(), "push refused by gone@localhost: ") || strings.Contains(err.Error(), pushB+":") {
		t.Fatalf("push with a node that is not there: %v", err)
	}
	a.must(`rpc("`+pushB+`", "Greet")`, `"v1"`)
	a.must(`codeVersion("`+pushB+`")`, "0")

	pushHook = func() { c.rt.close() }
	defer func() { pushHook = nil }()
	a.must(`r := push()`, "")
	pushHook = nil
	a.must(`r.Took`, `["pusha@localhost", "pushb@localhost"]`)
	a.must(`len(r.Unconfirmed)`, "1")
	if w := a.err.String(); !strings.Contains(w, "[warning] push v1: pushc@localhost staged the code but did not confirm the commit") {
		t.Fatalf("no warning about C; stderr:\n%s", w)
	}
	a.must(`rpc("`+pushB+`", "Greet")`, `"v2"`)
}

// One push at a time per node; a staged push that gets no commit expires;
// a commit for a push not staged is refused.
func TestPushLoaderStaging(t *testing.T) {
	a, b, _ := threeShells(t)
	_ = b
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := a.rt.dist
	src := `func Greet() string { return "staged" }`
	if _, err := d.RPC(ctx, pushB, codePrepare, "test", "t1", src, []string{}, int64(60_000)); err != nil {
		t.Fatal(err)
	}
	_, err := d.RPC(ctx, pushB, codePrepare, "test", "t2", src, []string{}, int64(60_000))
	if err == nil || !strings.Contains(err.Error(), "another push is staged here: push t1 from test") {
		t.Fatalf("second prepare: %v", err)
	}
	a.must(`func Greet() string { return "v2" }`, "")
	if _, err := a.eval(`push()`); err == nil || !strings.Contains(err.Error(), "pushb@localhost: another push is staged here") {
		t.Fatalf("push while B holds another: %v", err)
	}
	a.must(`codeVersion()`, "0") // A and C staged it, then dropped it
	if v, err := d.RPC(ctx, pushB, codeAbort, "t1"); err != nil || v != true {
		t.Fatalf("abort t1: %v, %v", v, err)
	}
	if _, err := d.RPC(ctx, pushB, codeCommit, "t1", int64(7)); err == nil || !strings.Contains(err.Error(), "no such push staged here") {
		t.Fatalf("commit after abort: %v", err)
	}
	// A push whose time is up (ttl 0) cannot be committed, and does not
	// hold the slot.
	if _, err := d.RPC(ctx, pushB, codePrepare, "test", "t3", src, []string{}, int64(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RPC(ctx, pushB, codeCommit, "t3", int64(7)); err == nil || !strings.Contains(err.Error(), "expired before its commit") {
		t.Fatalf("commit after expiry: %v", err)
	}
	if _, err := d.RPC(ctx, pushB, codePrepare, "test", "t4", src, []string{}, int64(0)); err != nil {
		t.Fatal(err)
	}
	a.must(`push().Version`, "1")
	a.must(`rpc("`+pushB+`", "Greet")`, `"v2"`)
}

// --rpc-allow governs pushes as any rpc: a node that allows only Greet
// refuses the loader; one that allows gonode.code.* takes the code.
func TestPushRPCAllow(t *testing.T) {
	port := freeEPMDPort(t)
	a := startPushShell(t, pushA, port, nil)
	b := startPushShell(t, pushB, port, []string{"Greet"})
	c := startPushShell(t, pushC, port, []string{"Greet", "gonode.code.*"})
	for _, n := range []*testShell{b, c} {
		a.must(`connect("`+n.rt.dist.Name()+`")`, "true")
	}
	a.must(`func Greet() string { return "v2" }`, "")
	_, err := a.eval(`push()`)
	if err == nil || !strings.Contains(err.Error(), `pushb@localhost: "gonode.code.prepare" is not allowed by pushb@localhost's --rpc-allow`) {
		t.Fatalf("push to a node that does not allow it: %v", err)
	}
	a.must(`push("`+pushC+`").Version`, "1")
	a.must(`rpc("`+pushC+`", "Greet")`, `"v2"`)
}

// Without distribution, or with nothing declared, push says why.
func TestPushErrors(t *testing.T) {
	port := freeEPMDPort(t)
	a := startPushShell(t, pushA, port, nil)
	if _, err := a.eval(`push()`); err == nil || !strings.Contains(err.Error(), "nothing to push") {
		t.Fatalf("push with nothing declared: %v", err)
	}
	rt := &Runtime{}
	if _, err := rt.Push(context.Background(), 0); !errors.Is(err, errNoNode) {
		t.Fatalf("push without distribution: %v", err)
	}
}

// A node whose shell is busy with a long snippet takes a push at once:
// calls by name see the new code while the snippet runs, and the shell
// itself has it from its next snippet.
func TestPushWhileShellBusy(t *testing.T) {
	a, b, _ := threeShells(t)
	a.must(`register("waiter", self())`, "true")
	done := make(chan string, 1)
	go func() {
		out, err := b.eval(`send(at("waiter", "` + pushA + `"), self()); receive(20*time.Second)`)
		if err != nil {
			out = err.Error()
		}
		done <- out
	}()
	a.must(`busy := receive(5*time.Second).(node.Pid)`, "")
	a.must(`func Greet() string { return "v2" }`, "")
	a.must(`push().Version`, "1")
	a.must(`rpc("`+pushB+`", "Greet")`, `"v2"`)
	a.must(`send(busy, "done")`, `"done"`)
	if out := <-done; out != `"done"` {
		t.Fatalf("the busy snippet: %s", out)
	}
	b.must(`Greet()`, `"v2"`)
}

// A supervised child of a declared function restarts on the code pushed
// since, as an Erlang child spec calls M:F afresh; until then it runs the
// code it started with.
func TestPushSupervisedChildRestartsOnNewCode(t *testing.T) {
	a, b, _ := threeShells(t)
	b.must(`func Version() string { return "v1" }`, "")
	b.must(`func Worker() {
	register("w", self())
	for {
		from := receive().(node.Pid)
		send(from, Version())
	}
}`, "")
	b.must(`sup := supervise("one_for_one", child("w", Worker))`, "")
	waitUntil(t, "the child registers", func() bool { _, ok := b.rt.node.Whereis("w"); return ok })
	ask := `send(at("w", "` + pushB + `"), self()); receive(5*time.Second)`
	a.must(ask, `"v1"`)
	a.must(`func Version() string { return "v2" }`, "")
	a.must(`push().Version`, "1")
	a.must(ask, `"v1"`) // the running child keeps its code
	old, _ := b.rt.node.Whereis("w")
	b.must(`exit(whereis("w").(node.Pid), "kill")`, "true")
	waitUntil(t, "the child restarts", func() bool {
		p, ok := b.rt.node.Whereis("w")
		return ok && p != old
	})
	a.must(ask, `"v2"`)
}
