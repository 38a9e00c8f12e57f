package dist

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
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

// writeChunk is the most written to the socket under one write deadline:
// a peer must take at least this much per tick time (64 KiB a minute at
// the default) or it is dropped.
const writeChunk = 64 << 10

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
}

// newConn makes the connection over nc once the handshake is done; br
// holds what the handshake read, and may already hold the first frames.
func newConn(n *Node, nc net.Conn, br *bufio.Reader, peer wire.PeerInfo, codec Codec) *conn {
	c := &conn{n: n, peer: peer, nc: nc, br: br, kick: make(chan struct{}, 1), done: make(chan struct{}), maxBacklog: maxBacklog, codec: codec}
	c.calls, c.cancelCalls = context.WithCancel(n.ctx)
	c.room = sync.NewCond(&c.mu)
	// From now on br reads the socket through liveReader, which sets the
	// read deadline; the bytes it already holds are read first.
	var pending []byte
	if k := br.Buffered(); k > 0 {
		p, _ := br.Peek(k)
		pending = append(pending, p...)
	}
	br.Reset(&liveReader{c: c, pending: pending, dl: lazyDeadline{set: nc.SetReadDeadline}})
	c.readFrom.Store(monoNow(time.Now()))
	c.tickEvery.Store(int64(n.cfg.TickTime / 4))
	return c
}

// peerTickTime takes the peer's tick time (ms) from its KindTickTime.
func (c *conn) peerTickTime(v any) {
	var ms int64
	switch v := v.(type) { // int from this codec, int64 from older peers
	case int:
		ms = int64(v)
	case int64:
		ms = v
	}
	if ms <= 0 {
		return
	}
	if every := time.Duration(ms) * time.Millisecond / 4; every < time.Duration(c.tickEvery.Load()) {
		c.tickEvery.Store(int64(max(every, time.Millisecond)))
		select {
		case c.kick <- struct{}{}: // the writer sets its ticker
		default:
		}
	}
}

// clockBase makes monotonic times storable in an atomic: monoNow(t) is
// the time from clockBase to t.
var clockBase = time.Now()

func monoNow(t time.Time) int64 { return int64(t.Sub(clockBase)) }

// lazyDeadline gives each read (or write) on a socket a deadline of the
// tick time from its start, without setting the socket's deadline on each
// one (which costs a timer update per system call): the deadline set is
// moved only once it is less than 3/4 of the tick time ahead, and an
// operation that times out before it has waited the full tick time gets
// the rest and goes on.
type lazyDeadline struct {
	set func(time.Time) error // the socket's SetReadDeadline or SetWriteDeadline
	at  time.Time             // the deadline set
}

// arm makes sure an operation starting at start does not time out before
// 3/4 of the tick time.
func (d *lazyDeadline) arm(start time.Time, tick time.Duration) error {
	if d.at.Sub(start) >= tick*3/4 {
		return nil
	}
	d.at = start.Add(tick)
	return d.set(d.at)
}

// retry reports, after an operation that started at start timed out,
// whether it has more time: then its deadline is start plus the tick time.
func (d *lazyDeadline) retry(start time.Time, tick time.Duration) bool {
	if time.Since(start) >= tick {
		return false
	}
	d.at = start.Add(tick)
	return d.set(d.at) == nil
}

// liveReader is what the connection's bufio.Reader reads from: the socket,
// with a read deadline of the tick time from each read. Any bytes from the
// peer (a tick is a frame too) push the deadline forward; a read that gets
// nothing for the tick time fails with os.ErrDeadlineExceeded, which the
// reader turns into net_tick_timeout. Only the reader goroutine uses it.
type liveReader struct {
	c       *conn
	pending []byte // read by the handshake's bufio.Reader but not consumed
	dl      lazyDeadline
}

func (r *liveReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		k := copy(p, r.pending)
		r.pending = r.pending[k:]
		return k, nil
	}
	tick := r.c.n.cfg.TickTime
	start := time.Now()
	r.c.readFrom.Store(monoNow(start))
	if err := r.dl.arm(start, tick); err != nil {
		return 0, err
	}
	for {
		k, err := r.c.nc.Read(p)
		if k == 0 && errors.Is(err, os.ErrDeadlineExceeded) && r.dl.retry(start, tick) {
			continue
		}
		return k, err
	}
}

