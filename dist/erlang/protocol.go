package erlang

import (
	"bufio"
	"errors"
	"io"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/dist/wire"
)

// Protocol returns the Erlang dialect as a dist.Protocol: set it as
// dist.Config.Foreign, so that the node accepts BEAM nodes (told apart by
// their send_name) and dials nodes whose port mapper entry lacks gonode's
// mark with it.
func Protocol() dist.Protocol {
	return dist.Protocol{
		Name:      "erlang",
		Handshake: handshaker{},
		NewConn:   newConn,
		Hello:     hello,
	}
}

// hello sniffs a send_name byte by byte (see dist.Protocol.Hello).
func hello(first []byte) dist.HelloMatch {
	switch {
	case !handshake.MayBeErlangHello(first):
		return dist.HelloNo
	case len(first) >= handshake.HelloLen:
		return dist.HelloYes
	}
	return dist.HelloMaybe
}

// dialect is what the handshake tells the codec (wire.PeerInfo.Dialect).
type dialect struct {
	agreed   uint64
	self     string
	creation uint32
}

func newConn(peer wire.PeerInfo) dist.Codec {
	d, _ := peer.Dialect.(*dialect)
	if d == nil {
		d = &dialect{agreed: handshake.Mandatory25}
	}
	return NewCodec(d.self, d.creation, peer.Name, d.agreed)
}

type handshaker struct{}

// offered is what the dialect offers: the handshake's OfferedFlags and
// FRAGMENTS, whose packets the codec reassembles (fragments.go).
const offered = handshake.OfferedFlags | handshake.FlagFragments

func config(self wire.HandshakeConfig) handshake.Config {
	return handshake.Config{
		Name: self.Name, Creation: self.Creation, Cookie: self.Cookie, Hidden: self.Hidden,
		Rand: self.Rand, AliveAsked: self.AliveAsked, Flags: offered,
	}
}

// peerInfo describes a BEAM peer to dist. Every BEAM dialer answers
// status alive, so it counts as one that can be asked (FlagAliveAsk); the
// codec takes dist's KindCancel of a call (a DEMONITOR_P, as erpc's
// time-out: FlagCallCancel); gonode's other native flags do not apply.
func peerInfo(p handshake.PeerInfo, self wire.HandshakeConfig) wire.PeerInfo {
	return wire.PeerInfo{
		Name: p.Name, Creation: p.Creation, Flags: wire.FlagAliveAsk | wire.FlagCallCancel, Hidden: p.Hidden(), Version: 6,
		Dialect: &dialect{agreed: p.Agreed, self: self.Name, creation: self.Creation},
	}
}

func (handshaker) Initiate(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, wantPeer string) (wire.PeerInfo, error) {
	info, err := handshake.Initiate(w, br, config(self), wantPeer)
	if err != nil {
		return wire.PeerInfo{Name: info.Name}, wireError(err, wantPeer)
	}
	return peerInfo(info, self), nil
}

func (handshaker) Accept(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, decide func(wire.PeerInfo) wire.Status) (wire.PeerInfo, error) {
	var name string
	info, err := handshake.Accept(w, br, config(self), func(p handshake.PeerInfo) handshake.Status {
		name = p.Name
		switch decide(peerInfo(p, self)) {
		case wire.StatusOK:
			return handshake.StatusOK
		case wire.StatusNok:
			return handshake.StatusNok
		case wire.StatusAlive:
			return handshake.StatusAlive
		}
		return handshake.StatusNotAllowed
	})
	if err != nil {
		if info.Name == "" {
			info.Name = name
		}
		return wire.PeerInfo{Name: info.Name}, wireError(err, info.Name)
	}
	return peerInfo(info, self), nil
}

// bothErrors is a handshake error that is also the dist/wire error dist
// acts on (a cookie mismatch, a refusal and its status), reading as the
// handshake's own (which never holds the cookie).
type bothErrors struct{ err, wire error }

func (e *bothErrors) Error() string   { return e.err.Error() }
func (e *bothErrors) Unwrap() []error { return []error{e.err, e.wire} }

func wireError(err error, peer string) error {
	var refused *handshake.RefusedError
	switch {
	case errors.Is(err, handshake.ErrBadCookie):
		return &bothErrors{err, wire.ErrBadCookie}
	case errors.As(err, &refused):
		st := wire.StatusNotAllowed
		switch refused.Status {
		case handshake.StatusNok:
			st = wire.StatusNok
		case handshake.StatusAlive:
			st = wire.StatusAlive
		}
		return &bothErrors{err, &wire.RefusedError{Peer: peer, Status: st}}
	case errors.Is(err, handshake.ErrBadName):
		return &bothErrors{err, wire.ErrBadName}
	}
	return err
}
