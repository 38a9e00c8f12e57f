package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection. net.Pipe is no
// good here: it is unbuffered, and B writes status and challenge while A may
// still be writing.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	deadline := time.Now().Add(10 * time.Second)
	_ = a.SetDeadline(deadline)
	_ = b.SetDeadline(deadline)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

var (
	cfgA = HandshakeConfig{Name: "alpha@host", Creation: 7, Cookie: "secret-cookie-A", Flags: 0x0102, Hidden: true}
	cfgB = HandshakeConfig{Name: "beta@host", Creation: 9, Cookie: "secret-cookie-A", Flags: 0x0304}
)

type result struct {
	peer PeerInfo
	err  error
	br   *bufio.Reader
}

// handshake runs Accept on one end (in a goroutine) and Initiate on the
// other, and returns both results.
func handshake(t *testing.T, a, b HandshakeConfig, wantPeer string, decide func(PeerInfo) Status, wrapB func(io.Writer) io.Writer) (ra, rb result) {
	t.Helper()
	ca, cb := tcpPair(t)
	done := make(chan result, 1)
	go func() {
		br := bufio.NewReader(cb)
		var w io.Writer = cb
		if wrapB != nil {
			w = wrapB(cb)
		}
		p, err := Accept(w, br, b, decide)
		if err != nil {
			cb.Close() // as a node would: A must see the end, not hang
		}
		done <- result{p, err, br}
	}()
	br := bufio.NewReader(ca)
	p, err := Initiate(ca, br, a, wantPeer)
	if err != nil {
		ca.Close()
	}
	ra = result{p, err, br}
	rb = <-done
	return ra, rb
}

func TestHandshakeOK(t *testing.T) {
	ra, rb := handshake(t, cfgA, cfgB, cfgB.Name, nil, nil)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("initiate: %v; accept: %v", ra.err, rb.err)
	}
	wantA := PeerInfo{Name: "beta@host", Creation: 9, Flags: 0x0304 | Flags, Hidden: false, Version: Version}
	wantB := PeerInfo{Name: "alpha@host", Creation: 7, Flags: 0x0102 | Flags, Hidden: true, Version: Version}
	if ra.peer != wantA {
		t.Errorf("A sees %+v, want %+v", ra.peer, wantA)
	}
	if rb.peer != wantB {
		t.Errorf("B sees %+v, want %+v", rb.peer, wantB)
	}
}

// The decide callback sees A's hello and its answer refuses the handshake
// on both sides with the status it chose.
func TestHandshakeRefused(t *testing.T) {
	for _, st := range []Status{StatusNok, StatusAlive, StatusNotAllowed} {
		t.Run(st.String(), func(t *testing.T) {
			var seen PeerInfo
			decide := func(p PeerInfo) Status { seen = p; return st }
			a := cfgA
			a.AliveAsked = func(string) bool { return false } // alive: our connection is up too
			ra, rb := handshake(t, a, cfgB, cfgB.Name, decide, nil)
			var re *RefusedError
			if !errors.As(ra.err, &re) || re.Status != st || !errors.Is(ra.err, ErrRefused) {
				t.Errorf("initiate: got %v, want RefusedError %v", ra.err, st)
			}
			if !errors.Is(rb.err, ErrRefused) {
				t.Errorf("accept: got %v, want ErrRefused", rb.err)
			}
			if seen.Name != cfgA.Name || seen.Creation != cfgA.Creation || !seen.Hidden {
				t.Errorf("decide saw %+v", seen)
			}
		})
	}
}

// Status alive to a dialer that can be asked: it answers that its side of
// the old connection is dead, and the handshake goes on with the challenge
// (proving the cookie as usual). The dialer was asked about the right peer.
func TestHandshakeAliveAsked(t *testing.T) {
	a := cfgA
	var asked string
	a.AliveAsked = func(peer string) bool { asked = peer; return true }
	ra, rb := handshake(t, a, cfgB, cfgB.Name, func(PeerInfo) Status { return StatusAlive }, nil)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("initiate: %v; accept: %v", ra.err, rb.err)
	}
	if asked != cfgB.Name {
		t.Fatalf("asked about %q", asked)
	}
	// With a wrong cookie the replacement is not authenticated.
	b := cfgB
	b.Cookie = "other"
	ra, rb = handshake(t, a, b, cfgB.Name, func(PeerInfo) Status { return StatusAlive }, nil)
	if !errors.Is(ra.err, ErrBadCookie) || !errors.Is(rb.err, ErrBadCookie) {
		t.Fatalf("alive answered, wrong cookie: %v; %v", ra.err, rb.err)
	}
	if got := decodeAliveAnswerOK(t); !got {
		t.Fatal("alive answer round trip")
	}
}

