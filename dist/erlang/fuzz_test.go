package erlang

import (
	"errors"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
)

// FuzzDecode feeds arbitrary packets to the codec: it never panics, every
// error is ErrMalformed (close) or ErrIgnored (drop), a reply comes only
// with a decoded or ignored packet and is itself a packet the codec takes,
// and what decodes encodes again. etf bounds the work per input byte.
func FuzzDecode(f *testing.F) {
	c := newTestCodec()
	for _, m := range []dist.Message{
		{Kind: dist.KindSend, From: pidG, To: pidB, Payload: etf.Tuple{"x", 1}},
		{Kind: dist.KindRegSend, From: pidG, ToName: "n", Payload: []any{1, 2}},
		{Kind: dist.KindUnlink, From: pidG, To: pidB},
		{Kind: dist.KindDown, From: pidG, To: pidB, Ref: refG, Payload: "r"},
		{Kind: dist.KindMonitor, From: pidG, ToName: "n", Ref: refG},
	} {
		b, err := c.Encode(nil, &m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	req := etf.Ref{Node: etf.Atom(peer), Creation: 3, Len: 3}
	f.Add(packetOf(f, etf.Tuple{int64(opSpawnReq), req, pidToWire(pidB), pidToWire(pidB),
		etf.Tuple{etf.Atom("m"), etf.Atom("f"), int64(0)}, []any{}}, []any{}))
	f.Add(packetOf(f, etf.Tuple{int64(opPExit2), pidToWire(pidB), pidToWire(pidG)}, etf.Atom("kill")))
	f.Add(packetOf(f, etf.Tuple{int64(opAliasSend), pidToWire(pidB), req}, "m"))
	f.Add(packetOf(f, etf.Tuple{int64(opSend), etf.Atom(""), c.selfPid()}, etf.Tuple{etf.Atom("io_request"), pidToWire(pidB), req,
		etf.Tuple{etf.Atom("put_chars"), etf.Atom("unicode"), etf.Atom("io_lib"), etf.Atom("format"), []any{"~p", []any{int64(1)}}}}))
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > 1<<16 {
			return
		}
		m, reply, err := c.DecodeReply(frame)
		switch {
		case err == nil:
			if _, err := c.Encode(nil, &m); err != nil && !errors.Is(err, dist.ErrUnencodable) {
				t.Fatalf("decoded %#v does not encode: %v", m, err)
			}
		case errors.Is(err, dist.ErrMalformed):
			if reply != nil {
				t.Fatalf("a malformed packet got a reply")
			}
		case !errors.Is(err, dist.ErrIgnored):
			t.Fatalf("error %v is neither malformed nor ignored", err)
		}
		if reply != nil {
			if _, _, err := c.DecodeReply(reply); err != nil && !errors.Is(err, dist.ErrIgnored) {
				t.Fatalf("reply %v does not decode: %v", reply, err)
			}
		}
	})
}
