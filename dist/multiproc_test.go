package dist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/proc"
)

// Tests with nodes in other OS processes (see peer_test.go), and with the
// real epmd daemon.

// whereis asks node for the pid of its process registered as name.
func whereis(t testing.TB, n *Node, node, name string) proc.Pid {
	t.Helper()
	v, err := n.RPC(ctx(t), node, "whereis", name)
	if err != nil {
		t.Fatalf("whereis %s on %s: %v", name, node, err)
	}
	pid, ok := v.(proc.Pid)
	if !ok {
		t.Fatalf("whereis %s on %s: %#v", name, node, v)
	}
	return pid
}

// receiveNodeDown waits for the NodeDown of node, skipping NodeUps.
func receiveNodeDown(t testing.TB, me *proc.Process, node string, d time.Duration) (NodeDown, error) {
	t.Helper()
	m, err := me.ReceiveMatchTimeout(d, func(m any) bool {
		nd, ok := m.(NodeDown)
		return ok && nd.Node == node
	})
	if err != nil {
		return NodeDown{}, err
	}
	return m.(NodeDown), nil
}

// TestPeerKilled: kill -9 of a peer's OS process. The local node sees it
// go down, its links and monitors on processes there fire with
// noconnection, and an rpc waiting on it fails with ErrNodeDown.
func TestPeerKilled(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost")
	p := startPeer(t, c.epmd, "victim@localhost", peerOpts{})
	me := attach(t, a)
	me.TrapExit(true)
	a.MonitorNodes(me.Pid(), true, false)

	echo := whereis(t, a, p.Name, "echo")
	if err := me.Link(echo); err != nil {
		t.Fatal(err)
	}
	ref := me.Monitor(echo)
	// The rpc travels behind the link and monitor on the same connection,
	// so the peer has them when it answers.
	if v, err := a.RPC(ctx(t), p.Name, "links_of", echo); err != nil || fmt.Sprint(v) != "[1 1]" {
		t.Fatalf("links and monitors on the peer's echo: %v %v", v, err)
	}
	if _, ok := recv(t, me).(NodeUp); !ok {
		t.Fatal("no nodeup")
	}
	calls := make(chan error, 1)
	go func() {
		_, err := a.RPC(context.Background(), p.Name, "slow", time.Minute)
		calls <- err
	}()
	eventually(t, "the slow call in flight", func() bool {
		a.rpc.mu.Lock()
		defer a.rpc.mu.Unlock()
		return len(a.rpc.pending) == 1
	})

	p.kill9()
	got := map[string]any{}
	for range 3 {
		switch m := recv(t, me).(type) {
		case NodeDown:
			got["nodedown"] = m
			if m.Node != p.Name || m.Reason != "connection_closed" {
				t.Errorf("nodedown: %v", m)
			}
		case proc.ExitMsg:
			got["exit"] = m
			if m.From != echo || m.Reason != proc.NoConnection {
				t.Errorf("exit: %v", m)
			}
		case proc.DownMsg:
			got["down"] = m
			if m.Ref != ref || m.Pid != echo || m.Reason != proc.NoConnection {
				t.Errorf("down: %v", m)
			}
		default:
			t.Errorf("unexpected message %v", m)
		}
	}
	if len(got) != 3 {
		t.Fatalf("after kill -9: %v", got)
	}
	if err := <-calls; !errors.Is(err, ErrNodeDown) {
		t.Fatalf("rpc in flight across kill -9: %v", err)
	}
	if !p.wait(waitTime) {
		t.Fatal("killed peer not reaped")
	}
	if len(a.Nodes()) != 0 {
		t.Fatalf("a still lists %v", a.Nodes())
	}
	// The dead node's name is gone from the port mapper with its socket.
	eventually(t, "the port mapper to forget the dead peer", func() bool {
		_, err := epmd.LookupPort(ctx(t), c.epmd, "victim")
		return errors.Is(err, epmd.ErrNotRegistered)
	})
	if _, err := a.RPC(ctx(t), p.Name, "square", 2); !errors.Is(err, ErrNodeDown) {
		t.Fatalf("rpc to the dead peer: %v", err)
	}
}