// deadlineWriter is what the writer's bufio.Writer writes to: the socket,
// in pieces of at most writeChunk, each with a write deadline of the tick
// time from its start. A peer that takes nothing (frozen, or its host gone
// without a reset) fills the socket buffers and then fails the write
// within the tick time, instead of holding the writer, and the senders
// behind it, for ever. Only the writer goroutine uses it.
type deadlineWriter struct {
	c  *conn
	dl lazyDeadline
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	tick := w.c.n.cfg.TickTime
	written := 0
	for written < len(p) {
		end := min(len(p), written+writeChunk)
		start := time.Now()
		if err := w.dl.arm(start, tick); err != nil {
			return written, err
		}
		for written < end {
			k, err := w.c.nc.Write(p[written:end])
			written += k
			if err != nil && !(errors.Is(err, os.ErrDeadlineExceeded) && w.dl.retry(start, tick)) {
				return written, err
			}
		}
	}
	return written, nil
}

// send enqueues m for the writer. wait says whether the caller may be made
// to wait for room (ordinary sends) or not (control signals).
func (c *conn) send(m Message, wait bool) error { return c.enqueue(nil, m, wait) }

// sendCtx is send for a sender that may wait for room, until ctx ends
// (an rpc or a spawn with its time-out).
func (c *conn) sendCtx(ctx context.Context, m Message) error { return c.enqueue(ctx, m, true) }

// maxBacklog bounds everything queued for the writer. Control signals
// (replies, exits, DOWNs) never wait, so that a reader can always answer;
// a peer that lets this many pile up takes nothing we must tell it, and
// its connection is closed (its links fire), rather than the queue growing
// until the write deadline finds it.
const maxBacklog = 1 << 18

var errBacklog = errors.New("control backlog: the peer takes nothing")

func (c *conn) enqueue(ctx context.Context, m Message, wait bool) error {
	frame, encErr := c.encode(&m)
	if frame == nil {
		return encErr
	}
	defer putFrame(frame)
	c.mu.Lock()
	// A sender does not pass those already waiting for room: each wake-up
	// lets every waiter in before the senders that woke it fill the
	// queue again, so a call waiting among streams is not starved.
	if wait && (c.queued >= maxQueue || c.waiting > 0) && !c.closing {
		var stop func() bool
		if ctx != nil {
			stop = context.AfterFunc(ctx, func() {
				c.mu.Lock()
				c.room.Broadcast()
				c.mu.Unlock()
			})
		}
		c.waiting++
		for c.queued >= maxQueue && !c.closing && (ctx == nil || ctx.Err() == nil) {
			c.room.Wait()
		}
		c.waiting--
		if stop != nil {
			stop()
		}
		if ctx != nil && ctx.Err() != nil && !c.closing {
			c.mu.Unlock()
			return ctx.Err()
		}
	}
	if c.closing {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNodeDown, c.peer.Name)
	}
	if c.queued >= c.maxBacklog {
		c.mu.Unlock()
		if c.shut(errBacklog) {
			c.n.logf("dist: dropping the connection to %s: %v", c.peer.Name, errBacklog)
		}
		return fmt.Errorf("%w: %s", ErrNodeDown, c.peer.Name)
	}
	c.appendFrameLocked(frame.b)
	first := c.queued == 1
	c.mu.Unlock()
	if first {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return encErr
}

