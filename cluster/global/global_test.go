package global

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// Register, Whereis, Send and Unregister across three nodes; a second
// registration of a name is refused wherever it is tried.
func TestRegisterWhereisUnregister(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0, Options{})
	a, b, cc := ss[0], ss[1], ss[2]
	me := attach(t, ns[2])
	p := holder(t, ns[1], false, me.Pid())

	if err := a.Register(ctxFor(t), "svc", p); err != nil {
		t.Fatalf("register: %v", err)
	}
	// Register returns when every node has stored it: no wait needed.
	for _, s := range ss {
		if got, ok := s.Whereis("svc"); !ok || got != p {
			t.Fatalf("%s: whereis svc = %v %v, want %v", s.node.Name(), got, ok, p)
		}
	}
	if got := cc.Names(); len(got) != 1 || got[0] != "svc" {
		t.Errorf("names on c: %v", got)
	}
	if err := a.Register(ctxFor(t), "svc", p); err != nil {
		t.Errorf("registering a name the pid holds again: %v", err)
	}
	other := holder(t, ns[2], false, proc.Pid{})
	for _, s := range ss {
		if err := s.Register(ctxFor(t), "svc", other); !errors.Is(err, ErrNameTaken) {
			t.Errorf("%s: a second holder for svc: %v, want ErrNameTaken", s.node.Name(), err)
		}
	}
	if err := cc.Send("svc", "hello"); err != nil {
		t.Fatal(err)
	}
	if m, err := me.ReceiveTimeout(waitTime); err != nil || m.([]any)[1] != "hello" {
		t.Fatalf("the holder got %v %v", m, err)
	}
	if err := b.Unregister(ctxFor(t), "svc"); err != nil {
		t.Fatalf("unregister: %v", err)
	}
	for _, s := range ss {
		if _, ok := s.Whereis("svc"); ok {
			t.Errorf("%s still has svc after Unregister returned", s.node.Name())
		}
	}
	if err := a.Send("svc", "x"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("send to an unregistered name: %v", err)
	}
	if err := a.Unregister(ctxFor(t), "svc"); err != nil {
		t.Errorf("unregistering a name not registered: %v", err)
	}
	if err := cc.Register(ctxFor(t), "svc", other); err != nil {
		t.Fatalf("register after unregister: %v", err)
	}
	if err := a.Register(ctxFor(t), "", p); !errors.Is(err, ErrBadName) {
		t.Errorf("empty name: %v", err)
	}
}

// Many registrations of one name at once from every node: exactly one
// wins, and every node agrees on it.
func TestConcurrentRegisterOneWinner(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0, Options{})
	type result struct {
		pid proc.Pid
		err error
	}
	results := make(chan result, 9)
	for i := range 9 {
		s, n := ss[i%3], ns[i%3]
		pid := holder(t, n, false, proc.Pid{})
		go func() { results <- result{pid, s.Register(ctxFor(t), "one", pid)} }()
	}
	var winner proc.Pid
	for range 9 {
		r := <-results
		switch {
		case r.err == nil:
			if !winner.IsZero() {
				t.Fatalf("two winners: %v and %v", winner, r.pid)
			}
			winner = r.pid
		case !errors.Is(r.err, ErrNameTaken):
			t.Errorf("a loser got %v, want ErrNameTaken", r.err)
		}
	}
	if winner.IsZero() {
		t.Fatal("no winner")
	}
	waitName(t, "one", winner, ss...)
}

// A holder that dies, and a holder whose node goes down, lose their
// names on every node; a dead pid cannot register.
func TestDeathAndNodeDownReleaseNames(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0, Options{})
	p := holder(t, ns[1], false, proc.Pid{})
	q := holder(t, ns[2], false, proc.Pid{})
	if err := ss[0].Register(ctxFor(t), "p", p); err != nil {
		t.Fatal(err)
	}
	if err := ss[0].Register(ctxFor(t), "q", q); err != nil {
		t.Fatal(err)
	}
	_ = ns[1].Proc().Exit(p, proc.Kill)
	waitName(t, "p", proc.Pid{}, ss...)
	if err := ss[0].Register(ctxFor(t), "p2", p); !errors.Is(err, ErrNoProc) {
		t.Errorf("register a dead pid: %v, want ErrNoProc", err)
	}
	if err := ss[1].Register(ctxFor(t), "p3", p); !errors.Is(err, ErrNoProc) {
		t.Errorf("register a dead local pid: %v, want ErrNoProc", err)
	}

	ns[2].Close() // q's node goes away
	waitName(t, "q", proc.Pid{}, ss[0], ss[1])
}

