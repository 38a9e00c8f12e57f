package otp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// The tests below check the server behaviour against what Elixir 1.14 on
// OTP 25 does; each names the GenServer behaviour it mirrors. None of them
// sleeps: they wait for messages or channels, and serverWait only bounds
// such a wait so that a failure ends the test instead of hanging it.

const serverWait = 10 * time.Second

var serverNodeSeq atomic.Int64

// serverNode is a node of the test's own, with a crash reporter that puts
// every report on the returned channel (buffered, so that it never blocks
// a dying process). The node is stopped when the test ends.
func serverNode(t testing.TB) (*proc.Node, chan proc.CrashReport) {
	t.Helper()
	n, err := proc.NewNode(fmt.Sprintf("server%d@localhost", serverNodeSeq.Add(1)), 1)
	if err != nil {
		t.Fatal(err)
	}
	reports := make(chan proc.CrashReport, 100)
	n.SetCrashReporter(func(r proc.CrashReport) { reports <- r })
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), serverWait)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("node stop: %v", err)
		}
	})
	return n, reports
}

// serverSelf is the test's own process, attached to the test goroutine.
func serverSelf(t testing.TB, n *proc.Node) *proc.Process {
	t.Helper()
	p, err := n.Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Exit(proc.Normal) })
	return p
}

// serverDown waits for the DownMsg of monitor ref.
func serverDown(t testing.TB, p *proc.Process, ref proc.Ref) proc.DownMsg {
	t.Helper()
	m, err := p.ReceiveMatchTimeout(serverWait, func(m any) bool {
		d, ok := m.(proc.DownMsg)
		return ok && d.Ref == ref
	})
	if err != nil {
		t.Fatalf("waiting for DOWN: %v", err)
	}
	return m.(proc.DownMsg)
}

// serverRecv waits for a value on c.
func serverRecv[T any](t testing.TB, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(serverWait):
		t.Fatalf("nothing on the channel after %v", serverWait)
		panic("unreachable")
	}
}

// counter is a server holding an int: call "get" answers it, call "inc"
// and cast "inc" add one, call "fail"/"panic"/"stop" stop it in their ways,
// any info message is counted too. Terminate reasons go to terms.
func counter(terms chan<- any) otp.Server {
	return otp.Server{
		Init: func(p *proc.Process, arg any) (any, error) {
			return arg.(int), nil
		},
		HandleCall: func(p *proc.Process, req any, from proc.CallRequest, state any) (any, any, error) {
			n := state.(int)
			switch req {
			case "get":
				return n, n, nil
			case "inc":
				return n + 1, n + 1, nil
			case "fail":
				return nil, n, errBoom
			case "panic":
				panic("handler boom")
			case "stop":
				return "bye", n, otp.ServerExit{Reason: proc.Normal}
			case "self":
				_, err := otp.ServerCall(p, p.Pid(), "get", serverWait)
				return err, n, nil
			}
			return nil, n, fmt.Errorf("unknown request %v", req)
		},
		HandleCast: func(p *proc.Process, msg any, state any) (any, error) {
			if msg == "inc" {
				return state.(int) + 1, nil
			}
			return state, nil
		},
		HandleInfo: func(p *proc.Process, msg any, state any) (any, error) {
			return state.(int) + 100, nil
		},
		Terminate: func(p *proc.Process, reason any, state any) {
			if terms != nil {
				terms <- reason
			}
		},
	}
}

var errBoom = errors.New("boom")

