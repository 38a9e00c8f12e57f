package repl

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// fakeMathx is a compiled package as a program embedding a node exports
// it; calls counts the calls of its Fib that came from outside, so that
// a test sees compiled code run, not an interpreted copy.
type fakeMathx struct{ calls atomic.Int64 }

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func (m *fakeMathx) exports() interp.Exports {
	return interp.Exports{"example.com/mathx/mathx": {
		"Fib": reflect.ValueOf(func(n int) int { m.calls.Add(1); return fib(n) }),
		"Sum": reflect.ValueOf(func(xs []int) int {
			s := 0
			for _, x := range xs {
				s += x
			}
			return s
		}),
	}}
}

// startEmbedded embeds a node as a Go program does, closed at the end of
// the test.
func startEmbedded(t *testing.T, port string, cfg EmbedConfig) *Embedded {
	t.Helper()
	t.Setenv("ERL_EPMD_PORT", port)
	if cfg.Cookie == "" {
		cfg.Cookie = "c"
	}
	cfg.Stdout, cfg.Stderr = &syncBuffer{}, &syncBuffer{}
	e, err := Embed(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Embed %s: %v", cfg.Name, err)
	}
	t.Cleanup(e.Close)
	return e
}

func TestEmbedServesFuncsAndPackages(t *testing.T) {
	port := freeEPMDPort(t)
	m := &fakeMathx{}
	funcs := dist.NewFuncs()
	if err := funcs.Register("Fib", fib); err != nil {
		t.Fatal(err)
	}
	e := startEmbedded(t, port, EmbedConfig{Name: "svc@localhost", Funcs: funcs, Exports: m.exports()})
	if e.Name() != "svc@localhost" || e.Dist() == nil {
		t.Fatalf("Name() = %q, Dist() = %v", e.Name(), e.Dist())
	}
	c := startShell(t, "client@localhost", port)

	// A compiled function registered by name, and a member of an
	// exported package by its qualified name.
	c.must(`rpc("svc@localhost", "Fib", 20)`, "6765")
	c.must(`rpc("svc@localhost", "mathx.Fib", 20)`, "6765")
	c.must(`rpc("svc@localhost", "mathx.Sum", []int{1, 2, 3})`, "6")
	c.must(`rpc("svc@localhost", "mathx.Nope", 1)`, "** (error) remote undef: no function mathx.Nope on svc@localhost")

	// A literal shipped to the node calls the package's compiled code.
	before := m.calls.Load()
	c.must(`me := self()`, "")
	if _, err := c.eval(`spawn("svc@localhost", func() { send(me, mathx.Fib(20)) })`); err != nil {
		t.Fatal(err)
	}
	c.must(`receive(10*time.Second)`, "6765")
	if got := m.calls.Load() - before; got != 1 {
		t.Errorf("the spawned literal made %d calls of the exported Fib, want 1", got)
	}

	// So does a function declared in the node's shell (as a remote shell
	// attached to it declares one), called by rpc.
	if _, err := e.rt.session.Eval(context.Background(), `func Twice(n int) int { return 2 * mathx.Fib(n) }`); err != nil {
		t.Fatal(err)
	}
	c.must(`rpc("svc@localhost", "Twice", 10)`, "110")

	// The program's functions win over the shell's of the same name.
	if _, err := e.rt.session.Eval(context.Background(), `func Fib(n int) int { return -1 }`); err != nil {
		t.Fatal(err)
	}
	c.must(`rpc("svc@localhost", "Fib", 20)`, "6765")
}

func TestEmbedHaltedByPeer(t *testing.T) {
	port := freeEPMDPort(t)
	e := startEmbedded(t, port, EmbedConfig{Name: "halt@localhost"})
	served := make(chan struct{})
	go func() { // owned by the test: it waits for it below
		defer close(served)
		e.Serve(context.Background())
	}()
	c := startShell(t, "halter@localhost", port)
	c.must(`cast("halt@localhost", "node.Halt")`, "true")
	select {
	case <-served:
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after node.Halt")
	}
	select {
	case <-e.Halted():
	default:
		t.Error("Halted is not closed after node.Halt")
	}
	e.Close() // again: a no-op
}

func TestEmbedServeStopsWithContext(t *testing.T) {
	port := freeEPMDPort(t)
	e := startEmbedded(t, port, EmbedConfig{Name: "ctx@localhost"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.Serve(ctx) // returns: the context is done
	if _, err := e.Dist().Proc().Attach(proc.SpawnOptions{}); err == nil {
		t.Error("the node still starts processes after Serve returned")
	}
}

func TestEmbedRefusesExports(t *testing.T) {
	sym := map[string]reflect.Value{"F": reflect.ValueOf(func() {})}
	for key, want := range map[string]string{
		"mathx":                         `want "import/path/name"`,
		"example.com/mathx/other":       `the last element of the import path`,
		"example.com/node/node":         "reserved",
		"example.com/len/len":           "reserved",
		"example.com/__x/__x":           "reserved",
		"example.com/strings/strings":   "the standard library package strings",
		"example.com/spawn/spawn":       "the helper spawn",
		"github.com/gonode/x/rpc/rpc":   "the helper rpc",
		"example.com/x/httptest/nohttp": "the last element",
	} {
		_, err := Embed(context.Background(), EmbedConfig{Name: "never@localhost", Exports: interp.Exports{key: sym}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Exports %q: error %v, want one containing %q", key, err, want)
		}
	}
}
