package handshake

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRealNode runs both roles against one real OTP node (started once, in
// about a second): Go dials it, it dials Go, with the right cookie and a
// wrong one, and the statuses a real node answers (alive, named,
// not_allowed for missing flags).
func TestRealNode(t *testing.T) {
	const cookie = "interop-cookie"
	n := startErl(t, cookie)
	gi := Config{Name: "gi@localhost", Creation: uint32(time.Now().UnixNano()) | 1, Cookie: cookie}
	// What an OTP 25 node sends besides the flags gonode requires.
	expected := RequiredFlags | FlagPublished | FlagDistMonitor | FlagDistMonitorName | FlagSpawn | FlagAlias

	t.Run("go dials", func(t *testing.T) {
		c, br := n.dial(t)
		p, err := Initiate(c, br, gi, "x@localhost")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("x@localhost: creation %d, flags %s", p.Creation, FormatFlags(p.Flags))
		if p.Name != "x@localhost" || p.Creation == 0 || missingFlags(expected, p.Flags) != 0 {
			t.Fatalf("peer %+v lacks %s", p, FlagNames(missingFlags(expected, p.Flags)))
		}
		n.expect(t, "nodeup gi@localhost")
		if _, err := c.Write([]byte{0, 0, 0, 0}); err != nil { // a tick
			t.Fatal(err)
		}
		// The node's first packets (global's init_connect) are
		// pass-through: no atom cache, since gonode does not offer it.
		for {
			pkt, err := readPacket(br)
			if err != nil {
				t.Fatalf("reading the node's first packet: %v", err)
			}
			if len(pkt) == 0 {
				continue // a tick
			}
			if len(pkt) < 2 || pkt[0] != 'p' || pkt[1] != 131 {
				t.Fatalf("first packet %q is not pass-through", pkt)
			}
			break
		}
		n.send(t, "nodes")
		if l := n.expect(t, "nodes "); !strings.Contains(l, "gi@localhost") {
			t.Fatalf("the node lists %s", l)
		}
		c.Close()
		n.expect(t, "nodedown gi@localhost")
	})

	t.Run("go dials, alive", func(t *testing.T) {
		c1, br1 := n.dial(t)
		if _, err := Initiate(c1, br1, gi, "x@localhost"); err != nil {
			t.Fatal(err)
		}
		n.expect(t, "nodeup gi@localhost")
		// A second connection from the same name: the node asks whether
		// the first is alive; answering true makes it replace the first.
		c2, br2 := n.dial(t)
		cfg := gi
		asked := false
		cfg.AliveAsked = func(string) bool { asked = true; return true }
		if _, err := Initiate(c2, br2, cfg, "x@localhost"); err != nil || !asked {
			t.Fatalf("second connection: %v (asked alive: %v)", err, asked)
		}
		for {
			if _, err := readPacket(br1); err != nil {
				break // the node closed the old connection
			}
		}
		n.expect(t, "nodedown gi@localhost")
		n.expect(t, "nodeup gi@localhost")
		c2.Close()
		n.expect(t, "nodedown gi@localhost")
	})

	t.Run("go dials, wrong cookie", func(t *testing.T) {
		c, br := n.dial(t)
		cfg := gi
		cfg.Name, cfg.Cookie = "gw@localhost", "not-the-cookie"
		_, err := Initiate(c, br, cfg, "x@localhost")
		if !errors.Is(err, ErrBadCookie) {
			t.Fatalf("err = %v, want ErrBadCookie", err)
		}
		if strings.Contains(err.Error(), cfg.Cookie) {
			t.Fatalf("the error shows the cookie: %v", err)
		}
		t.Log(err)
		waitUntil(t, "the node to log the bad digest", func() bool { return n.logged("Invalid challenge reply") })
	})

	t.Run("go dials, missing flags", func(t *testing.T) {
		// Initiate will not send flags without Mandatory25: write the
		// send_name by hand, as a node without maps would.
		c, br := n.dial(t)
		flags := OfferedFlags &^ (FlagMapTag | FlagMandatory25Digest)
		if _, err := c.Write(appendSendName(nil, sendName{Flags: flags, Creation: gi.Creation, Name: "gf@localhost"})); err != nil {
			t.Fatal(err)
		}
		body, err := readMessage(br, MaxMessage)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := decodeStatus(body); err != nil || st.Status != StatusNotAllowed {
			t.Fatalf("status %+v, %v; want not_allowed", st, err)
		}
		waitUntil(t, "the node to log the missing flag", func() bool { return n.logged("MAP_TAG") })
	})

	t.Run("go dials, named", func(t *testing.T) {
		c, br := n.dial(t)
		p, err := Initiate(c, br, Config{Name: "localhost", Cookie: cookie, NameMe: true}, "x@localhost")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("named %s, creation %d", p.AssignedName, p.AssignedCreation)
		if !strings.HasSuffix(p.AssignedName, "@localhost") || p.AssignedCreation == 0 {
			t.Fatalf("named %q, creation %d", p.AssignedName, p.AssignedCreation)
		}
	})

	t.Run("erl dials", func(t *testing.T) {
		g := listenGo(t, n, "gn", cookie)
		n.send(t, "connect gn@localhost")
		r := g.next(t)
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Logf("x@localhost dialing: flags %s", FormatFlags(r.peer.Flags))
		if r.peer.Name != "x@localhost" || missingFlags(expected, r.peer.Flags) != 0 {
			t.Fatalf("peer %+v", r.peer)
		}
		if l := n.expect(t, "connect gn@localhost "); l != "connect gn@localhost true" {
			t.Fatalf("the node printed %q", l)
		}
		n.expect(t, "nodeup gn@localhost")
	})

	t.Run("erl dials, wrong cookie", func(t *testing.T) {
		g := listenGo(t, n, "gw2", "not-the-cookie")
		n.send(t, "connect gw2@localhost")
		r := g.next(t)
		if !errors.Is(r.err, ErrBadCookie) || strings.Contains(r.err.Error(), "not-the-cookie") || strings.Contains(r.err.Error(), cookie) {
			t.Fatalf("err = %v, want ErrBadCookie without the cookie", r.err)
		}
		t.Log(r.err)
		if l := n.expect(t, "connect gw2@localhost "); l != "connect gw2@localhost false" {
			t.Fatalf("the node printed %q", l)
		}
	})
}
