package erlang

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/proc"
)

var (
	self   = "g@h"
	peer   = "b@h"
	pidG   = proc.Pid{Node: self, ID: 5, Serial: 1, Creation: 7}
	pidB   = proc.Pid{Node: peer, ID: 80, Serial: 0, Creation: 3}
	refG   = proc.Ref{Node: self, Creation: 7, ID: [3]uint32{1, 2, 3}}
	agreed = handshake.OfferedFlags
)

func newTestCodec() *Codec { return NewCodec(self, 7, peer, agreed) }

// packetOf builds a packet as a BEAM node writes it.
func packetOf(t testing.TB, ctl etf.Tuple, msg ...any) []byte {
	t.Helper()
	out, err := etf.Append([]byte{passThrough}, ctl)
	for _, m := range msg {
		if err == nil {
			out, err = etf.Append(out, m)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every kind this slice sends decodes back to the same Message: what a
// gonode sends is what the BEAM's control messages say.
func TestRoundTrip(t *testing.T) {
	c := newTestCodec()
	for _, m := range []dist.Message{
		{Kind: dist.KindSend, From: pidG, To: pidB, Payload: etf.Tuple{proc.Atom("ok"), 1, "bin", []any{1.5, nil, true}}},
		{Kind: dist.KindRegSend, From: pidG, To: proc.Pid{Node: self}, ToName: "responder", Payload: map[any]any{proc.Atom("a"): 1}},
		{Kind: dist.KindLink, From: pidG, To: pidB},
		{Kind: dist.KindUnlink, From: pidG, To: pidB},
		{Kind: dist.KindExit, From: pidG, To: pidB, Payload: proc.Killed},
		{Kind: dist.KindExit2, From: pidG, To: pidB, Payload: proc.Kill},
		{Kind: dist.KindMonitor, From: pidG, To: pidB, Ref: refG},
		{Kind: dist.KindMonitor, From: pidG, To: proc.Pid{Node: self}, ToName: "name", Ref: refG},
		{Kind: dist.KindDemonitor, From: pidG, To: pidB, Ref: refG},
		{Kind: dist.KindDown, From: pidG, To: pidB, Ref: refG, Payload: proc.NoProc},
		{Kind: dist.KindDown, From: proc.Pid{Node: peer}, ToName: "name", To: pidB, Ref: refG, Payload: proc.Normal},
	} {
		frame, err := c.Encode(nil, &m)
		if err != nil {
			t.Fatalf("%v: %v", m.Kind, err)
		}
		got, reply, err := c.DecodeReply(frame)
		if err != nil {
			t.Fatalf("%v: decode: %v", m.Kind, err)
		}
		if m.Kind == dist.KindUnlink && reply == nil {
			t.Errorf("UNLINK_ID decoded without its ack")
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%v:\n got %#v\nwant %#v", m.Kind, got, m)
		}
	}
}

// gonode's own types go out as the terms an Erlang program matches.
func TestValuesOut(t *testing.T) {
	c := newTestCodec()
	m := dist.Message{Kind: dist.KindSend, To: pidB, Payload: []any{
		proc.ExitMsg{From: pidG, Reason: proc.Normal},
		proc.DownMsg{Ref: refG, Name: proc.Name{Name: "n", Node: self}, Reason: proc.NoConnection},
		proc.Name{Name: "n"},
	}}
	frame, err := c.Encode(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := etf.Decode(frame[1:])
	got, _, err := etf.Decode(rest)
	if err != nil {
		t.Fatal(err)
	}
	g, r := etf.Pid{Node: "g@h", ID: 5, Serial: 1, Creation: 7}, etf.Ref{Node: "g@h", Creation: 7, Len: 3, ID: [5]uint32{1, 2, 3}}
	want := []any{
		etf.Tuple{etf.Atom("EXIT"), g, etf.Atom("normal")},
		etf.Tuple{etf.Atom("DOWN"), r, etf.Atom("process"), etf.Tuple{etf.Atom("n"), etf.Atom("g@h")}, etf.Atom("noconnection")},
		etf.Tuple{etf.Atom("n"), etf.Atom("g@h")},
	}
	if !etf.Equal(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

// A ref of 5 words (OTP 26 and later) is delivered as a proc.Ref and goes
// back out with all its words.
func TestLongRef(t *testing.T) {
	c := newTestCodec()
	long := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 5, ID: [5]uint32{9, 8, 7, 6, 5}}
	m, err := c.Decode(packetOf(t, etf.Tuple{int64(opMonitorP), pidToWire(pidB), pidToWire(pidG), long}))
	if err != nil {
		t.Fatal(err)
	}
	down := dist.Message{Kind: dist.KindDown, From: pidG, To: pidB, Ref: m.Ref, Payload: proc.Normal}
	frame, err := c.Encode(nil, &down)
	if err != nil {
		t.Fatal(err)
	}
	ctl, _, _ := etf.Decode(frame[1:])
	if got := ctl.(etf.Tuple)[3]; !etf.Equal(got, long) {
		t.Errorf("ref went back as %v, want %v", got, long)
	}
}

// The BEAM's answers that the codec writes itself, and what it drops.
func TestProtocolAnswers(t *testing.T) {
	c := newTestCodec()
	id := int64(77)
	m, reply, err := c.DecodeReply(packetOf(t, etf.Tuple{int64(opUnlinkID), id, pidToWire(pidB), pidToWire(pidG)}))
	if err != nil || m.Kind != dist.KindUnlink || m.From != pidB || m.To != pidG {
		t.Fatalf("UNLINK_ID: %#v, %v", m, err)
	}
	if want := packetOf(t, etf.Tuple{int64(opUnlinkAck), id, pidToWire(pidG), pidToWire(pidB)}); !reflect.DeepEqual(reply, want) {
		t.Errorf("UNLINK_ID_ACK %v, want %v", reply, want)
	}

	req := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 3, ID: [5]uint32{4, 5, 6}}
	spawn := etf.Tuple{int64(opSpawnReq), req, pidToWire(pidB), pidToWire(pidB),
		etf.Tuple{etf.Atom("erpc"), etf.Atom("execute_call"), int64(4)}, []any{etf.Atom("monitor")}}
	_, reply, err = c.DecodeReply(packetOf(t, spawn, []any{int64(1)}))
	if !errors.Is(err, dist.ErrIgnored) {
		t.Fatalf("SPAWN_REQUEST: %v, want ErrIgnored", err)
	}
	if want := packetOf(t, etf.Tuple{int64(opSpawnReply), req, pidToWire(pidB), int64(0), etf.Atom("notsup")}); !reflect.DeepEqual(reply, want) {
		t.Errorf("SPAWN_REPLY %v, want %v", reply, want)
	}

	for name, frame := range map[string][]byte{
		"ALIAS_SEND":    packetOf(t, etf.Tuple{int64(opAliasSend), pidToWire(pidB), req}, "msg"),
		"UNLINK_ID_ACK": packetOf(t, etf.Tuple{int64(opUnlinkAck), id, pidToWire(pidB), pidToWire(pidG)}),
		"GROUP_LEADER":  packetOf(t, etf.Tuple{int64(opGroupLead), pidToWire(pidB), pidToWire(pidG)}),
		"unknown 99":    packetOf(t, etf.Tuple{int64(99), etf.Atom("x")}),
		"global's":      packetOf(t, etf.Tuple{int64(opRegSend), pidToWire(pidB), etf.Atom(""), etf.Atom(GlobalNameServer)}, etf.Tuple{etf.Atom("$gen_cast"), etf.Tuple{etf.Atom("init_connect")}}),
	} {
		if _, reply, err := c.DecodeReply(frame); !errors.Is(err, dist.ErrIgnored) || reply != nil {
			t.Errorf("%s: %v, reply %v; want ErrIgnored and no reply", name, err, reply)
		}
	}
}

// Frames that do not fit the protocol are malformed (dist closes the
// connection), never ignored.
func TestMalformed(t *testing.T) {
	c := newTestCodec()
	for name, frame := range map[string][]byte{
		"empty":              {},
		"not pass-through":   append([]byte{68}, packetOf(t, etf.Tuple{int64(opLink), pidToWire(pidB), pidToWire(pidG)})[1:]...),
		"no term":            {passThrough},
		"not a tuple":        packetOf(t, []any{int64(1)}),
		"op not an integer":  packetOf(t, etf.Tuple{etf.Atom("send")}),
		"short tuple":        packetOf(t, etf.Tuple{int64(opLink), pidToWire(pidB)}),
		"pid not a pid":      packetOf(t, etf.Tuple{int64(opLink), etf.Atom("x"), pidToWire(pidG)}),
		"send without msg":   packetOf(t, etf.Tuple{int64(opSend), etf.Atom(""), pidToWire(pidG)}),
		"bytes after":        append(packetOf(t, etf.Tuple{int64(opLink), pidToWire(pidB), pidToWire(pidG)}), 131),
		"truncated":          packetOf(t, etf.Tuple{int64(opLink), pidToWire(pidB), pidToWire(pidG)})[:10],
		"bad unlink id":      packetOf(t, etf.Tuple{int64(opUnlinkID), "id", pidToWire(pidB), pidToWire(pidG)}),
		"monitor ref an int": packetOf(t, etf.Tuple{int64(opMonitorP), pidToWire(pidB), pidToWire(pidG), int64(1)}),
	} {
		if _, reply, err := c.DecodeReply(frame); !errors.Is(err, dist.ErrMalformed) || reply != nil {
			t.Errorf("%s: %v, reply %v; want ErrMalformed", name, err, reply)
		}
	}
}

// What has no Erlang form yet is refused to its sender, not sent.
func TestUnsupportedKinds(t *testing.T) {
	c := newTestCodec()
	for _, k := range []dist.Kind{dist.KindCall, dist.KindCast, dist.KindSpawnRequest, dist.KindPeers, dist.KindTickTime} {
		if _, err := c.Encode(nil, &dist.Message{Kind: k, To: pidB}); !errors.Is(err, dist.ErrUnencodable) {
			t.Errorf("%v: %v, want ErrUnencodable", k, err)
		}
	}
	global := dist.Message{Kind: dist.KindRegSend, From: pidG, ToName: GlobalNameServer, Payload: []any{proc.Atom("global_sync")}}
	if _, err := c.Encode(nil, &global); !errors.Is(err, dist.ErrUnencodable) {
		t.Errorf("gonode's global to a BEAM's: %v, want ErrUnencodable", err)
	}
	if _, err := c.Encode(nil, &dist.Message{Kind: dist.KindSend, To: pidB, Payload: make(chan int)}); !errors.Is(err, dist.ErrUnencodable) {
		t.Errorf("a channel: %v, want ErrUnencodable", err)
	}
}

// A BEAM's gen_call is delivered as a proc.CallRequest, and the
// CallReply goes back tagged as gen:call tagged it: [alias | Mref] from
// OTP 24 on (ALIAS agreed), the ref before.
func TestGenCall(t *testing.T) {
	mref := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 3, ID: [5]uint32{7, 8, 9}}
	aliasTag := etf.ImproperList{Elems: []any{etf.Atom("alias")}, Tail: mref}
	for _, tt := range []struct {
		flags uint64
		tag   any
	}{{agreed, aliasTag}, {agreed &^ handshake.FlagAlias, mref}} {
		c := NewCodec(self, 7, peer, tt.flags)
		call := etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{pidToWire(pidB), tt.tag}, etf.Tuple{etf.Atom("add"), int64(1), int64(2)}}
		m, err := c.Decode(packetOf(t, etf.Tuple{int64(opRegSend), pidToWire(pidB), etf.Atom(""), etf.Atom("calc")}, call))
		req, ok := m.Payload.(proc.CallRequest)
		if err != nil || !ok || req.From != pidB || req.Ref.ID != [3]uint32{7, 8, 9} {
			t.Fatalf("flags %x: %#v, %v; want a CallRequest from %v", tt.flags, m.Payload, err, pidB)
		}
		frame, err := c.Encode(nil, &dist.Message{Kind: dist.KindSend, From: pidG, To: req.From, Payload: proc.CallReply{Ref: req.Ref, Reply: 3}})
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := etf.Decode(frame[1:])
		got, _, _ := etf.Decode(rest)
		if want := (etf.Tuple{tt.tag, int64(3)}); !etf.Equal(got, want) {
			t.Errorf("flags %x: reply %#v, want %#v", tt.flags, got, want)
		}
	}
	// A plain ref from a peer with ALIAS is not gen:call's: the tuple
	// stays a tuple rather than get a reply it would not match.
	c := newTestCodec()
	call := etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{pidToWire(pidB), mref}, etf.Atom("x")}
	if m, err := c.Decode(packetOf(t, etf.Tuple{int64(opSend), etf.Atom(""), pidToWire(pidG)}, call)); err != nil || reflect.TypeOf(m.Payload) != reflect.TypeOf(etf.Tuple{}) {
		t.Errorf("%#v, %v; want the tuple", m.Payload, err)
	}
}
