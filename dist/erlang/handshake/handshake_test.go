package handshake

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

var (
	cfgA = Config{Name: "a@host", Creation: 0x11223344, Cookie: "cookie-of-a-and-b"}
	cfgB = Config{Name: "b@host", Creation: 0x55667788, Cookie: "cookie-of-a-and-b"}
)

type result struct {
	peer PeerInfo
	err  error
	br   *bufio.Reader
	conn net.Conn
}

// pipe runs Initiate(a) against Accept(b) over net.Pipe. Either side
// closes its end on failure, as a node does, so that the other never
// hangs; both ends have a deadline.
func pipe(t *testing.T, a, b Config, wantPeer string, decide func(PeerInfo) Status) (ra, rb result) {
	t.Helper()
	ca, cb := net.Pipe()
	deadline := time.Now().Add(5 * time.Second)
	_ = ca.SetDeadline(deadline)
	_ = cb.SetDeadline(deadline)
	t.Cleanup(func() { ca.Close(); cb.Close() })
	done := make(chan result, 1)
	go func() {
		br := bufio.NewReader(cb)
		p, err := Accept(cb, br, b, decide)
		if err != nil {
			cb.Close()
		}
		done <- result{p, err, br, cb}
	}()
	br := bufio.NewReader(ca)
	p, err := Initiate(ca, br, a, wantPeer)
	if err != nil {
		ca.Close()
	}
	return result{p, err, br, ca}, <-done
}

func TestHandshake(t *testing.T) {
	var seen PeerInfo
	ra, rb := pipe(t, cfgA, cfgB, "b@host", func(p PeerInfo) Status { seen = p; return StatusOK })
	if ra.err != nil || rb.err != nil {
		t.Fatalf("initiate: %v; accept: %v", ra.err, rb.err)
	}
	want := PeerInfo{Name: "b@host", Creation: cfgB.Creation, Flags: OfferedFlags, Agreed: OfferedFlags}
	if ra.peer != want {
		t.Errorf("A sees %+v, want %+v", ra.peer, want)
	}
	want = PeerInfo{Name: "a@host", Creation: cfgA.Creation, Flags: OfferedFlags, Agreed: OfferedFlags}
	if rb.peer != want || seen != want {
		t.Errorf("B sees %+v (decide saw %+v), want %+v", rb.peer, seen, want)
	}
	// The connection is usable afterwards: a tick goes through.
	go rb.conn.Write([]byte{0, 0, 0, 0})
	var tick [4]byte
	if _, err := ra.br.Read(tick[:]); err != nil || tick != [4]byte{} {
		t.Errorf("tick after the handshake: %x, %v", tick, err)
	}
}

func TestHandshakeHiddenAndAgreed(t *testing.T) {
	a := cfgA
	a.Hidden = true
	b := cfgB
	b.Flags = OfferedFlags &^ (FlagAlias | FlagSpawn)
	ra, rb := pipe(t, a, b, "b@host", nil)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("initiate: %v; accept: %v", ra.err, rb.err)
	}
	if !rb.peer.Hidden() || ra.peer.Hidden() {
		t.Errorf("hidden: B sees A hidden=%v, A sees B hidden=%v", rb.peer.Hidden(), ra.peer.Hidden())
	}
	agreed := OfferedFlags &^ (FlagAlias | FlagSpawn | FlagPublished)
	if ra.peer.Agreed != agreed || rb.peer.Agreed != agreed {
		t.Errorf("agreed %s / %s, want %s", FormatFlags(ra.peer.Agreed), FormatFlags(rb.peer.Agreed), FormatFlags(agreed))
	}
}

