package dist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gonode/gonode/proc"
)

// A send, link, monitor or exit signal to a node that is not connected
// connects first, as in Erlang. When that fails, every other process
// sending there would wait the whole set-up time again (up to 7 s for a
// host that does not answer): the failure is remembered for connectFailMemory
// and those signals fail at once meanwhile. connect() from the shell and
// Node.Connect always try.
const (
	connectFailMemory = time.Second
	maxConnectFails   = 1024 // nodes remembered at once
)

type failedConnects struct {
	mu   sync.Mutex
	errs map[string]failedConnect // guarded by mu
}

type failedConnect struct {
	at  time.Time
	err error
}

// recent returns the error of a connect to node that failed within
// connectFailMemory, or nil.
func (f *failedConnects) recent(node string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.errs[node]; ok && now.Sub(e.at) < connectFailMemory {
		return e.err
	}
	return nil
}

// remember records a failed connect to node; nil err forgets it.
func (f *failedConnects) remember(node string, err error, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.errs, node)
		return
	}
	if f.errs == nil {
		f.errs = make(map[string]failedConnect)
	}
	if len(f.errs) >= maxConnectFails {
		for k, e := range f.errs {
			if now.Sub(e.at) >= connectFailMemory {
				delete(f.errs, k)
			}
		}
		if len(f.errs) >= maxConnectFails {
			return // a storm of failures to distinct nodes: remember none more
		}
	}
	f.errs[node] = failedConnect{at: now, err: err}
}

// connectInBackground dials for the signals that queued for p, and
// remembers a failure for a moment (see failedConnects).
func (n *Node) connectInBackground(p *peer) {
	defer n.wg.Done()
	ctx, cancel := context.WithTimeout(n.ctx, setupTime)
	defer cancel()
	// A failure is not logged: the signals are dropped, as Erlang drops a
	// send to a node it cannot reach, and a node whose peer has left
	// (a cluster service pushing to it meanwhile) stays quiet. A refused
	// cookie is logged by the handshake itself.
	err := n.dial(ctx, p)
	n.failed.remember(p.name, err, time.Now())
}

// Forward implements proc.Forwarder: it carries a signal to the node of its
// target. A send, link, monitor or exit signal to a node not connected
// connects first (as Erlang connects on first use), in the background: the
// signal queues, with any that follow, and goes first once the connection
// is up; if it cannot be made, the sends are dropped and the links and
// monitors fire with noconnection, as in Erlang. Other signals to a node
// not connected are dropped. Ordinary sends wait while maxQueue of them
// are queued; nothing else waits.
func (n *Node) Forward(s proc.Signal) error {
	m := MessageFromSignal(s)
	node := s.To.Node
	data := s.Kind == proc.SigSend || s.Kind == proc.SigSendName
	connects := data || s.Kind == proc.SigLink || s.Kind == proc.SigMonitor || s.Kind == proc.SigExit2
	checked := false
	for {
		n.mu.Lock()
		p := n.table.peers[node]
		if p != nil && p.conn != nil {
			c := p.conn
			n.mu.Unlock()
			if err := c.send(m, data); err != nil && (!data || isUnsendable(err)) {
				return err
			}
			return nil // a send on a connection that went down under it is dropped, as in Erlang
		}
		if p != nil && p.tearing != nil {
			// A connection's teardown fires the links made over it: wait
			// for its end (it does no I/O), so that what is sent now
			// belongs to the next connection.
			torn := p.torn
			n.mu.Unlock()
			<-torn
			continue
		}
		if !checked {
			// It waits for the connection: its sender learns now whether
			// it can be sent at all.
			n.mu.Unlock()
			if err := n.checkEncodable(&m); err != nil {
				return err
			}
			checked = true
			continue
		}
		dial := false
		if p == nil {
			if !connects || n.table.closed {
				n.mu.Unlock()
				return fmt.Errorf("%w: %s", ErrNodeDown, node)
			}
			if err := n.failed.recent(node, time.Now()); err != nil {
				n.mu.Unlock()
				if data {
					return nil
				}
				return err
			}
		}
		if connects && !n.table.closed {
			// Dials unless an attempt is in progress (a record left with
			// none, after a dial refused nok whose winner never came, is
			// dialled again).
			p, dial = n.table.connect(node)
		}
		if !n.table.queue(p, m, data) {
			ready := p.ready
			n.mu.Unlock()
			select {
			case <-ready:
			case <-n.ctx.Done():
				return nil
			}
			continue
		}
		if dial {
			n.wg.Add(1)
		}
		n.mu.Unlock()
		if dial {
			go n.connectInBackground(p)
		}
		return nil
	}
}
