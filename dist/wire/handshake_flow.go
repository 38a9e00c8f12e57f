package wire

import (
	"bufio"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
)

// The two sides of the handshake, step by step as in the protocol flow of
// the package comment: Initiate (A) and Accept (B). Each is a function over
// a writer and a buffered reader, with no goroutine or deadline of its own.

// Initiate runs the dialing side (A) of the handshake on a fresh connection:
// it writes to w and reads from br, and checks that the node that answers
// is wantPeer. Whatever the peer sends after its ack stays buffered in br,
// which the caller goes on reading frames from. Each step is one Write.
//
// Initiate sets no deadlines: the caller sets them on the connection.
func Initiate(w io.Writer, br *bufio.Reader, cfg HandshakeConfig, wantPeer string) (PeerInfo, error) {
	if err := cfg.check(); err != nil {
		return PeerInfo{}, err
	}
	if !ValidName(wantPeer) {
		return PeerInfo{}, fmt.Errorf("%w: dialed %q", ErrBadName, wantPeer)
	}
	fail := func(step string, err error) (PeerInfo, error) {
		return PeerInfo{}, fmt.Errorf("wire: handshake with %s: %s: %w", wantPeer, step, err)
	}

	me := hello{Version: Version, Name: cfg.Name, Creation: cfg.Creation, Flags: cfg.Flags | Flags, Hidden: cfg.Hidden}
	if _, err := w.Write(appendHello(nil, me)); err != nil {
		return fail("sending hello", err)
	}

	body, err := readMessage(br)
	if err != nil {
		return fail("reading status", err)
	}
	st, err := decodeStatus(body)
	if err != nil {
		return fail("reading status", err)
	}
	if st == StatusAlive {
		// The peer holds a connection from us and asks whether it lives.
		dead := cfg.AliveAsked == nil || cfg.AliveAsked(wantPeer)
		if _, err := w.Write(appendAliveAnswer(nil, dead)); err != nil {
			return fail("sending alive answer", err)
		}
		if !dead {
			return PeerInfo{}, &RefusedError{Peer: wantPeer, Status: st}
		}
	} else if st != StatusOK {
		return PeerInfo{}, &RefusedError{Peer: wantPeer, Status: st}
	}

	body, err = readMessage(br)
	if err != nil {
		return fail("reading challenge", err)
	}
	ch, err := decodeChallenge(body)
	if err != nil {
		return fail("reading challenge", err)
	}
	if ch.Name != wantPeer {
		return PeerInfo{}, fmt.Errorf("%w: dialed %s but %q answered", ErrBadName, wantPeer, ch.Name)
	}

	var nonceA [NonceLen]byte
	if _, err := io.ReadFull(cfg.rand(), nonceA[:]); err != nil {
		return fail("making nonce", err)
	}
	t := transcript{a: me, b: ch, nonceA: nonceA, nonceB: ch.Nonce}
	rp := reply{Nonce: nonceA, Digest: t.digest(cfg.Cookie, 'A')}
	if _, err := w.Write(appendReply(nil, rp)); err != nil {
		return fail("sending reply", err)
	}

	body, err = readMessage(br)
	if err != nil {
		return fail("reading ack", err)
	}
	if len(body) == 1 && body[0] == tagAuthFail {
		return PeerInfo{}, fmt.Errorf("%w: %s rejected our digest", ErrBadCookie, wantPeer)
	}
	digestB, err := decodeAck(body)
	if err != nil {
		return fail("reading ack", err)
	}
	want := t.digest(cfg.Cookie, 'B')
	if !hmac.Equal(digestB[:], want[:]) {
		return PeerInfo{}, fmt.Errorf("%w: digest from %s", ErrBadCookie, wantPeer)
	}
	return PeerInfo{Name: ch.Name, Creation: ch.Creation, Flags: ch.Flags, Hidden: ch.Hidden, Version: Version}, nil
}

