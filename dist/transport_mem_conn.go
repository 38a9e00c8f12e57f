package dist

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// A MemNetwork connection behaves as a TCP socket wherever the node can
// tell: bounded buffers that make writers wait, deadlines, EOF after a
// close, and bytes held, not lost, across a partition.

// memBuffer is how many bytes each direction of a connection holds before
// a write waits, about what a loopback socket buffers.
const memBuffer = 256 << 10

// memPair is one connection: a dialled b; ab carries a's bytes to b.
type memPair struct {
	a, b   string
	ab, ba *memPipe
	closes int // guarded by MemNetwork.mu: ends closed
}

// memPipe is one direction of a connection: a bounded buffer with one
// writing end and one reading end.
type memPipe struct {
	mu      sync.Mutex    // guards every field
	buf     []byte        // written, not yet read
	held    bool          // partitioned: nothing is delivered
	wclosed bool          // the writing end closed: EOF once buf is read
	rclosed bool          // the reading end closed: writes fail
	rdl     time.Time     // the reading end's deadline
	wdl     time.Time     // the writing end's deadline
	wake    chan struct{} // closed (and replaced) on every change
}

func newMemPipe() *memPipe { return &memPipe{wake: make(chan struct{})} }

// changed wakes every waiter; mu is held.
func (p *memPipe) changed() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// wait releases mu until something changes or deadline passes; mu is
// held on entry and on return.
func (p *memPipe) wait(deadline time.Time) {
	ch := p.wake
	p.mu.Unlock()
	if deadline.IsZero() {
		<-ch
	} else {
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	p.mu.Lock()
}

func expired(deadline time.Time) bool { return !deadline.IsZero() && !time.Now().Before(deadline) }

func (p *memPipe) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.rclosed:
			return 0, net.ErrClosed
		case len(b) == 0:
			return 0, nil
		case !p.held && len(p.buf) > 0:
			k := copy(b, p.buf)
			p.buf = p.buf[k:]
			if len(p.buf) == 0 {
				p.buf = nil
			}
			p.changed()
			return k, nil
		case !p.held && p.wclosed:
			return 0, io.EOF
		case expired(p.rdl):
			return 0, os.ErrDeadlineExceeded
		}
		p.wait(p.rdl)
	}
}

func (p *memPipe) write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for {
		switch {
		case p.wclosed:
			return n, net.ErrClosed
		case p.rclosed && !p.held:
			// (Across a partition the writer cannot know yet: it
			// buffers, as TCP does, until the partition heals.)
			return n, io.ErrClosedPipe
		case len(b) == 0:
			return n, nil
		case len(p.buf) < memBuffer:
			k := min(len(b), memBuffer-len(p.buf))
			p.buf = append(p.buf, b[:k]...)
			b, n = b[k:], n+k
			p.changed()
			continue
		case expired(p.wdl):
			return n, os.ErrDeadlineExceeded
		}
		p.wait(p.wdl)
	}
}

func (p *memPipe) setHeld(held bool) {
	p.mu.Lock()
	p.held = held
	p.changed()
	p.mu.Unlock()
}

func (p *memPipe) update(f func()) {
	p.mu.Lock()
	f()
	p.changed()
	p.mu.Unlock()
}

// memConn is one end of a connection.
type memConn struct {
	m             *MemNetwork
	pair          *memPair
	r, w          *memPipe
	local, remote memAddr
	once          sync.Once
}

func (c *memConn) Read(b []byte) (int, error)  { return c.r.read(b) }
func (c *memConn) Write(b []byte) (int, error) { return c.w.write(b) }

func (c *memConn) Close() error {
	first := false
	c.once.Do(func() {
		first = true
		c.r.update(func() { c.r.rclosed = true })
		c.w.update(func() { c.w.wclosed = true })
		c.m.mu.Lock()
		if c.pair.closes++; c.pair.closes == 2 {
			delete(c.m.pairs, c.pair)
		}
		c.m.mu.Unlock()
	})
	if !first {
		return net.ErrClosed
	}
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.r.update(func() { c.r.rdl = t })
	return nil
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.w.update(func() { c.w.wdl = t })
	return nil
}
