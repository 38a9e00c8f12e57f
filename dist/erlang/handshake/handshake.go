package handshake

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
)

// Initiate runs the dialing side (A) of the handshake on a fresh
// connection to an Erlang node: it writes to w, reads from br, and checks
// that the node that answers is wantPeer, byte for byte (an Erlang node
// does the same: node1@127.0.0.1 is not node1@localhost). The BEAM sends
// its first packets right after its ack: they stay buffered in br, which
// the caller goes on reading [Len:u32] packets from. Each message is one
// Write.
//
// The error is ErrBadCookie, ErrMissingFlags (a *MissingFlagsError),
// ErrRefused (a *RefusedError), ErrBadName, ErrProtocol or an I/O error.
// Initiate sets no deadlines: the caller bounds the whole handshake on the
// connection (OTP gives it net_setuptime, 7 s).
func Initiate(w io.Writer, br *bufio.Reader, cfg Config, wantPeer string) (PeerInfo, error) {
	if err := cfg.check(); err != nil {
		return PeerInfo{}, err
	}
	if !ValidName(wantPeer) {
		return PeerInfo{}, fmt.Errorf("%w: dialed %q", ErrBadName, wantPeer)
	}
	fail := func(step string, err error) (PeerInfo, error) {
		return PeerInfo{}, fmt.Errorf("handshake with %s: %s: %w", wantPeer, step, err)
	}
	own := cfg.flags()
	me := sendName{Flags: own, Creation: cfg.Creation, Name: cfg.Name}
	if cfg.NameMe {
		me.Creation = 0 // it has none until the acceptor names it
	}
	if _, err := w.Write(appendSendName(nil, me)); err != nil {
		return fail("sending send_name", err)
	}

	body, err := readMessage(br, MaxMessage)
	if err != nil {
		return fail("reading status", err)
	}
	st, err := decodeStatus(body)
	if err != nil {
		return fail("reading status", err)
	}
	var info PeerInfo
	switch {
	case st.Status == StatusNok || st.Status == StatusNotAllowed:
		return PeerInfo{}, &RefusedError{Peer: wantPeer, Status: st.Status}
	case cfg.NameMe != (st.Status == StatusNamed):
		// OTP stops here too: a name was asked for and not given, or given
		// unasked.
		return fail("reading status", fmt.Errorf("%w: status %s answering a send_name with NameMe=%t", ErrProtocol, st.Status, cfg.NameMe))
	case st.Status == StatusNamed:
		_, host, _ := strings.Cut(st.Name, "@")
		if !ValidName(st.Name) || host != cfg.Name {
			return fail("reading status", fmt.Errorf("%w: named %q, but this node is on host %q", ErrBadName, st.Name, cfg.Name))
		}
		info.AssignedName, info.AssignedCreation = st.Name, st.Creation
	case st.Status == StatusAlive:
		dead := cfg.AliveAsked == nil || cfg.AliveAsked(wantPeer)
		if _, err := w.Write(appendAliveReply(nil, dead)); err != nil {
			return fail("answering alive", err)
		}
		if !dead {
			return PeerInfo{}, &RefusedError{Peer: wantPeer, Status: st.Status}
		}
	}

	body, err = readMessage(br, MaxMessage)
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
	info.Name, info.Creation, info.Flags = ch.Name, ch.Creation, ExpandFlags(ch.Flags)
	info.Agreed = own & info.Flags
	if m := missingFlags(cfg.required(), info.Flags); m != 0 {
		// As OTP: "Connection attempt to node ... aborted since it
		// cannot handle [...]", and the connection is closed.
		return PeerInfo{}, &MissingFlagsError{Peer: wantPeer, Missing: m, Dir: "to"}
	}

	mine, err := cfg.challenge()
	if err != nil {
		return PeerInfo{}, err
	}
	if _, err := w.Write(appendReply(nil, reply{Challenge: mine, Digest: Digest(cfg.Cookie, ch.Challenge)})); err != nil {
		return fail("sending challenge reply", err)
	}

	body, err = readMessage(br, ackLen)
	if closedByPeer(err) {
		return PeerInfo{}, fmt.Errorf("%w: %s closed the connection on our challenge reply, as an Erlang node does when the digest does not match its cookie (%w)", ErrBadCookie, wantPeer, err)
	}
	if err != nil {
		return fail("reading challenge ack", err)
	}
	digest, err := decodeAck(body)
	if err != nil {
		return fail("reading challenge ack", err)
	}
	if want := Digest(cfg.Cookie, mine); subtle.ConstantTimeCompare(digest[:], want[:]) != 1 {
		return PeerInfo{}, fmt.Errorf("%w: the digest in %s's ack does not match our cookie", ErrBadCookie, wantPeer)
	}
	return info, nil
}

