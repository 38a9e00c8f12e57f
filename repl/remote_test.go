package repl

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// remshClient is the client end of remote shell sessions, driven by hand:
// a hidden node whose output process collects what sessions print.
type remshClient struct {
	t      *testing.T
	d      *dist.Node
	target string
	outPid proc.Pid

	mu  sync.Mutex
	out strings.Builder // guarded by mu
}

func newRemshClient(t *testing.T, name, target string) *remshClient {
	t.Helper()
	d, err := dist.Start(context.Background(), dist.Config{Name: name, Cookie: "c", Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c := &remshClient{t: t, d: d, target: target}
	c.outPid, err = d.Proc().SpawnHandler(func(_ *proc.Process, msg any) {
		if m, ok := msg.([]any); ok && len(m) == 3 && (m[0] == remshTag || m[0] == outputTag) {
			c.mu.Lock()
			if m[0] == outputTag { // a process's on another node, as to a group leader
				c.out.WriteString("[" + m[1].(string) + "] ")
			}
			c.out.WriteString(m[2].(string))
			c.mu.Unlock()
		}
	}, proc.SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *remshClient) open() (proc.Ref, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := c.d.RPC(ctx, c.target, "remsh.Open", c.outPid)
	ref, _ := v.(proc.Ref)
	return ref, err
}

func (c *remshClient) eval(ctx context.Context, ref proc.Ref, src string) (evalReply, error) {
	v, err := c.d.RPC(ctx, c.target, "remsh.Eval", ref, src)
	if err != nil {
		return evalReply{}, err
	}
	return evalReplyFrom(v)
}

func (c *remshClient) must(ref proc.Ref, src, want string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := c.eval(ctx, ref, src)
	if err != nil || r.Failure != "" || r.Value != want {
		c.t.Fatalf("%s: got %+v, %v; want %s", src, r, err, want)
	}
}

// waitUntil polls cond under a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

func remoteShellProcesses(n *proc.Node, client string) int {
	count := 0
	for _, in := range n.Processes() {
		if in.Label == "remote shell of "+client {
			count++
		}
	}
	return count
}

// A session keeps its variables between snippets, prints to its client,
// survives a cancelled snippet, and ends, with its shell process, when
// its client's node goes without closing it. Sessions per client are
// capped.
func TestRemoteShellSessions(t *testing.T) {
	port := freeEPMDPort(t)
	node2 := startShell(t, "rs2@localhost", port)
	node2.must(`func Compute(v int) int { return v * v }`, "")
	c := newRemshClient(t, "rc@localhost", "rs2@localhost")
	ref, err := c.open()
	if err != nil {
		t.Fatal(err)
	}
	c.must(ref, `x := 41`, "")
	c.must(ref, `x + 1`, "42")
	c.must(ref, `Compute(x)`, "1681") // node2's own declarations are there
	c.must(ref, `self().Node`, `"rs2@localhost"`)
	c.must(ref, `fmt.Println("printed there")`, "")
	waitUntil(t, "the output comes", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.out.String() == "printed there\n"
	})
	// A process the session spawns on a third node prints here too.
	startShell(t, "rs3@localhost", port)
	c.must(ref, `spawn("rs3@localhost", func() { fmt.Println("from", nodeName()) }) != self()`, "true")
	waitUntil(t, "the third node's output comes", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return strings.HasSuffix(c.out.String(), "[rs3@localhost] from rs3@localhost\n")
	})
	if got := node2.rt.dist.Nodes(); len(got) != 1 || got[0] != "rs3@localhost" { // the remsh node is hidden
		t.Fatalf("the remsh node is listed: %v", node2.rt.dist.Nodes())
	}

	// A cancelled rpc cancels the snippet; the session goes on.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.eval(ctx, ref, `for {}`)
		done <- err
	}()
	waitUntil(t, "the loop runs", func() bool { return sessionBusy(node2.rt.remote, ref) })
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the loop was not cancelled")
	}
	c.must(ref, `x`, "41")

	// The cap: DefaultMaxRemoteShellsPerPeer sessions per client.
	for i := 1; i < DefaultMaxRemoteShellsPerPeer; i++ {
		if _, err := c.open(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.open(); err == nil || !strings.Contains(err.Error(), "its limit") {
		t.Fatalf("a session over the cap: %v", err)
	}
	if got := remoteShellProcesses(node2.rt.node, "rc@localhost"); got != DefaultMaxRemoteShellsPerPeer {
		t.Fatalf("%d shell processes", got)
	}

	// The client's node goes: every session ends, shell processes included.
	c.d.Close()
	waitUntil(t, "the sessions end", func() bool { return node2.rt.remote.Sessions() == 0 })
	waitUntil(t, "their shell processes exit", func() bool { return remoteShellProcesses(node2.rt.node, "rc@localhost") == 0 })
}

// sessionBusy reports whether a snippet of the session runs.
func sessionBusy(s *RemoteShells, ref proc.Ref) bool {
	rs, err := s.session(ref)
	if err != nil {
		return false
	}
	if rs.evalMu.TryLock() {
		rs.evalMu.Unlock()
		return false
	}
	return true
}

// A Go program that embeds a node serves remote shells with
// ServeRemoteShell over its own function table; Close ends the sessions.
func TestServeRemoteShellEmbedded(t *testing.T) {
	t.Setenv("ERL_EPMD_PORT", freeEPMDPort(t))
	funcs := dist.NewFuncs()
	d, err := dist.Start(context.Background(), dist.Config{Name: "svc@localhost", Cookie: "c", Functions: funcs})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	halted := make(chan struct{})
	rs, err := ServeRemoteShell(d, funcs, RemoteShellOptions{MaxPerPeer: 1, Halt: func() { close(halted) }})
	if err != nil {
		t.Fatal(err)
	}
	c := newRemshClient(t, "rc2@localhost", "svc@localhost")
	ref, err := c.open()
	if err != nil {
		t.Fatal(err)
	}
	c.must(ref, `nodeName()`, `"svc@localhost"`)
	if _, err := c.open(); err == nil {
		t.Fatal("a second session past MaxPerPeer 1")
	}
	c.must(ref, `node.Halt()`, "") // System.halt() in iex --remsh: the node attached to halts
	<-halted
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	if n := rs.Sessions(); n != 0 {
		t.Fatalf("%d sessions after Close", n)
	}
	if got := remoteShellProcesses(d.Proc(), "rc2@localhost"); got != 0 {
		t.Fatalf("%d shell processes after Close", got)
	}
	if _, err := c.open(); err == nil {
		t.Fatal("a session after Close")
	}
}

// The remsh node's generated name: on the target's host when that is the
// loopback, else on this machine's host name of the target's kind.
func TestRemshName(t *testing.T) {
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	for target, wantHost := range map[string]string{
		"node2@localhost":        "localhost",
		"node2@127.0.0.1":        "127.0.0.1",
		"node2@somehost":         short,
		"node2@host.example.com": host,
		"node2@10.1.2.3":         host,
	} {
		name, err := RemshName(target)
		alive, h, _ := strings.Cut(name, "@")
		if err != nil || !strings.HasPrefix(alive, "remsh_") || len(alive) != len("remsh_")+8 || h != wantHost {
			t.Errorf("RemshName(%q) = %q, %v; want remsh_<8 hex>@%s", target, name, err, wantHost)
		}
	}
	if _, err := RemshName("node2"); err == nil {
		t.Error("RemshName of a name without a host")
	}
	a, _ := RemshName("n@localhost")
	b, _ := RemshName("n@localhost")
	if a == b {
		t.Errorf("two remsh names alike: %s", a)
	}
}