// Accept runs the accepting side (B) of the handshake on a fresh connection:
// it reads from br and writes to w. After reading A's hello it asks decide
// (nil means always StatusOK) what to answer; the caller, which knows its
// pending and established connections, answers StatusNok, StatusAlive or
// StatusNotAllowed there. Names that are not name@host, or equal to this
// node's, are answered StatusNotAllowed without asking decide. The hello
// decide sees is not yet authenticated (anyone can claim any name and
// creation): decide may reserve, but must not act on it, for example by
// dropping an existing connection to that name, before Accept has returned
// without error.
//
// On success the PeerInfo describes A. On failure it describes A as far as
// the hello told (empty if the hello was unreadable), and the error is
// ErrBadVersion, ErrBadName, ErrBadCookie, ErrProtocol, a *RefusedError
// (the status decide chose) or an I/O error. Each step is one Write; data
// A sends after its reply stays buffered in br. Accept sets no deadlines:
// the caller sets them on the connection.
func Accept(w io.Writer, br *bufio.Reader, cfg HandshakeConfig, decide func(peer PeerInfo) Status) (PeerInfo, error) {
	if err := cfg.check(); err != nil {
		return PeerInfo{}, err
	}
	if b, err := br.Peek(1); err == nil && b[0] == TLSRecordHandshake {
		return PeerInfo{}, refuseTLS(w, br)
	}
	body, err := readMessage(br)
	if err != nil {
		return PeerInfo{}, fmt.Errorf("wire: handshake: reading hello: %w", err)
	}
	h, err := decodeHello(body)
	if errors.Is(err, ErrBadVersion) {
		_, _ = w.Write(appendStatus(nil, StatusBadVersion))
		return PeerInfo{Version: int(h.Version)}, fmt.Errorf("wire: handshake: hello: %w", err)
	}
	if err != nil {
		return PeerInfo{}, fmt.Errorf("wire: handshake: reading hello: %w", err)
	}
	peer := PeerInfo{Name: h.Name, Creation: h.Creation, Flags: h.Flags, Hidden: h.Hidden, Version: Version}
	fail := func(step string, err error) (PeerInfo, error) {
		return peer, fmt.Errorf("wire: handshake with %s: %s: %w", h.Name, step, err)
	}

	if !ValidName(h.Name) || h.Name == cfg.Name {
		_, _ = w.Write(appendStatus(nil, StatusNotAllowed))
		return peer, fmt.Errorf("%w: hello from %q", ErrBadName, h.Name)
	}
	st := StatusOK
	if decide != nil {
		st = decide(peer)
	}
	asked := st == StatusAlive && h.Flags&FlagAliveAsk != 0
	if st != StatusOK {
		if _, err := w.Write(appendStatus(nil, st)); err != nil {
			return fail("sending status", err)
		}
		if !asked {
			return peer, &RefusedError{Peer: h.Name, Status: st}
		}
		body, err := readMessage(br)
		if err != nil {
			return fail("reading alive answer", err)
		}
		dead, err := decodeAliveAnswer(body)
		if err != nil {
			return fail("reading alive answer", err)
		}
		if !dead {
			return peer, &RefusedError{Peer: h.Name, Status: st}
		}
	}

	var nonceB [NonceLen]byte
	if _, err := io.ReadFull(cfg.rand(), nonceB[:]); err != nil {
		return fail("making nonce", err)
	}
	ch := challenge{Name: cfg.Name, Creation: cfg.Creation, Flags: cfg.Flags | Flags, Hidden: cfg.Hidden, Nonce: nonceB}
	msg := make([]byte, 0, 128)
	if !asked {
		msg = appendStatus(msg, StatusOK)
	}
	msg = appendChallenge(msg, ch)
	if _, err := w.Write(msg); err != nil {
		return fail("sending challenge", err)
	}

	body, err = readMessage(br)
	if err != nil {
		return fail("reading reply", err)
	}
	rp, err := decodeReply(body)
	if err != nil {
		return fail("reading reply", err)
	}
	t := transcript{a: h, b: ch, nonceA: rp.Nonce, nonceB: nonceB}
	want := t.digest(cfg.Cookie, 'A')
	if !hmac.Equal(rp.Digest[:], want[:]) {
		_, _ = w.Write(appendAuthFail(nil))
		return peer, fmt.Errorf("%w: digest from %s", ErrBadCookie, h.Name)
	}
	if _, err := w.Write(appendAck(nil, t.digest(cfg.Cookie, 'B'))); err != nil {
		return fail("sending ack", err)
	}
	return peer, nil
}
