package erlang

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/proc"
)

// The mesh with BEAM nodes. A BEAM node introduces its peers to each
// other through global's protocol, which gonode does not speak (what a
// BEAM's global sends is dropped, see system.go), so a BEAM node never
// tells its other nodes of a gonode, nor a gonode of them. The mesh
// process closes that gap from gonode's side, with calls every BEAM node
// answers:
//
//   - when a visible peer comes up, and then every MeshOptions.Every
//     while it is up, the process calls erlang:nodes() on it over erpc
//     (Node.RPC, rpc_out.go) and connects to every node it lists that
//     this node lacks;
//   - a peer is a BEAM node or a gonode by its port mapper entry, as dist
//     tells them apart when it dials (gonode's mark, epmd.GonodeExtra),
//     looked up once on the peer's host at the port of
//     MeshOptions.EPMDAddr; a peer whose entry cannot be read is looked
//     up again at the next round. Gonodes tell a new peer of their own
//     peers when they connect (dist's KindPeers), but not their older
//     peers of a new one: so when a peer comes up, and on every round,
//     the process also sends the BEAM nodes it is connected to to the
//     mesh process of each gonode peer (MeshName), which connects to
//     those it lacks. Between gonodes alone nothing changes.
//
// So a node that joins any member of a mixed cluster is connected to all
// of them within one round (a BEAM node that joins later is met at the
// next round). A node disconnected by hand while a peer still lists it
// is connected again at the next round, as global does BEAM to BEAM.
// A hidden node does not mesh.

// MeshName is the registered name of the mesh process (StartMesh).
const MeshName = "erlang_mesh"

// MeshEvery is how often the mesh process asks its BEAM peers again.
const MeshEvery = 5 * time.Second

// meshCall bounds one erlang:nodes() call and one connect.
const meshCall = 5 * time.Second

// MeshOptions configure StartMesh.
type MeshOptions struct {
	Every time.Duration // a round's period (0: MeshEvery)
	// EPMDAddr is the node's port mapper, as in dist.Config (default
	// epmd.AddrFromEnv()): peers are looked up at its port on their host.
	EPMDAddr string
	// Logf hears of a node that could not be connected twice in a row
	// (once: a node listed as it stops), once until a connect works.
	Logf func(string, ...any)
}

// meshNodes is what one gonode's mesh process sends another's: the BEAM
// nodes it is connected to.
type meshNodes struct{ nodes []string }

// the wire form of meshNodes between gonodes: a list whose head is
// meshTag and whose tail is the node names (plain values, so that
// gonode's native codec carries it as is).
const meshTag = "gonode.erlang_mesh"

func (m meshNodes) wire() []any {
	out := make([]any, 0, len(m.nodes)+1)
	out = append(out, meshTag)
	for _, n := range m.nodes {
		out = append(out, n)
	}
	return out
}

func meshFromWire(msg any) (meshNodes, bool) {
	l, ok := msg.([]any)
	if !ok || len(l) == 0 || l[0] != meshTag {
		return meshNodes{}, false
	}
	var m meshNodes
	for _, v := range l[1:] {
		if s, ok := v.(string); ok {
			m.nodes = append(m.nodes, s)
		}
	}
	return m, true
}

type peerKind int

const (
	kindUnknown peerKind = iota // its port mapper entry not read yet
	kindBEAM
	kindGonode
)

// StartMesh starts the mesh process of n, registered as MeshName. It is
// a process of n's: it ends when n closes. On a hidden node it does
// nothing but wait for that.
func StartMesh(n *dist.Node, o MeshOptions) (proc.Pid, error) {
	m := &mesher{d: n, every: o.Every, epmdPort: "4369", logf: o.Logf, peers: map[string]peerKind{}, failed: map[string]int{}}
	addr := o.EPMDAddr
	if addr == "" {
		addr = epmd.AddrFromEnv()
	}
	if _, port, err := net.SplitHostPort(addr); err == nil {
		m.epmdPort = port
	}
	if m.every <= 0 {
		m.every = MeshEvery
	}
	if m.logf == nil {
		m.logf = func(string, ...any) {}
	}
	pid, err := n.Proc().SpawnOpt(m.run, proc.SpawnOptions{Name: MeshName, Label: "Erlang mesh"})
	if err != nil {
		return pid, fmt.Errorf("erlang: starting %s: %w", MeshName, err)
	}
	return pid, nil
}

