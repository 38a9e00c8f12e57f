package dist

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// A send to a node that cannot be reached connects (in the background) once; the senders that
// follow within a second do not try again (each would wait the set-up
// time), while an explicit connect always tries.
func TestFailedAutoConnectIsRemembered(t *testing.T) {
	c := newCluster(t)
	a := c.start("aca@localhost")
	sender := attach(t, a)
	ghost := proc.Pid{Node: "acghost@localhost", ID: 1}

	// No such node yet: the send returns at once, the connect runs in the
	// background, fails, and the message is dropped, as in Erlang.
	if err := sender.Send(ghost, "lost"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failed connect is remembered", func() bool {
		return a.failed.recent(ghost.Node, time.Now()) != nil
	})

	g := c.start("acghost@localhost")
	_ = sender.Send(ghost, "dropped too") // within the memory: no new attempt
	if len(a.Nodes()) != 0 {
		t.Fatalf("a send right after a failed connect connected again: %v", a.Nodes())
	}
	ref := sender.Monitor(ghost)
	d, ok := recv(t, sender).(proc.DownMsg)
	if !ok || d.Ref != ref || d.Reason != proc.NoConnection {
		t.Fatalf("monitor right after a failed connect: %v, want DOWN noconnection", d)
	}

	// An explicit connect tries at once; signals then flow.
	if err := a.Connect(context.Background(), g.Name()); err != nil {
		t.Fatal(err)
	}
	target := attach(t, g)
	if err := sender.Send(target.Pid(), "hello"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, target); m != "hello" {
		t.Fatalf("got %v", m)
	}
}

func TestFailedConnectsBounded(t *testing.T) {
	var f failedConnects
	now := time.Now()
	boom := errors.New("unreachable")
	for i := range maxConnectFails + 10 {
		f.remember(string(rune('a'+i%26))+string(rune(i)), boom, now)
	}
	if len(f.errs) > maxConnectFails {
		t.Fatalf("%d remembered, want at most %d", len(f.errs), maxConnectFails)
	}
	f.remember("x", boom, now)
	if f.recent("x", now.Add(connectFailMemory)) != nil {
		t.Error("a failure is remembered past the memory")
	}
}
