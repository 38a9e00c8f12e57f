package dist

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// Liveness (see conn): a peer that takes nothing we write, or sends
// nothing for the tick time, is dropped within the tick time whether the
// link is idle or saturated, and the senders waiting for room on its
// connection are released.

// jamConn is a connection whose reads come from one end of a pipe (the
// test plays the peer on the other end) and whose writes are discarded,
// or, once jammed, block as a write to a full socket buffer does: until
// the write deadline passes or the connection is closed.
type jamConn struct {
	net.Conn // one end of a net.Pipe: reads and read deadlines

	mu        sync.Mutex
	jammed    bool
	deadline  time.Time     // the write deadline
	written   []byte        // what was written before the jam (discarded by the peer)
	gate      chan struct{} // closed when jammed writes may time out
	jamStart  time.Time     // when the first jammed write began
	jamDL     time.Time     // the write deadline it had
	jamEnd    error         // how it ended
	blocked   chan struct{}
	unblocked chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newJamConn(end net.Conn, jammed bool) *jamConn {
	return &jamConn{Conn: end, jammed: jammed, gate: make(chan struct{}),
		blocked: make(chan struct{}), unblocked: make(chan struct{}), closed: make(chan struct{})}
}

func (j *jamConn) SetWriteDeadline(t time.Time) error {
	j.mu.Lock()
	j.deadline = t
	j.mu.Unlock()
	return nil
}

func (j *jamConn) SetDeadline(t time.Time) error {
	_ = j.SetWriteDeadline(t)
	return j.Conn.SetReadDeadline(t)
}

func (j *jamConn) Write(p []byte) (int, error) {
	j.mu.Lock()
	select {
	case <-j.closed:
		j.mu.Unlock()
		return 0, net.ErrClosed
	default:
	}
	if !j.jammed {
		j.written = append(j.written, p...)
		j.mu.Unlock()
		return len(p), nil
	}
	first := j.jamStart.IsZero()
	dl := j.deadline
	if first {
		j.jamStart, j.jamDL = time.Now(), dl
		close(j.blocked)
	}
	j.mu.Unlock()
	// Held until the test opens the gate: the deadline may have passed by
	// then, and the write then fails at once, as it would have.
	select {
	case <-j.gate:
	case <-j.closed:
		return 0, net.ErrClosed
	}
	var expired <-chan time.Time
	if !dl.IsZero() { // without a deadline, a full buffer blocks for ever
		timer := time.NewTimer(time.Until(dl))
		defer timer.Stop()
		expired = timer.C
	}
	var err error
	select {
	case <-expired:
		err = os.ErrDeadlineExceeded
	case <-j.closed:
		err = net.ErrClosed
	}
	if first {
		j.mu.Lock()
		j.jamEnd = err
		j.mu.Unlock()
		close(j.unblocked)
	}
	return 0, err
}

func (j *jamConn) Close() error {
	j.closeOnce.Do(func() { close(j.closed) })
	return j.Conn.Close()
}

// ticksWritten counts the ticks among the frames written to j.
func (j *jamConn) ticksWritten() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	ticks := 0
	for b := j.written; len(b) >= wire.FrameHeaderLen; {
		size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if size == 0 {
			ticks++
		}
		b = b[min(len(b), wire.FrameHeaderLen+size):]
	}
	return ticks
}

// runConn runs a connection to a made-up peer over nc on node a, as up
// does but without a peer record, and returns it with a channel closed
// when both of its goroutines have ended. Cleanup closes it and waits.
func runConn(t *testing.T, a *Node, nc net.Conn) (*conn, chan struct{}) {
	t.Helper()
	c := newConn(a, nc, bufio.NewReaderSize(nc, 64<<10), wire.PeerInfo{Name: "ghost@localhost", Creation: 7}, a.codec)
	ended := make(chan struct{})
	a.wg.Add(2)
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); c.writeLoop() }()
	go func() { defer loops.Done(); c.readLoop() }()
	go func() { loops.Wait(); close(ended) }()
	t.Cleanup(func() {
		c.close(errors.New("test over"))
		<-ended
	})
	return c, ended
}

// waitClosed waits until c is closed, and returns how long after since it
// took.
func waitClosed(t *testing.T, c *conn, since time.Time, within time.Duration) time.Duration {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-c.done:
		return time.Since(since)
	case <-timer.C:
		t.Fatalf("connection still up %v after %v", within, since)
		return 0
	}
}

