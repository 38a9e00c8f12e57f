package dist

import (
	"context"
	"testing"
	"time"
)

// A call whose caller's connection goes is cancelled: its function's
// context ends, so that work nobody waits for stops.
func TestCallCancelledWhenCallerGoes(t *testing.T) {
	c := newCluster(t)
	b, started, cancelled := blockingNode(c, "ccb@localhost")
	a := c.start("cca@localhost")
	errc := make(chan error, 1)
	go func() {
		_, err := a.RPC(context.Background(), b.Name(), "block")
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(waitTime):
		t.Fatal("the call did not start")
	}
	a.Disconnect(b.Name())
	select {
	case err := <-cancelled:
		if err != context.Canceled {
			t.Fatalf("the call's context ended with %v, want canceled", err)
		}
	case <-time.After(waitTime):
		t.Fatal("the call's context was not cancelled when its caller's connection went")
	}
	if err := <-errc; err == nil {
		t.Fatal("the caller got no error")
	}
}

// blockingNode starts a node serving "block", a function that closes
// started when it runs, then waits for its context to end and sends why on
// cancelled.
func blockingNode(c *cluster, name string) (b *Node, started chan struct{}, cancelled chan error) {
	c.t.Helper()
	started, cancelled = make(chan struct{}), make(chan error, 1)
	b = c.start(name, func(cfg *Config) {
		f := testFuncs()
		must(f.Register("block", func(ctx context.Context) {
			close(started)
			<-ctx.Done()
			cancelled <- ctx.Err()
		}))
		cfg.Functions = f
	})
	return b, started, cancelled
}
