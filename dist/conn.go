package dist

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// conn is one connection to a peer after the handshake. Its writer
// goroutine is the only one that writes to the socket; everyone else
// enqueues. Its reader goroutine is the only one that reads. Both are
// owned by the node's WaitGroup and end when the connection closes.
//
// Liveness (Erlang's net_ticktime) does not depend on either goroutine
// getting anywhere: every read from the socket has a deadline of the tick
// time, pushed forward by each read, so a peer that sends nothing at all
// for the tick time (not even the ticks its writer sends every quarter of
// it while idle) is dropped with net_tick_timeout; and every write has a
// deadline of the tick time per writeChunk, so a peer that takes nothing
// we send for the tick time is dropped too ("write timeout"), even while
// the writer is stuck on a full socket buffer. Either way close wakes the
// senders waiting for room, and their messages are dropped: at most once
// across a disconnect, as in Erlang.
type conn struct {
	n    *Node
	peer wire.PeerInfo
	nc   net.Conn
	br   *bufio.Reader

	codec Codec // what this connection's messages are encoded with
	// frag is codec as a FragmentingCodec, nil if it is not one (the
	// native protocol): asked once, not per message. appendPart is
	// c.appendPartLocked, made once for it.
	frag       FragmentingCodec
	appendPart func(head, data []byte)

	mu sync.Mutex
	// queue holds the frames waiting for the writer, header and payload,
	// in order, in one buffer: senders append, the writer takes it whole
	// and writes it with one call. queued counts its messages.
	queue   []byte          // guarded by mu
	queued  int             // guarded by mu
	spare   []byte          // owned by the writer: the last batch's buffer, reused
	room    *sync.Cond      // signalled when the writer takes the queue (L is mu)
	waiting int             // guarded by mu: senders waiting for room
	closing bool            // guarded by mu
	reason  error           // guarded by mu: why the connection closed
	drains  []chan struct{} // guarded by mu: closed once what was queued before them is written (drain)
	// After a failed write the socket stays open for the reader (see
	// writeFailed): sockLate closes it if the reader has not by then;
	// readDone says the reader has ended. Both guarded by mu.
	sockLate *time.Timer
	readDone bool
	sockOnce sync.Once // closes nc once

	kick chan struct{} // a token tells the writer that the queue is no longer empty
	done chan struct{} // closed by close
	// calls is the context of the calls this connection's peer made here:
	// cancelled when the connection goes, since nobody waits for their
	// answers any more.
	calls       context.Context
	cancelCalls context.CancelFunc
	readFrom    atomic.Int64 // when the reader last went to the socket (see monoNow): silence since then
	maxBacklog  int          // maxBacklog, lowered by tests
	// tickEvery is how often the writer sends a tick when it has written
	// nothing else: a quarter of the shorter of our tick time and the
	// peer's (KindTickTime), so that a peer with a shorter one than ours
	// does not drop a healthy connection.
	tickEvery atomic.Int64

	since time.Time // when the handshake ended
	stats connStats // traffic, for Node.Peers (stats.go)
}

// newConn makes the connection over nc once the handshake is done; br
// holds what the handshake read, and may already hold the first frames.
func newConn(n *Node, nc net.Conn, br *bufio.Reader, peer wire.PeerInfo, codec Codec) *conn {
	c := &conn{n: n, peer: peer, nc: nc, br: br, kick: make(chan struct{}, 1), done: make(chan struct{}), maxBacklog: maxBacklog, codec: codec}
	c.calls, c.cancelCalls = context.WithCancel(n.ctx)
	c.hookFragments()
	c.room = sync.NewCond(&c.mu)
	// From now on br reads the socket through liveReader, which sets the
	// read deadline; the bytes it already holds are read first.
	var pending []byte
	if k := br.Buffered(); k > 0 {
		p, _ := br.Peek(k)
		pending = append(pending, p...)
	}
	br.Reset(&liveReader{c: c, pending: pending, dl: lazyDeadline{set: nc.SetReadDeadline}})
	c.since = time.Now()
	c.readFrom.Store(monoNow(c.since))
	c.tickEvery.Store(int64(n.cfg.TickTime / 4))
	return c
}

// hookFragments finds out, once, whether c's codec cuts messages into
// fragments (see FragmentingCodec).
func (c *conn) hookFragments() {
	if fc, ok := c.codec.(FragmentingCodec); ok {
		c.frag, c.appendPart = fc, c.appendPartLocked
	}
}

// close shuts the connection once; the reader then sees the error, ends,
// and tells the node. Senders waiting for room are woken and get
// ErrNodeDown; what is still queued is dropped.
func (c *conn) close(reason error) { c.shut(reason) }

// shut is close, reporting whether this call closed the connection.
// The socket is closed even when the connection was already closing
// (a failed write leaves it open for the reader).
func (c *conn) shut(reason error) bool {
	first := c.markClosed(reason)
	c.closeSocket()
	return first
}

// markClosed is close without the socket: senders stop, waiters wake,
// the peer's calls are cancelled. It reports whether this call did it.
func (c *conn) markClosed(reason error) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	c.closing = true
	c.reason = reason
	c.room.Broadcast()
	c.mu.Unlock()
	close(c.done)
	c.cancelCalls()
	return true
}

func (c *conn) closeSocket() { c.sockOnce.Do(func() { c.nc.Close() }) }

// readAfterWriteFail bounds how long the socket stays open for the
// reader after a failed write (see writeFailed); a reset socket's reads
// end at once, so this only bounds a transport that would go on.
const readAfterWriteFail = 5 * time.Second

// leaveSocketToReader closes the socket once the reader has read to its
// end, or after readAfterWriteFail.
func (c *conn) leaveSocketToReader() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.readDone {
		c.sockLate = time.AfterFunc(readAfterWriteFail, c.closeSocket)
	}
}

// readEnded is the reader's last word on the socket: it closes it.
func (c *conn) readEnded() {
	c.mu.Lock()
	c.readDone = true
	if c.sockLate != nil {
		c.sockLate.Stop()
	}
	c.mu.Unlock()
	c.closeSocket()
}

// drain waits, at most d, until the writer has written to the socket
// everything queued before the call: a node that stops sends what its
// processes sent last (a cast, a reply) before it closes its connections,
// as init:stop does in Erlang.
func (c *conn) drain(d time.Duration) {
	ch := make(chan struct{})
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.drains = append(c.drains, ch)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-c.done:
	case <-t.C:
	}
}

func (c *conn) closeReason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}
