package dist

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
)

func TestConnectAndList(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatalf("second connect: %v", err)
	}
	if got := a.Nodes(); len(got) != 1 || got[0] != "b@localhost" {
		t.Fatalf("a lists %v", got)
	}
	eventually(t, "b lists a", func() bool { return len(b.Nodes()) == 1 })
	if got := a.Ping(ctx(t), "b@localhost"); got != "pong" {
		t.Fatalf("ping: %s", got)
	}
	if got := a.Ping(ctx(t), "nobody@localhost"); got != "pang" {
		t.Fatalf("ping nobody: %s", got)
	}
}

func TestMeshAndHidden(t *testing.T) {
	c := newCluster(t)
	a, b, d := c.start("a@localhost"), c.start("b@localhost"), c.start("d@localhost")
	h := c.start("h@localhost", func(cfg *Config) { cfg.Hidden = true })
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx(t), "a@localhost"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "full mesh", func() bool {
		return len(a.Nodes()) == 2 && len(b.Nodes()) == 2 && len(d.Nodes()) == 2
	})
	if err := h.Connect(ctx(t), "a@localhost"); err != nil {
		t.Fatal(err)
	}
	if got := h.Nodes(); len(got) != 0 {
		t.Fatalf("hidden node lists %v as visible", got)
	}
	eventually(t, "a sees the hidden node", func() bool { return len(a.HiddenNodes()) == 1 })
	if len(a.Nodes()) != 2 || len(b.HiddenNodes()) != 0 {
		t.Fatalf("hidden node leaked into the mesh: a %v, b hidden %v", a.Nodes(), b.HiddenNodes())
	}
}

func TestWrongCookieRefused(t *testing.T) {
	c := newCluster(t)
	a := c.start("a@localhost")
	c.start("b@localhost", func(cfg *Config) { cfg.Cookie = "other-cookie" })
	err := a.Connect(ctx(t), "b@localhost")
	if err == nil {
		t.Fatal("connected with a wrong cookie")
	}
	eventually(t, "both sides log the refusal", func() bool {
		l := c.logs.text()
		return strings.Contains(l, "connection to b@localhost refused") && strings.Contains(l, "connection from a@localhost")
	})
	if l := c.logs.text(); strings.Contains(l, "secret") || strings.Contains(l, "other-cookie") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("a cookie leaked into the logs: %s / %v", l, err)
	}
	if len(a.Nodes()) != 0 {
		t.Fatal("listed a refused node")
	}
}

func TestNameTaken(t *testing.T) {
	c := newCluster(t)
	c.start("a@localhost")
	_, err := c.tryStart("a@localhost")
	if !errors.Is(err, epmd.ErrNameTaken) {
		t.Fatalf("second node with the same name: %v", err)
	}
}

func TestSimultaneousConnect(t *testing.T) {
	for i := range 10 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			c := newCluster(t)
			a, b := c.start("a@localhost"), c.start("b@localhost")
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Add(2)
			go func() { defer wg.Done(); errs[0] = a.Connect(ctx(t), "b@localhost") }()
			go func() { defer wg.Done(); errs[1] = b.Connect(ctx(t), "a@localhost") }()
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("simultaneous connect: %v / %v\n%s", errs[0], errs[1], c.logs.text())
			}
			eventually(t, "both listed", func() bool { return len(a.Nodes()) == 1 && len(b.Nodes()) == 1 })
			if v, err := a.RPC(ctx(t), "b@localhost", "square", 2); err != nil || v != int(4) {
				t.Fatalf("rpc after simultaneous connect: %v %v", v, err)
			}
		})
	}
}

func TestTickTimeoutKeepsIdleLinkUp(t *testing.T) {
	c := newCluster(t)
	tick := func(cfg *Config) { cfg.TickTime = 800 * time.Millisecond }
	a, b := c.start("a@localhost", tick), c.start("b@localhost", tick)
	me := attach(t, a)
	a.MonitorNodes(me.Pid(), true, false)
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	if _, ok := recv(t, me).(NodeUp); !ok {
		t.Fatal("no nodeup")
	}
	// Idle for several tick times: ticks keep the connection up.
	if m, err := me.ReceiveTimeout(3 * time.Second); err == nil {
		t.Fatalf("idle link changed: %v", m)
	}
	if len(b.Nodes()) != 1 {
		t.Fatal("idle connection dropped")
	}
}

// Nodes with different tick times keep an idle connection: each tells the
// other its tick time, and ticks come often enough for the shorter one
// (Erlang wants the same net_ticktime on every node; gonode does not).
func TestDifferentTickTimesKeepIdleLinkUp(t *testing.T) {
	c := newCluster(t)
	a := c.start("a@localhost", func(cfg *Config) { cfg.TickTime = 800 * time.Millisecond })
	b := c.start("b@localhost", func(cfg *Config) { cfg.TickTime = time.Minute })
	me := attach(t, a)
	a.MonitorNodes(me.Pid(), true, false)
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	if _, ok := recv(t, me).(NodeUp); !ok {
		t.Fatal("no nodeup")
	}
	eventually(t, "b ticks for a's tick time", func() bool {
		cb := b.connFor("a@localhost")
		return cb != nil && time.Duration(cb.tickEvery.Load()) == 200*time.Millisecond
	})
	if m, err := me.ReceiveTimeout(3 * time.Second); err == nil {
		t.Fatalf("idle link changed: %v", m)
	}
}

func TestGarbageOnListener(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{
		[]byte("GET / HTTP/1.0\r\n\r\n"),
		{0xff, 0xff},
		{0x00, 0x05, 'h', 'e'},
		make([]byte, 5000),
	}
	for _, in := range inputs {
		nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.Port()))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write(in)
		_ = nc.SetReadDeadline(time.Now().Add(waitTime))
		buf := make([]byte, 64)
		for {
			if _, err := nc.Read(buf); err != nil {
				break // closed by b
			}
		}
		nc.Close()
	}
	if v, err := a.RPC(ctx(t), "b@localhost", "square", 7); err != nil || v != int(49) {
		t.Fatalf("b after garbage: %v %v", v, err)
	}
}

func TestFrameLimit(t *testing.T) {
	c := newCluster(t)
	small := func(cfg *Config) { cfg.MaxFrame = 4096 }
	a, _ := c.start("a@localhost", small), c.start("b@localhost", small)
	if _, err := a.RPC(ctx(t), "b@localhost", "square", strings.Repeat("y", 10000)); !errors.Is(err, ErrBadArgs) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a request over the frame limit: %v", err)
	}
	if _, err := a.RPC(ctx(t), "b@localhost", "big", 10000); !errors.Is(err, ErrBadArgs) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a reply over the frame limit: %v", err)
	}
	if v, err := a.RPC(ctx(t), "b@localhost", "big", 10); err != nil || v != "xxxxxxxxxx" {
		t.Fatalf("the connection after refused frames: %v %v", v, err)
	}
	if !strings.Contains(c.logs.text(), "too large") {
		t.Fatalf("no log line for the refused frames:\n%s", c.logs.text())
	}
}

func TestLongNamesByAddress(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@127.0.0.1"), c.start("b@127.0.0.1")
	if err := a.Connect(ctx(t), "b@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if v, err := a.RPC(ctx(t), "b@127.0.0.1", "square", 3); err != nil || v != int(9) {
		t.Fatalf("rpc between long names: %v %v", v, err)
	}
	eventually(t, "b lists a", func() bool { return len(b.Nodes()) == 1 && b.Nodes()[0] == "a@127.0.0.1" })
	// The name must match as dialled: the node is not a@localhost.
	if err := a.Connect(ctx(t), "b@localhost"); err == nil {
		t.Fatal("connected to b@localhost, a name nobody has")
	}
}

func TestNameForms(t *testing.T) {
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	cases := []struct {
		long    bool
		in, out string
		bad     bool
	}{
		{false, "node1", "node1@" + short, false},
		{false, "node1@localhost", "node1@localhost", false},
		{true, "node1@host.example", "node1@host.example", false},
		{true, "node1@10.0.0.5", "node1@10.0.0.5", false},
		{false, "a b@localhost", "", true},
		{false, "@localhost", "", true},
		{true, "x@y@z", "", true},
	}
	for _, tc := range cases {
		f := ShortName
		if tc.long {
			f = LongName
		}
		got, err := f(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadNodeName) {
				t.Errorf("%q: %v, want ErrBadNodeName", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.out {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.out)
		}
	}
}
