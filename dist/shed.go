package dist

import (
	"container/list"
	"errors"
	"net"
	"sync"
	"syscall"
)

// maxHandshakes bounds the connections a node holds in their handshake
// (or waiting for it) at once. A legitimate handshake takes milliseconds;
// connections that never finish one are held for the set-up time, so past
// the bound the oldest is shed: a flood of held connections cannot keep a
// real peer out, and the files the node may open are not all spent on it.
const maxHandshakes = 512

// handshaking tracks the connections in their handshake, oldest first.
type handshaking struct {
	mu    sync.Mutex
	order list.List                  // of net.Conn, oldest first
	at    map[net.Conn]*list.Element // where each is in order
}

// add records nc, and returns the oldest connection to close if that
// passes maxHandshakes.
func (h *handshaking) add(nc net.Conn) (shed net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.at == nil {
		h.at = make(map[net.Conn]*list.Element)
	}
	if h.order.Len() >= maxHandshakes {
		shed = h.removeLocked(h.order.Front())
	}
	h.at[nc] = h.order.PushBack(nc)
	return shed
}

// done forgets nc, whose handshake is over.
func (h *handshaking) done(nc net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.at[nc]; e != nil {
		h.removeLocked(e)
	}
}

// oldest removes and returns the oldest connection, or nil.
func (h *handshaking) oldest() net.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.order.Front(); e != nil {
		return h.removeLocked(e)
	}
	return nil
}

func (h *handshaking) removeLocked(e *list.Element) net.Conn {
	nc := h.order.Remove(e).(net.Conn)
	delete(h.at, nc)
	return nc
}

// outOfFiles reports an accept error that closing a file cures.
func outOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