// mesher is the mesh process's state, owned by its goroutine.
type mesher struct {
	d        *dist.Node
	p        *proc.Process
	every    time.Duration
	epmdPort string // the port mapper's port on every host
	logf     func(string, ...any)
	peers    map[string]peerKind // the visible peers
	failed   map[string]int      // nodes whose last connects failed, how many in a row
}

func (m *mesher) run(p *proc.Process) {
	m.p = p
	if m.d.Hidden() {
		<-p.Context().Done()
		return
	}
	m.d.MonitorNodes(p.Self(), true, false)
	defer m.d.MonitorNodes(p.Self(), false, false)
	for _, name := range m.d.Nodes() { // peers from before the process
		m.peers[name] = kindUnknown
	}
	m.round()
	next := time.Now().Add(m.every)
	for {
		msg, err := p.ReceiveTimeout(time.Until(next))
		switch {
		case errors.Is(err, proc.ErrTimeout):
			m.round()
			next = time.Now().Add(m.every)
			continue
		case err != nil: // the node is stopping
			return
		}
		switch v := msg.(type) {
		case dist.NodeUp:
			if v.Hidden {
				continue
			}
			m.peers[v.Node] = m.kindOf(v.Node)
			if m.peers[v.Node] == kindBEAM {
				m.ask(v.Node)
			}
			m.tellGonodes()
		case dist.NodeDown:
			delete(m.peers, v.Node)
		default:
			if nodes, ok := meshFromWire(msg); ok {
				m.join(nodes.nodes)
			}
		}
	}
}

// round asks every BEAM peer for its nodes, and tells the gonode peers
// this node's.
func (m *mesher) round() {
	for name, k := range m.peers {
		if k == kindUnknown {
			k = m.kindOf(name)
			m.peers[name] = k
		}
		if k == kindBEAM {
			m.ask(name)
		}
	}
	m.tellGonodes()
}

// kindOf reads a peer's port mapper entry.
func (m *mesher) kindOf(peer string) peerKind {
	alive, host, ok := strings.Cut(peer, "@")
	if !ok {
		return kindUnknown
	}
	ctx, cancel := context.WithTimeout(m.p.Context(), meshCall)
	defer cancel()
	e, err := epmd.Lookup(ctx, net.JoinHostPort(host, m.epmdPort), alive)
	switch {
	case err != nil:
		return kindUnknown
	case e.IsGonode():
		return kindGonode
	}
	return kindBEAM
}

// ask calls erlang:nodes() on a peer and joins what it lists.
func (m *mesher) ask(peer string) {
	ctx, cancel := context.WithTimeout(m.p.Context(), meshCall)
	v, err := m.d.RPC(ctx, peer, "erlang:nodes")
	cancel()
	if err != nil { // down, or slow: the next round asks again
		return
	}
	var names []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if a, ok := x.(proc.Atom); ok {
				names = append(names, string(a))
			}
		}
	}
	m.join(names)
}

// tellGonodes sends the BEAM nodes this node is connected to to each
// gonode peer's mesh process (dropped on a gonode that runs none). Only
// BEAM nodes: gonodes learn of each other by dist's own rule, which
// this leaves as it is.
func (m *mesher) tellGonodes() {
	var beam []string
	for name, k := range m.peers {
		if k == kindBEAM {
			beam = append(beam, name)
		}
	}
	if len(beam) == 0 {
		return
	}
	msg := meshNodes{nodes: beam}.wire()
	for name, k := range m.peers {
		if k == kindGonode {
			_ = m.p.SendName(proc.Name{Name: MeshName, Node: name}, msg)
		}
	}
}

// join connects to the nodes of names this node is not connected to.
func (m *mesher) join(names []string) {
	for _, name := range names {
		if name == m.d.Name() || m.d.Connected(name) {
			continue
		}
		ctx, cancel := context.WithTimeout(m.p.Context(), meshCall)
		err := m.d.Connect(ctx, name)
		cancel()
		switch {
		case err == nil:
			delete(m.failed, name)
		case m.p.Context().Err() != nil:
			return
		default:
			if m.failed[name]++; m.failed[name] != 2 {
				continue
			}
			m.logf("erlang: mesh: connecting to %s, listed by a peer: %v", name, err)
		}
	}
}
