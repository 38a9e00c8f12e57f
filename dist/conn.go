package dist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// maxQueue is how many messages may wait for a connection's writer before
// senders of ordinary messages wait for room, as Erlang suspends a sender
// on a busy distribution port. Control signals (exits, downs, replies)
// never wait, so a connection's reader can always answer.
const maxQueue = 16384

// conn is one connection to a peer after the handshake. Its writer
// goroutine is the only one that writes to the socket; everyone else
// enqueues. Its reader goroutine is the only one that reads. Both are
// owned by the node's WaitGroup and end when the connection closes.
type conn struct {
	n    *Node
	peer wire.PeerInfo
	nc   net.Conn
	br   *bufio.Reader

	mu      sync.Mutex
	queue   []Message  // guarded by mu: waiting for the writer, in order
	spare   []Message  // owned by the writer: the last batch's buffer, reused
	room    *sync.Cond // signalled when the writer takes the queue (L is mu)
	waiting int        // guarded by mu: senders waiting for room
	closing bool       // guarded by mu
	reason  error      // guarded by mu: why the connection closed

	kick  chan struct{} // a token tells the writer that the queue is no longer empty
	done  chan struct{} // closed by close
	reads atomic.Uint64 // frames read, ticks included: the writer watches it for silence
}

func newConn(n *Node, nc net.Conn, br *bufio.Reader, peer wire.PeerInfo) *conn {
	c := &conn{n: n, peer: peer, nc: nc, br: br, kick: make(chan struct{}, 1), done: make(chan struct{})}
	c.room = sync.NewCond(&c.mu)
	return c
}

// send enqueues m for the writer. wait says whether the caller may be made
// to wait for room (ordinary sends) or not (control signals).
func (c *conn) send(m Message, wait bool) error {
	c.mu.Lock()
	for wait && len(c.queue) >= maxQueue && !c.closing {
		c.waiting++
		c.room.Wait()
		c.waiting--
	}
	if c.closing {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNodeDown, c.peer.Name)
	}
	c.queue = append(c.queue, m)
	first := len(c.queue) == 1
	c.mu.Unlock()
	if first {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// close shuts the connection once; the reader then sees the error, ends,
// and tells the node.
func (c *conn) close(reason error) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.reason = reason
	c.room.Broadcast()
	c.mu.Unlock()
	close(c.done)
	c.nc.Close()
}

func (c *conn) closeReason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// writeLoop takes the whole queue at a time, encodes it into the buffered
// writer and flushes only when the queue is empty (after yielding once to
// the goroutines about to send), so a busy connection makes one write
// system call per batch, not per message. It also sends a tick every
// quarter of the tick time without writes, and closes the connection after
// four quarters without reading anything.
func (c *conn) writeLoop() {
	defer c.n.wg.Done()
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	fw := wire.NewFrameWriter(bw, c.n.cfg.MaxFrame)
	ticker := time.NewTicker(c.n.cfg.TickTime / 4)
	defer ticker.Stop()
	var buf []byte
	wrote := false
	// Yielding before a flush (below) pays under concurrent senders and
	// costs a few microseconds of latency otherwise, so the writer does it
	// while it pays: gain counts recent yields after which more messages
	// were waiting (0..4), and every 16th flush yields to find out again.
	yielded, probe := false, false // yielded since the queue emptied; the batch just taken follows a yield
	gain, flushes := 0, 0
	lastReads, silent := c.reads.Load(), 0
	for {
		c.mu.Lock()
		batch := c.queue
		if len(batch) > 0 {
			// Swap only a non-empty queue: swapping an empty one would
			// leave queue and spare on the same array, which senders would
			// then fill while the writer reads the next batch from it.
			c.queue = c.spare[:0]
		}
		if c.waiting > 0 {
			c.room.Broadcast()
		}
		c.mu.Unlock()
		if probe {
			probe = false
			if len(batch) > 0 {
				gain = min(gain+1, 4)
			} else if gain > 0 {
				gain--
			}
		}

		if len(batch) == 0 {
			if fw.Buffered() > 0 && !yielded && (gain > 0 || flushes%16 == 0) {
				// Before a flush, let the goroutines that are about to
				// send (callers woken by replies, handlers finishing)
				// run once, so that their messages share this write
				// system call instead of each costing one.
				yielded, probe = true, true
				runtime.Gosched()
				continue
			}
			yielded = false
			if fw.Buffered() > 0 {
				flushes++
				if err := fw.Flush(); err != nil {
					c.close(fmt.Errorf("write: %w", err))
					return
				}
			}
			select {
			case <-c.kick:
				continue
			case <-c.done:
				return
			case <-ticker.C:
			}
			if r := c.reads.Load(); r != lastReads {
				lastReads, silent = r, 0
			} else if silent++; silent >= 4 {
				c.close(errTickTimeout)
				return
			}
			if !wrote {
				if err := fw.WriteTick(); err == nil {
					err = fw.Flush()
				}
			}
			wrote = false
			continue
		}
		for i := range batch {
			var err error
			buf, err = c.n.codec.Encode(buf[:0], &batch[i])
			if err == nil {
				err = fw.WriteFrame(buf)
			}
			if errors.Is(err, wire.ErrFrameTooLarge) || (err != nil && !isNetErr(err)) {
				// One message that cannot be sent loses only itself.
				c.n.logf("dist: dropping %v message to %s: %v", batch[i].Kind, c.peer.Name, err)
				c.n.failRequest(c, &batch[i], err)
			} else if err != nil {
				c.close(fmt.Errorf("write: %w", err))
				return
			}
			batch[i] = Message{}
		}
		c.spare = batch[:0]
		wrote = true
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

var errTickTimeout = errors.New("net_tick_timeout: peer silent for the tick time")

// readLoop reads frames until the connection fails, hands each message to
// the node, and then tells the node that the connection is gone.
func (c *conn) readLoop() {
	defer c.n.wg.Done()
	fr := wire.NewFrameReader(c.br, c.n.cfg.MaxFrame)
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			reason := c.closeReason()
			if reason == nil {
				reason = fmt.Errorf("connection closed: %w", err)
				if !isNetErr(err) && !errors.Is(err, io.EOF) {
					c.n.logf("dist: closing connection from %s: %v", c.peer.Name, err)
				}
			}
			c.close(reason)
			c.n.connDown(c, reason)
			return
		}
		c.reads.Add(1)
		if len(frame) == 0 {
			continue // tick
		}
		m, err := c.n.codec.Decode(frame)
		if err != nil {
			c.n.logf("dist: closing connection from %s: undecodable frame: %v", c.peer.Name, err)
			c.close(fmt.Errorf("protocol error: %w", err))
			c.n.connDown(c, c.closeReason())
			return
		}
		c.n.dispatch(c, m)
		if c.br.Buffered() == 0 {
			// The next read goes to the socket and, with nothing there
			// yet, costs a system call before this goroutine parks: let
			// the process the message woke run first, since it is
			// waiting on this node's critical path.
			runtime.Gosched()
		}
	}
}
