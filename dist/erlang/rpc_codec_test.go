package erlang

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// The packets of erpc into gonode, as OTP 25's erpc:call writes them
// (checked against a real node in TestRealNodeRPC): the request becomes
// a KindCall answered at once by SPAWN_REPLY, and the node's KindReply
// the DOWN that carries the result.
func TestErpcInto(t *testing.T) {
	c := newTestCodec()
	req := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 3, ID: [5]uint32{4, 5, 6}}
	res := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 3, ID: [5]uint32{7, 8, 9}}
	caller := pidToWire(pidB)
	request := func(mod, f etf.Atom, args []any) (dist.Message, []byte) {
		t.Helper()
		ctl := etf.Tuple{int64(opSpawnReq), req, caller, caller, etf.Tuple{atomErpc, etf.Atom("execute_call"), int64(4)}, []any{atomMon}}
		m, reply, err := c.DecodeReply(packetOf(t, ctl, []any{res, mod, f, args}))
		if err != nil {
			t.Fatalf("SPAWN_REQUEST %s:%s: %v", mod, f, err)
		}
		return m, reply
	}

	m, reply := request("strings", "ToUpper", []any{"hi"})
	if m.Kind != dist.KindCall || m.Fn != "strings.ToUpper" || !reflect.DeepEqual(m.Args, []any{"hi"}) || m.From != pidB {
		t.Fatalf("erpc:call(g, strings, 'ToUpper', [<<\"hi\">>]) decoded as %#v", m)
	}
	standIn := etf.Pid{Node: etf.Atom(self), Serial: 1, Creation: 7}
	if want := packetOf(t, etf.Tuple{int64(opSpawnReply), req, caller, int64(2), standIn}); !reflect.DeepEqual(reply, want) {
		t.Errorf("SPAWN_REPLY %v, want %v (monitor set, the stand-in pid)", reply, want)
	}
	answer := func(m dist.Message, v any, rerr *dist.RemoteError) []byte {
		t.Helper()
		out, err := c.Encode(nil, &dist.Message{Kind: dist.KindReply, To: m.From, Ref: m.Ref, Payload: v, Err: rerr})
		if err != nil {
			t.Fatalf("reply: %v", err)
		}
		return out
	}
	down := func(pid etf.Pid, reason any) []byte {
		return packetOf(t, etf.Tuple{int64(opPMonitorEx), pid, caller, req}, reason)
	}
	if got, want := answer(m, "HI", nil), down(standIn, etf.Tuple{res, atomReturn, "HI"}); !reflect.DeepEqual(got, want) {
		t.Errorf("the result: %v, want %v", got, want)
	}
	if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindReply, Ref: m.Ref, Payload: 1}); !errors.Is(err, dist.ErrUnencodable) {
		t.Errorf("a second reply to the call: %v, want ErrUnencodable", err)
	}

	// undef as Erlang raises it, with erpc's one-frame stack; another
	// arity (dist.Adapt's ErrBadArgs text) is undef too.
	for _, rerr := range []*dist.RemoteError{
		{Kind: dist.RemoteUndef, Message: "no function nope on g@h"},
		{Kind: dist.RemoteBadarg, Message: "dist: arguments do not fit the function: func(string) string takes 1 arguments, got 0"},
	} {
		m, _ = request("gonode", "nope", []any{})
		stand := etf.Pid{Node: etf.Atom(self), Serial: c.rpc.serial, Creation: 7}
		if m.Fn != "nope" {
			t.Errorf("gonode:nope is %q, want nope", m.Fn)
		}
		want := down(stand, etf.Tuple{res, atomError, etf.Atom("undef"), []any{etf.Tuple{etf.Atom("gonode"), etf.Atom("nope"), []any{}, []any{}}}})
		if got := answer(m, nil, rerr); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: %v, want undef", rerr, got)
		}
	}

	// erlang:node/0 is answered by the codec, whatever the node says.
	m, _ = request("erlang", "node", []any{})
	stand := etf.Pid{Node: etf.Atom(self), Serial: c.rpc.serial, Creation: 7}
	if got, want := answer(m, nil, &dist.RemoteError{Kind: dist.RemoteUndef}), down(stand, etf.Tuple{res, atomReturn, etf.Atom(self)}); !reflect.DeepEqual(got, want) {
		t.Errorf("erlang:node: %v, want %v", got, want)
	}

	// erpc's time-out demonitors the stand-in: the call is cancelled.
	m, _ = request("gonode", "Sleep", []any{})
	stand = etf.Pid{Node: etf.Atom(self), Serial: c.rpc.serial, Creation: 7}
	got, err := c.Decode(packetOf(t, etf.Tuple{int64(opDemonitorP), caller, stand, req}))
	if err != nil || got.Kind != dist.KindCancel || got.Ref != m.Ref {
		t.Errorf("DEMONITOR_P of the stand-in: %#v, %v; want the call's cancel", got, err)
	}

	// A link is not something gonode can give a call: notsup.
	ctl := etf.Tuple{int64(opSpawnReq), req, caller, caller, etf.Tuple{atomErpc, etf.Atom("execute_call"), int64(4)}, []any{atomMon, atomLink}}
	if _, reply, err := c.DecodeReply(packetOf(t, ctl, []any{res, etf.Atom("m"), etf.Atom("f"), []any{}})); !errors.Is(err, dist.ErrIgnored) ||
		!reflect.DeepEqual(reply, packetOf(t, etf.Tuple{int64(opSpawnReply), req, caller, int64(0), etf.Atom("notsup")})) {
		t.Errorf("execute_call with link: %v, %v; want notsup", reply, err)
	}
}