// TestWriteTimeoutReleasesSenders: a peer that keeps talking but takes
// nothing we write. Once the socket buffer is full (the jammed writes), the
// writer is stuck and senders fill the queue and wait for room. The write
// deadline fails the stuck write after the tick time, the connection goes
// down with a write timeout, and every sender waiting for room gets an
// error instead of waiting for ever.
func TestWriteTimeoutReleasesSenders(t *testing.T) {
	t.Parallel()
	const tick = time.Second
	cl := newCluster(t)
	a := cl.start("a@localhost", func(cfg *Config) { cfg.TickTime = tick })
	ours, theirs := net.Pipe()
	defer theirs.Close()
	jc := newJamConn(ours, true)
	c, ended := runConn(t, a, jc)

	// The peer talks: a tick every twentieth of the tick time, so its
	// silence is never the reason.
	stopTalking := make(chan struct{})
	talked := make(chan struct{})
	go func() {
		defer close(talked)
		ticker := time.NewTicker(tick / 20)
		defer ticker.Stop()
		for {
			if _, err := theirs.Write(make([]byte, wire.FrameHeaderLen)); err != nil {
				return
			}
			select {
			case <-ticker.C:
			case <-stopTalking:
				return
			}
		}
	}()
	defer func() { close(stopTalking); theirs.Close(); <-talked }()

	const senders = 4
	to := proc.Pid{Node: "ghost@localhost", ID: 1}
	payload := strings.Repeat("x", 1024)
	errs := make(chan error, senders)
	for range senders {
		go func() {
			for {
				if err := c.send(Message{Kind: KindSend, To: to, Payload: payload}, true); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	eventually(t, "every sender waiting for room", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting == senders
	})
	<-jc.blocked // the writer is stuck (it is, since the senders wait)
	close(jc.gate)
	jc.mu.Lock()
	jamStart, jamDL := jc.jamStart, jc.jamDL
	jc.mu.Unlock()
	if jamDL.IsZero() || jamDL.Sub(jamStart) > tick {
		t.Fatalf("the stuck write has deadline %v, %v after it began; want one within the tick time %v", jamDL, jamDL.Sub(jamStart), tick)
	}

	took := waitClosed(t, c, jamStart, 10*tick)
	for range senders {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrNodeDown) {
				t.Errorf("a released sender got %v, want ErrNodeDown", err)
			}
		case <-time.After(waitTime):
			t.Fatal("a sender still waits for room after the connection went down")
		}
	}
	<-ended
	jc.mu.Lock()
	jamEnd := jc.jamEnd
	jc.mu.Unlock()
	if !errors.Is(jamEnd, os.ErrDeadlineExceeded) {
		t.Errorf("the stuck write ended with %v, want its deadline", jamEnd)
	}
	if reason := c.closeReason(); reason != errWriteTimeout {
		t.Errorf("closed with %v, want %v", reason, errWriteTimeout)
	}
	if took < tick/2 {
		t.Errorf("dropped %v after the write got stuck, before the tick time %v", took, tick)
	}
	if !strings.Contains(cl.logs.text(), "write timeout") {
		t.Errorf("nothing logged about the write timeout:\n%s", cl.logs.text())
	}
	t.Logf("stuck writer dropped %v after its write blocked (tick time %v): %v", took, tick, c.closeReason())
}

// TestReadSilenceDropsPeer: a peer that takes what we write (ticks, every
// quarter of the tick time while idle) but sends nothing is dropped by
// the read deadline with net_tick_timeout, between 3/4 and 5/4 of the tick
// time after its last frame.
func TestReadSilenceDropsPeer(t *testing.T) {
	t.Parallel()
	const tick = 400 * time.Millisecond
	cl := newCluster(t)
	a := cl.start("a@localhost", func(cfg *Config) { cfg.TickTime = tick })
	ours, theirs := net.Pipe()
	defer theirs.Close()
	jc := newJamConn(ours, false)
	c, ended := runConn(t, a, jc)

	// One tick from the peer, then silence.
	if _, err := theirs.Write(make([]byte, wire.FrameHeaderLen)); err != nil {
		t.Fatal(err)
	}
	last := time.Now()
	took := waitClosed(t, c, last, 10*tick)
	<-ended
	if reason := c.closeReason(); reason != errTickTimeout {
		t.Fatalf("closed with %v, want %v", reason, errTickTimeout)
	}
	if took < tick*3/4 {
		t.Errorf("dropped %v after the peer's last frame, before 3/4 of the tick time %v", took, tick)
	}
	if n := jc.ticksWritten(); n < 1 {
		t.Errorf("no tick written while idle for %v", took)
	}
	if !strings.Contains(cl.logs.text(), "net_tick_timeout") {
		t.Errorf("nothing logged about the tick timeout:\n%s", cl.logs.text())
	}
	t.Logf("silent peer dropped %v after its last frame (tick time %v), %d ticks written meanwhile", took, tick, jc.ticksWritten())
}