// TestPeerStoppedTickTimeout: a peer frozen with SIGSTOP keeps its socket
// open but stops answering; the local node drops it after the tick time
// with reason net_tick_timeout.
func TestPeerStoppedTickTimeout(t *testing.T) {
	t.Parallel()
	const tick = time.Second
	c := newCluster(t)
	a := c.start("a@localhost", func(cfg *Config) { cfg.TickTime = tick })
	p := startPeer(t, c.epmd, "frozen@localhost", peerOpts{tick: tick})
	me := attach(t, a)
	a.MonitorNodes(me.Pid(), true, false)
	if err := a.Connect(ctx(t), p.Name); err != nil {
		t.Fatal(err)
	}
	echo := whereis(t, a, p.Name, "echo")
	ref := me.Monitor(echo)
	if _, ok := recv(t, me).(NodeUp); !ok {
		t.Fatal("no nodeup")
	}

	if err := p.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	nd, err := receiveNodeDown(t, me, p.Name, 10*tick)
	elapsed := time.Since(stopped)
	// Resume and kill it whatever happened (stop, in Cleanup, does too).
	_ = p.signal(syscall.SIGCONT)
	p.kill9()
	if err != nil {
		t.Fatalf("no nodedown within %v of SIGSTOP: %v", 10*tick, err)
	}
	if nd.Reason != "net_tick_timeout" {
		t.Fatalf("nodedown of a frozen peer: %v, want net_tick_timeout", nd)
	}
	// Dropped after between 3/4 and 5/4 of the tick time of silence (plus
	// scheduling slack), as Erlang does.
	if elapsed < tick*3/4 || elapsed > 3*tick {
		t.Errorf("frozen peer dropped after %v with tick time %v", elapsed, tick)
	}
	t.Logf("frozen peer dropped after %v (tick time %v)", elapsed, tick)
	if d, ok := recv(t, me).(proc.DownMsg); !ok || d.Ref != ref || d.Reason != proc.NoConnection {
		t.Fatalf("monitor across the tick timeout: %v", d)
	}
}

// TestRealEpmd: two gonode nodes, one in this process and one in another,
// register with the real epmd daemon, which lists both, and connect and
// call each other through it.
func TestRealEpmd(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("epmd")
	if err != nil {
		t.Skip("epmd not on PATH (Debian package erlang-base); skipping the test against the real port mapper")
	}
	c := newCluster(t)
	port := epmdPort(t, c.epmd)
	runEpmd(t, path, port)

	a := c.start("gonode_a@localhost")
	if a.reg.Serving() {
		t.Fatal("a serves an embedded port mapper although epmd runs")
	}
	p := startPeer(t, c.epmd, "gonode_b@localhost", peerOpts{})
	if p.Serving {
		t.Fatal("the peer serves an embedded port mapper although epmd runs")
	}
	names := epmdNames(t, path, port)
	for _, want := range []string{
		fmt.Sprintf("name gonode_a at port %d\n", a.Port()),
		fmt.Sprintf("name gonode_b at port %d\n", p.Port),
	} {
		if !strings.Contains(names, want) {
			t.Fatalf("epmd -names lacks %q:\n%s", strings.TrimSpace(want), names)
		}
	}
	if err := a.Connect(ctx(t), p.Name); err != nil {
		t.Fatal(err)
	}
	if v, err := a.RPC(ctx(t), p.Name, "square", 12); err != nil || v != int(144) {
		t.Fatalf("rpc through epmd: %v %v", v, err)
	}
	// And the other way: the peer looks a up in epmd too.
	if v, err := a.RPC(ctx(t), p.Name, "node_name"); err != nil || v != p.Name {
		t.Fatalf("node_name: %v %v", v, err)
	}
	a.Close()
	eventually(t, "epmd to drop gonode_a", func() bool {
		return !strings.Contains(epmdNames(t, path, port), "name gonode_a ")
	})
}

// runEpmd runs `epmd -port port` until the test ends.
func runEpmd(t testing.TB, path, port string) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(path, "-port", port)
	cmd.Env = envWithout("ERL_EPMD_PORT=")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() && out.String() != "" {
			t.Logf("epmd output: %s", out.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	eventually(t, "epmd to answer on "+addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("epmd exited: %s", out.String())
		default:
		}
		_, err := epmd.Names(ctx(t), addr)
		return err == nil
	})
}

func envWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// epmdNames runs `epmd -port port -names`.
func epmdNames(t *testing.T, path, port string) string {
	t.Helper()
	cmd := exec.Command(path, "-port", port, "-names")
	cmd.Env = envWithout("ERL_EPMD_PORT=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("epmd -names: %v: %s", err, out)
	}
	return string(out)
}