// GenServer.start_link with init/1 returning {:ok, state}: the pid comes
// back once init has run, linked to the caller; calls see the state.
func TestServerInitAndCall(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	pid, err := otp.StartServer(p, counter(nil), 41, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := n.Info(pid)
	if len(info.Links) != 1 || info.Links[0] != p.Pid() {
		t.Fatalf("server links %v, want the starter %v", info.Links, p.Pid())
	}
	if v, err := otp.ServerCall(p, pid, "inc", serverWait); err != nil || v != 42 {
		t.Fatalf("call inc = %v, %v; want 42", v, err)
	}
	if v, err := otp.ServerCall(p, pid, "get", serverWait); err != nil || v != 42 {
		t.Fatalf("call get = %v, %v; want 42", v, err)
	}
}

// GenServer.start (no link) from outside any process, and a nil Init,
// which takes the argument as the state.
func TestServerStartOnNode(t *testing.T) {
	n, _ := serverNode(t)
	s := counter(nil)
	s.Init = nil
	pid, err := otp.StartServerOn(n, s, 7, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := n.Info(pid); len(info.Links) != 0 {
		t.Fatalf("server links %v, want none", info.Links)
	}
	p := serverSelf(t, n)
	if v, err := otp.ServerCall(p, pid, "get", serverWait); err != nil || v != 7 {
		t.Fatalf("call get = %v, %v; want 7", v, err)
	}
	if _, err := otp.StartServer(nil, s, 7, otp.ServerOptions{}); err == nil {
		t.Fatal("StartServer with a nil parent succeeded")
	}
}

// GenServer.start_link with init/1 returning {:stop, reason}: start_link
// returns {:error, reason} and the process exits with reason. OTP 25 also
// kills a caller that does not trap exits (elixir printed "caller DOWN
// :bad_init" and never "start_link returned"); here the server unlinks
// first, so the caller lives and, trapping, gets no EXIT message.
func TestServerInitError(t *testing.T) {
	n, _ := serverNode(t)
	for _, trap := range []bool{false, true} {
		p := serverSelf(t, n)
		p.TrapExit(trap)
		self := make(chan proc.Pid, 1)
		s := otp.Server{Init: func(sp *proc.Process, arg any) (any, error) {
			self <- sp.Pid()
			return nil, errBoom
		}}
		_, err := otp.StartServer(p, s, nil, otp.ServerOptions{})
		if !errors.Is(err, errBoom) {
			t.Fatalf("start: %v, want %v", err, errBoom)
		}
		d := serverDown(t, p, p.Monitor(serverRecv(t, self)))
		if d.Reason != errBoom && d.Reason != proc.NoProc {
			t.Fatalf("server exited with %v, want %v", d.Reason, errBoom)
		}
		if !p.Alive() {
			t.Fatal("the starter died of its server's failed init")
		}
		if ms := p.Flush(); len(ms) != 0 {
			t.Fatalf("starter's mailbox %v, want empty (no EXIT)", ms)
		}
	}
}

// GenServer.start_link with init/1 raising: {:error, {exception,
// stacktrace}} (elixir printed start_link returned {:error,
// {%RuntimeError{message: "boom in init"}, [...]}}). Here: a
// *proc.ExitError carrying the proc.PanicReason.
func TestServerInitPanic(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	s := otp.Server{Init: func(*proc.Process, any) (any, error) { panic("init boom") }}
	_, err := otp.StartServer(p, s, nil, otp.ServerOptions{})
	var ee *proc.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("start: %v, want a *proc.ExitError", err)
	}
	if pr, ok := ee.Reason.(proc.PanicReason); !ok || pr.Value != "init boom" {
		t.Fatalf("reason %#v, want the panic", ee.Reason)
	}
	if !p.Alive() {
		t.Fatal("the starter died of its server's init panic")
	}
}

// GenServer.start_link's :timeout option: past it the server is killed
// and start_link returns {:error, :timeout}; the kill does not reach the
// caller through the link.
func TestServerInitTimeout(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	self := make(chan proc.Pid, 1)
	s := otp.Server{Init: func(sp *proc.Process, arg any) (any, error) {
		self <- sp.Pid()
		_, err := sp.Receive(nil) // nothing comes: waits until killed
		return nil, err
	}}
	_, err := otp.StartServer(p, s, nil, otp.ServerOptions{InitTimeout: time.Millisecond})
	if !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("start: %v, want a timeout", err)
	}
	pid := serverRecv(t, self)
	if d := serverDown(t, p, p.Monitor(pid)); d.Reason != proc.NoProc && d.Reason != proc.Killed {
		t.Fatalf("server ended with %v, want killed", d.Reason)
	}
	if !p.Alive() {
		t.Fatal("the starter was killed with its server")
	}
}

