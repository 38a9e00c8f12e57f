package epmd

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// Seeds shared by the tests below: real requests as OTP and epmd send them.
var requestSeeds = [][]byte{
	encodeAliveReq(aliveReq{Port: 5555, NodeType: 77, High: 6, Low: 5, Name: "foo"}),
	encodeAliveReq(aliveReq{Port: 1, NodeType: 72, High: 5, Low: 5, Name: "é", Extra: []byte{0, 1}}),
	encodePortReq("foo"),
	append(encodePortReq("foo"), 0),
	{OpNamesReq},
	{OpNamesReq, '1'},
	{OpKillReq},
	{OpAlive2Req, 0, 1, 'M', 0, 0, 6, 0, 5, 0xff, 0xff},
	{OpPortPlease2Req},
	{0},
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		// Round trip: what decodes re-encodes to something that decodes
		// to the same request.
		var again []byte
		switch r := req.(type) {
		case aliveReq:
			if len(r.Extra) > maxExtraLen || len(r.Name) > maxNameBytes {
				t.Fatalf("decoded over the limits: %d, %d", len(r.Name), len(r.Extra))
			}
			again = encodeAliveReq(r)
		case portReq:
			again = encodePortReq(r.Name)
		case namesReq:
			again = []byte{OpNamesReq}
		case killReq:
			again = []byte{OpKillReq}
		default:
			t.Fatalf("unexpected request type %T", req)
		}
		req2, err := decodeRequest(again)
		if err != nil {
			t.Fatalf("re-encoded %v does not decode: %v", again, err)
		}
		if !reflect.DeepEqual(normalize(req), normalize(req2)) {
			t.Fatalf("round trip: %#v != %#v", req, req2)
		}
	})
}

func normalize(req any) any {
	if r, ok := req.(aliveReq); ok && len(r.Extra) == 0 {
		r.Extra = nil
		return r
	}
	return req
}

func FuzzReadRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(frame(s))
	}
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	f.Add([]byte{0, 0})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := readRequest(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(body) < 1 || len(body) > MaxRequestLen {
			t.Fatalf("body of %d bytes accepted", len(body))
		}
		if !bytes.Equal(frame(body), b[:len(body)+2]) {
			t.Fatalf("framing round trip failed")
		}
	})
}

func FuzzDecodeAliveResp(f *testing.F) {
	f.Add([]byte{OpAlive2XResp, 0, 0x6b, 0x08, 0x77, 0x27})
	f.Add([]byte{OpAlive2XResp, 1, 0, 0, 0, 99})
	f.Add([]byte{OpAlive2Resp, 0, 0, 3})
	f.Add([]byte{OpAlive2Resp, 1, 0, 99})
	f.Add([]byte{OpAlive2XResp, 0})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		result, creation, err := decodeAliveResp(bytes.NewReader(b))
		if err != nil {
			return
		}
		high := uint16(6)
		if b[0] == OpAlive2Resp {
			high = 5
		}
		enc := encodeAliveResp(high, result, creation)
		if !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("round trip: %v != prefix of %v", enc, b)
		}
	})
}

func FuzzDecodePort2Resp(f *testing.F) {
	f.Add(encodePort2Resp(&portInfo{Port: 5555, NodeType: 77, High: 6, Low: 5, Name: "bar"}))
	f.Add(encodePort2Resp(&portInfo{Port: 1, NodeType: 72, High: 5, Low: 5, Name: "é", Extra: []byte("x")}))
	f.Add(encodePort2Resp(nil))
	f.Add([]byte{OpPort2Resp, 0, 0, 1, 77, 0, 0, 6, 0, 5, 0xff, 0xff})
	f.Add([]byte{OpPort2Resp, 0, 0, 1, 77, 0, 0, 6, 0, 5, 0, 1, 'a', 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePort2Resp(bytes.NewReader(b))
		if err != nil {
			if errors.Is(err, ErrNotRegistered) && !bytes.Equal(encodePort2Resp(nil)[:1], b[:1]) {
				t.Fatalf("ErrNotRegistered for %v", b)
			}
			return
		}
		enc := encodePort2Resp(&p)
		if !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("round trip: %v != prefix of %v", enc, b)
		}
	})
}

func FuzzParseNames(f *testing.F) {
	f.Add(encodeNamesResp(4369, nil))
	f.Add(encodeNamesResp(4369, []NodeEntry{{"foo", 5555}, {"a at port b", 1}}))
	f.Add([]byte("\x00\x00\x11\x11name x at port 99999\n"))
	f.Add([]byte("\x00\x00\x11\x11name x at port 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		port, entries, err := parseNames(b)
		if err != nil {
			return
		}
		port2, entries2, err := parseNames(encodeNamesResp(port, entries))
		if err != nil || port2 != port || !reflect.DeepEqual(entries, entries2) {
			t.Fatalf("round trip: %v %v %v vs %v %v", port2, entries2, err, port, entries)
		}
	})
}

func TestDecodeRequestTable(t *testing.T) {
	for _, s := range requestSeeds[:7] {
		if _, err := decodeRequest(s); err != nil {
			t.Errorf("decodeRequest(%v): %v", s, err)
		}
	}
	for _, s := range requestSeeds[7:] {
		if _, err := decodeRequest(s); !errors.Is(err, ErrProtocol) {
			t.Errorf("decodeRequest(%v) = %v, want ErrProtocol", s, err)
		}
	}
	req, err := decodeRequest(append(encodePortReq("foo"), 0))
	if err != nil || req != (portReq{Name: "foo"}) {
		t.Fatalf("trailing NUL: %v, %v", req, err)
	}
}

func TestDecodeRepliesTruncated(t *testing.T) {
	full := encodePort2Resp(&portInfo{Port: 5555, NodeType: 77, High: 6, Low: 5, Name: "bar", Extra: []byte("e")})
	for i := range len(full) {
		if _, err := decodePort2Resp(bytes.NewReader(full[:i])); err == nil {
			t.Errorf("PORT2_RESP cut at %d decoded", i)
		} else if i > 0 && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Errorf("PORT2_RESP cut at %d: %v", i, err)
		}
	}
	full = encodeAliveResp(6, 0, 1234)
	for i := range len(full) {
		if _, _, err := decodeAliveResp(bytes.NewReader(full[:i])); err == nil {
			t.Errorf("ALIVE2_X_RESP cut at %d decoded", i)
		}
	}
	if _, _, err := parseNames([]byte("\x00\x00\x11\x11name x at port 1")); !errors.Is(err, ErrProtocol) {
		t.Errorf("NAMES without final newline: %v", err)
	}
	if _, _, err := parseNames([]byte("\x00\x00\x11\x11name x at port 65536\n")); !errors.Is(err, ErrProtocol) {
		t.Errorf("NAMES with port 65536: %v", err)
	}
}
