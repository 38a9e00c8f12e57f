package dist

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// A connection's frames are decoded beside its reader when they arrive
// faster than one goroutine can both read and decode them: decoding is
// most of a stream's cost on the receiving node, and with it on a second
// goroutine the reader is already back at the socket while the last batch
// is decoded. A frame that arrives alone, with nothing queued behind it,
// is decoded by the reader itself, as before: a round trip pays no extra
// hand-off.
//
// The reader owns the decoder: it starts it, closes batches when the
// connection ends and waits for it before reporting the end, so that
// every message read is delivered before the node hears of the end.

const (
	// batchBytes is where the reader hands a batch over even while more
	// frames are buffered: a socket read's worth.
	batchBytes = 64 << 10
	// batchesQueued bounds the batches waiting for the decoder; the reader
	// then waits, and TCP's window stops the peer.
	batchesQueued = 2
)

// frameBatch holds frames copied out of the reader's buffer, which the
// next read reuses.
type frameBatch struct {
	buf  []byte
	ends []int
}

func (b *frameBatch) add(frame []byte) {
	b.buf = append(b.buf, frame...)
	b.ends = append(b.ends, len(b.buf))
}

type decodeStage struct {
	c       *conn
	batches chan *frameBatch
	free    chan *frameBatch
	// busy counts batches handed over and not yet delivered; the reader
	// decodes a frame itself only when it is zero, which keeps order.
	busy atomic.Int32
	done chan struct{}
}

func newDecodeStage(c *conn) *decodeStage {
	ds := &decodeStage{
		c:       c,
		batches: make(chan *frameBatch, batchesQueued),
		free:    make(chan *frameBatch, batchesQueued+2),
		done:    make(chan struct{}),
	}
	go ds.run()
	return ds
}

// get returns an empty batch, recycled if one is free.
func (ds *decodeStage) get() *frameBatch {
	select {
	case b := <-ds.free:
		return b
	default:
		return &frameBatch{buf: make([]byte, 0, batchBytes+batchBytes/4)}
	}
}

func (ds *decodeStage) hand(b *frameBatch) {
	ds.busy.Add(1)
	ds.batches <- b
}

// stop waits for every batch handed over to be delivered.
func (ds *decodeStage) stop() {
	close(ds.batches)
	<-ds.done
}

func (ds *decodeStage) run() {
	defer close(ds.done)
	failed := false
	for b := range ds.batches {
		start := 0
		for _, end := range b.ends {
			if !failed && !ds.c.deliver(b.buf[start:end]) {
				failed = true // the connection is closing; drain the rest
			}
			start = end
		}
		ds.busy.Add(-1)
		if cap(b.buf) <= 2*batchBytes {
			b.buf, b.ends = b.buf[:0], b.ends[:0]
			select {
			case ds.free <- b:
			default:
			}
		}
	}
}

// deliver decodes one frame and hands its message to the node. An
// undecodable frame closes the connection (its reader then ends it) and
// returns false.
func (c *conn) deliver(frame []byte) bool {
	var m Message
	var reply []byte
	var err error
	if rc, ok := c.codec.(ReplyingCodec); ok {
		m, reply, err = rc.DecodeReply(frame)
	} else {
		m, err = c.codec.Decode(frame)
	}
	if errors.Is(err, ErrIgnored) {
		if err != ErrIgnored {
			c.n.logf("dist: from %s: %v", c.peer.Name, err)
		}
		c.sendFrame(reply)
		return true
	}
	if err != nil {
		c.n.logf("dist: closing connection from %s: undecodable frame: %v", c.peer.Name, err)
		c.close(fmt.Errorf("protocol error: %w", err))
		return false
	}
	// The codec's answer goes first: what the message starts may answer
	// too (the Erlang dialect's SPAWN_REPLY must precede the DOWN that
	// carries an erpc call's result).
	c.sendFrame(reply)
	c.n.dispatch(c, &m)
	return true
}

// sendFrame queues a frame payload a codec made itself (see
// ReplyingCodec). Like other control signals it never waits for room.
func (c *conn) sendFrame(payload []byte) {
	if len(payload) == 0 {
		return
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.appendFrameLocked(payload)
	first := c.queued == 1
	c.mu.Unlock()
	if first {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}
