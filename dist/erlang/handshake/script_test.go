package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// Tests that play one side by hand, byte for byte: what OTP 23/24 nodes
// and hand-made peers send, and what no gonode would.

// zeroRand makes challenges 0, so that scripts can hold the digests.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// scriptA plays the dialing side against Accept(cfgB) over net.Pipe: it
// writes first, then calls step with a reader of what B sends.
func scriptA(t *testing.T, first []byte, step func(br *bufio.Reader, w io.Writer)) (PeerInfo, error) {
	t.Helper()
	ca, cb := net.Pipe()
	deadline := time.Now().Add(5 * time.Second)
	ca.SetDeadline(deadline)
	cb.SetDeadline(deadline)
	defer ca.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ca.Close()
		if _, err := ca.Write(first); err != nil {
			return
		}
		step(bufio.NewReader(ca), ca)
	}()
	p, err := Accept(cb, bufio.NewReader(cb), cfgB, nil)
	cb.Close()
	<-done
	return p, err
}

func mustRead(t *testing.T, br *bufio.Reader, max int) []byte {
	t.Helper()
	b, err := readMessage(br, max)
	if err != nil {
		t.Errorf("script: %v", err)
	}
	return b
}

// TestOldSendName: an OTP 23/24 node that did not ask epmd opens with 'n';
// Accept answers as OTP 25.3 does, and reads the complement.
func TestOldSendName(t *testing.T) {
	first := appendSendName(nil, sendName{Old: true, Version: 5, Flags: OfferedFlags, Name: "old@host"})
	var ack [DigestLen]byte
	p, err := scriptA(t, first, func(br *bufio.Reader, w io.Writer) {
		st, _ := decodeStatus(mustRead(t, br, MaxMessage))
		ch, err := decodeChallenge(mustRead(t, br, MaxMessage))
		if st.Status != StatusOK || err != nil || ch.Name != cfgB.Name {
			t.Errorf("status %v, challenge %+v, %v", st, ch, err)
			return
		}
		msg := appendComplement(nil, uint32(OfferedFlags>>32), 77)
		msg = appendReply(msg, reply{Challenge: 5, Digest: Digest(cfgB.Cookie, ch.Challenge)})
		w.Write(msg)
		ack, _ = decodeAck(mustRead(t, br, ackLen))
	})
	if err != nil || !p.OldSendName || p.Creation != 77 || p.Flags != OfferedFlags || p.Name != "old@host" {
		t.Fatalf("peer %+v, %v", p, err)
	}
	if ack != Digest(cfgB.Cookie, 5) {
		t.Error("wrong ack digest")
	}

	// OTP 22 and older: no HANDSHAKE_23, refused at once.
	first = appendSendName(nil, sendName{Old: true, Version: 5, Flags: Mandatory25 &^ FlagHandshake23, Name: "otp22@host"})
	var st statusMsg
	_, err = scriptA(t, first, func(br *bufio.Reader, w io.Writer) { st, _ = decodeStatus(mustRead(t, br, MaxMessage)) })
	var me *MissingFlagsError
	if !errors.As(err, &me) || me.Missing&FlagHandshake23 == 0 || st.Status != StatusNotAllowed {
		t.Errorf("OTP 22 node: %v, status %v", err, st.Status)
	}

	// A complement without V4_NC: refused once it is read.
	first = appendSendName(nil, sendName{Old: true, Version: 5, Flags: OfferedFlags, Name: "old@host"})
	_, err = scriptA(t, first, func(br *bufio.Reader, w io.Writer) {
		mustRead(t, br, MaxMessage)
		mustRead(t, br, MaxMessage)
		w.Write(appendComplement(nil, uint32((OfferedFlags&^FlagV4NC)>>32), 77))
	})
	if !errors.As(err, &me) || me.Missing != FlagV4NC {
		t.Errorf("complement without V4_NC: %v", err)
	}
}

// TestDigestFlagOnly: from OTP 27 a node may send MANDATORY_25_DIGEST in
// place of the Mandatory25 bits.
func TestDigestFlagOnly(t *testing.T) {
	flags := FlagMandatory25Digest | FlagUnlinkID | FlagV4NC | FlagPublished
	first := appendSendName(nil, sendName{Flags: flags, Creation: 3, Name: "new@host"})
	p, err := scriptA(t, first, func(br *bufio.Reader, w io.Writer) {
		mustRead(t, br, MaxMessage)
		ch, _ := decodeChallenge(mustRead(t, br, MaxMessage))
		w.Write(appendReply(nil, reply{Digest: Digest(cfgB.Cookie, ch.Challenge)}))
		mustRead(t, br, ackLen)
	})
	if err != nil || p.Flags != flags|Mandatory25 {
		t.Fatalf("peer %s, %v", FormatFlags(p.Flags), err)
	}
}

