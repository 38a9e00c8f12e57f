package erlang

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

const gonodeName = "gonode@localhost"

// startGonode starts a gonode node registered in erl's epmd, speaking the
// Erlang dialect, with testFuncs, the system processes and three of the
// test's own processes:
// echo answers {From, Msg} with {echoed, Msg}; calc, an otp.Server,
// answers the call {add, A, B} with A+B; victims answers {From,
// victim} with {victim, G}, G a new process it monitors, and sends the
// reason G ends with on died.
// connectAttached connects n to erl and attaches a process to n that
// ends with the test; the context it returns bounds the test's calls.
func connectAttached(t *testing.T, n *dist.Node, erl *erlNode, label string) (context.Context, *proc.Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := n.Connect(ctx, erl.name); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	a, err := n.Proc().Attach(proc.SpawnOptions{Label: label})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Exit(proc.Normal) })
	return ctx, a
}

func startGonode(t *testing.T, erl *erlNode, cookie string) (*dist.Node, *logBuf, chan any, *probe) {
	t.Helper()
	logs := &logBuf{}
	fns, pr := testFuncs(t)
	n, err := dist.Start(context.Background(), dist.Config{
		Name: gonodeName, Cookie: cookie, EPMDAddr: erl.epmd, Foreign: Protocol(), Logf: logs.logf,
		Functions: fns,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Close()
		if t.Failed() {
			t.Logf("gonode logged:\n%s", logs)
		}
	})
	pn := n.Proc()
	if err := StartSystem(pn, logs.logf); err != nil {
		t.Fatal(err)
	}
	_, err = pn.SpawnHandler(func(p *proc.Process, msg any) {
		if m, ok := msg.(etf.Tuple); ok && len(m) == 2 {
			if from, ok := m[0].(proc.Pid); ok {
				_ = p.Send(from, etf.Tuple{proc.Atom("echoed"), m[1]})
			}
		}
	}, proc.SpawnOptions{Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = otp.StartServerOn(pn, otp.Server{ // a gen_server of gonode's: {add, A, B} gives A+B
		Init: func(*proc.Process, any) (any, error) { return nil, nil },
		HandleCall: func(_ *proc.Process, req any, _ proc.CallRequest, st any) (any, any, error) {
			if t, ok := req.(etf.Tuple); ok && len(t) == 3 && t[0] == proc.Atom("add") {
				a, _ := t[1].(int)
				b, _ := t[2].(int)
				return a + b, st, nil
			}
			return proc.Atom("badreq"), st, nil
		},
	}, nil, otp.ServerOptions{Name: "calc"})
	if err != nil {
		t.Fatal(err)
	}
	died := make(chan any, 4)
	_, err = pn.SpawnHandler(func(p *proc.Process, msg any) {
		switch m := msg.(type) {
		case proc.DownMsg:
			died <- m.Reason
		case etf.Tuple:
			from, _ := m[0].(proc.Pid)
			g, _, err := p.SpawnOpt(func(q *proc.Process) {
				for {
					if _, err := q.Receive(q.Context()); err != nil {
						return
					}
				}
			}, proc.SpawnOptions{Monitor: true})
			if err == nil {
				_ = p.Send(from, etf.Tuple{proc.Atom("victim"), g})
			}
		}
	}, proc.SpawnOptions{Name: "victims"})
	if err != nil {
		t.Fatal(err)
	}
	return n, logs, died, pr
}

// TestRealNode runs the checks of a first working slice against one real
// OTP node: from erl (it dials gonode), then from Go (gonode dials it, by
// its port mapper entry), then a wrong cookie.
func TestRealNode(t *testing.T) {
	const cookie = "slice_cookie_42"
	erl := startErl(t, cookie)
	n, logs, died, _ := startGonode(t, erl, cookie)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The real epmd keeps gonode's mark, and erl's entry has none.
	if e, err := epmd.Lookup(ctx, erl.epmd, "gonode"); err != nil || !e.IsGonode() {
		t.Fatalf("gonode's entry in the real epmd: %+v, %v; want Extra %q", e, err, epmd.GonodeExtra)
	}
	if e, err := epmd.Lookup(ctx, erl.epmd, "x"); err != nil || e.IsGonode() {
		t.Fatalf("erl's entry: %+v, %v; want no gonode mark", e, err)
	}

	t.Run("from erl", func(t *testing.T) {
		if got := erl.run(t, "connect", gonodeName); got != "true" {
			t.Fatalf("net_kernel:connect_node = %s, want true", got)
		}
		erl.expect(t, "nodeup "+gonodeName)
		if got := erl.run(t, "nodes", gonodeName); got != "true" {
			t.Errorf("gonode in nodes(): %s", got)
		}
		if got := erl.run(t, "ping", gonodeName); got != "pong" {
			t.Errorf("net_adm:ping = %s, want pong", got)
		}
		if got := erl.run(t, "echo", gonodeName); got != `{hello,42,<<"bin">>}` {
			t.Errorf("echo replied %s", got)
		}
		if got := erl.run(t, "missing", gonodeName); got != "{{missing,gonode@localhost},noproc}" {
			t.Errorf("monitor of a missing name: %s", got)
		}
		// gen_server:call (GenServer.call) into a gonode process that
		// answers calls, and to a name gonode lacks.
		if got := erl.run(t, "gencall", gonodeName); got != "{3,{'EXIT',{noproc,{gen_server,call,[{missing,gonode@localhost},x]}}}}" {
			t.Errorf("gen_server:call into gonode: %s", got)
		}
		// rpc:call and erpc:call of erlang:node (answered by the codec):
		// more in TestRealNodeRPC.
		if got, want := erl.run(t, "rpc", gonodeName), "{"+gonodeName+","+gonodeName+"}"; got != want {
			t.Errorf("rpc:call and erpc:call of erlang:node on gonode: %s, want %s", got, want)
		}
		// A BEAM process linked to a gonode process that erl kills dies
		// with killed, and the gonode process with killed too.
		if got := erl.run(t, "killremote", gonodeName); got != "killed" {
			t.Errorf("the linked BEAM process ended with %s, want killed", got)
		}
		select {
		case r := <-died:
			if r != proc.Killed {
				t.Errorf("the gonode process ended with %v, want killed", r)
			}
		case <-ctx.Done():
			t.Fatal("the gonode process killed by erl did not end")
		}
		if got := erl.run(t, "disconnect", gonodeName); got != "true" {
			t.Fatalf("disconnect_node = %s", got)
		}
		erl.expect(t, "nodedown "+gonodeName)
		waitUntil(t, "gonode to see the connection go", func() bool { return len(n.Nodes()) == 0 })
	})

	t.Run("from go", func(t *testing.T) {
		if err := n.Connect(ctx, erl.name); err != nil {
			t.Fatalf("Connect: %v", err)
		}
		erl.expect(t, "nodeup "+gonodeName)
		if !slices.Contains(n.Nodes(), erl.name) {
			t.Errorf("Nodes() = %v", n.Nodes())
		}
		a, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Exit(proc.Normal)
		responder := proc.Name{Name: "responder", Node: erl.name}
		call := func(msg any) any {
			t.Helper()
			if err := a.SendName(responder, etf.Tuple{a.Pid(), msg}); err != nil {
				t.Fatal(err)
			}
			r, err := a.ReceiveTimeout(5 * time.Second)
			if err != nil {
				t.Fatalf("no answer from responder: %v", err)
			}
			return r
		}
		if r, ok := call("hi").(etf.Tuple); !ok || len(r) != 2 || r[0] != proc.Atom("reply") || r[1] != "hi" {
			t.Errorf("responder answered %#v, want {reply, <<\"hi\">>}", r)
		}
		victim := func() proc.Pid {
			t.Helper()
			r, _ := call(proc.Atom("spawn_victim")).(etf.Tuple)
			if len(r) != 2 || r[0] != proc.Atom("victim") {
				t.Fatalf("spawn_victim answered %#v", r)
			}
			pid, ok := r[1].(proc.Pid)
			if !ok || pid.Node != erl.name {
				t.Fatalf("victim %#v is not a pid of %s", r[1], erl.name)
			}
			return pid
		}

		// A monitor of a BEAM process sees it end.
		v := victim()
		ref := a.Monitor(v)
		if err := a.Send(v, proc.Atom("stop")); err != nil {
			t.Fatal(err)
		}
		expectDown(t, a, ref, v, proc.Normal)
		// A monitor of a name the BEAM node lacks: noproc.
		ref = a.MonitorName(proc.Name{Name: "nosuch", Node: erl.name})
		expectDown(t, a, ref, proc.Pid{}, proc.NoProc)

		// A gonode process linked to a BEAM process that gonode kills gets
		// {'EXIT', V, killed}.
		a.TrapExit(true)
		v = victim()
		if err := a.Link(v); err != nil {
			t.Fatal(err)
		}
		if err := n.Proc().Exit(v, proc.Kill); err != nil {
			t.Fatal(err)
		}
		m, err := a.ReceiveTimeout(5 * time.Second)
		if x, ok := m.(proc.ExitMsg); err != nil || !ok || x.From != v || x.Reason != proc.Killed {
			t.Errorf("linked process got %#v, %v; want the exit of %v with killed", m, err, v)
		}
	})

	t.Run("wrong cookie", func(t *testing.T) {
		if got := erl.run(t, "disconnect", gonodeName); got != "true" {
			t.Fatalf("disconnect_node = %s", got)
		}
		waitUntil(t, "gonode to see the connection go", func() bool { return len(n.Nodes()) == 0 })
		if got := erl.run(t, "badcookie", gonodeName); got != "false" {
			t.Fatalf("connect_node with a wrong cookie = %s, want false", got)
		}
		var line string
		waitUntil(t, "gonode to log the refused cookie", func() bool {
			var ok bool
			line, ok = logs.find("cookie")
			return ok
		})
		if !strings.Contains(line, erl.name) || strings.Contains(line, "wrong_cookie_zz") || strings.Contains(line, cookie) {
			t.Errorf("log line %q: want the peer's name and no cookie", line)
		}
	})
}

func expectDown(t *testing.T, a *proc.Process, ref proc.Ref, pid proc.Pid, reason any) {
	t.Helper()
	m, err := a.ReceiveTimeout(5 * time.Second)
	d, ok := m.(proc.DownMsg)
	if err != nil || !ok || d.Ref != ref || d.Reason != reason || (!pid.IsZero() && d.Pid != pid) {
		t.Errorf("got %#v, %v; want DOWN %v of %v with %v", m, err, ref, pid, reason)
	}
}