func TestWrongCookie(t *testing.T) {
	b := cfgB
	b.Cookie = "another-cookie"
	ra, rb := pipe(t, cfgA, b, "b@host", nil)
	if !errors.Is(ra.err, ErrBadCookie) || !errors.Is(rb.err, ErrBadCookie) {
		t.Fatalf("initiate: %v; accept: %v; want ErrBadCookie on both sides", ra.err, rb.err)
	}
	for _, err := range []error{ra.err, rb.err} {
		if s := err.Error(); strings.Contains(s, cfgA.Cookie) || strings.Contains(s, b.Cookie) {
			t.Errorf("error shows the cookie: %s", s)
		}
	}
	if !strings.Contains(ra.err.Error(), "b@host") || !strings.Contains(rb.err.Error(), "a@host") {
		t.Errorf("errors do not name the peer: %v / %v", ra.err, rb.err)
	}
}

func TestStatuses(t *testing.T) {
	for _, st := range []Status{StatusNok, StatusNotAllowed} {
		ra, rb := pipe(t, cfgA, cfgB, "b@host", func(PeerInfo) Status { return st })
		var re *RefusedError
		if !errors.As(ra.err, &re) || re.Status != st || !errors.Is(ra.err, ErrRefused) {
			t.Errorf("%s: initiate: %v", st, ra.err)
		}
		if !errors.As(rb.err, &re) || re.Status != st {
			t.Errorf("%s: accept: %v", st, rb.err)
		}
	}
	ra, rb := pipe(t, cfgA, cfgB, "b@host", func(PeerInfo) Status { return StatusOKSimultaneous })
	if ra.err != nil || rb.err != nil {
		t.Errorf("ok_simultaneous: %v; %v", ra.err, rb.err)
	}
	// A node that is asked "alive?" and has no connection answers true,
	// and the handshake goes on.
	a := cfgA
	var asked string
	a.AliveAsked = func(peer string) bool { asked = peer; return true }
	ra, rb = pipe(t, a, cfgB, "b@host", func(PeerInfo) Status { return StatusAlive })
	if ra.err != nil || rb.err != nil || asked != "b@host" {
		t.Errorf("alive, true: %v; %v; asked about %q", ra.err, rb.err, asked)
	}
	a.AliveAsked = func(string) bool { return false }
	ra, rb = pipe(t, a, cfgB, "b@host", func(PeerInfo) Status { return StatusAlive })
	var re *RefusedError
	if !errors.As(ra.err, &re) || re.Status != StatusAlive || !errors.As(rb.err, &re) || re.Status != StatusAlive {
		t.Errorf("alive, false: %v; %v", ra.err, rb.err)
	}
	// A decision that is no answer is refused not_allowed.
	ra, rb = pipe(t, cfgA, cfgB, "b@host", func(PeerInfo) Status { return StatusNamed })
	if !errors.As(ra.err, &re) || re.Status != StatusNotAllowed || rb.err == nil {
		t.Errorf("decide named: %v; %v", ra.err, rb.err)
	}
	if WinsSimultaneous("a@h", "b@h") || !WinsSimultaneous("b@h", "a@h") {
		t.Error("WinsSimultaneous: the greater name must win")
	}
}

func TestMissingFlags(t *testing.T) {
	// A peer without the new link protocol is refused not_allowed.
	a := cfgA
	a.Flags = OfferedFlags &^ FlagUnlinkID
	a.Require = Mandatory25
	ra, rb := pipe(t, a, cfgB, "b@host", func(PeerInfo) Status { t.Error("decide asked"); return StatusOK })
	var me *MissingFlagsError
	if !errors.As(rb.err, &me) || me.Missing != FlagUnlinkID || !strings.Contains(rb.err.Error(), "UNLINK_ID") {
		t.Errorf("accept: %v", rb.err)
	}
	var re *RefusedError
	if !errors.As(ra.err, &re) || re.Status != StatusNotAllowed {
		t.Errorf("initiate: %v", ra.err)
	}
	// Dialing a peer without V4_NC aborts after its challenge.
	b := cfgB
	b.Flags = OfferedFlags &^ FlagV4NC
	b.Require = Mandatory25
	ra, _ = pipe(t, cfgA, b, "b@host", nil)
	if !errors.As(ra.err, &me) || me.Missing != FlagV4NC || me.Dir != "to" || !strings.Contains(ra.err.Error(), "V4_NC") {
		t.Errorf("initiate: %v", ra.err)
	}
}

