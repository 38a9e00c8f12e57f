package repl

import (
	"runtime"
	"testing"

	"github.com/gonode/gonode/repl/eval"
)

// TestPoolAcrossNodes: rpcs into a shell function and remote spawns of
// one literal reuse interpreters on the node that runs them; a process
// ended by exit(reason) retires its interpreter.
func TestPoolAcrossNodes(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "pool1@localhost", port)
	n2 := startShell(t, "pool2@localhost", port)
	n1.must(`connect("pool2@localhost")`, "true")
	n2.must(`func Sq(v int) int { return v * v }`, "")
	sess := n2.rt.session
	for i := 0; i < 3; i++ {
		n1.must(`rpc("pool2@localhost", "Sq", 4)`, "16")
	}
	if b := built(sess); b != 1 {
		t.Errorf("%d interpreters built for 3 rpcs, want 1", b)
	}
	n1.must(`me := self()`, "")
	for i := 0; i < 3; i++ {
		n1.must(`spawn("pool2@localhost", func() { send(me, nodeName()) }); receive(5*time.Second)`, `"pool2@localhost"`)
		// The process gives its interpreter back after its reply: wait for it.
		waitPoolIdle(t, sess, 2)
	}
	if b := built(sess); b != 2 {
		t.Errorf("%d interpreters built after 3 spawns of one literal, want 2", b)
	}
	for i := 0; i < 2; i++ {
		n1.must(`_, ref := spawnMonitor("pool2@localhost", func() { exit("bye") }); receive(5*time.Second).(node.DownMsg).Reason`, `"bye"`)
	}
	if b := built(sess); b != 4 {
		t.Errorf("%d built, want 4: each process that exited took its interpreter along", b)
	}
}

// waitPoolIdle waits until the pool holds n idle interpreters.
func waitPoolIdle(t *testing.T, s *eval.Session, n int) {
	t.Helper()
	for i := 0; idle(s) != n; i++ {
		if i > 100000 {
			t.Fatalf("%d idle, want %d", idle(s), n)
		}
		runtime.Gosched()
	}
}

func built(s *eval.Session) int64 { b, _ := s.PoolStats(); return b }
func idle(s *eval.Session) int    { _, n := s.PoolStats(); return n }
