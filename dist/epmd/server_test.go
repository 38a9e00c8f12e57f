package epmd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestServerClientRoundTrip(t *testing.T) {
	_, addr, _ := startServer(t, nil)
	ctx := testCtx(t)

	alpha, err := Register(ctx, addr, "alpha", 5001, false)
	if err != nil {
		t.Fatal(err)
	}
	beta, err := Register(ctx, addr, "beta", 5002, true)
	if err != nil {
		t.Fatal(err)
	}
	defer beta.Close()
	if alpha.Creation() == 0 || beta.Creation() == 0 {
		t.Fatalf("zero creation: %d %d", alpha.Creation(), beta.Creation())
	}
	if alpha.Creation() == beta.Creation() {
		t.Fatalf("same creation %d for two registrations", alpha.Creation())
	}

	if port, err := LookupPort(ctx, addr, "alpha"); err != nil || port != 5001 {
		t.Fatalf("LookupPort(alpha) = %d, %v; want 5001", port, err)
	}
	if port, err := LookupPort(ctx, addr, "beta"); err != nil || port != 5002 {
		t.Fatalf("LookupPort(beta) = %d, %v; want 5002", port, err)
	}
	if _, err := LookupPort(ctx, addr, "gamma"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("LookupPort(gamma) error = %v, want ErrNotRegistered", err)
	}
	entries, err := Names(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeEntry{{"beta", 5002}, {"alpha", 5001}} // newest first, as epmd
	if len(entries) != 2 || entries[0] != want[0] || entries[1] != want[1] {
		t.Fatalf("Names = %v, want %v", entries, want)
	}

	if _, err := Register(ctx, addr, "alpha", 6001, false); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate Register error = %v, want ErrNameTaken", err)
	}
	if port, _ := LookupPort(ctx, addr, "alpha"); port != 5001 {
		t.Fatalf("the refused duplicate changed alpha's port to %d", port)
	}

	if err := alpha.Close(); err != nil {
		t.Fatal(err)
	}
	if err := alpha.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-alpha.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	waitFor(t, "alpha unregistered", func() bool {
		_, err := LookupPort(ctx, addr, "alpha")
		return errors.Is(err, ErrNotRegistered)
	})
	if names := namesOf(t, addr); len(names) != 1 || names["beta"] != 5002 {
		t.Fatalf("names after unregister = %v", names)
	}

	// The same name again gets creation+1, as epmd gives.
	again, err := Register(ctx, addr, "alpha", 5003, false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Creation() != alpha.Creation()+1 && !(alpha.Creation() == ^uint32(0) && again.Creation() == 4) {
		t.Fatalf("re-registration creation %d, want %d+1", again.Creation(), alpha.Creation())
	}
}

func TestServerCloseDropsRegistrations(t *testing.T) {
	s, addr, _ := startServer(t, nil)
	reg, err := Register(testCtx(t), addr, "node", 1234, false)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	silent := rawConn(t, addr) // a connection that never sends
	_ = silent
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-reg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("registration not dropped by Server.Close")
	}
	if _, err := Names(testCtx(t), addr); err == nil {
		t.Fatal("Names answered after Close")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
}

func TestServerWireReplies(t *testing.T) {
	_, addr, _ := startServer(t, nil)
	port := uint32(mustPort(t, addr))

	// Hi=5 gets ALIVE2_RESP with a creation in 1..3.
	old := rawConn(t, addr)
	old.Write(aliveFrame("old", 4000, 5))
	resp := readN(t, old, 4)
	if resp[0] != OpAlive2Resp || resp[1] != 0 {
		t.Fatalf("Hi=5 reply %v, want 121,0,creation", resp)
	}
	if c := binary.BigEndian.Uint16(resp[2:]); c < 1 || c > 3 {
		t.Fatalf("Hi=5 creation %d, want 1..3", c)
	}
	// A duplicate with Hi=5: 121,1,0,99 and the socket stays open.
	dup5 := rawConn(t, addr)
	dup5.Write(aliveFrame("old", 4001, 5))
	if got := readN(t, dup5, 4); !bytes.Equal(got, []byte{121, 1, 0, 99}) {
		t.Fatalf("Hi=5 duplicate reply %v", got)
	}

	// Hi=6 gets ALIVE2_X_RESP; a duplicate gets v,1,0,0,0,99, socket kept open.
	x := rawConn(t, addr)
	x.Write(frame(encodeAliveReq(aliveReq{Port: 4100, NodeType: NodeTypeHidden, High: 6, Low: 5, Name: "x", Extra: []byte("ex")})))
	resp = readN(t, x, 6)
	if resp[0] != OpAlive2XResp || resp[1] != 0 || binary.BigEndian.Uint32(resp[2:]) < 4 {
		t.Fatalf("Hi=6 reply %v, want 118,0,creation>=4", resp)
	}
	dup := rawConn(t, addr)
	dup.Write(aliveFrame("x", 4101, 6))
	if got := readN(t, dup, 6); !bytes.Equal(got, []byte{'v', 1, 0, 0, 0, 99}) {
		t.Fatalf("Hi=6 duplicate reply %v", got)
	}
	if !stillOpen(dup) {
		t.Fatal("duplicate ALIVE2 socket closed; epmd keeps it open")
	}

	// PORT2_RESP carries everything registered; a trailing NUL is allowed.
	for _, req := range [][]byte{frame(encodePortReq("x")), frame(append(encodePortReq("x"), 0))} {
		c := rawConn(t, addr)
		c.Write(req)
		want := encodePort2Resp(&portInfo{Port: 4100, NodeType: NodeTypeHidden, High: 6, Low: 5, Name: "x", Extra: []byte("ex")})
		if got := readToClose(t, c); !bytes.Equal(got, want) {
			t.Fatalf("PORT2_RESP %v, want %v", got, want)
		}
	}
	c := rawConn(t, addr)
	c.Write(frame(encodePortReq("nobody")))
	if got := readToClose(t, c); !bytes.Equal(got, []byte{119, 1}) {
		t.Fatalf("unknown PORT2_RESP %v", got)
	}

	// NAMES: the port mapper's port, then lines, then close.
	c = rawConn(t, addr)
	c.Write([]byte{0, 1, OpNamesReq})
	want := encodeNamesResp(port, []NodeEntry{{"x", 4100}, {"old", 4000}})
	if got := readToClose(t, c); !bytes.Equal(got, want) {
		t.Fatalf("NAMES reply %q, want %q", got, want)
	}

	// KILL is refused.
	c = rawConn(t, addr)
	c.Write([]byte{0, 1, OpKillReq})
	if got := readToClose(t, c); string(got) != "NO" {
		t.Fatalf("KILL reply %q", got)
	}

	// Anything sent on a registered socket unregisters it, as in epmd.
	x.Write([]byte{1})
	waitFor(t, "x unregistered", func() bool { _, ok := namesOf(t, addr)["x"]; return !ok })
}

func TestServerHostileInput(t *testing.T) {
	_, addr, logs := startServer(t, func(s *Server) { s.requestTimeout = 300 * time.Millisecond })
	good, err := Register(testCtx(t), addr, "good", 7000, false)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()

	nameWithNUL := aliveFrame("a\x00b", 1, 6)
	longName := aliveFrame(strings.Repeat("é", MaxNameChars+1), 1, 6)
	cases := []struct {
		name, send, log string
		closeWrite      bool
	}{
		{"http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "out of range", false},
		{"huge length", "\xff\xff" + strings.Repeat("A", 100), "out of range", false},
		{"zero length", "\x00\x00", "out of range", false},
		{"truncated", "\x00\x10\x78\x01", "truncated", true},
		{"one byte", "\x00", "", true},
		{"unknown op", "\x00\x03\x63\x01\x02", "unknown request 99", false},
		{"name overflow", "\x00\x0e\x78\x00\x01M\x00\x00\x06\x00\x05\x01\xf4abc", "name length 500", false},
		{"extra overflow", "\x00\x0e\x78\x00\x01M\x00\x00\x06\x00\x05\x00\x01a\x7f\xff", "extra length", false},
		{"short alive", "\x00\x05\x78\x00\x01M\x00", "too short", false},
		{"NUL in name", string(nameWithNUL), "contains NUL", false},
		{"long name", string(longName), "longer than 255", false},
		{"bad UTF-8", "\x00\x03\x7a\xff\xfe", "not UTF-8", false},
		{"empty port please", "\x00\x01\x7a", "empty", false},
		{"silent", "", "timeout", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := rawConn(t, addr)
			if _, err := c.Write([]byte(tc.send)); err != nil {
				t.Fatal(err)
			}
			if tc.closeWrite {
				c.(*net.TCPConn).CloseWrite()
			}
			if got := readToClose(t, c); len(got) != 0 {
				t.Fatalf("got a reply %q to garbage", got)
			}
			if tc.log != "" {
				waitFor(t, "log line with "+tc.log, func() bool { return logs.has(tc.log) })
			}
		})
	}

	// The server still serves, and good is still registered.
	ctx := testCtx(t)
	if port, err := LookupPort(ctx, addr, "good"); err != nil || port != 7000 {
		t.Fatalf("LookupPort(good) after garbage = %d, %v", port, err)
	}
	other, err := Register(ctx, addr, "other", 7001, false)
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	select {
	case <-good.Done():
		t.Fatal("the good registration dropped; the silent-client timeout must not apply to it")
	default:
	}
}

func TestLocalPeer(t *testing.T) {
	tcp := func(s string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(s), Port: 1} }
	cases := []struct {
		remote, local net.Addr
		want          bool
	}{
		{tcp("127.0.0.1"), tcp("127.0.0.1"), true},
		{tcp("127.1.2.3"), tcp("127.0.0.1"), true},
		{tcp("::1"), tcp("::1"), true},
		{tcp("::ffff:127.0.0.1"), tcp("::ffff:127.0.0.1"), true},
		{tcp("192.0.2.7"), tcp("192.0.2.7"), true}, // the host's own address
		{tcp("192.0.2.8"), tcp("192.0.2.7"), false},
		{tcp("0.0.0.0"), tcp("0.0.0.0"), false},
		{&net.UnixAddr{Name: "x"}, tcp("127.0.0.1"), false},
	}
	for _, c := range cases {
		if got := localPeer(c.remote, c.local); got != c.want {
			t.Errorf("localPeer(%v, %v) = %v, want %v", c.remote, c.local, got, c.want)
		}
	}
}