func decodeAliveAnswerOK(t *testing.T) bool {
	t.Helper()
	for _, dead := range []bool{true, false} {
		b := appendAliveAnswer(nil, dead)
		got, err := decodeAliveAnswer(b[2:])
		if err != nil || got != dead {
			return false
		}
	}
	if _, err := decodeAliveAnswer([]byte{tagAliveAns, 2}); err == nil {
		return false
	}
	return true
}

func TestHandshakeBadCookie(t *testing.T) {
	b := cfgB
	b.Cookie = "other-cookie-B"
	ra, rb := handshake(t, cfgA, b, cfgB.Name, nil, nil)
	for side, err := range map[string]error{"initiate": ra.err, "accept": rb.err} {
		if !errors.Is(err, ErrBadCookie) {
			t.Errorf("%s: got %v, want ErrBadCookie", side, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, cfgA.Cookie) || strings.Contains(msg, b.Cookie) {
			t.Errorf("%s: error text %q contains a cookie", side, msg)
		}
	}
	if !strings.Contains(ra.err.Error(), cfgB.Name) || !strings.Contains(rb.err.Error(), cfgA.Name) {
		t.Errorf("errors should name the peer: %q, %q", ra.err, rb.err)
	}
}

// A checks B's digest too: a B that accepts any reply but does not know the
// cookie is caught.
func TestHandshakeBadAckDigest(t *testing.T) {
	ca, cb := tcpPair(t)
	go func() {
		br := bufio.NewReader(cb)
		if _, err := readMessage(br); err != nil {
			return
		}
		msg := appendStatus(nil, StatusOK)
		msg = appendChallenge(msg, challenge{Name: cfgB.Name})
		cb.Write(msg)
		if _, err := readMessage(br); err != nil {
			return
		}
		cb.Write(appendAck(nil, [DigestLen]byte{1, 2, 3}))
	}()
	_, err := Initiate(ca, bufio.NewReader(ca), cfgA, cfgB.Name)
	if !errors.Is(err, ErrBadCookie) || strings.Contains(err.Error(), cfgA.Cookie) {
		t.Fatalf("got %v, want ErrBadCookie without the cookie", err)
	}
}

func TestHandshakeWrongPeerName(t *testing.T) {
	ra, rb := handshake(t, cfgA, cfgB, "gamma@host", nil, nil)
	if !errors.Is(ra.err, ErrBadName) {
		t.Errorf("initiate: got %v, want ErrBadName", ra.err)
	}
	if rb.err == nil {
		t.Error("accept succeeded although A gave up")
	}
}

func TestHandshakeBadInitiatorName(t *testing.T) {
	for _, name := range []string{"noat", "two@at@host", "@host", "sp ace@host", cfgB.Name} {
		ca, cb := tcpPair(t)
		// Hand-made hello: Initiate itself refuses to send a bad own name.
		ca.Write(appendHello(nil, hello{Version: Version, Name: name}))
		_, err := Accept(cb, bufio.NewReader(cb), cfgB, nil)
		if !errors.Is(err, ErrBadName) {
			t.Errorf("%q: accept got %v, want ErrBadName", name, err)
		}
		body, err := readMessage(bufio.NewReader(ca))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := decodeStatus(body); err != nil || st != StatusNotAllowed {
			t.Errorf("%q: status %v %v, want not_allowed", name, st, err)
		}
	}
	if _, err := Initiate(io.Discard, bufio.NewReader(strings.NewReader("")), HandshakeConfig{Name: "bad", Cookie: "c"}, "b@h"); !errors.Is(err, ErrBadName) {
		t.Errorf("initiate with a bad own name: got %v", err)
	}
}

func TestHandshakeVersionMismatch(t *testing.T) {
	// A newer A meets this B.
	ca, cb := tcpPair(t)
	newer := appendHello(nil, hello{Version: Version + 1, Name: cfgA.Name})
	ca.Write(newer)
	peer, err := Accept(cb, bufio.NewReader(cb), cfgB, nil)
	if !errors.Is(err, ErrBadVersion) || peer.Version != Version+1 {
		t.Errorf("accept: got %v (version %d), want ErrBadVersion", err, peer.Version)
	}
	body, err := readMessage(bufio.NewReader(ca))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := decodeStatus(body); st != StatusBadVersion {
		t.Errorf("status %v, want bad_version", st)
	}

	// This A meets an older B that answers bad_version.
	ca, cb = tcpPair(t)
	go func() {
		readMessage(bufio.NewReader(cb))
		cb.Write(appendStatus(nil, StatusBadVersion))
	}()
	_, err = Initiate(ca, bufio.NewReader(ca), cfgA, cfgB.Name)
	if !errors.Is(err, ErrBadVersion) || !errors.Is(err, ErrRefused) {
		t.Errorf("initiate: got %v, want ErrBadVersion and ErrRefused", err)
	}
}

// writeHook passes writes through, appending extra to write number n (from
// 1): B's ack and the first frame then leave in one write, and usually one
// TCP segment.
type writeHook struct {
	w      io.Writer
	n      int
	extra  []byte
	writes int
}

func (h *writeHook) Write(p []byte) (int, error) {
	h.writes++
	if h.writes == h.n {
		_, err := h.w.Write(append(append([]byte(nil), p...), h.extra...))
		return len(p), err
	}
	return h.w.Write(p)
}

// Frames that follow the handshake immediately stay in the bufio.Reader the
// handshake read from.
func TestHandshakeDataFollowsAck(t *testing.T) {
	var first bytes.Buffer
	fw := NewFrameWriter(bufio.NewWriter(&first), 0)
	fw.WriteFrame([]byte("first frame from B"))
	fw.WriteTick()
	fw.WriteFrame([]byte("second frame from B"))
	fw.Flush()

	// Accept writes twice: status+challenge, then the ack.
	wrap := func(w io.Writer) io.Writer { return &writeHook{w: w, n: 2, extra: first.Bytes()} }
	ra, rb := handshake(t, cfgA, cfgB, cfgB.Name, nil, wrap)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("initiate: %v; accept: %v", ra.err, rb.err)
	}
	fr := NewFrameReader(ra.br, 0)
	for _, want := range []string{"first frame from B", "", "second frame from B"} {
		got, err := fr.ReadFrame()
		if err != nil || string(got) != want {
			t.Fatalf("A read %q, %v; want %q", got, err, want)
		}
	}
}