// enqueueFirst queues what waited for the connection while it was being
// set up, before its writer starts and before any sender can see it.
func (c *conn) enqueueFirst(pending []Message) {
	if len(pending) == 0 {
		return
	}
	c.mu.Lock()
	for i := range pending {
		frame, err := c.encode(&pending[i])
		if frame == nil {
			c.n.logf("dist: dropping %v message to %s: %v", pending[i].Kind, c.peer.Name, err)
			continue
		}
		c.appendFrameLocked(frame.b)
		putFrame(frame)
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// appendFrameLocked adds one frame, [Len:u32][Payload], to the queue.
func (c *conn) appendFrameLocked(payload []byte) {
	c.queue = binary.BigEndian.AppendUint32(c.queue, uint32(len(payload)))
	c.queue = append(c.queue, payload...)
	c.queued++
}

// close shuts the connection once; the reader then sees the error, ends,
// and tells the node. Senders waiting for room are woken and get
// ErrNodeDown; what is still queued is dropped.
func (c *conn) close(reason error) { c.shut(reason) }

// shut is close, reporting whether this call closed the connection.
func (c *conn) shut(reason error) bool {
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
	c.nc.Close()
	return true
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

// writeLoop takes the whole queue at a time, encodes it into the buffered
// writer and flushes only when the queue is empty (after yielding once to
// the goroutines about to send), so a busy connection makes one write
// system call per batch, not per message. It also sends a tick every
// quarter of the tick time without writes. It watches nothing: the
// deadlines of liveReader and deadlineWriter do.
func (c *conn) writeLoop() {
	defer c.n.wg.Done()
	bw := bufio.NewWriterSize(&deadlineWriter{c: c, dl: lazyDeadline{set: c.nc.SetWriteDeadline}}, 64<<10)
	fw := wire.NewFrameWriter(bw, c.n.cfg.MaxFrame)
	every := time.Duration(c.tickEvery.Load())
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	wrote := false
	// Yielding before a flush (below) pays under concurrent senders and
	// costs a few microseconds of latency otherwise, so the writer does it
	// while it pays: gain counts recent yields after which more messages
	// were waiting (0..4), and every 16th flush yields to find out again.
	yielded, probe := false, false // yielded since the queue emptied; the batch just taken follows a yield
	gain, flushes := 0, 0
	var drained []chan struct{} // drains whose messages are all written once the buffer is flushed
	for {
		c.mu.Lock()
		batch := c.queue
		if len(batch) > 0 {
			// Swap only a non-empty queue: swapping an empty one would
			// leave queue and spare on the same array, which senders would
			// then fill while the writer reads the next batch from it.
			c.queue, c.queued = c.spare[:0], 0
		} else if len(c.drains) > 0 {
			// Taken with an empty queue: what came before them is written
			// or buffered.
			drained = append(drained, c.drains...)
			c.drains = nil
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
					c.writeFailed(err)
					return
				}
			}
			for _, ch := range drained {
				close(ch)
			}
			drained = drained[:0]
			if e := time.Duration(c.tickEvery.Load()); e != every {
				every = e
				ticker.Reset(every)
			}
			select {
			case <-c.kick:
				continue
			case <-c.done:
				return
			case <-ticker.C:
			}
			if !wrote {
				err := fw.WriteTick()
				if err == nil {
					err = fw.Flush()
				}
				if err != nil {
					c.writeFailed(err)
					return
				}
			}
			wrote = false
			continue
		}
		if _, err := bw.Write(batch); err != nil {
			c.writeFailed(err)
			return
		}
		c.spare = batch[:0]
		if cap(batch) > maxSpareBatch {
			c.spare = nil
		}
		wrote = true
	}
}

// maxSpareBatch keeps the buffer of a rare huge batch from staying.
const maxSpareBatch = 4 << 20

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// writeFailed closes the connection after a failed write. A write that
// made no progress for the tick time is a peer gone: net_tick_timeout if
// it has not sent anything for half the tick time either (frozen, or its
// host gone), a write timeout if it still talks but takes nothing.
func (c *conn) writeFailed(err error) {
	reason := fmt.Errorf("write: %w", err)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		reason = errWriteTimeout
		if silent := monoNow(time.Now()) - c.readFrom.Load(); silent >= int64(c.n.cfg.TickTime/2) {
			reason = errTickTimeout
		}
	}
	if c.shut(reason) && (reason == errWriteTimeout || reason == errTickTimeout) {
		c.n.logf("dist: dropping the connection to %s: %v", c.peer.Name, reason)
	}
}

var (
	errTickTimeout  = errors.New("net_tick_timeout: peer silent for the tick time")
	errWriteTimeout = errors.New("write timeout: peer took nothing for the tick time")
)

// readLoop reads frames until the connection fails, hands each message to
// the node (decoding it here, or in batches beside: see decodeStage), and
// then tells the node that the connection is gone.
func (c *conn) readLoop() {
	defer c.n.wg.Done()
	fr := wire.NewFrameReader(c.br, c.n.cfg.MaxFrame)
	ds := newDecodeStage(c)
	var batch *frameBatch
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			if batch != nil {
				ds.hand(batch)
			}
			ds.stop()
			if c.closeReason() == nil {
				reason := fmt.Errorf("connection closed: %w", err)
				switch {
				case errors.Is(err, os.ErrDeadlineExceeded):
					// Nothing from the peer for the tick time.
					reason = errTickTimeout
				case !isNetErr(err) && !errors.Is(err, io.EOF):
					c.n.logf("dist: closing connection from %s: %v", c.peer.Name, err)
				}
				if c.shut(reason) && reason == errTickTimeout {
					c.n.logf("dist: dropping the connection to %s: %v", c.peer.Name, reason)
				}
			}
			c.n.connDown(c, c.closeReason())
			return
		}
		if len(frame) == 0 {
			continue // tick
		}
		alone := c.br.Buffered() == 0
		if batch == nil && alone && ds.busy.Load() == 0 {
			if !c.deliver(frame) {
				ds.stop()
				c.n.connDown(c, c.closeReason())
				return
			}
			// The next read goes to the socket and, with nothing there
			// yet, costs a system call before this goroutine parks: let
			// the process the message woke run first, since it is
			// waiting on this node's critical path.
			runtime.Gosched()
			continue
		}
		if batch == nil {
			batch = ds.get()
		}
		batch.add(frame)
		if alone || len(batch.buf) >= batchBytes {
			ds.hand(batch)
			batch = nil
		}
	}
}
