package dist

import (
	"errors"
	"os"
	"time"
)

// Liveness (see conn) lives in the deadline of every socket read and
// write, not in a watchdog goroutine: these are those deadlines, the tick
// interval agreed with the peer, and the reasons a silent peer is dropped.

// writeChunk is the most written to the socket under one write deadline:
// a peer must take at least this much per tick time (64 KiB a minute at
// the default) or it is dropped.
const writeChunk = 64 << 10

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

var (
	errTickTimeout  = errors.New("net_tick_timeout: peer silent for the tick time")
	errWriteTimeout = errors.New("write timeout: peer took nothing for the tick time")
)
