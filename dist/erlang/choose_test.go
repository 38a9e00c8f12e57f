package erlang

import (
	"context"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
)

// Two gonode nodes with the Erlang dialect on still speak native to each
// other: each finds the other's gonode mark in the port mapper (here the
// embedded one). An rpc, which the Erlang dialect cannot carry, proves it.
func TestGonodesStayNative(t *testing.T) {
	addr := "127.0.0.1:" + testport.Port(t)
	funcs := dist.NewFuncs()
	if err := funcs.Register("double", func(x int) int { return 2 * x }); err != nil {
		t.Fatal(err)
	}
	start := func(name string) *dist.Node {
		n, err := dist.Start(context.Background(), dist.Config{
			Name: name, Cookie: "c", EPMDAddr: addr, Foreign: Protocol(), Functions: funcs,
			Logf: t.Logf,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	b := start("b@localhost") // registered first: it serves the port mapper
	a := start("a@localhost")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, b.Name()); err != nil {
		t.Fatal(err)
	}
	got, err := a.RPC(ctx, b.Name(), "double", 21)
	if err != nil || got != 42 {
		t.Fatalf("rpc over the connection: %v, %v; want 42 (a native connection)", got, err)
	}
}
