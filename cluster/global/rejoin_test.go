package global

import (
	"slices"
	"testing"

	"github.com/gonode/gonode/proc"
)

// Over loopback TCP: a node that stops and starts again under the same
// name is dialled by the others' name servers (nobody calls Connect), and
// its new server gets the names; the names its old processes held are
// gone everywhere.
func TestRestartedNodeRejoins(t *testing.T) {
	c := newTCPCluster(t)
	ns, ss := c.threeNodes(0, Options{})
	pa := holder(t, ns[0], false, proc.Pid{})
	pc := holder(t, ns[2], false, proc.Pid{})
	if err := ss[0].Register(ctxFor(t), "on-a", pa); err != nil {
		t.Fatal(err)
	}
	if err := ss[2].Register(ctxFor(t), "on-c", pc); err != nil {
		t.Fatal(err)
	}
	ss[2].Close()
	ns[2].Close()
	waitName(t, "on-c", proc.Pid{}, ss[0], ss[1])
	eventually(t, "a's name server to redial c", func() bool {
		return slices.Contains(ss[0].rc.lostNodes(), "c@localhost")
	})

	c2 := c.node("c@localhost", 0)
	s2 := c.server(c2, Options{})
	waitPeers(t, ss[0], ss[1], s2)
	waitName(t, "on-a", pa, s2)
	waitName(t, "on-c", proc.Pid{}, s2)
	q := holder(t, c2, false, proc.Pid{})
	if err := s2.Register(ctxFor(t), "on-c", q); err != nil {
		t.Fatalf("the restarted node registers: %v", err)
	}
	waitName(t, "on-c", q, ss[0], ss[1], s2)
}