// TestHandshakeBytesReadFirst: frames that arrived with the end of the
// handshake, already in its bufio.Reader, are read before the socket.
func TestHandshakeBytesReadFirst(t *testing.T) {
	t.Parallel()
	cl := newCluster(t)
	a := cl.start("a@localhost")
	me := attach(t, a)
	var frames []byte
	for _, s := range []string{"one", "two"} {
		b, err := a.codec.Encode(nil, &Message{Kind: KindSend, To: me.Pid(), Payload: s})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b)))
		frames = append(frames, b...)
	}
	ours, theirs := net.Pipe()
	defer theirs.Close()
	// The handshake's reader holds the first frame and a half.
	half := len(frames) - 5
	go func() { _, _ = theirs.Write(frames[:half]) }()
	br := bufio.NewReaderSize(ours, 64<<10)
	if _, err := br.Peek(half); err != nil {
		t.Fatal(err)
	}
	c := newConn(a, newJamConn(ours, false), br, wire.PeerInfo{Name: "ghost@localhost", Creation: 7}, a.codec)
	a.wg.Add(1)
	done := make(chan struct{})
	go func() { defer close(done); c.readLoop() }()
	defer func() { c.close(errors.New("test over")); <-done }()
	go func() { _, _ = theirs.Write(frames[half:]) }()
	for _, want := range []string{"one", "two"} {
		if got := recv(t, me); got != want {
			t.Fatalf("got %#v, want %q", got, want)
		}
	}
}

// TestSaturatedLinkStaysUp: a link kept full for several tick times in
// both directions is not dropped: the read and write deadlines move with
// the traffic.
func TestSaturatedLinkStaysUp(t *testing.T) {
	t.Parallel()
	const tick = time.Second
	cl := newCluster(t)
	withTick := func(cfg *Config) { cfg.TickTime = tick }
	a, b := cl.start("a@localhost", withTick), cl.start("b@localhost", withTick)
	watchA, watchB := attach(t, a), attach(t, b)
	a.MonitorNodes(watchA.Pid(), true, true)
	b.MonitorNodes(watchB.Pid(), true, true)
	if err := a.Connect(ctx(t), b.Name()); err != nil {
		t.Fatal(err)
	}
	// b's accepting side may finish setting up a moment after a's Connect.
	eventually(t, "b's side of the connection", func() bool { return b.connFor(a.Name()) != nil })
	ca, cb := a.connFor(b.Name()), b.connFor(a.Name())
	if ca == nil || cb == nil {
		t.Fatal("not connected")
	}

	for _, w := range []*proc.Process{watchA, watchB} {
		if m := recv(t, w); !isNodeUp(m) {
			t.Fatalf("got %v, want a nodeup", m)
		}
	}

	payload := strings.Repeat("y", 1024)
	end := time.Now().Add(3 * tick)
	var sent atomic.Int64
	var wg sync.WaitGroup
	stream := func(from *Node, to string) {
		defer wg.Done()
		p, err := from.Proc().Attach(proc.SpawnOptions{Label: "stream"})
		if err != nil {
			t.Error(err)
			return
		}
		defer p.Exit(proc.Normal)
		for time.Now().Before(end) {
			for range 256 {
				// Unregistered on the other side: dropped on arrival, so the
				// stream costs no memory there.
				_ = p.SendName(proc.Name{Name: "nobody", Node: to}, payload)
			}
			sent.Add(256)
		}
	}
	wg.Add(4)
	go stream(a, b.Name())
	go stream(a, b.Name())
	go stream(b, a.Name())
	go stream(b, a.Name())
	wg.Wait()
	for _, c := range []*conn{ca, cb} {
		if r := c.closeReason(); r != nil {
			t.Fatalf("saturated link dropped: %v", r)
		}
	}
	if a.connFor(b.Name()) != ca || b.connFor(a.Name()) != cb {
		t.Fatal("saturated link replaced")
	}
	for _, w := range []*proc.Process{watchA, watchB} {
		if m, err := w.ReceiveTimeout(0); err == nil {
			t.Fatalf("node event on a saturated link: %v", m)
		}
	}
	t.Logf("%d messages of 1 KiB in %v over a link with tick time %v", sent.Load(), 3*tick, tick)
}

func isNodeUp(m any) bool {
	_, ok := m.(NodeUp)
	return ok
}