// A frame A sends as soon as Initiate returns reaches B's caller through
// the bufio.Reader Accept read from.
func TestHandshakeFirstFrameFromInitiator(t *testing.T) {
	ca, cb := tcpPair(t)
	done := make(chan result, 1)
	go func() {
		br := bufio.NewReader(cb)
		p, err := Accept(cb, br, cfgB, nil)
		done <- result{p, err, br}
	}()
	br := bufio.NewReader(ca)
	if _, err := Initiate(ca, br, cfgA, cfgB.Name); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(ca)
	fw := NewFrameWriter(w, 0)
	fw.WriteFrame([]byte("from A"))
	fw.Flush()
	rb := <-done
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	got, err := NewFrameReader(rb.br, 0).ReadFrame()
	if err != nil || string(got) != "from A" {
		t.Fatalf("B read %q, %v", got, err)
	}
}

func TestWinsSimultaneous(t *testing.T) {
	if !WinsSimultaneous("b@h", "a@h") || WinsSimultaneous("a@h", "b@h") || WinsSimultaneous("a@h", "a@h") {
		t.Fatal("the greater name must win, and only it")
	}
}

func TestValidName(t *testing.T) {
	good := []string{"a@b", "node1@localhost", "n@10.0.0.1", "n@host.example.com"}
	bad := []string{"", "a", "@b", "a@", "a@b@c", "a b@c", "a@b\n", "<a@b>", strings.Repeat("x", 250) + "@hosts"}
	for _, s := range good {
		if !ValidName(s) {
			t.Errorf("%q should be valid", s)
		}
	}
	for _, s := range bad {
		if ValidName(s) {
			t.Errorf("%q should be invalid", s)
		}
	}
}

func TestReadMessageBounds(t *testing.T) {
	for _, in := range [][]byte{{0, 0}, {0x04, 0x01}, {0xff, 0xff}} {
		if _, err := readMessage(bufio.NewReader(bytes.NewReader(in))); !errors.Is(err, ErrProtocol) {
			t.Errorf("%x: got %v, want ErrProtocol", in, err)
		}
	}
}
