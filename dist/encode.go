package dist

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gonode/gonode/dist/wire"
)

// Messages are encoded on the sender's goroutine, not by the connection's
// writer: a value that cannot be sent (it holds a channel or a function, it
// nests deeper than MaxDepth, its encoding is over the frame limit) fails
// its sender with an error it can show, instead of vanishing with a log
// line on the writer's side; and many senders encode in parallel while the
// one writer only copies bytes to the socket.

// scratch is what a sender encodes with before it copies the frame into
// the connection's queue: a buffer, and a copy of the Message, so that the
// sender's own Message does not escape to the heap through the Codec
// interface (one allocation per message less). The native codec is called
// directly, which lets the compiler see that it keeps no pointer to the
// Message, and needs no copy. A sender takes a scratch from scratchPool
// and puts it back at once, so the pool stays warm on its P.
type scratch struct {
	b      []byte
	m      Message
	copied bool // m holds a copy to clear
}

var scratchPool = sync.Pool{New: func() any { return &scratch{b: make([]byte, 0, 512)} }}

// maxPooledFrame keeps the buffers of rare large messages out of the pool.
const maxPooledFrame = 64 << 10

func putFrame(s *scratch) {
	if s.copied {
		s.m, s.copied = Message{}, false
	}
	if cap(s.b) <= maxPooledFrame {
		s.b = s.b[:0]
		scratchPool.Put(s)
	}
}

// encodeWith encodes m (or a copy of it: see scratch) with codec into a
// scratch from the pool; the caller puts it back with putFrame. limit
// bounds the frame.
func encodeWith(codec Codec, m *Message, limit int) (*scratch, error) {
	s := scratchPool.Get().(*scratch)
	var b []byte
	var err error
	if nc, ok := codec.(*NativeCodec); ok {
		b, err = nc.Encode(s.b[:0], m)
	} else {
		s.m, s.copied = *m, true
		b, err = codec.Encode(s.b[:0], &s.m)
	}
	if err == nil && len(b) > limit {
		err = fmt.Errorf("%w: %d bytes, limit %d", wire.ErrFrameTooLarge, len(b), limit)
	}
	s.b = b
	if err != nil {
		putFrame(s)
		return nil, err
	}
	return s, nil
}

// ErrTooLarge: a message whose encoding is over the connection's frame
// limit (wraps wire.ErrFrameTooLarge).
var ErrTooLarge = wire.ErrFrameTooLarge

// encode encodes m for this connection. Signals that must arrive (a reply,
// an exit or DOWN reason) are not lost to an unencodable value: see
// sendable.
func (c *conn) encode(m *Message) (*scratch, error) {
	frame, err := c.encodeOne(m)
	if err == nil {
		return frame, nil
	}
	if sub, ok := sendable(m, err); ok {
		c.n.logf("dist: %v message to %s cannot be sent as it is (%v); sending %v instead", m.Kind, c.peer.Name, err, sub.Payload)
		if frame, err2 := c.encodeOne(sub); err2 == nil {
			return frame, sendableErr(m, err)
		}
	}
	return nil, &UnsendableError{What: fmt.Sprintf("%v to %s", m.Kind, c.peer.Name), Err: err}
}

// UnsendableError is a message that could not be sent: its value cannot
// be encoded (errors.Is with ErrUnencodable) or is over the frame limit
// (ErrTooLarge). It is a bad argument of whatever sent it: errors.Is with
// ErrBadArgs holds too.
type UnsendableError struct {
	What string // "send to node2@localhost", ...
	Err  error
}

func (e *UnsendableError) Error() string { return e.What + ": " + e.Err.Error() }

func (e *UnsendableError) Unwrap() error { return e.Err }

// Is makes an unsendable value a bad argument.
func (e *UnsendableError) Is(target error) bool { return target == ErrBadArgs }

func (c *conn) encodeOne(m *Message) (*scratch, error) {
	return encodeWith(c.codec, m, c.n.cfg.MaxFrame)
}

// sendable returns what to send instead of a signal that cannot be
// encoded but must arrive, so that nobody waits for ever: a reply becomes
// a badarg error for its caller; an exit or DOWN reason becomes its
// printed form, so that the link or monitor still fires.
func sendable(m *Message, err error) (*Message, bool) {
	switch m.Kind {
	case KindReply:
		return &Message{Kind: KindReply, To: m.To, Ref: m.Ref,
			Err: &RemoteError{Kind: RemoteBadarg, Message: "the result cannot be sent: " + err.Error()}}, true
	case KindExit, KindExit2, KindDown:
		sub := *m
		sub.Payload = fmt.Sprint(m.Payload)
		return &sub, true
	}
	return nil, false
}

// sendableErr is what the sender of a replaced signal learns: nothing for
// an exit or DOWN (the signal went, in its printed form), the error for a
// reply (the caller got badarg instead of the result).
func sendableErr(m *Message, err error) error {
	if m.Kind == KindReply {
		return fmt.Errorf("reply: %w", err)
	}
	return nil
}

// checkEncodable reports whether m can be sent, for a signal that waits
// for a connection being set up: its sender learns now, not later.
func (n *Node) checkEncodable(m *Message) error {
	s, err := encodeWith(n.codec, m, n.cfg.MaxFrame)
	if err == nil {
		putFrame(s)
		return nil
	}
	if _, ok := sendable(m, err); ok {
		return nil // replaced when it is encoded for the connection
	}
	return &UnsendableError{What: fmt.Sprintf("%v to %s", m.Kind, m.To.Node), Err: err}
}

// isUnsendable tells an encoding failure (the sender's fault) from a
// connection that went down.
func isUnsendable(err error) bool {
	var u *UnsendableError
	return errors.As(err, &u)
}