// The packets of an erpc call from gonode, and the answers turned into
// its reply.
func TestErpcOut(t *testing.T) {
	c := newTestCodec()
	reqID := c.refs.toWire(refG)
	me := c.selfPid()
	frame, err := c.Encode(nil, &dist.Message{Kind: dist.KindCall, Ref: refG, Fn: "lists:reverse", Args: []any{[]any{1, proc.Atom("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	want := packetOf(t, etf.Tuple{int64(opSpawnReq), reqID, me, me, etf.Tuple{atomErpc, etf.Atom("execute_call"), int64(4)}, []any{atomMon}},
		[]any{reqID, etf.Atom("lists"), etf.Atom("reverse"), []any{[]any{int64(1), etf.Atom("a")}}})
	if !reflect.DeepEqual(frame, want) {
		t.Errorf("the request: %v, want %v", frame, want)
	}
	beam := pidToWire(pidB)
	if m, reply, err := c.DecodeReply(packetOf(t, etf.Tuple{int64(opSpawnReply), reqID, me, int64(2), beam})); err != dist.ErrIgnored || reply != nil || m.Kind != 0 {
		t.Fatalf("SPAWN_REPLY with the pid: %#v, %v, %v; want it taken silently", m, reply, err)
	}
	m, err := c.Decode(packetOf(t, etf.Tuple{int64(opPMonitorEx), beam, me, reqID}, etf.Tuple{reqID, atomReturn, []any{etf.Atom("a"), int64(1)}}))
	if err != nil || m.Kind != dist.KindReply || m.Ref != refG || m.Err != nil || !reflect.DeepEqual(m.Payload, []any{proc.Atom("a"), 1}) {
		t.Errorf("the DOWN with the result: %#v, %v", m, err)
	}

	// undef at the function called is ErrUndef, with erpc's exception.
	if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindCall, Ref: refG, Fn: "lists:nope"}); err != nil {
		t.Fatal(err)
	}
	c.DecodeReply(packetOf(t, etf.Tuple{int64(opSpawnReply), reqID, me, int64(2), beam}))
	stack := []any{etf.Tuple{etf.Atom("lists"), etf.Atom("nope"), []any{}, []any{}}}
	m, err = c.Decode(packetOf(t, etf.Tuple{int64(opPMonitorEx), beam, me, reqID}, etf.Tuple{reqID, atomError, etf.Atom("undef"), stack}))
	if err != nil || m.Kind != dist.KindReply || !errors.Is(m.Err, dist.ErrUndef) || m.Err.Message != "{exception,undef,[{lists,nope,[],[]}]}" {
		t.Errorf("undef: %#v, %v", m, err)
	}

	// A cancel before the SPAWN_REPLY: the pid is demonitored when it comes.
	if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindCall, Ref: refG, Fn: "timer:sleep", Args: []any{1000}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindCancel, Ref: refG}); !errors.Is(err, dist.ErrUnencodable) {
		t.Errorf("cancel before the spawn reply: %v, want nothing sent yet", err)
	}
	_, reply, _ := c.DecodeReply(packetOf(t, etf.Tuple{int64(opSpawnReply), reqID, me, int64(2), beam}))
	if want := packetOf(t, etf.Tuple{int64(opDemonitorP), me, beam, reqID}); !reflect.DeepEqual(reply, want) {
		t.Errorf("after the cancel, the spawn reply is answered %v, want DEMONITOR_P %v", reply, want)
	}

	for _, fn := range []string{"node.AwaitStartup", "lists:", ":f"} {
		if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindCall, Ref: refG, Fn: fn}); !errors.Is(err, dist.ErrUnencodable) {
			t.Errorf("%q: %v, want ErrUnencodable", fn, err)
		}
	}
}
