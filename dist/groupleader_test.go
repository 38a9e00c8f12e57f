package dist

import (
	"testing"

	"github.com/gonode/gonode/proc"
)

// A call carries the caller's group leader, as erpc's does, so that what
// the function prints comes out where the caller's output does; a call
// made without one carries none. A call to this node goes the same way.
func TestCallCarriesGroupLeader(t *testing.T) {
	c := newCluster(t)
	a := c.start("a@localhost")
	c.start("b@localhost")
	gl := attach(t, a).Pid()
	for _, target := range []string{"b@localhost", "a@localhost"} {
		v, err := a.RPC(WithGroupLeader(ctx(t), gl), target, "groupLeader")
		if err != nil || v != gl {
			t.Fatalf("rpc on %s with a group leader: got %v (%v), want %v", target, v, err, gl)
		}
		v, err = a.RPC(ctx(t), target, "groupLeader")
		if err != nil || v != nil {
			t.Fatalf("rpc on %s without a group leader: got %v (%v), want nil", target, v, err)
		}
	}
	if _, ok := GroupLeader(WithGroupLeader(ctx(t), proc.Pid{})); ok {
		t.Fatal("a zero pid counts as a group leader")
	}
}
