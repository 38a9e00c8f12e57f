package gossip

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/gonode/gonode/discovery/internal/testnet"
)

// fast shortens memberlist's timings so that a failure is detected in
// about a second instead of several: the protocol is the same. The probe
// timeout leaves room for a machine busy with other tests (-race).
func fast(c *memberlist.Config) {
	c.ProbeInterval = 200 * time.Millisecond
	c.ProbeTimeout = 150 * time.Millisecond
	c.GossipInterval = 20 * time.Millisecond
	c.PushPullInterval = time.Second
	c.TCPTimeout = time.Second
	c.SuspicionMult = 2
	c.GossipToTheDeadTime = time.Second
}

// logs collects log lines and echoes them to the test log.
type logs struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, format)
	l.mu.Unlock()
	l.t.Logf(format, args...)
}

// member is one gossip member of a test, on its own loopback address.
type member struct {
	*Member
	rec *testnet.Recorder
}

// startMember starts a member for node at addr (a loopback address, port
// 0 for a free one) joining through join, and runs it until the test
// ends (or until crash or Close).
func startMember(t *testing.T, node, bind string, port int, key []byte, join ...string) *member {
	t.Helper()
	lg := &logs{t: t}
	m, err := Start(Config{
		Node: node, BindAddr: bind, Port: port, AnyPort: port == 0, Join: join, SecretKey: key,
		RejoinInterval: 300 * time.Millisecond, Tune: fast, Logf: lg.logf, Verbose: true,
	})
	if err != nil {
		t.Fatalf("starting %s: %v", node, err)
	}
	// Cleanups run last first: Run stops, then the member closes, as
	// discovery.Start's Close does.
	t.Cleanup(func() { m.Close() })
	rec := testnet.NewRecorder()
	testnet.Run(t, m.Run, rec.Found)
	return &member{m, rec}
}

var key = []byte("0123456789abcdef0123456789abcdef")

// crash stops a member without leaving: the others must detect it.
func (m *member) crash(t *testing.T) {
	m.closeOnce.Do(func() {
		if err := m.list.Shutdown(); err != nil {
			t.Fatal(err)
		}
		m.closed.Store(true)
	})
}

// Three members on three loopback addresses join through the first; the
// others see one leave at once, and one crash within the failure
// detector's time; a crashed member restarted on the same address joins
// again.
func TestMembersJoinLeaveFailAndRejoin(t *testing.T) {
	a := startMember(t, "a@h", "127.0.0.1", 0, key)
	b := startMember(t, "b@h", "127.0.0.2", 0, key, a.Addr())
	c := startMember(t, "c@h", "127.0.0.3", 0, key, a.Addr())
	all := []string{"a@h", "b@h", "c@h"}
	for _, m := range []*member{a, b, c} {
		m.rec.WaitFor(t, 10*time.Second, all...)
	}

	// A member leaving says so: the others drop it without waiting for
	// the failure detector.
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	a.rec.WaitFor(t, 2*time.Second, "a@h", "b@h")
	b.rec.WaitFor(t, 2*time.Second, "a@h", "b@h")
	t.Logf("a member leaving was seen gone %v after it began leaving", time.Since(start))

	// A member that crashes is probed, suspected and declared failed.
	d := startMember(t, "d@h", "127.0.0.4", 0, key, b.Addr())
	a.rec.WaitFor(t, 10*time.Second, "a@h", "b@h", "d@h")
	port := d.list.LocalNode().Port
	d.crash(t)
	took := a.rec.WaitFor(t, 10*time.Second, "a@h", "b@h")
	b.rec.WaitFor(t, 10*time.Second, "a@h", "b@h")
	t.Logf("a member crashing was seen failed after %v", took)

	// Restarted on the same address and port, it joins again: it is a new
	// member to memberlist, carrying the same node name.
	d2 := startMember(t, "d@h", "127.0.0.4", int(port), key, a.Addr())
	for _, m := range []*member{a, b, d2} {
		m.rec.WaitFor(t, 10*time.Second, "a@h", "b@h", "d@h")
	}
}

// The seed (a member that joins nobody) restarts: the members that joined
// through it join it again, and it sees the whole cluster.
func TestSeedRestartIsJoinedAgain(t *testing.T) {
	seed := startMember(t, "seed@h", "127.0.0.1", 0, key)
	addr, port := seed.Addr(), int(seed.list.LocalNode().Port)
	x := startMember(t, "x@h", "127.0.0.2", 0, key, addr)
	y := startMember(t, "y@h", "127.0.0.3", 0, key, addr)
	// Everyone knows everyone before the seed goes: x and y must not
	// need it to find each other.
	for _, m := range []*member{seed, x, y} {
		m.rec.WaitFor(t, 10*time.Second, "seed@h", "x@h", "y@h")
	}
	seed.crash(t)
	x.rec.WaitFor(t, 10*time.Second, "x@h", "y@h")

	seed2 := startMember(t, "seed@h", "127.0.0.1", port, key)
	seed2.rec.WaitFor(t, 10*time.Second, "seed@h", "x@h", "y@h")
	y.rec.WaitFor(t, 10*time.Second, "seed@h", "x@h", "y@h")
}

// A member with another key (another cookie) cannot join, and says why.
func TestOtherKeyCannotJoin(t *testing.T) {
	a := startMember(t, "a@h", "127.0.0.1", 0, key)
	lg := &logs{t: t}
	other, err := Start(Config{
		Node: "o@h", BindAddr: "127.0.0.2", AnyPort: true, Join: []string{a.Addr()},
		SecretKey: []byte("another key, 32 bytes long......"), Tune: fast, Logf: lg.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.join(); err == nil {
		t.Fatal("a member with another key joined")
	}
	lg.mu.Lock()
	logged := len(lg.lines) > 0
	lg.mu.Unlock()
	if !logged {
		t.Error("the failed join was not logged")
	}
	if got := a.names(); len(got) != 1 || got[0] != "a@h" {
		t.Errorf("the cluster is %v, want only a@h", got)
	}
}

// A port already taken fails Start, naming the flag that changes it.
func TestPortInUse(t *testing.T) {
	a := startMember(t, "a@h", "127.0.0.1", 0, nil)
	_, err := Start(Config{Node: "b@h", BindAddr: "127.0.0.1", Port: int(a.list.LocalNode().Port), Tune: fast})
	if err == nil || !strings.Contains(err.Error(), "--gossip-port") {
		t.Errorf("Start on a taken port: %v, want an error naming --gossip-port", err)
	}
}

func TestStartChecksNodeName(t *testing.T) {
	for _, name := range []string{"", "nohost", "a b@h", strings.Repeat("x", 600) + "@h"} {
		if _, err := Start(Config{Node: name, AnyPort: true}); err == nil {
			t.Errorf("Start(%q): no error", name)
		}
	}
}

// Metadata that is no node name (someone else's memberlist cluster, or a
// broken member) keeps a member out.
func TestAliveCheckRefusesBadMetadata(t *testing.T) {
	for meta, ok := range map[string]bool{"a@h": true, "": false, "x": false, "a@h\x00": false, strings.Repeat("a", 300) + "@h": false} {
		err := aliveCheck{}.NotifyAlive(&memberlist.Node{Name: "m", Meta: []byte(meta)})
		if (err == nil) != ok {
			t.Errorf("NotifyAlive(meta %q) = %v", meta, err)
		}
	}
}