// bScript is what B sends to a dialing cfgA with zero challenges.
func bScript(st statusMsg, name string) []byte {
	b := appendStatus(nil, st)
	b = appendChallenge(b, challenge{Flags: OfferedFlags, Challenge: 9, Creation: 4, Name: name})
	return appendAck(b, Digest(cfgA.Cookie, 0))
}

func withoutAck(b []byte) []byte { return b[:len(b)-2-ackLen] }

// TestInitiateScripted feeds Initiate what B would send and checks what it
// writes and what it leaves in the reader.
func TestInitiateScripted(t *testing.T) {
	a := cfgA
	a.Rand = zeroRand{}
	run := func(a Config, in []byte) (PeerInfo, error, *bytes.Buffer, *bufio.Reader) {
		var out bytes.Buffer
		br := bufio.NewReader(bytes.NewReader(in))
		p, err := Initiate(&out, br, a, "b@host")
		return p, err, &out, br
	}

	packet := []byte{0, 0, 0, 3, 'p', 131, 'h'}
	p, err, out, br := run(a, append(bScript(statusMsg{Status: StatusOK}, "b@host"), packet...))
	if err != nil || p.Name != "b@host" || p.Creation != 4 {
		t.Fatalf("peer %+v, %v", p, err)
	}
	want := appendSendName(nil, sendName{Flags: OfferedFlags, Creation: a.Creation, Name: a.Name})
	want = appendReply(want, reply{Challenge: 0, Digest: Digest(a.Cookie, 9)})
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("Initiate wrote %x, want %x", out.Bytes(), want)
	}
	if rest, _ := io.ReadAll(br); !bytes.Equal(rest, packet) {
		t.Errorf("left %x in the reader, want the packet %x", rest, packet)
	}

	nameMe := Config{Name: "host", Cookie: a.Cookie, NameMe: true, Rand: zeroRand{}}
	named := statusMsg{Status: StatusNamed, Name: "d@host", Creation: 8}
	for _, c := range []struct {
		name string
		cfg  Config
		in   []byte
		err  error
	}{
		{"named unasked", a, bScript(named, "b@host"), ErrProtocol},
		{"ok to NameMe", nameMe, bScript(statusMsg{Status: StatusOK}, "b@host"), ErrProtocol},
		{"named on another host", nameMe, bScript(statusMsg{Status: StatusNamed, Name: "d@elsewhere", Creation: 8}, "b@host"), ErrBadName},
		{"unknown status", a, []byte("\x00\x03sno"), ErrProtocol},
		{"challenge from another node", a, bScript(statusMsg{Status: StatusOK}, "c@host"), ErrBadName},
		{"wrong ack", a, append(withoutAck(bScript(statusMsg{Status: StatusOK}, "b@host")), appendAck(nil, [DigestLen]byte{1})...), ErrBadCookie},
		{"closed after send_name", a, nil, io.ErrUnexpectedEOF},
		{"closed after the status", a, appendStatus(nil, statusMsg{Status: StatusOK}), io.ErrUnexpectedEOF},
		{"closed after the reply", a, withoutAck(bScript(statusMsg{Status: StatusOK}, "b@host")), ErrBadCookie},
	} {
		_, err, _, _ := run(c.cfg, c.in)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
		if c.err != ErrBadCookie && errors.Is(err, ErrBadCookie) {
			t.Errorf("%s: reported as a wrong cookie: %v", c.name, err)
		}
	}
	p, err, _, _ = run(nameMe, bScript(named, "b@host"))
	if err != nil || p.AssignedName != "d@host" || p.AssignedCreation != 8 {
		t.Errorf("named: %+v, %v", p, err)
	}
}

// TestSilentPeerIsNoBadCookie: a peer that never answers the reply runs
// into the caller's deadline, which is not a cookie error.
func TestSilentPeerIsNoBadCookie(t *testing.T) {
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	ca.SetDeadline(time.Now().Add(300 * time.Millisecond))
	go func() {
		br := bufio.NewReader(cb)
		readMessage(br, MaxMessage)
		cb.Write(withoutAck(bScript(statusMsg{Status: StatusOK}, "b@host")))
		readMessage(br, replyLen)
	}()
	_, err := Initiate(ca, bufio.NewReader(ca), cfgA, "b@host")
	if !errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ErrBadCookie) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}