// connectEventually retries Connect until it succeeds: for the time a port
// mapper takes to change hands.
func connectEventually(t *testing.T, from *Node, to string) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		err := from.Connect(c, to)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s cannot connect to %s: %v", from.Name(), to, err)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// TestPortMapperTakeoverAfterClose: node a serves the embedded port mapper,
// b and c are registered with it; a stops; one of b and c serves it in its
// place, both register again, and c finds b by name.
func TestPortMapperTakeoverAfterClose(t *testing.T) {
	t.Parallel()
	cl := newCluster(t)
	a := cl.start("a@localhost")
	b, c := cl.start("b@localhost"), cl.start("c@localhost")
	if !a.reg.Serving() || b.reg.Serving() || c.reg.Serving() {
		t.Fatalf("serving: a %v b %v c %v", a.reg.Serving(), b.reg.Serving(), c.reg.Serving())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	connectEventually(t, c, "b@localhost")
	if v, err := c.RPC(ctx(t), "b@localhost", "square", 3); err != nil || v != int(9) {
		t.Fatalf("rpc after takeover: %v %v", v, err)
	}
	if b.reg.Serving() == c.reg.Serving() {
		t.Fatalf("after takeover: b serving %v, c serving %v; want exactly one", b.reg.Serving(), c.reg.Serving())
	}
	var names []epmd.NodeEntry
	eventually(t, "b and c registered with the new port mapper", func() bool {
		names, _ = epmd.Names(ctx(t), cl.epmd)
		return len(names) == 2
	})
}

// TestPortMapperTakeoverAfterKill: the node serving the port mapper is a
// peer process killed with kill -9; the two nodes of this process take it
// over and find each other by name.
func TestPortMapperTakeoverAfterKill(t *testing.T) {
	t.Parallel()
	cl := newCluster(t)
	p := startPeer(t, cl.epmd, "server@localhost", peerOpts{})
	if !p.Serving {
		t.Fatal("the first node does not serve the port mapper")
	}
	b, c := cl.start("b@localhost"), cl.start("c@localhost")
	if err := c.Connect(ctx(t), p.Name); err != nil {
		t.Fatal(err)
	}
	if len(b.Nodes()) != 0 {
		t.Fatalf("b already connected: %v", b.Nodes())
	}
	p.kill9()
	if !p.wait(waitTime) {
		t.Fatal("killed peer not reaped")
	}
	connectEventually(t, c, "b@localhost")
	if v, err := b.RPC(ctx(t), "c@localhost", "square", 4); err != nil || v != int(16) {
		t.Fatalf("rpc after takeover: %v %v", v, err)
	}
	if b.reg.Serving() == c.reg.Serving() {
		t.Fatalf("after takeover: b serving %v, c serving %v; want exactly one", b.reg.Serving(), c.reg.Serving())
	}
}

// TestGarbageToPeerProcess sends garbage to a peer process's distribution
// listener and to the port mapper it serves: random bytes, oversized
// length prefixes, truncated messages, connections that say nothing, many
// at once. The process stays up and goes on serving others. (The in-process
// TestGarbageOnListener and epmd's TestServerGarbage check the replies to
// each kind of garbage; this checks a whole node under a flood of it.)
func TestGarbageToPeerProcess(t *testing.T) {
	t.Parallel()
	cl := newCluster(t)
	p := startPeer(t, cl.epmd, "target@localhost", peerOpts{})
	if !p.Serving {
		t.Fatal("the peer does not serve the port mapper")
	}
	a := cl.start("a@localhost")
	if err := a.Connect(ctx(t), p.Name); err != nil {
		t.Fatal(err)
	}
	listener := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
	mapper := cl.epmd

	fixed := [][]byte{
		{},           // connect and close
		{0xff, 0xff}, // huge length prefix, nothing after
		append([]byte{0xff, 0xff}, make([]byte, 4096)...),
		{0x00, 0x00},                           // zero length
		{0x00, 0x40, 0x01, 'G'},                // truncated hello
		[]byte("\x00\x0a\x01GOND\x00\x01\x00"), // hello cut inside its fields
		[]byte("\x00\x05\x01XXXX"),             // bad magic
		[]byte("\x00\x10\x7a"),                 // truncated PORT_PLEASE2 (for the mapper)
		[]byte("\x00\x01\x6e"),                 // NAMES: a real request, answered
		[]byte("\x00\x03\x63\x01\x02"),
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	inputs = append(inputs, fixed...)
	for range 100 {
		b := make([]byte, rng.IntN(3000))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		inputs = append(inputs, b)
	}

	// Connections that say nothing stay open while the others come and go.
	var idle []net.Conn
	for _, addr := range []string{listener, mapper} {
		for range 5 {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, nc)
		}
	}
	defer func() {
		for _, nc := range idle {
			nc.Close()
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 2*len(inputs))
	sem := make(chan struct{}, 16)
	for _, addr := range []string{listener, mapper} {
		for _, in := range inputs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := sendGarbage(addr, in); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	select {
	case <-p.exited:
		t.Fatalf("the peer exited under garbage: %v\n%s", p.waitErr, p.stderr.String())
	default:
	}
	if s := p.stderr.String(); strings.Contains(s, "panic") {
		t.Fatalf("the peer panicked:\n%s", s)
	}
	// It still serves: the existing connection, its port mapper, and a
	// node that connects afresh.
	if v, err := a.RPC(ctx(t), p.Name, "square", 6); err != nil || v != int(36) {
		t.Fatalf("rpc after garbage: %v %v", v, err)
	}
	if port, err := epmd.LookupPort(ctx(t), mapper, "target"); err != nil || int(port) != p.Port {
		t.Fatalf("lookup after garbage: %v %v", port, err)
	}
	d := cl.start("d@localhost")
	if v, err := d.RPC(ctx(t), p.Name, "node_name"); err != nil || v != p.Name {
		t.Fatalf("fresh node after garbage: %v %v", v, err)
	}
}

// sendGarbage writes in to addr, half-closes, and reads until the other
// side closes. A reply is allowed (the port mapper answers real requests
// hidden in the garbage); hanging is not.
func sendGarbage(addr string, in []byte) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTime))
	if _, err := nc.Write(in); err != nil && !isReset(err) {
		return fmt.Errorf("write %d bytes to %s: %w", len(in), addr, err)
	}
	_ = nc.(*net.TCPConn).CloseWrite()
	buf := make([]byte, 512)
	for {
		if _, err := nc.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%s did not close a connection after %d bytes of garbage", addr, len(in))
			}
			return nil
		}
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
