package dist

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// maxQueue is how many messages may wait for a connection's writer before
// senders of ordinary messages wait for room, as Erlang suspends a sender
// on a busy distribution port. Control signals (exits, downs, replies)
// never wait, so a connection's reader can always answer.
const maxQueue = 16384

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
	c.n.traceTraffic(c.peer.Name, true, &m)
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
		c.n.traceTraffic(c.peer.Name, true, &pending[i])
		c.appendFrameLocked(frame.b)
		putFrame(frame)
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// appendFrameLocked adds one message to the queue: its frame,
// [Len:u32][Payload], or the fragments its codec cuts it into, back to back
// (see FragmentingCodec). queued counts it once; the traffic counters
// count frames, as they do on the way in.
func (c *conn) appendFrameLocked(payload []byte) {
	if c.frag == nil || !c.frag.Fragments(payload, c.appendPart) {
		c.appendPartLocked(payload, nil)
	}
	c.queued++
}

// appendPartLocked adds one frame, [Len:u32][head][data], to the queue.
func (c *conn) appendPartLocked(head, data []byte) {
	n := len(head) + len(data)
	c.queue = binary.BigEndian.AppendUint32(c.queue, uint32(n))
	c.queue = append(append(c.queue, head...), data...)
	c.stats.msgsOut.Add(1)
	c.stats.bytesOut.Add(uint64(4 + n))
}
