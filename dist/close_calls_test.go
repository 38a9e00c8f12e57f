package dist

import (
	"context"
	"testing"
)

// A call that stops the node it runs on (a peer's rpc of a halt, a
// remote shell's node.Halt()) still gets its answer: Close lets the calls
// running there answer before it closes the connections.
func TestCallThatClosesItsNodeIsAnswered(t *testing.T) {
	for i := range 20 {
		c := newCluster(t)
		a := c.start("a@localhost")
		var b *Node
		funcs := testFuncs()
		stopped := make(chan struct{})
		must(funcs.Register("halt", func(ctx context.Context) string {
			go func() { b.Close(); close(stopped) }()
			return "halting"
		}))
		b = c.start("b@localhost", func(cfg *Config) { cfg.Functions = funcs })
		v, err := a.RPC(ctx(t), "b@localhost", "halt")
		if err != nil || v != "halting" {
			t.Fatalf("run %d: rpc of a call that closes its node: %v %v", i, v, err)
		}
		<-stopped
	}
}
