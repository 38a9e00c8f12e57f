package dist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// MemNetwork is an in-process network for deterministic tests of several
// nodes in one process (memberlist's MockNetwork): each node gets a
// Transport of its own, Transport(host), whose listeners have made-up
// ports and whose connections are buffered in-memory pipes with deadlines,
// as TCP sockets are. The port mapper still runs over loopback; only the
// connections between nodes go through the MemNetwork.
//
// Dial finds the listener by port alone: every node of a MemNetwork is on
// one "machine", whatever its name says. Partition cuts the link between
// two hosts (as the transports were named): bytes in flight and written
// during the partition are held, as TCP holds them in its buffers, the
// ticks of each side find the other silent, and new dials fail at once;
// Heal delivers what was held and lets dials through again.
// PartitionOneWay cuts one direction only.
//
// Safe for concurrent use.
type MemNetwork struct {
	mu        sync.Mutex
	nextPort  int                  // guarded by mu: the last listener port
	nextLocal int                  // guarded by mu: the last dialling end's port
	listeners map[int]*memListener // guarded by mu: by port
	pairs     map[*memPair]bool    // guarded by mu: connections until both ends close
	parted    map[[2]string]bool   // guarded by mu: host pairs cut by Partition
	oneWay    map[[2]string]bool   // guarded by mu: {from, to} cut by PartitionOneWay
}

// NewMemNetwork returns an empty network.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{
		nextPort:  20000,
		nextLocal: 40000,
		listeners: make(map[int]*memListener),
		pairs:     make(map[*memPair]bool),
		parted:    make(map[[2]string]bool),
		oneWay:    make(map[[2]string]bool),
	}
}

// ErrMemUnreachable: a dial across a partition (see MemNetwork.Partition).
var ErrMemUnreachable = errors.New("dist: mem network: host unreachable (partitioned)")

// Transport returns the transport of a node on host, a label naming it
// for Partition (the node's name will do).
func (m *MemNetwork) Transport(host string) Transport { return memTransport{m: m, host: host} }

func hostKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Partition cuts the link between hosts a and b (see MemNetwork).
func (m *MemNetwork) Partition(a, b string) { m.setParted(a, b, true) }

// Heal ends a partition between a and b: what was held is delivered.
func (m *MemNetwork) Heal(a, b string) { m.setParted(a, b, false) }

func (m *MemNetwork) setParted(a, b string, parted bool) {
	k := hostKey(a, b)
	m.mu.Lock()
	if parted {
		m.parted[k] = true
	} else {
		delete(m.parted, k)
	}
	var hold []*memPair
	for p := range m.pairs {
		if hostKey(p.a, p.b) == k {
			hold = append(hold, p)
		}
	}
	m.mu.Unlock()
	for _, p := range hold {
		p.ab.setHeld(parted)
		p.ba.setHeld(parted)
	}
}

// PartitionOneWay cuts only what from sends to to: to hears nothing from
// from (and drops it after its tick time) while from still hears to, as a
// one-way loss on a real network does. New dials between them fail, since
// a handshake needs both ways. HealOneWay ends it.
func (m *MemNetwork) PartitionOneWay(from, to string) { m.setOneWay(from, to, true) }

// HealOneWay ends a PartitionOneWay(from, to).
func (m *MemNetwork) HealOneWay(from, to string) { m.setOneWay(from, to, false) }

func (m *MemNetwork) setOneWay(from, to string, cut bool) {
	m.mu.Lock()
	if cut {
		m.oneWay[[2]string{from, to}] = true
	} else {
		delete(m.oneWay, [2]string{from, to})
	}
	var hold []*memPipe
	for p := range m.pairs {
		switch {
		case p.a == from && p.b == to:
			hold = append(hold, p.ab)
		case p.b == from && p.a == to:
			hold = append(hold, p.ba)
		}
	}
	m.mu.Unlock()
	for _, pipe := range hold {
		pipe.setHeld(cut)
	}
}

// cutLocked reports whether a and b cannot set up a connection.
func (m *MemNetwork) cutLocked(a, b string) bool {
	return m.parted[hostKey(a, b)] || m.oneWay[[2]string{a, b}] || m.oneWay[[2]string{b, a}]
}

type memTransport struct {
	m    *MemNetwork
	host string
}

// Listen implements Transport; the host asked for is ignored (the
// listener's address is the transport's host and a new port).
func (t memTransport) Listen(string) (net.Listener, error) {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextPort++
	l := &memListener{m: m, addr: memAddr{t.host, m.nextPort}, backlog: make(chan net.Conn, 64), done: make(chan struct{})}
	m.listeners[l.addr.port] = l
	return l, nil
}

// Dial implements Transport: it reaches the listener on addr's port.
func (t memTransport) Dial(ctx context.Context, addr, _ string) (net.Conn, error) {
	m := t.m
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return nil, fmt.Errorf("dist: mem network: bad port in %q", addr)
	}
	m.mu.Lock()
	l := m.listeners[port]
	if l == nil {
		m.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: "mem", Addr: memAddr{"?", port}, Err: errors.New("connection refused")}
	}
	if m.cutLocked(t.host, l.addr.host) {
		m.mu.Unlock()
		return nil, fmt.Errorf("dial %s from %s: %w", l.addr, t.host, ErrMemUnreachable)
	}
	m.nextLocal++
	local := memAddr{t.host, m.nextLocal}
	p := &memPair{a: t.host, b: l.addr.host, ab: newMemPipe(), ba: newMemPipe()}
	m.pairs[p] = true
	m.mu.Unlock()
	dialer := &memConn{m: m, pair: p, r: p.ba, w: p.ab, local: local, remote: l.addr}
	acceptor := &memConn{m: m, pair: p, r: p.ab, w: p.ba, local: l.addr, remote: local}
	select {
	case l.backlog <- acceptor:
		return dialer, nil
	case <-l.done:
	case <-ctx.Done():
	}
	dialer.Close()
	acceptor.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, &net.OpError{Op: "dial", Net: "mem", Addr: l.addr, Err: errors.New("connection refused")}
}

type memAddr struct {
	host string
	port int
}

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return net.JoinHostPort(a.host, strconv.Itoa(a.port)) }

type memListener struct {
	m       *MemNetwork
	addr    memAddr
	backlog chan net.Conn
	done    chan struct{}
	once    sync.Once
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.backlog:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "mem", Addr: l.addr, Err: net.ErrClosed}
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() {
		l.m.mu.Lock()
		delete(l.m.listeners, l.addr.port)
		l.m.mu.Unlock()
		close(l.done)
		for {
			select {
			case c := <-l.backlog:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }
