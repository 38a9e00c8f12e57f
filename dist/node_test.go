package dist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/proc"
)

const waitTime = 15 * time.Second

// cluster gives a test its own port-mapper port, so tests run in parallel
// and never meet a real epmd.
type cluster struct {
	t    testing.TB
	epmd string
	logs *logSink
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	return &cluster{t: t, epmd: testport.Addr(t), logs: &logSink{}}
}

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) logf(format string, args ...any) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

func (c *cluster) start(name string, mods ...func(*Config)) *Node {
	c.t.Helper()
	n, err := c.tryStart(name, mods...)
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	c.t.Cleanup(func() { n.Close() })
	return n
}

func (c *cluster) tryStart(name string, mods ...func(*Config)) (*Node, error) {
	cfg := Config{Name: name, Cookie: "secret", EPMDAddr: c.epmd, Logf: c.logs.logf, Functions: testFuncs()}
	for _, m := range mods {
		m(&cfg)
	}
	return Start(context.Background(), cfg)
}

func testFuncs() *Funcs {
	f := NewFuncs()
	must(f.Register("square", func(v int) int { return v * v }))
	must(f.Register("fail", func() error { return errors.New("it failed") }))
	must(f.Register("boom", func() int { panic("kaboom") }))
	must(f.Register("slow", func(ctx context.Context, d time.Duration) string {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		return "done"
	}))
	must(f.Register("node", func(ctx context.Context) string { return "called" }))
	must(f.Register("big", func(n int) string { return strings.Repeat("x", n) }))
	must(f.Register("groupLeader", func(ctx context.Context) any {
		if gl, ok := GroupLeader(ctx); ok {
			return gl
		}
		return nil
	}))
	return f
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func attach(t testing.TB, n *Node) *proc.Process {
	t.Helper()
	p, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func recv(t testing.TB, p *proc.Process) any {
	t.Helper()
	m, err := p.ReceiveTimeout(waitTime)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition under a deadline
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return c
}

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

func TestRemoteSendAndNames(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	echo, err := b.Proc().SpawnOpt(func(p *proc.Process) {
		for {
			m, err := p.Receive(nil)
			if err != nil {
				return
			}
			msg := m.([]any)
			_ = p.Send(msg[0].(proc.Pid), msg[1])
		}
	}, proc.SpawnOptions{Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := me.Send(echo, []any{me.Pid(), "by pid"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, me); got != "by pid" {
		t.Fatalf("got %v", got)
	}
	if err := me.SendName(proc.Name{Name: "echo", Node: "b@localhost"}, []any{me.Pid(), proc.Atom("by_name")}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, me); got != proc.Atom("by_name") {
		t.Fatalf("got %#v", got)
	}
	if err := me.SendName(proc.Name{Name: "nobody", Node: "b@localhost"}, "lost"); err != nil {
		t.Fatalf("send to unknown remote name: %v (Erlang drops it silently)", err)
	}
}

func TestRemoteLinkMonitorAndNoconnection(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	me.TrapExit(true)
	crasher, _ := b.Proc().Spawn(func(p *proc.Process) {
		_, _ = p.Receive(nil)
		p.Exit("crashed")
	})
	if err := me.Link(crasher); err != nil {
		t.Fatal(err)
	}
	ref := me.Monitor(crasher)
	eventually(t, "link and monitor on b", func() bool {
		info, _ := b.Proc().Info(crasher)
		return len(info.Links) == 1 && len(info.MonitoredBy) == 1
	})
	_ = me.Send(crasher, "go")
	got := map[string]bool{}
	for range 2 {
		switch m := recv(t, me).(type) {
		case proc.ExitMsg:
			got["exit"] = m.From == crasher && m.Reason == "crashed"
		case proc.DownMsg:
			got["down"] = m.Ref == ref && m.Reason == "crashed"
		}
	}
	if !got["exit"] || !got["down"] {
		t.Fatalf("remote exit and down: %v", got)
	}

	sleeper, _ := b.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	_ = me.Link(sleeper)
	ref = me.Monitor(sleeper)
	eventually(t, "second link on b", func() bool {
		info, _ := b.Proc().Info(sleeper)
		return len(info.Links) == 1 && len(info.MonitoredBy) == 1
	})
	a.MonitorNodes(me.Pid(), true, false)
	if !a.Disconnect("b@localhost") {
		t.Fatal("disconnect: not connected")
	}
	got = map[string]bool{}
	for range 3 {
		switch m := recv(t, me).(type) {
		case proc.ExitMsg:
			got["exit"] = m.From == sleeper && m.Reason == proc.NoConnection
		case proc.DownMsg:
			got["down"] = m.Ref == ref && m.Reason == proc.NoConnection
		case NodeDown:
			got["nodedown"] = m.Node == "b@localhost" && m.Reason == "disconnect"
		}
	}
	if !got["exit"] || !got["down"] || !got["nodedown"] {
		t.Fatalf("after disconnect: %v", got)
	}
	eventually(t, "b unlinks the sleeper from a", func() bool {
		info, _ := b.Proc().Info(sleeper)
		return len(info.Links) == 0
	})
}

func TestRemoteMonitorDeadAndUnknownName(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	dead, _ := b.Proc().Spawn(func(p *proc.Process) {})
	eventually(t, "process ends", func() bool { return !b.Proc().Alive(dead) })
	ref := me.Monitor(dead)
	if d := recv(t, me).(proc.DownMsg); d.Ref != ref || d.Reason != proc.NoProc {
		t.Fatalf("monitor dead remote: %v", d)
	}
	ref = me.MonitorName(proc.Name{Name: "nosuch", Node: "b@localhost"})
	if d := recv(t, me).(proc.DownMsg); d.Ref != ref || d.Reason != proc.NoProc || d.Name.Name != "nosuch" {
		t.Fatalf("monitor unknown remote name: %v", d)
	}
	ref = me.Monitor(proc.Pid{Node: "ghost@localhost", ID: 1})
	if d := recv(t, me).(proc.DownMsg); d.Ref != ref || d.Reason != proc.NoConnection {
		t.Fatalf("monitor on unreachable node: %v", d)
	}
}

func TestRPC(t *testing.T) {
	c := newCluster(t)
	a, _ := c.start("a@localhost"), c.start("b@localhost")
	v, err := a.RPC(ctx(t), "b@localhost", "square", 5)
	if err != nil || v != int(25) {
		t.Fatalf("square: %#v %v", v, err)
	}
	cases := []struct {
		fn   string
		args []any
		want error
	}{
		{"nosuch", nil, ErrUndef},
		{"square", []any{"five"}, ErrBadArgs},
		{"square", nil, ErrBadArgs},
		{"boom", nil, ErrPanic},
	}
	for _, tc := range cases {
		_, err := a.RPC(ctx(t), "b@localhost", tc.fn, tc.args...)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s%v: %v, want %v", tc.fn, tc.args, err, tc.want)
		}
	}
	_, err = a.RPC(ctx(t), "b@localhost", "fail")
	if err == nil || !strings.Contains(err.Error(), "it failed") {
		t.Errorf("fail: %v", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.RPC(short, "b@localhost", "slow", time.Minute); !errors.Is(err, proc.ErrTimeout) {
		t.Errorf("slow: %v, want timeout", err)
	}
	// A slow call does not hold up the connection's other traffic.
	if v, err := a.RPC(ctx(t), "b@localhost", "square", 3); err != nil || v != int(9) {
		t.Errorf("after slow call: %v %v", v, err)
	}
	if _, err := a.RPC(ctx(t), "nobody@localhost", "square", 3); !errors.Is(err, ErrNodeDown) {
		t.Errorf("rpc to absent node: %v", err)
	}
	rs := a.Multicall(ctx(t), []string{"b@localhost", "a@localhost", "nobody@localhost"}, "square", 4)
	if rs[0].Value != int(16) || rs[1].Value != int(16) || !errors.Is(rs[2].Err, ErrNodeDown) {
		t.Errorf("multicall: %+v", rs)
	}
}

func TestRPCNodeDownDuringCall(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := a.RPC(ctx(t), "b@localhost", "slow", time.Minute)
		errc <- err
	}()
	eventually(t, "call in flight", func() bool { a.rpc.mu.Lock(); defer a.rpc.mu.Unlock(); return len(a.rpc.pending) == 1 })
	b.Close()
	if err := <-errc; !errors.Is(err, ErrNodeDown) {
		t.Fatalf("call across a dying node: %v", err)
	}
}

func TestSpawnRemote(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	fns := b.cfg.Functions.(*Funcs)
	must(fns.Register("waiter", func(ctx context.Context) error {
		p, _, _ := ProcessFrom(ctx)
		m, err := p.Receive(ctx)
		if err != nil {
			return err
		}
		if m == "crash" {
			panic("asked to crash")
		}
		return nil
	}))
	me := attach(t, a)
	pid, ref, err := a.SpawnRemote(ctx(t), me, "b@localhost", "waiter", nil, SpawnOptions{Monitor: true})
	if err != nil {
		t.Fatal(err)
	}
	if pid.Node != "b@localhost" || !b.Proc().Alive(pid) {
		t.Fatalf("spawned %v", pid)
	}
	_ = me.Send(pid, "crash")
	d := recv(t, me).(proc.DownMsg)
	if d.Ref != ref || d.Pid != pid {
		t.Fatalf("down: %v", d)
	}
	if pr, ok := d.Reason.(proc.PanicReason); !ok || pr.Value != "asked to crash" {
		t.Fatalf("panic reason across nodes: %#v", d.Reason)
	}
	if _, _, err := a.SpawnRemote(ctx(t), me, "b@localhost", "nosuch", nil, SpawnOptions{}); !errors.Is(err, ErrUndef) {
		t.Fatalf("spawn unknown: %v", err)
	}
	// A process that ends at once still delivers its exit after the link.
	me.TrapExit(true)
	pid, _, err = a.SpawnRemote(ctx(t), me, "b@localhost", "node", nil, SpawnOptions{Link: true})
	if err != nil {
		t.Fatal(err)
	}
	if e := recv(t, me).(proc.ExitMsg); e.From != pid || e.Reason != proc.Normal {
		t.Fatalf("linked exit: %v", e)
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