// Accept runs the accepting side (B) of the handshake on a fresh
// connection: it reads from br and writes to w. Once the send_name is read
// and checked (a name@host other than this node's, or a host alone with
// NAME_ME, which is given a name first; the flags this node requires), it
// asks decide (nil answers StatusOK) what to answer: the caller, which
// knows the connections it has up or pending, answers StatusNok,
// StatusOKSimultaneous, StatusAlive or StatusNotAllowed there. decide sees
// a peer that has proved nothing yet: it may reserve, but must not drop
// an existing connection before Accept has returned without error.
//
// A peer is refused with status not_allowed, before decide, when its name
// is bad or it lacks required flags. On a wrong digest Accept writes
// nothing more and returns ErrBadCookie, and the caller closes the
// connection, as an Erlang node does. On success the PeerInfo describes
// the peer, and what it sends after its reply stays buffered in br. On
// failure PeerInfo holds what the send_name told. Accept sets no
// deadlines: the caller sets them on the connection.
func Accept(w io.Writer, br *bufio.Reader, cfg Config, decide func(peer PeerInfo) Status) (PeerInfo, error) {
	if cfg.NameMe {
		return PeerInfo{}, errors.New("handshake: Config.NameMe is for Initiate: an acceptor has a name")
	}
	if err := cfg.check(); err != nil {
		return PeerInfo{}, err
	}
	body, err := readMessage(br, MaxMessage)
	if err != nil {
		return PeerInfo{}, fmt.Errorf("handshake: reading send_name: %w", err)
	}
	m, err := decodeSendName(body)
	if err != nil {
		return PeerInfo{}, fmt.Errorf("handshake: reading send_name: %w", err)
	}
	peer := PeerInfo{Name: m.Name, Creation: m.Creation, Flags: ExpandFlags(m.Flags), OldSendName: m.Old}
	refuse := func(err error) (PeerInfo, error) {
		_, _ = w.Write(appendStatus(nil, statusMsg{Status: StatusNotAllowed}))
		return peer, err
	}
	fail := func(step string, err error) (PeerInfo, error) {
		return peer, fmt.Errorf("handshake with %s: %s: %w", peer.Name, step, err)
	}

	own := cfg.flags()
	peer.NameMe = !m.Old && m.Flags&FlagNameMe != 0
	if peer.NameMe {
		if !validHost(m.Name) {
			return refuse(fmt.Errorf("%w: a request for a name from host %q", ErrBadName, m.Name))
		}
		name, creation, err := cfg.assignName(m.Name)
		if err != nil {
			return refuse(err)
		}
		if !ValidName(name) || name == cfg.Name {
			return refuse(fmt.Errorf("%w: name %q assigned to a node on %q", ErrBadName, name, m.Name))
		}
		peer.Name, peer.Creation = name, creation
		// OTP's publish_flag: to a node asking for a name the acceptor
		// offers NAME_ME in place of PUBLISHED.
		own = own&^FlagPublished | FlagNameMe
	} else if !ValidName(m.Name) || m.Name == cfg.Name {
		return refuse(fmt.Errorf("%w: send_name from %q", ErrBadName, m.Name))
	}
	required := cfg.required()
	if m.Old {
		required &= 1<<32 - 1 // the complement brings the high word
	}
	if missing := missingFlags(required, peer.Flags); missing != 0 {
		return refuse(&MissingFlagsError{Peer: peer.Name, Missing: missing, Dir: "from"})
	}
	peer.Agreed = own & peer.Flags

	st := StatusOK
	if decide != nil {
		st = decide(peer)
	}
	var msg []byte
	switch st {
	case StatusOK, StatusOKSimultaneous:
		if peer.NameMe {
			msg = appendStatus(nil, statusMsg{Status: StatusNamed, Name: peer.Name, Creation: peer.Creation})
		} else {
			msg = appendStatus(nil, statusMsg{Status: st})
		}
	case StatusNok, StatusNotAllowed:
		if _, err := w.Write(appendStatus(nil, statusMsg{Status: st})); err != nil {
			return fail("sending status", err)
		}
		return peer, &RefusedError{Peer: peer.Name, Status: st}
	case StatusAlive:
		if _, err := w.Write(appendStatus(nil, statusMsg{Status: st})); err != nil {
			return fail("sending status", err)
		}
		body, err := readMessage(br, len("sfalse"))
		if err != nil {
			return fail("reading alive reply", err)
		}
		dead, err := decodeAliveReply(body)
		if err != nil {
			return fail("reading alive reply", err)
		}
		if !dead {
			return peer, &RefusedError{Peer: peer.Name, Status: st}
		}
	default:
		return refuse(fmt.Errorf("handshake: decide answered %s, which is not an answer to a send_name", st))
	}

	mine, err := cfg.challenge()
	if err != nil {
		return peer, err
	}
	msg = appendChallenge(msg, challenge{Flags: own, Challenge: mine, Creation: cfg.Creation, Name: cfg.Name})
	if _, err := w.Write(msg); err != nil {
		return fail("sending challenge", err)
	}

	if m.Old {
		body, err := readMessage(br, complementLen)
		if err != nil {
			return fail("reading complement", err)
		}
		high, creation, err := decodeComplement(body)
		if err != nil {
			return fail("reading complement", err)
		}
		peer.Creation = creation
		peer.Flags = ExpandFlags(peer.Flags | uint64(high)<<32)
		peer.Agreed = own & peer.Flags
		if missing := missingFlags(cfg.required(), peer.Flags); missing != 0 {
			// The status is sent: OTP just closes here.
			return peer, &MissingFlagsError{Peer: peer.Name, Missing: missing, Dir: "from"}
		}
	}

	body, err = readMessage(br, replyLen)
	if err != nil {
		return fail("reading challenge reply", err)
	}
	r, err := decodeReply(body)
	if err != nil {
		return fail("reading challenge reply", err)
	}
	if want := Digest(cfg.Cookie, mine); subtle.ConstantTimeCompare(r.Digest[:], want[:]) != 1 {
		return peer, fmt.Errorf("%w: the challenge reply from %s does not match our cookie", ErrBadCookie, peer.Name)
	}
	if _, err := w.Write(appendAck(nil, Digest(cfg.Cookie, r.Challenge))); err != nil {
		return fail("sending challenge ack", err)
	}
	return peer, nil
}

// closedByPeer reports whether err is the peer closing the connection
// (not a deadline, not our own close).
func closedByPeer(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
