package erlang

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// io requests to the group leaders of this node's calls are answered by
// the codec; the same tuple to another process is data.
func TestIORequests(t *testing.T) {
	c := newTestCodec()
	self0 := pidFromWire(c.selfPid())
	// A call with a group leader names it in its spawn request.
	frame, err := c.Encode(nil, &dist.Message{Kind: dist.KindCall, To: proc.Pid{Node: peer}, Ref: refG, Fn: "io:format", Args: []any{"x"}, Payload: pidG})
	if err != nil {
		t.Fatal(err)
	}
	ctl, _, _ := etf.Decode(frame[1:])
	if gl := ctl.(etf.Tuple)[3]; gl != any(pidToWire(pidG)) {
		t.Errorf("spawn request's group leader %v, want %v", gl, pidG)
	}
	replyAs := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 3, ID: [5]uint32{4}}
	request := func(to proc.Pid, req any) (dist.Message, any, error) {
		t.Helper()
		m, reply, err := c.DecodeReply(packetOf(t, etf.Tuple{int64(opSendSender), pidToWire(pidB), pidToWire(to)},
			etf.Tuple{etf.Atom("io_request"), pidToWire(pidB), replyAs, req}))
		var answer any
		if reply != nil {
			ctl, rest, _ := etf.Decode(reply[1:])
			if c := ctl.(etf.Tuple); c[0] == int64(opSendSender) && c[2] == any(pidToWire(pidB)) {
				answer, _, _ = etf.Decode(rest)
			} else {
				answer = ctl
			}
		}
		return m, answer, err
	}
	ok := etf.Tuple{etf.Atom("io_reply"), replyAs, etf.Atom("ok")}
	m, answer, err := request(pidG, etf.Tuple{etf.Atom("put_chars"), etf.Atom("unicode"), []any{"h", etf.Charlist("é"), []any{int64('!')}}})
	if err != nil || !etf.Equal(answer, ok) || !reflect.DeepEqual(m.Payload, []any{outputTag, peer, "hé!"}) || m.To != pidG {
		t.Errorf("put_chars to the group leader: %#v, %#v, %v", m, answer, err)
	}
	_, answer, err = request(self0, etf.Tuple{etf.Atom("put_chars"), "log me"})
	if !errors.Is(err, dist.ErrIgnored) || !strings.Contains(err.Error(), `"log me"`) || !etf.Equal(answer, ok) {
		t.Errorf("put_chars to process 0: %#v, %v; want ok and the text in the log", answer, err)
	}
	_, answer, _ = request(pidG, etf.Tuple{etf.Atom("get_line"), etf.Atom("unicode"), "> "})
	if want := (etf.Tuple{etf.Atom("io_reply"), replyAs, etf.Tuple{atomError, etf.Atom("request")}}); !etf.Equal(answer, want) {
		t.Errorf("get_line: %#v, want %#v", answer, want)
	}
	// io:format's form: M:F(A) asked of the peer, then printed.
	_, answer, err = request(pidG, etf.Tuple{etf.Atom("put_chars"), etf.Atom("unicode"), etf.Atom("io_lib"), etf.Atom("format"), []any{"~p", []any{int64(1)}}})
	spawn, _ := answer.(etf.Tuple)
	if !errors.Is(err, dist.ErrIgnored) || len(spawn) != 6 || spawn[0] != int64(opSpawnReq) {
		t.Fatalf("put_chars M, F, A: %#v, %v; want a spawn request", answer, err)
	}
	down := packetOf(t, etf.Tuple{int64(opMonitorEx), pidToWire(pidB), spawn[2], spawn[1], etf.Tuple{spawn[1], atomReturn, etf.Charlist("1")}})
	m, reply, err := c.DecodeReply(down)
	if err != nil || reply == nil || !reflect.DeepEqual(m.Payload, []any{outputTag, peer, "1"}) {
		t.Errorf("the result of M:F(A): %#v, %v", m, err)
	}
	// To a process that is no group leader of a call: data.
	if m, answer, err := request(pidG2, etf.Tuple{etf.Atom("put_chars"), "x"}); err != nil || answer != nil || reflect.TypeOf(m.Payload) != reflect.TypeOf(etf.Tuple{}) {
		t.Errorf("io_request to another process: %#v, %#v, %v; want the tuple", m, answer, err)
	}
}

var pidG2 = proc.Pid{Node: self, ID: 6, Serial: 1, Creation: 7}

func TestIOText(t *testing.T) {
	for _, tt := range []struct {
		v      any
		latin1 bool
		want   string
		ok     bool
	}{
		{"héllo", false, "héllo", true},
		{"h\xe9", true, "hé", true},
		{[]any{int64(26085), etf.Charlist("ab"), []any{"c"}}, false, "日abc", true},
		{etf.ImproperList{Elems: []any{int64('a')}, Tail: "b"}, false, "ab", true},
		{etf.ImproperList{Elems: []any{int64('a')}, Tail: int64('b')}, false, "", false},
		{[]any{int64(-1)}, false, "", false},
		{etf.Atom("a"), false, "", false},
	} {
		got, ok := ioText(tt.v, tt.latin1)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("ioText(%#v) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