// GenServer.call with a timeout the server does not meet: the caller
// exits {:timeout, {GenServer, :call, ...}} (elixir printed call 0 exit:
// {:timeout, {GenServer, :call, [...]}}); here ServerCall returns
// proc.ErrTimeout and the server carries on. The request is left
// unanswered with ServerNoReply, then answered with ServerReply
// (GenServer.reply), which reaches a call still waiting.
func TestServerCallTimeoutAndDeferredReply(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	pending := make(chan proc.CallRequest, 2)
	s := otp.Server{
		HandleCall: func(sp *proc.Process, req any, from proc.CallRequest, state any) (any, any, error) {
			if req == "later" {
				pending <- from
				return otp.ServerNoReply, state, nil
			}
			return req, state, nil
		},
	}
	pid, err := otp.StartServer(p, s, nil, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otp.ServerCall(p, pid, "later", time.Millisecond); !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("call: %v, want a timeout", err)
	}
	<-pending
	if v, err := otp.ServerCall(p, pid, "echo", serverWait); err != nil || v != "echo" {
		t.Fatalf("server no longer answers: %v, %v", v, err)
	}

	// A deferred reply, made by another process.
	done := make(chan any, 1)
	_, err = p.Spawn(func(c *proc.Process) {
		v, err := otp.ServerCall(c, pid, "later", serverWait)
		if err != nil {
			v = err
		}
		done <- v
	})
	if err != nil {
		t.Fatal(err)
	}
	from := serverRecv(t, pending)
	if err := otp.ServerReply(p, from, "answered"); err != nil {
		t.Fatal(err)
	}
	if v := serverRecv(t, done); v != "answered" {
		t.Fatalf("deferred call got %v", v)
	}
}

