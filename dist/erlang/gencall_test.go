package erlang

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// A CallRequest of this node goes out as gen:call's message with a plain
// ref, and gen:reply's {Ref, Reply} to it comes back as the CallReply;
// the same tuple with a ref of no call in flight, or a second time,
// stays data, and a DOWN of the call's monitor forgets it.
func TestGenCallOut(t *testing.T) {
	c := newTestCodec()
	req := proc.CallRequest{From: pidG, Ref: refG, Request: etf.Tuple{proc.Atom("is_auth"), proc.Atom(self)}}
	frame, err := c.Encode(nil, &dist.Message{Kind: dist.KindRegSend, From: pidG, To: proc.Pid{Node: peer}, ToName: "net_kernel", Payload: req})
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := etf.Decode(frame[1:])
	got, _, _ := etf.Decode(rest)
	wref := c.refs.toWire(refG)
	want := etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{pidToWire(pidG), wref}, etf.Tuple{etf.Atom("is_auth"), etf.Atom(self)}}
	if !etf.Equal(got, want) {
		t.Fatalf("gen_call out: %#v, want %#v", got, want)
	}

	send := func(msg any) any {
		t.Helper()
		m, err := c.Decode(packetOf(t, etf.Tuple{int64(opSendSender), pidToWire(pidB), pidToWire(pidG)}, msg))
		if err != nil {
			t.Fatal(err)
		}
		return m.Payload
	}
	other := wref
	other.ID[0]++
	if p := send(etf.Tuple{other, etf.Atom("yes")}); reflect.TypeOf(p) != reflect.TypeOf(etf.Tuple{}) {
		t.Errorf("a reply to no call in flight: %#v, want the tuple", p)
	}
	if p := send(etf.Tuple{wref, etf.Atom("yes")}); !reflect.DeepEqual(p, proc.CallReply{Ref: refG, Reply: proc.Atom("yes")}) {
		t.Errorf("gen:reply: %#v, want the CallReply", p)
	}
	if p := send(etf.Tuple{wref, etf.Atom("yes")}); reflect.TypeOf(p) != reflect.TypeOf(etf.Tuple{}) {
		t.Errorf("a second reply: %#v, want the tuple", p)
	}

	// The callee's DOWN ends the call: a reply after it is data.
	if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindSend, From: pidG, To: pidB, Payload: req}); err != nil {
		t.Fatal(err)
	}
	down := packetOf(t, etf.Tuple{int64(opMonitorEx), pidToWire(pidB), pidToWire(pidG), wref, etf.Atom("noproc")})
	if m, err := c.Decode(down); err != nil || m.Kind != dist.KindDown {
		t.Fatalf("DOWN: %#v, %v", m, err)
	}
	if c.calls.len() != 0 {
		t.Errorf("%d calls in flight after the DOWN, want 0", c.calls.len())
	}
}

// The table of calls in flight stays bounded: the oldest go first.
func TestGenCallsBound(t *testing.T) {
	var g genCalls
	ref := func(i int) proc.Ref { return proc.Ref{Node: self, ID: [3]uint32{uint32(i), 1, 2}} }
	for i := range 3 * maxGenCalls {
		g.add(ref(i))
		if i%2 == 0 {
			g.take(ref(i))
		}
	}
	if n := g.len(); n > maxGenCalls {
		t.Fatalf("%d calls remembered, bound %d", n, maxGenCalls)
	}
	if len(g.order) > 2*maxGenCalls+1 {
		t.Errorf("order holds %d refs", len(g.order))
	}
	if !g.take(ref(3*maxGenCalls - 1)) {
		t.Error("the newest call was forgotten")
	}
	if g.take(ref(1)) {
		t.Error("the oldest call was kept past the bound")
	}
}

// TestRealNodeGenCall calls BEAM gen_servers from gonode with proc's
// CallName and Call: net_kernel and application_controller (OTP's own,
// registered on every node), a name the BEAM lacks (noproc, as gen:call
// exits), and a process that never answers (a time-out, and no stray
// message after it).
func TestRealNodeGenCall(t *testing.T) {
	const cookie = "gencall_cookie_3"
	erl := startErl(t, cookie)
	n, _, _, _ := startGonode(t, erl, cookie)
	ctx, a := connectAttached(t, n, erl, "test")

	r, err := a.CallName(proc.Name{Name: "net_kernel", Node: erl.name}, etf.Tuple{proc.Atom("is_auth"), proc.Atom(gonodeName)}, 10*time.Second)
	if err != nil || r != proc.Atom("yes") {
		t.Errorf("net_kernel is_auth: %#v, %v; want yes", r, err)
	}
	r, err = a.CallName(proc.Name{Name: "application_controller", Node: erl.name}, proc.Atom("which_applications"), 10*time.Second)
	apps, _ := r.([]any)
	names := []any{}
	for _, app := range apps {
		if t, ok := app.(etf.Tuple); ok && len(t) == 3 {
			names = append(names, t[0])
		}
	}
	if err != nil || !slices.Contains(names, any(proc.Atom("kernel"))) {
		t.Errorf("which_applications: %#v, %v; want kernel among them", r, err)
	}

	// By pid: rpc finds net_kernel's pid on the BEAM node.
	pid, err := n.RPC(ctx, erl.name, "erlang:whereis", proc.Atom("net_kernel"))
	nk, ok := pid.(proc.Pid)
	if err != nil || !ok {
		t.Fatalf("whereis(net_kernel): %#v, %v", pid, err)
	}
	if r, err := a.Call(nk, etf.Tuple{proc.Atom("is_auth"), proc.Atom(gonodeName)}, 10*time.Second); err != nil || r != proc.Atom("yes") {
		t.Errorf("net_kernel by pid: %#v, %v; want yes", r, err)
	}

	_, err = a.CallName(proc.Name{Name: "missing", Node: erl.name}, proc.Atom("x"), 10*time.Second)
	if !errors.Is(err, proc.ErrNoProc) {
		t.Errorf("call to a missing name: %v, want noproc", err)
	}

	// responder takes {From, Msg} only: the gen_call stays in its
	// mailbox unanswered.
	_, err = a.CallName(proc.Name{Name: "responder", Node: erl.name}, proc.Atom("x"), 300*time.Millisecond)
	if !errors.Is(err, proc.ErrTimeout) {
		t.Errorf("call to a process that never answers: %v, want a time-out", err)
	}
	if m, err := a.ReceiveTimeout(0); err == nil {
		t.Errorf("a message after the calls: %#v", m)
	}
}
