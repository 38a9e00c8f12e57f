package proc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
)

// Node is one node's process table: its processes, their registered names,
// and the forwarder that reaches other nodes. All methods are safe for
// concurrent use.
type Node struct {
	name     string
	creation uint32

	nextID  atomic.Uint64 // low 32 bits: Pid.ID, high 32 bits: Pid.Serial
	nextRef atomic.Uint64
	refSalt uint32 // distinguishes refs of different runs of a node with the same creation

	procs procTable // Pid.ID -> living *Process
	count atomic.Int64

	namesMu sync.RWMutex
	names   map[string]*Process // guarded by namesMu

	fwd    atomic.Pointer[forwarderBox]
	crash  atomic.Pointer[crashReporter] // nil: crashes go unreported
	tracer atomic.Pointer[tracerBox]     // nil: traced processes report to no one (trace.go)

	mailboxDefault atomic.Pointer[mailboxLimit]   // nil: no limit
	mailboxWarn    atomic.Pointer[mailboxWarning] // nil: no warning

	// gate orders spawns against Stop: a spawn adds to wg under a read lock
	// only while the node is not stopped.
	gate    sync.RWMutex
	stopped atomic.Bool
	wg      sync.WaitGroup // one count per living process and per running goroutine of one
}

type forwarderBox struct{ f Forwarder }

// NewNode makes an empty process table for the node called name (name@host)
// with the given creation (the incarnation number the port mapper hands
// out; 0 is replaced by 1 because Erlang never uses 0).
func NewNode(name string, creation uint32) (*Node, error) {
	if !validNodeName(name) {
		return nil, fmt.Errorf("proc: bad node name %q: want name@host", name)
	}
	if creation == 0 {
		creation = 1
	}
	return &Node{
		name:     name,
		creation: creation,
		refSalt:  rand.Uint32(),
		names:    make(map[string]*Process),
	}, nil
}

// Name returns the node's name, for example node1@localhost.
func (n *Node) Name() string { return n.name }

// Creation returns the node's incarnation number.
func (n *Node) Creation() uint32 { return n.creation }

// SetForwarder installs the carrier of signals to other nodes (nil removes
// it). Until one is installed, operations on remote pids fail with
// ErrNoDistribution.
func (n *Node) SetForwarder(f Forwarder) {
	if f == nil {
		n.fwd.Store(nil)
		return
	}
	n.fwd.Store(&forwarderBox{f})
}

// forward hands a signal for another node to the forwarder.
func (n *Node) forward(s Signal) error {
	b := n.fwd.Load()
	if b == nil {
		return fmt.Errorf("%w (signal %v to %v)", ErrNoDistribution, s.Kind, s.To.Node)
	}
	return b.f.Forward(s)
}

// MakeRef returns a reference unique to this node's incarnation.
func (n *Node) MakeRef() Ref {
	v := n.nextRef.Add(1)
	return Ref{Node: n.name, Creation: n.creation, ID: [3]uint32{uint32(v), uint32(v >> 32), n.refSalt}}
}

// IsLocal reports whether p names a process of this node (of any
// incarnation: a pid of an earlier incarnation is local but dead).
func (n *Node) IsLocal(p Pid) bool { return p.Node == n.name }

// Resolve fills in the creation of a parsed pid of this node (see ParsePid).
// Pids of other nodes are returned unchanged.
func (n *Node) Resolve(p Pid) Pid {
	if p.Node == n.name && p.Creation == 0 {
		p.Creation = n.creation
	}
	return p
}

// lookup finds a living local process by pid.
func (n *Node) lookup(p Pid) *Process {
	if p.Node != n.name || (p.Creation != n.creation && p.Creation != 0) {
		return nil
	}
	proc := n.procs.load(p.ID)
	if proc == nil || proc.pid.Serial != p.Serial {
		return nil
	}
	return proc
}

func (n *Node) newPid() Pid {
	v := n.nextID.Add(1)
	return Pid{Node: n.name, ID: uint32(v), Serial: uint32(v >> 32), Creation: n.creation}
}

// Alive reports whether the local process p is running. For a remote pid
// it returns false: ask the remote node.
func (n *Node) Alive(p Pid) bool { return n.lookup(p) != nil }

// Count returns the number of living processes.
func (n *Node) Count() int { return int(n.count.Load()) }

// Pids returns the pids of all living processes, in id order.
func (n *Node) Pids() []Pid {
	var out []Pid
	n.procs.each(func(p *Process) bool {
		out = append(out, p.pid)
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Serial != out[j].Serial {
			return out[i].Serial < out[j].Serial
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Register gives the living local process pid the name. A process has at
// most one name; a name names at most one process; the name goes away with
// the process.
func (n *Node) Register(name string, pid Pid) error {
	if name == "" {
		return ErrBadName
	}
	p := n.lookup(pid)
	if p == nil {
		return fmt.Errorf("register %q: %w", name, ErrNoProc)
	}
	n.namesMu.Lock()
	defer n.namesMu.Unlock()
	if _, taken := n.names[name]; taken {
		return fmt.Errorf("register %q: %w", name, ErrNameTaken)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return fmt.Errorf("register %q: %w", name, ErrNoProc)
	}
	if p.name != "" {
		return fmt.Errorf("register %q: %w (%s)", name, ErrAlreadyNamed, p.name)
	}
	p.name = name
	n.names[name] = p
	return nil
}

// Unregister removes a registered name.
func (n *Node) Unregister(name string) error {
	n.namesMu.Lock()
	defer n.namesMu.Unlock()
	p, ok := n.names[name]
	if !ok {
		return fmt.Errorf("unregister %q: %w", name, ErrNotRegistered)
	}
	delete(n.names, name)
	p.mu.Lock()
	p.name = ""
	p.mu.Unlock()
	return nil
}

// Whereis returns the pid registered under name on this node.
func (n *Node) Whereis(name string) (Pid, bool) {
	n.namesMu.RLock()
	p, ok := n.names[name]
	n.namesMu.RUnlock()
	if !ok {
		return Pid{}, false
	}
	return p.pid, true
}

// Registered returns the registered names, sorted.
func (n *Node) Registered() []string {
	n.namesMu.RLock()
	out := make([]string, 0, len(n.names))
	for k := range n.names {
		out = append(out, k)
	}
	n.namesMu.RUnlock()
	sort.Strings(out)
	return out
}

func (n *Node) whereisProc(name string) *Process {
	n.namesMu.RLock()
	p := n.names[name]
	n.namesMu.RUnlock()
	return p
}

func (n *Node) unregisterProc(p *Process, name string) {
	n.namesMu.Lock()
	if n.names[name] == p {
		delete(n.names, name)
	}
	n.namesMu.Unlock()
}

// Stop kills every process with reason shutdown, refuses new spawns, and
// waits until every process goroutine has returned or ctx is done. A
// goroutine stuck in code that never calls into proc cannot be stopped (Go
// has no way to kill one): Stop then returns ctx.Err() and leaves it.
// Stop may be called more than once.
func (n *Node) Stop(ctx context.Context) error {
	n.gate.Lock()
	n.stopped.Store(true)
	n.gate.Unlock()
	n.procs.each(func(p *Process) bool {
		p.die(Shutdown)
		return true
	})
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
