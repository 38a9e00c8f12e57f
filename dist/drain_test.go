package dist

import (
	"context"
	"fmt"
	"testing"
)

// A node that stops sends what its processes sent last before it closes
// its connections (Erlang's init:stop does the same): a message sent just
// before Close arrives. Twenty nodes in a row, each sending and stopping at
// once, so that a lost message would show.
//
// Odd rounds send without connecting first: the message waits for the
// connection being set up, and Close waits for that too.
func TestCloseSendsWhatWasQueued(t *testing.T) {
	c := newCluster(t)
	b := c.start("drainb@localhost")
	sink := attach(t, b)
	for i := range 20 {
		a, err := c.tryStart(fmt.Sprintf("draina%d@localhost", i))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := a.Connect(context.Background(), b.Name()); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Proc().Send(sink.Pid(), i); err != nil {
			t.Fatal(err)
		}
		a.Close()
		for {
			m := recv(t, sink)
			if _, isDown := m.(NodeDown); isDown {
				continue
			}
			if m != int(i) {
				t.Fatalf("got %v, want the message %d sent before Close", m, i)
			}
			break
		}
	}
}
