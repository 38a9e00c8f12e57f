package erlang

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/internal/testport"
)

// fakePeer is one connection of a Go stand-in for a BEAM node.
type fakePeer struct {
	c  net.Conn
	br *bufio.Reader
}

func dialFake(t *testing.T, n *dist.Node, cfg handshake.Config) (*fakePeer, error) {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(n.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	_, err = handshake.Initiate(c, br, cfg, n.Name())
	return &fakePeer{c: c, br: br}, err
}

func (f *fakePeer) send(t *testing.T, p []byte) {
	t.Helper()
	if _, err := f.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)); err != nil {
		t.Fatal(err)
	}
}

// read returns the next packet that is not a tick.
func (f *fakePeer) read(t *testing.T) []byte {
	t.Helper()
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(f.br, hdr[:]); err != nil {
			t.Fatalf("reading a packet: %v", err)
		}
		p := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(f.br, p); err != nil {
			t.Fatal(err)
		}
		if len(p) > 0 {
			return p
		}
	}
}

// A BEAM node that dials again while gonode still holds its connection
// (it saw that one die; gonode did not yet) gets status alive, answers
// true, and replaces it: the old connection is closed and the new one
// carries the traffic. A new incarnation (another creation) replaces it
// once it has proved the cookie.
func TestAliveReplacesOldConnection(t *testing.T) {
	n, err := dist.Start(context.Background(), dist.Config{
		Name: "g@localhost", Cookie: "c", EPMDAddr: "127.0.0.1:" + testport.Port(t), Foreign: Protocol(), Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	fake := etf.Pid{Node: "fake@localhost", ID: 40, Creation: 9}
	local := etf.Pid{Node: "g@localhost", ID: 1, Creation: 1}
	old, err := dialFake(t, n, handshake.Config{Name: "fake@localhost", Creation: 9, Cookie: "c"})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first connection to be up", func() bool { return len(n.Nodes()) == 1 })
	for i, creation := range []uint32{9, 10} {
		asked := false
		again, err := dialFake(t, n, handshake.Config{Name: "fake@localhost", Creation: creation, Cookie: "c",
			AliveAsked: func(string) bool { asked = true; return true }})
		if err != nil {
			t.Fatalf("dialing again (creation %d): %v", creation, err)
		}
		if asked != (creation == 9) {
			t.Errorf("creation %d: asked alive %v", creation, asked)
		}
		if _, err := io.ReadAll(old.br); err != nil {
			t.Fatalf("creation %d: the old connection was not closed: %v", creation, err)
		}
		id := int64(100 + i)
		again.send(t, packetOf(t, etf.Tuple{int64(opUnlinkID), id, fake, local}))
		if got, want := again.read(t), packetOf(t, etf.Tuple{int64(opUnlinkAck), id, local, fake}); !reflect.DeepEqual(got, want) {
			t.Errorf("creation %d: the new connection answered %v, want %v", creation, got, want)
		}
		if nodes := n.Nodes(); len(nodes) != 1 || nodes[0] != "fake@localhost" {
			t.Errorf("Nodes() = %v", nodes)
		}
		old = again
	}
}