// A node that joins gets the names registered before it came, and its
// own names reach the others.
func TestJoiningNodeGetsNames(t *testing.T) {
	c := newMemCluster(t)
	a, b := c.node("a@localhost", 0), c.node("b@localhost", 0)
	sa, sb := c.server(a, Options{}), c.server(b, Options{})
	connect(t, a, b)
	waitPeers(t, sa, sb)
	p := holder(t, b, false, proc.Pid{})
	if err := sa.Register(ctxFor(t), "early", p); err != nil {
		t.Fatal(err)
	}
	// d registers a name of its own while alone.
	d := c.node("d@localhost", 0)
	sd := c.server(d, Options{})
	q := holder(t, d, false, proc.Pid{})
	if err := sd.Register(ctxFor(t), "alone", q); err != nil {
		t.Fatal(err)
	}
	connect(t, d, a, b)
	waitName(t, "early", p, sd)
	waitName(t, "alone", q, sa, sb)
	// A server started on a node already connected gets them too.
	e := c.node("e@localhost", 0)
	connect(t, e, a, b, d)
	se := c.server(e, Options{})
	waitName(t, "early", p, se)
	waitName(t, "alone", q, se)
}

// Every operation whose context ends returns instead of waiting: a's
// messages to b are held (a one-way cut that b notices only after the
// tick time, 60 s here), so a claim to b gets no answer.
func TestContextExpiryReturnsError(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0, Options{Timeout: 200 * time.Millisecond})
	c.Mem.PartitionOneWay("a@localhost", "b@localhost")
	p := holder(t, ns[0], false, proc.Pid{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := ss[0].Register(ctx, "stuck", p)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("register with b silent: %v, want ErrTimeout and DeadlineExceeded", err)
	}
	t.Logf("register, ctx with a deadline: %v", err)
	// A ctx without a deadline: Options.Timeout applies.
	if err := ss[0].Register(context.Background(), "stuck", p); !errors.Is(err, ErrTimeout) {
		t.Fatalf("register with b silent, no deadline: %v, want ErrTimeout", err)
	} else {
		t.Logf("register, no deadline: %v", err)
	}
	if _, ok := ss[0].Whereis("stuck"); ok {
		t.Errorf("a failed registration left the name")
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := ss[0].Register(cancelled, "gone", p); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
		t.Errorf("register with a cancelled ctx: %v", err)
	}
	// c's name: the unregistration is decided at once; b's silence only
	// delays the answer until the deadline.
	q := holder(t, ns[2], false, proc.Pid{})
	c.Mem.HealOneWay("a@localhost", "b@localhost")
	if err := ss[2].Register(ctxFor(t), "q", q); err != nil {
		t.Fatal(err)
	}
	c.Mem.PartitionOneWay("a@localhost", "b@localhost")
	ctx3, cancel3 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel3()
	if err := ss[0].Unregister(ctx3, "q"); err != nil {
		t.Errorf("unregister with b silent: %v", err)
	}
	if _, ok := ss[0].Whereis("q"); ok {
		t.Errorf("unregister left the name here")
	}
	c.Mem.HealOneWay("a@localhost", "b@localhost")
	// A closed server: an error at once.
	ss[2].Close()
	if err := ss[2].Register(ctxFor(t), "x", q); !errors.Is(err, ErrClosed) {
		t.Errorf("register on a closed server: %v", err)
	}
	if err := ss[2].Unregister(ctxFor(t), "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("unregister on a closed server: %v", err)
	}
}

// Closing the node first stops its name server; Close after that returns,
// and Whereis finds nothing rather than names nobody keeps up to date.
func TestNodeClosedUnderTheServer(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0, Options{})
	p := holder(t, ns[1], false, proc.Pid{})
	if err := ss[0].Register(ctxFor(t), "p", p); err != nil {
		t.Fatal(err)
	}
	ns[0].Close()
	if err := ss[0].Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := ss[0].Whereis("p"); ok {
		t.Error("a stopped server still answers Whereis")
	}
	if err := ss[0].Register(ctxFor(t), "q", p); !errors.Is(err, ErrClosed) {
		t.Errorf("register on a stopped node: %v", err)
	}
	if _, err := Start(ns[0], Options{}); err == nil {
		t.Error("Start on a closed node succeeded")
	}
	waitName(t, "p", p, ss[1], ss[2]) // the others keep the name: its holder lives
}
