package dist

import (
	"testing"

	"github.com/gonode/gonode/proc"
)

// exit(Pid, Reason) to a process of a node this one is not connected to
// connects first, as send, link and monitor do (Erlang sets up the
// connection for any signal).
func TestExitSignalConnectsFirst(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("xa@localhost"), c.start("xb@localhost")
	target, err := b.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	if err != nil {
		t.Fatal(err)
	}
	watcher := attach(t, b)
	ref := watcher.Monitor(target)
	if len(a.Nodes()) != 0 {
		t.Fatalf("a is already connected to %v", a.Nodes())
	}
	sender := attach(t, a)
	if err := sender.SendExit(target, proc.Atom("bye")); err != nil {
		t.Fatal(err)
	}
	d, ok := recv(t, watcher).(proc.DownMsg)
	if !ok || d.Ref != ref || d.Reason != proc.Atom("bye") {
		t.Fatalf("got %v, want the target's DOWN with :bye", d)
	}
}