func TestClientRejectsBadNames(t *testing.T) {
	ctx := testCtx(t)
	for _, name := range []string{"", "a@host", "a\x00", strings.Repeat("n", 256), "\xff"} {
		if _, err := Register(ctx, "127.0.0.1:1", name, 1, false); !errors.Is(err, ErrBadName) {
			t.Errorf("Register(%q) error = %v, want ErrBadName", name, err)
		}
		if _, err := LookupPort(ctx, "127.0.0.1:1", name); !errors.Is(err, ErrBadName) {
			t.Errorf("LookupPort(%q) error = %v, want ErrBadName", name, err)
		}
	}
}

func TestClientContext(t *testing.T) {
	// A listener that accepts and never answers: the ctx must end the call.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LookupPort(ctx, ln.Addr().String(), "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LookupPort error = %v, want DeadlineExceeded", err)
	}
	(<-accepted).Close() // LookupPort's connection
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		c := <-accepted // cancel once Register is waiting for the reply
		accepted <- c
		cancel()
	}()
	if _, err := Register(ctx, ln.Addr().String(), "x", 1, false); !errors.Is(err, context.Canceled) {
		t.Fatalf("Register error = %v, want Canceled", err)
	}
}

func mustPort(t *testing.T, addr string) int {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a.Port
}

// A node that restarts under its name registers again just after its old
// registration socket closed, maybe before the server has read that close:
// the registration waits for the old holder to go instead of being
// refused. Twenty restarts in a row, each registering the moment the
// previous socket is closed.
func TestServerRegistrationAfterHolderCloses(t *testing.T) {
	_, addr, _ := startServer(t, nil)
	prev := rawConn(t, addr)
	prev.Write(aliveFrame("again", 4000, 6))
	readN(t, prev, 6)
	for i := range 20 {
		next := rawConn(t, addr)
		prev.Close()
		next.Write(aliveFrame("again", uint16(4001+i), 6))
		if resp := readN(t, next, 6); resp[1] != 0 {
			t.Fatalf("restart %d: registration refused (%v) though the holder closed first", i, resp)
		}
		prev = next
	}
}
