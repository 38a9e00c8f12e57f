package eval

import (
	"context"
	"testing"
)

// TestShipChannel: a channel captured by a spawned literal is the same
// channel in the process's interpreter, which sends on it and receives
// from it (yaegi crashed compiling a send on a captured channel).
func TestShipChannel(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	runSteps(t, s, []step{
		{src: "ch, back := make(chan int, 1), make(chan string, 1)"},
		{src: `spawn(func() { ch <- 42; back <- "done" })`},
	})
	b := <-h.spawned
	ctx := context.Background()
	for round := range 2 { // the second takes the pooled interpreter
		f, err := s.Load(ctx, b, nil)
		if err != nil {
			t.Fatalf("round %d: load: %v\n%+v", round, err, b)
		}
		if _, err := f.Call(ctx); err != nil {
			t.Fatalf("round %d: call: %v", round, err)
		}
		f.Release()
		res, err := s.Eval(ctx, `fmt.Sprintf("%d %s", <-ch, <-back)`)
		if err != nil || res.String() != `"42 done"` {
			t.Fatalf("round %d: the shell received %v, %v; want 42 done", round, res, err)
		}
	}
}
