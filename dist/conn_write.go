package dist

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

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

// writeFailed closes the connection after a failed write. A write that
// made no progress for the tick time is a peer gone: net_tick_timeout if
// it has not sent anything for half the tick time either (frozen, or its
// host gone), a write timeout if it still talks but takes nothing.
//
// Any other failure is a peer that reset or closed the connection, and
// what it sent before that may still wait in the socket's receive buffer
// (a node that stops sends its last messages, then closes; our write
// after its close meets its reset). Closing the socket now would throw
// those messages away: the connection closes for senders, and the socket
// is left to the reader, which reads to the end and then closes it.
func (c *conn) writeFailed(err error) {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		if c.markClosed(fmt.Errorf("write: %w", err)) {
			c.leaveSocketToReader()
		}
		return
	}
	reason := errWriteTimeout
	if silent := monoNow(time.Now()) - c.readFrom.Load(); silent >= int64(c.n.cfg.TickTime/2) {
		reason = errTickTimeout
	}
	if c.shut(reason) {
		c.n.logf("dist: dropping the connection to %s: %v", c.peer.Name, reason)
	}
}