// GenServer.cast and handle_info: a cast reaches handle_cast, any other
// message handle_info, in the order sent. A cast from outside any process
// (the node) works as GenServer.cast from anywhere does.
func TestServerCastAndInfo(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	pid, err := otp.StartServer(p, counter(nil), 0, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := otp.ServerCast(p, pid, "inc"); err != nil {
		t.Fatal(err)
	}
	if err := otp.ServerCast(n, pid, "inc"); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(pid, "plain message"); err != nil {
		t.Fatal(err)
	}
	if v, err := otp.ServerCall(p, pid, "get", serverWait); err != nil || v != 102 {
		t.Fatalf("get = %v, %v; want 2 casts + 1 info = 102", v, err)
	}
	if err := otp.ServerCast(p, 42, "inc"); err == nil {
		t.Fatal("cast to an int succeeded")
	}
}

// GenServer.stop: terminate/2 runs with the reason, and stop returns :ok
// once the server has exited (elixir printed "terminate :whatever
// state=0", then "stop: :ok"). A second stop of the dead server exits
// {:noproc, ...}; here it returns an error wrapping proc.ErrNoProc. An
// abnormal reason is logged ("GenServer ... terminating ** (stop)
// :whatever"): here reported to the node's crash reporter; a normal one
// is not.
func TestServerStopRunsTerminate(t *testing.T) {
	n, reports := serverNode(t)
	p := serverSelf(t, n)
	terms := make(chan any, 4)
	pid, err := otp.StartServer(p, counter(terms), 0, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := p.Monitor(pid)
	if err := otp.ServerStop(p, pid, proc.Normal, serverWait); err != nil {
		t.Fatal(err)
	}
	if r := serverRecv(t, terms); r != proc.Normal {
		t.Fatalf("terminate got %v", r)
	}
	if d := serverDown(t, p, ref); d.Reason != proc.Normal {
		t.Fatalf("exit %v", d.Reason)
	}
	if err := otp.ServerStop(p, pid, proc.Normal, serverWait); !errors.Is(err, proc.ErrNoProc) {
		t.Fatalf("stop of a dead server: %v, want noproc", err)
	}

	pid, err = otp.StartServer(p, counter(terms), 0, otp.ServerOptions{NoLink: true})
	if err != nil {
		t.Fatal(err)
	}
	whatever := proc.Atom("whatever")
	if err := otp.ServerStop(p, pid, whatever, serverWait); err != nil {
		t.Fatal(err)
	}
	if r := serverRecv(t, terms); r != whatever {
		t.Fatalf("terminate got %v", r)
	}
	r := serverRecv(t, reports)
	if r.Pid != pid || r.Reason != whatever || !strings.Contains(r.Function, "counter") {
		t.Fatalf("crash report %+v", r)
	}
	if err := otp.ServerStop(p, p.Pid(), proc.Normal, serverWait); !errors.Is(err, proc.ErrCallingSelf) {
		t.Fatalf("stop of self: %v", err)
	}
}

// handle_call returning {:stop, reason, reply, state}: the reply is sent,
// then terminate/2 runs and the server exits (elixir printed "terminate
// :normal state=0", "reply: :bye"). Here: a ServerExit error with a reply.
func TestServerExitWithReply(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	terms := make(chan any, 1)
	pid, err := otp.StartServer(p, counter(terms), 0, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := p.Monitor(pid)
	if v, err := otp.ServerCall(p, pid, "stop", serverWait); err != nil || v != "bye" {
		t.Fatalf("call stop = %v, %v", v, err)
	}
	if r := serverRecv(t, terms); r != proc.Normal {
		t.Fatalf("terminate got %v", r)
	}
	if d := serverDown(t, p, ref); d.Reason != proc.Normal {
		t.Fatalf("exit %v", d.Reason)
	}
}

// A callback's failure ({:stop, reason, state}): the server runs
// terminate/2 and exits with the reason; the caller of the call that
// failed sees the exit (GenServer.call exits with the server's reason;
// here ServerCall returns a *proc.ExitError). The starter, linked and not
// trapping, dies of the same reason, as with start_link.
func TestServerHandlerErrorStopsIt(t *testing.T) {
	n, reports := serverNode(t)
	p := serverSelf(t, n)
	p.TrapExit(true) // to see the link fire rather than die of it
	terms := make(chan any, 1)
	pid, err := otp.StartServer(p, counter(terms), 0, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = otp.ServerCall(p, pid, "fail", serverWait)
	var ee *proc.ExitError
	if !errors.As(err, &ee) || ee.Reason != errBoom {
		t.Fatalf("call fail: %v, want an exit with %v", err, errBoom)
	}
	if r := serverRecv(t, terms); r != errBoom {
		t.Fatalf("terminate got %v", r)
	}
	m, err := p.ReceiveMatchTimeout(serverWait, func(m any) bool { _, ok := m.(proc.ExitMsg); return ok })
	if err != nil || m.(proc.ExitMsg).Reason != errBoom || m.(proc.ExitMsg).From != pid {
		t.Fatalf("starter got %v, %v; want the EXIT of the server with %v", m, err, errBoom)
	}
	if r := serverRecv(t, reports); r.Pid != pid || r.Reason != errBoom {
		t.Fatalf("crash report %+v", r)
	}
}

// A raise in handle_call: terminate/2 runs with {exception, stacktrace}
// (elixir printed "terminate {%RuntimeError{message: "boom in call"},
// ...} state=0"), the server exits with that reason and the caller's call
// exits with it. Here the reason is a proc.PanicReason, reported once,
// by proc.
func TestServerHandlerPanic(t *testing.T) {
	n, reports := serverNode(t)
	p := serverSelf(t, n)
	terms := make(chan any, 1)
	pid, err := otp.StartServer(p, counter(terms), 0, otp.ServerOptions{NoLink: true})
	if err != nil {
		t.Fatal(err)
	}
	ref := p.Monitor(pid)
	_, err = otp.ServerCall(p, pid, "panic", serverWait)
	var ee *proc.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("call panic: %v, want an exit", err)
	}
	pr, ok := ee.Reason.(proc.PanicReason)
	if !ok || pr.Value != "handler boom" || !strings.Contains(pr.StackText(), "counter") {
		t.Fatalf("reason %#v, want the handler's panic with its stack", ee.Reason)
	}
	if r, ok := serverRecv(t, terms).(proc.PanicReason); !ok || r.Value != "handler boom" {
		t.Fatalf("terminate got %v", r)
	}
	if d := serverDown(t, p, ref); d.Reason.(proc.PanicReason).Value != "handler boom" {
		t.Fatalf("exit %v", d.Reason)
	}
	if r := serverRecv(t, reports); r.Pid != pid {
		t.Fatalf("crash report %+v", r)
	}
}

// A server trapping exits whose parent exits terminates with the parent's
// reason, whatever it is (elixir, trap_exit true, parent exits :boom:
// "terminate :boom", "server DOWN :boom"; parent exits :normal:
// "terminate :normal", "server DOWN :normal"). Not trapping, it dies of
// the signal without terminate/2 ("server DOWN :boom" alone), and a
// normal exit of the parent leaves it running. An EXIT from another link
// reaches handle_info (elixir: "info {:EXIT, #PID<...>, :other}").
func TestServerParentExit(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	for _, c := range []struct {
		trap          bool
		reason        any
		wantTerminate bool
	}{
		{true, proc.Atom("boom"), true},
		{true, proc.Normal, true},
		{true, proc.Shutdown, true},
		{false, proc.Atom("boom"), false},
	} {
		terms := make(chan any, 1)
		spid := make(chan proc.Pid, 1)
		parent, err := p.Spawn(func(pp *proc.Process) {
			pid, err := otp.StartServer(pp, counter(terms), 0, otp.ServerOptions{TrapExit: c.trap})
			if err != nil {
				panic(err)
			}
			spid <- pid
			_, _ = pp.Receive(nil)
			pp.Exit(c.reason)
		})
		if err != nil {
			t.Fatal(err)
		}
		pid := serverRecv(t, spid)
		ref := p.Monitor(pid)
		_ = p.Send(parent, "go")
		if d := serverDown(t, p, ref); d.Reason != c.reason {
			t.Fatalf("trap %v, parent exits %v: server exited with %v", c.trap, c.reason, d.Reason)
		}
		select {
		case r := <-terms:
			if !c.wantTerminate || r != c.reason {
				t.Fatalf("trap %v, parent exits %v: terminate got %v", c.trap, c.reason, r)
			}
		default: // Terminate runs before the exit: it ran or it never will
			if c.wantTerminate {
				t.Fatalf("trap %v, parent exits %v: no terminate", c.trap, c.reason)
			}
		}
	}

	// Trapping, an EXIT from a link other than the parent is info.
	pid, err := otp.StartServer(p, counter(nil), 0, otp.ServerOptions{TrapExit: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.Spawn(func(o *proc.Process) {
		if err := o.Link(pid); err != nil {
			panic(err)
		}
		o.Exit(proc.Atom("other"))
	})
	if err != nil {
		t.Fatal(err)
	}
	serverDown(t, p, p.Monitor(other))
	if v, err := otp.ServerCall(p, pid, "get", serverWait); err != nil || v != 100 {
		t.Fatalf("get = %v, %v; want 100 (one info)", v, err)
	}
}

// GenServer's name: option: the server is reached by name (call, cast,
// stop); a second start under the name fails ({:error,
// {:already_started, pid}} in elixir; here an error wrapping
// proc.ErrNameTaken).
func TestServerByName(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	pid, err := otp.StartServer(p, counter(nil), 1, otp.ServerOptions{Name: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Whereis("counter"); got != pid {
		t.Fatalf("counter is %v, want %v", got, pid)
	}
	if err := otp.ServerCast(p, "counter", "inc"); err != nil {
		t.Fatal(err)
	}
	if v, err := otp.ServerCall(p, "counter", "inc", serverWait); err != nil || v != 3 {
		t.Fatalf("call by name = %v, %v; want 3", v, err)
	}
	if v, err := otp.ServerCall(p, proc.Name{Name: "counter", Node: n.Name()}, "get", serverWait); err != nil || v != 3 {
		t.Fatalf("call by {name, node} = %v, %v; want 3", v, err)
	}
	if _, err := otp.StartServer(p, counter(nil), 1, otp.ServerOptions{Name: "counter"}); !errors.Is(err, proc.ErrNameTaken) {
		t.Fatalf("second start: %v, want name taken", err)
	}
	if err := otp.ServerStop(p, "counter", proc.Normal, serverWait); err != nil {
		t.Fatal(err)
	}
	if _, err := otp.ServerCall(p, "counter", "get", serverWait); !errors.Is(err, proc.ErrNoProc) {
		t.Fatalf("call to a stopped name: %v, want noproc", err)
	}
	if err := otp.ServerCast(p, "counter", "inc"); !errors.Is(err, proc.ErrNotRegistered) {
		t.Fatalf("cast to a stopped name: %v, want not registered", err)
	}
	// A stop request would not cross to another node as itself: refused.
	if err := otp.ServerStop(p, proc.Name{Name: "counter", Node: "other@localhost"}, proc.Normal, serverWait); err == nil {
		t.Fatal("stop of a server of another node by name succeeded")
	}
	if err := otp.ServerStop(p, proc.Pid{Node: "other@localhost", ID: 1}, proc.Normal, serverWait); err == nil {
		t.Fatal("stop of a server of another node by pid succeeded")
	}
}

// A module with no handle_call: a call crashes the server ("attempted to
// call GenServer ... but no handle_call/3 clause was provided"), as does a
// cast without handle_cast; an info without handle_info is logged and the
// server lives on (elixir: "after info alive? true").
func TestServerDefaultHandlers(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	pid, err := otp.StartServer(p, otp.Server{}, nil, otp.ServerOptions{NoLink: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Send(pid, "unexpected") // logged, dropped
	_, err = otp.ServerCall(p, pid, "x", serverWait)
	var ee *proc.ExitError
	if !errors.As(err, &ee) || !errors.Is(ee.Reason.(error), otp.ErrServerNoHandler) {
		t.Fatalf("call without HandleCall: %v", err)
	}

	pid, err = otp.StartServer(p, otp.Server{}, nil, otp.ServerOptions{NoLink: true})
	if err != nil {
		t.Fatal(err)
	}
	ref := p.Monitor(pid)
	_ = otp.ServerCast(p, pid, "x")
	if d := serverDown(t, p, ref); !errors.Is(d.Reason.(error), otp.ErrServerNoHandler) {
		t.Fatalf("cast without HandleCast: exit %v", d.Reason)
	}
}

// A server calling itself: GenServer.call exits with :calling_self; here
// the call returns proc.ErrCallingSelf and the server goes on.
func TestServerCallingSelf(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	pid, err := otp.StartServer(p, counter(nil), 0, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := otp.ServerCall(p, pid, "self", serverWait)
	if err != nil || !errors.Is(v.(error), proc.ErrCallingSelf) {
		t.Fatalf("self call: %v, %v", v, err)
	}
}

// A server as a supervisor's child (a worker child spec of a GenServer):
// the starter runs on the supervisor process, returns the server linked
// to it, and the supervisor, not the node, reports its crashes. A child
// on another node cannot be a Go closure.
func TestServerStarter(t *testing.T) {
	n, reports := serverNode(t)
	sup := serverSelf(t, n)
	sup.TrapExit(true)
	start := otp.ServerStarter(counter(nil), 5, otp.ServerOptions{Name: "child"})
	pid, err := start(sup, n.Name())
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := n.Info(pid); len(info.Links) != 1 || info.Links[0] != sup.Pid() || info.Name != "child" {
		t.Fatalf("child info %+v", info)
	}
	if _, err := otp.ServerCall(sup, pid, "fail", serverWait); err == nil {
		t.Fatal("fail call succeeded")
	}
	m, err := sup.ReceiveMatchTimeout(serverWait, func(m any) bool { _, ok := m.(proc.ExitMsg); return ok })
	if err != nil || m.(proc.ExitMsg).Reason != errBoom {
		t.Fatalf("supervisor got %v, %v", m, err)
	}
	if _, err := start(sup, "elsewhere@localhost"); err == nil {
		t.Fatal("started a Go server on another node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), serverWait)
	defer cancel()
	if err := n.Stop(ctx); err != nil { // waits for every report
		t.Fatal(err)
	}
	select {
	case r := <-reports:
		t.Fatalf("a supervised server's exit was reported by the node: %+v", r)
	default:
	}
}

// A normal stop is not a crash: after the node has stopped, which waits
// for every report, none was made.
func TestServerNormalStopIsNotReported(t *testing.T) {
	n, reports := serverNode(t)
	p := serverSelf(t, n)
	for _, reason := range []any{proc.Normal, proc.Shutdown, otp.ShutdownReason{Detail: "done"}} {
		pid, err := otp.StartServer(p, counter(nil), 0, otp.ServerOptions{NoLink: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := otp.ServerStop(p, pid, reason, serverWait); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), serverWait)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reports:
		t.Fatalf("orderly stop reported: %+v", r)
	default:
	}
}

// A GenServer under a Supervisor (a :permanent worker started with
// start_link): a server that fails is restarted with a fresh state under
// its name, and when the supervisor stops, a server trapping exits gets
// :shutdown from its parent and runs terminate/2 with it.
func TestServerUnderSupervisor(t *testing.T) {
	n, _ := serverNode(t)
	otp.SetReporter(n, func(otp.Event) {}) // restarts are expected: quiet
	t.Cleanup(func() { otp.SetReporter(n, nil) })
	p := serverSelf(t, n)
	terms := make(chan any, 4)
	inits := make(chan proc.Pid, 4)
	s := counter(terms)
	s.Init = func(sp *proc.Process, arg any) (any, error) {
		inits <- sp.Pid()
		return arg, nil
	}
	spec := otp.ChildSpec{ID: "counter", Start: otp.ServerStarter(s, 0, otp.ServerOptions{Name: "counter", TrapExit: true})}
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	first := serverRecv(t, inits)
	if v, err := otp.ServerCall(p, "counter", "inc", serverWait); err != nil || v != 1 {
		t.Fatalf("inc = %v, %v", v, err)
	}
	if _, err := otp.ServerCall(p, "counter", "fail", serverWait); err == nil {
		t.Fatal("fail call succeeded")
	}
	if r := serverRecv(t, terms); r != errBoom {
		t.Fatalf("terminate got %v", r)
	}
	second := serverRecv(t, inits)
	if second == first {
		t.Fatal("not restarted")
	}
	if v, err := otp.ServerCall(p, "counter", "get", serverWait); err != nil || v != 0 {
		t.Fatalf("restarted server's state = %v, %v; want a fresh 0", v, err)
	}
	if err := otp.StopSupervisor(p, sup, proc.Normal); err != nil {
		t.Fatal(err)
	}
	if r := serverRecv(t, terms); r != proc.Shutdown {
		t.Fatalf("terminate got %v, want shutdown from the supervisor", r)
	}
}
