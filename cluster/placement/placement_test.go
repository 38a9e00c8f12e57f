package placement

import (
	"errors"
	"strings"
	"testing"
)

// Each node's record reaches the other two, with what its sampler said;
// a node that goes down leaves every other node's records.
func TestRecordsPropagate(t *testing.T) {
	c := newMemCluster(t)
	var fs [3]fixed
	for i := range fs {
		fs[i].runnable.Store(int64(i + 1))
	}
	ns, ss := c.threeNodes(fs[0].sample, fs[1].sample, fs[2].sample)
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	for _, s := range ss {
		for i, n := range ns {
			l, ok := recordOf(s, n.Name())
			if !ok || l.Runnable != i+1 || l.CPUs != 1 {
				t.Errorf("%s holds %s's record %+v (%v), want runnable %d", s.node.Name(), n.Name(), l, ok, i+1)
			}
		}
	}
	// A change on b reaches a with b's next push.
	fs[1].runnable.Store(7)
	eventually(t, "b's new record on a", func() bool {
		l, _ := recordOf(ss[0], "b@localhost")
		return l.Runnable == 7
	})
	ns[2].Close()
	waitNodes(t, ss[:2], "a@localhost", "b@localhost")
}

// The same over loopback TCP, with the default sampler.
func TestOverTCP(t *testing.T) {
	c := newTCPCluster(t)
	ns, ss := c.threeNodes()
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	l, _ := recordOf(ss[0], "c@localhost")
	if l.Processes < 1 || l.CPUs < 1 || l.Memory == 0 || l.At.IsZero() {
		t.Errorf("c's record on a: %+v", l)
	}
	ns[1].Close()
	waitNodes(t, []*Service{ss[0], ss[2]}, "a@localhost", "c@localhost")
}

// A load process that stops while its node stays up takes its record with
// it (the others' monitor of it fires); a new one on that node is picked
// up again.
func TestServiceStopDropsRecord(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes()
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	ss[2].Close()
	waitNodes(t, ss[:2], "a@localhost", "b@localhost")
	if _, _, err := ss[2].Choose(Local()); !errors.Is(err, ErrClosed) {
		t.Errorf("Choose after Close: %v, want ErrClosed", err)
	}
	if n := len(ss[2].Loads()); n != 0 {
		t.Errorf("Loads after Close: %d records", n)
	}
	ss[2] = c.service(ns[2], nil)
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
}

func TestStartTwice(t *testing.T) {
	c := newMemCluster(t)
	n := c.node("a@localhost")
	c.service(n, nil)
	if _, err := Start(n, Options{}); err == nil {
		t.Fatal("a second Start on one node succeeded")
	}
}

// No live node fits: an error value, never a panic or a wait.
func TestNoLiveNode(t *testing.T) {
	c := newMemCluster(t)
	_, ss := c.threeNodes()
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	node, why, err := ss[0].Choose(Among("nosuch@localhost", "other@localhost"))
	if !errors.Is(err, ErrNoLiveNode) || node != "" || why.Live != 0 {
		t.Errorf("Among of unknown nodes: %q, %v, %v", node, why, err)
	}
	if !strings.Contains(err.Error(), "nosuch@localhost") {
		t.Errorf("the error does not name the nodes: %v", err)
	}
	node, _, err = ss[0].Choose(Among("nosuch@localhost", "b@localhost"))
	if err != nil || node != "b@localhost" {
		t.Errorf("Among with one live node: %q, %v", node, err)
	}
	ss[0].Close()
	for _, st := range []Strategy{LeastLoaded(), Local(), Hash("k"), Among("b@localhost")} {
		if _, _, err := ss[0].Choose(st); !errors.Is(err, ErrClosed) {
			t.Errorf("%v after Close: %v, want ErrClosed", st, err)
		}
	}
}

// Local picks the local node; Explain says so without counting.
func TestLocal(t *testing.T) {
	c := newMemCluster(t)
	_, ss := c.threeNodes()
	node, why, err := ss[1].Choose(Local())
	if err != nil || node != "b@localhost" || why.Node != node {
		t.Fatalf("Local: %q %v %v", node, why, err)
	}
	why, err = ss[1].Explain(Local())
	if err != nil || !strings.Contains(why.String(), "local() chose b@localhost") {
		t.Errorf("Explain: %q, %v", why.String(), err)
	}
}