func TestNames(t *testing.T) {
	// The node that answers must be the one dialed.
	ra, _ := pipe(t, cfgA, cfgB, "b@otherhost", nil)
	if !errors.Is(ra.err, ErrBadName) {
		t.Errorf("wrong peer: %v", ra.err)
	}
	// A node calling itself by our name is refused.
	a := cfgA
	a.Name = cfgB.Name
	ra, rb := pipe(t, a, cfgB, "b@host", nil)
	if !errors.Is(rb.err, ErrBadName) || !errors.Is(ra.err, ErrRefused) {
		t.Errorf("own name: %v; %v", ra.err, rb.err)
	}
	for _, s := range []string{"a@h", "a.b-c@host.example"} {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "a", "@h", "a@", "a@b@c", "a\n@h", strings.Repeat("a", MaxNameLen) + "@h"} {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true", s)
		}
	}
}

func TestNameMe(t *testing.T) {
	a := Config{Name: "host", Cookie: cfgA.Cookie, NameMe: true}
	ra, rb := pipe(t, a, cfgB, "b@host", nil)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("initiate: %v; accept: %v", ra.err, rb.err)
	}
	if !strings.HasPrefix(ra.peer.AssignedName, "gonode_") || !strings.HasSuffix(ra.peer.AssignedName, "@host") ||
		ra.peer.AssignedCreation == 0 {
		t.Errorf("assigned %q, %d", ra.peer.AssignedName, ra.peer.AssignedCreation)
	}
	if !rb.peer.NameMe || rb.peer.Name != ra.peer.AssignedName || rb.peer.Creation != ra.peer.AssignedCreation {
		t.Errorf("B sees %+v, A was named %q", rb.peer, ra.peer.AssignedName)
	}
	// As OTP, B offers NAME_ME instead of PUBLISHED to a nameless node.
	if ra.peer.Flags&FlagPublished != 0 || ra.peer.Flags&FlagNameMe == 0 {
		t.Errorf("B's flags to a nameless node: %s", FormatFlags(ra.peer.Flags))
	}
	b := cfgB
	b.AssignName = func(host string) (string, uint32) { return "dyn@" + host, 42 }
	ra, rb = pipe(t, a, b, "b@host", nil)
	if ra.err != nil || ra.peer.AssignedName != "dyn@host" || ra.peer.AssignedCreation != 42 || rb.peer.Name != "dyn@host" {
		t.Errorf("AssignName: %+v, %v", ra.peer, ra.err)
	}
	b.AssignName = func(host string) (string, uint32) { return "no name", 1 }
	ra, rb = pipe(t, a, b, "b@host", nil)
	if !errors.Is(rb.err, ErrBadName) || !errors.Is(ra.err, ErrRefused) {
		t.Errorf("a bad assigned name: %v; %v", ra.err, rb.err)
	}
}

func TestConfigChecks(t *testing.T) {
	bad := []Config{
		{Name: "a", Creation: 1, Cookie: "c"},
		{Name: "a@h", Creation: 0, Cookie: "c"},
		{Name: "a@h", Creation: 1},
		{Name: "a@h", Creation: 1, Cookie: "c", Flags: FlagPublished},
		{Name: "a@h", Creation: 1, Cookie: "c", Flags: Mandatory25},     // requires UNLINK_ID it does not offer
		{Name: "a@h", Creation: 1, Cookie: "c", NameMe: true},           // NameMe wants a host alone
		{Name: "a@h", Creation: 1, Cookie: "c", Require: FlagFragments}, // requires what it does not offer
	}
	for _, c := range bad {
		if _, err := Initiate(nil, nil, c, "b@h"); err == nil {
			t.Errorf("Initiate took config %+v", c)
		}
	}
	if _, err := Accept(nil, nil, Config{Name: "h", Cookie: "c", NameMe: true}, nil); err == nil {
		t.Error("Accept took NameMe")
	}
	if _, err := Initiate(nil, nil, cfgA, "nohost"); !errors.Is(err, ErrBadName) {
		t.Errorf("dialing a bad name: %v", err)
	}
}
