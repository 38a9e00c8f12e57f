package handshake

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Status is the acceptor's answer to a send_name, sent as text: 's' ++
// the String of the status. Accept's decide returns one.
type Status uint8

const (
	// StatusOK: go on. For a peer asking for a name (NAME_ME), Accept
	// sends it as named.
	StatusOK Status = iota + 1
	// StatusOKSimultaneous: this node was dialing the peer too, and the
	// peer's name sorts after ours (see WinsSimultaneous): this node drops
	// its own attempt and the handshake goes on.
	StatusOKSimultaneous
	// StatusNok: both nodes are dialing each other and ours wins; the
	// peer gives up its attempt.
	StatusNok
	// StatusNotAllowed: refused (policy, a bad name, missing flags).
	StatusNotAllowed
	// StatusAlive: this node already has a connection to the peer's
	// name. The peer answers true (that connection is dead where it is:
	// replace it once the cookie is proved) or false (stop).
	StatusAlive
	// StatusNamed: the handshake goes on and the peer, which asked for a
	// name, gets one. Only on the wire: decide answers StatusOK.
	StatusNamed
)

var statusText = [...]string{"", "ok", "ok_simultaneous", "nok", "not_allowed", "alive", "named"}

func (s Status) String() string {
	if s != 0 && int(s) < len(statusText) {
		return statusText[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// WinsSimultaneous reports whether self's own outgoing attempt survives
// when self and peer dial each other at once: the greater name wins, as
// net_kernel compares the two atoms. An acceptor with an attempt of its
// own pending answers StatusNok when this is true, else
// StatusOKSimultaneous (and drops its attempt).
func WinsSimultaneous(self, peer string) bool { return self > peer }

// Errors of the handshake; callers compare them with errors.Is. No error
// text contains the cookie.
var (
	// ErrBadCookie: the peer's digest did not match this node's cookie,
	// or, dialing, the peer closed the connection right after our
	// challenge reply, which is how an Erlang node refuses a digest (it
	// logs "Invalid challenge reply" and closes without a word).
	ErrBadCookie = errors.New("handshake: wrong cookie")
	// ErrMissingFlags: the peer lacks required capability flags; the
	// error is a *MissingFlagsError naming them.
	ErrMissingFlags = errors.New("handshake: peer lacks required distribution flags")
	// ErrRefused: the acceptor answered a status other than ok (or alive
	// answered false); the error is a *RefusedError.
	ErrRefused = errors.New("handshake: refused")
	// ErrBadName: a node name that is not name@host, or the node that
	// answered is not the one dialed.
	ErrBadName = errors.New("handshake: bad node name")
	// ErrProtocol: a malformed or unexpected handshake message.
	ErrProtocol = errors.New("handshake: protocol error")
)

// RefusedError reports a handshake the acceptor refused with Status:
// nok, not_allowed, or alive answered false. errors.Is(err, ErrRefused)
// holds.
type RefusedError struct {
	Peer   string
	Status Status
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("handshake: %s refused the connection: %s", e.Peer, e.Status)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

// Config describes this node to the handshake.
type Config struct {
	// Name is this node's name, name@host. With NameMe it is the host
	// alone, and the acceptor picks the name.
	Name string
	// Creation is this node's incarnation, from its epmd registration:
	// never 0 (the BEAM reads 0 as "any incarnation").
	Creation uint32
	// Cookie is the secret shared with the peer (erl's -setcookie or
	// ~/.erlang.cookie); never sent, never printed. Its bytes are hashed
	// as they are: a cookie beyond ASCII must be given in Latin-1, as the
	// BEAM hashes atom_to_list(Cookie).
	Cookie string
	// Flags is what this node offers; 0 means OfferedFlags. It must
	// include Mandatory25. Hidden and NameMe adjust it.
	Flags uint64
	// Require is what this node requires of the peer on top of
	// Mandatory25; 0 means RequiredFlags.
	Require uint64
	// Hidden clears PUBLISHED: the peer lists this node in
	// nodes(hidden) only, and global and rex leave it alone.
	Hidden bool
	// NameMe (Initiate only) asks the acceptor for a name (DFLAG_NAME_ME,
	// creation 0); PeerInfo.AssignedName and AssignedCreation carry it.
	NameMe bool
	// Rand is the source of challenges; nil means crypto/rand.
	Rand io.Reader
	// AliveAsked (Initiate) answers an acceptor that still holds a
	// connection from this node (status alive): true if no connection to
	// that peer is up or being set up here, so that it drops its old one.
	// Nil answers true.
	AliveAsked func(peer string) bool
	// AssignName (Accept) names a peer that asked for a name with
	// NAME_ME, given its host; nil makes "gonode_<random hex>@host" with
	// a random creation.
	AssignName func(host string) (name string, creation uint32)
}

// PeerInfo describes the node at the other end of a handshake.
type PeerInfo struct {
	Name     string // name@host
	Creation uint32
	// Flags are the peer's flags as it sent them, MANDATORY_25_DIGEST
	// expanded (ExpandFlags).
	Flags uint64
	// Agreed are the flags in effect on the connection: this node's
	// AND the peer's, as OTP's adjust_flags. The codec follows these.
	Agreed uint64
	// OldSendName: the peer opened with the pre-OTP-23 send_name 'n' and
	// sent its creation and high flags in a complement.
	OldSendName bool
	// NameMe (Accept): the peer asked for a name; Name is the one this
	// node gave it.
	NameMe bool
	// AssignedName and AssignedCreation (Initiate, with Config.NameMe):
	// the name and creation the acceptor gave this node.
	AssignedName     string
	AssignedCreation uint32
}

// Hidden reports whether the peer did not publish itself.
func (p PeerInfo) Hidden() bool { return p.Flags&FlagPublished == 0 }

// ValidName reports whether s is a static node name as OTP takes one:
// name@host with both parts non-empty and a single '@', at most MaxNameLen
// bytes, without control characters.
func ValidName(s string) bool {
	name, host, ok := strings.Cut(s, "@")
	return ok && len(s) <= MaxNameLen && name != "" && printable(name) && validHost(host)
}

// validHost is the test for a host alone (a NAME_ME send_name).
func validHost(h string) bool {
	return h != "" && len(h) <= MaxNameLen && strings.IndexByte(h, '@') < 0 && printable(h)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func (cfg *Config) check() error {
	if cfg.NameMe {
		if !validHost(cfg.Name) {
			return fmt.Errorf("%w: with NameMe, Name must be a host alone, not %q", ErrBadName, cfg.Name)
		}
	} else if !ValidName(cfg.Name) {
		return fmt.Errorf("%w: own name %q", ErrBadName, cfg.Name)
	}
	if cfg.Creation == 0 && !cfg.NameMe {
		return errors.New("handshake: creation 0 (take the one epmd gave the registration)")
	}
	if cfg.Cookie == "" {
		return errors.New("handshake: empty cookie")
	}
	if m := missingFlags(Mandatory25, cfg.flags()); m != 0 {
		return fmt.Errorf("handshake: Config.Flags lacks %s, which every OTP 25 node requires", strings.Join(FlagNames(m), ", "))
	}
	if m := missingFlags(cfg.required(), cfg.flags()); m != 0 {
		return fmt.Errorf("handshake: Config.Require asks the peer for %s, which Config.Flags does not offer", strings.Join(FlagNames(m), ", "))
	}
	return nil
}

// flags is what this node sends.
func (cfg *Config) flags() uint64 {
	f := cfg.Flags
	if f == 0 {
		f = OfferedFlags
	}
	if cfg.Hidden {
		f &^= FlagPublished
	}
	if cfg.NameMe {
		// A node without a name is not published until it has one
		// (dist_util's publish_flag).
		f = f&^FlagPublished | FlagNameMe
	} else {
		f &^= FlagNameMe
	}
	return f
}

// required is what this node requires of the peer.
func (cfg *Config) required() uint64 {
	r := cfg.Require
	if r == 0 {
		r = RequiredFlags
	}
	return r | Mandatory25
}

func (cfg *Config) challenge() (uint32, error) {
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("handshake: making a challenge: %w", err)
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

// assignName names a NAME_ME peer on host.
func (cfg *Config) assignName(host string) (string, uint32, error) {
	if cfg.AssignName != nil {
		name, creation := cfg.AssignName(host)
		return name, creation, nil
	}
	a, err := cfg.challenge()
	if err != nil {
		return "", 0, err
	}
	c, err := cfg.challenge()
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("gonode_%08x@%s", a, host), max(c, 1), nil
}
