package dist

import (
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// TestPeerStoppedDetection: a peer process frozen with SIGSTOP, once
// idle and once while messages stream to it (its socket buffer fills and
// the senders wait for room), is dropped with net_tick_timeout within
// the tick time; the waiting senders are released; after SIGCONT the peer
// connects again. The detection times are logged against the tick time.
func TestPeerStoppedDetection(t *testing.T) {
	t.Parallel()
	for _, loaded := range []bool{false, true} {
		name := "idle"
		if loaded {
			name = "saturated"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			peerStoppedDetection(t, loaded)
		})
	}
}

func peerStoppedDetection(t *testing.T, loaded bool) {
	const tick = time.Second
	a, p, me := connectedToPeer(t, "frozen", tick)
	c := a.connFor(p.Name)
	if c == nil {
		t.Fatal("not connected")
	}
	echo := whereis(t, a, p.Name, "echo")
	ref := me.Monitor(echo)

	const senders = 4
	var (
		stop    atomic.Bool
		sent    atomic.Int64
		running sync.WaitGroup
	)
	released := make(chan struct{})
	if loaded {
		payload := strings.Repeat("z", 1024) // not a pair: the peer's echo drops it
		for range senders {
			s, err := a.Proc().Attach(proc.SpawnOptions{Label: "stream"})
			if err != nil {
				t.Fatal(err)
			}
			running.Add(1)
			go func() {
				defer running.Done()
				defer s.Exit(proc.Normal)
				// Over c only: once it is gone, a send would connect again.
				for !stop.Load() && a.connFor(p.Name) == c {
					_ = s.SendName(proc.Name{Name: "echo", Node: p.Name}, payload)
					sent.Add(1)
				}
			}()
		}
		eventually(t, "the stream to flow", func() bool { return sent.Load() > 4*maxQueue })
	}
	go func() { running.Wait(); close(released) }()
	defer func() { stop.Store(true); <-released }()
	if !loaded {
		// Idle: only ticks on the link, so SIGSTOP falls anywhere between
		// two of the peer's.
		setUp := monoNow(time.Now())
		eventually(t, "ticks from the idle peer", func() bool {
			return c.readFrom.Load() > setUp+int64(tick/2)
		})
	}

	if err := p.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	if loaded {
		// The socket buffer fills, then the queue: the senders wait for room.
		eventually(t, "senders waiting for room, or the connection down", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.waiting > 0 || c.closing
		})
		c.mu.Lock()
		waiting, closing := c.waiting, c.closing
		c.mu.Unlock()
		if closing {
			t.Logf("the connection went down before senders were seen waiting (%d sent)", sent.Load())
		} else {
			t.Logf("%d senders waiting for room %v after SIGSTOP (%d sent)", waiting, time.Since(stopped), sent.Load())
		}
	}
	nd, err := receiveNodeDown(t, me, p.Name, 10*tick)
	took := time.Since(stopped)
	if err != nil {
		t.Fatalf("no nodedown within %v of SIGSTOP: %v", 10*tick, err)
	}
	if nd.Reason != "net_tick_timeout" {
		t.Errorf("nodedown of a frozen peer: %v, want net_tick_timeout", nd)
	}
	if took < tick/2 {
		t.Errorf("frozen peer dropped %v after SIGSTOP, well before the tick time %v", took, tick)
	}
	if d, ok := recv(t, me).(proc.DownMsg); !ok || d.Ref != ref || d.Reason != proc.NoConnection {
		t.Fatalf("monitor of the frozen peer's echo: %v", d)
	}
	if loaded {
		timer := time.NewTimer(waitTime)
		defer timer.Stop()
		select {
		case <-released:
		case <-timer.C:
			t.Fatal("senders still blocked after the nodedown")
		}
		t.Logf("senders released %v after SIGSTOP", time.Since(stopped))
	}
	// The reader's last read began once the peer's last frame was in:
	// the peer is dropped the tick time after that.
	lastFrame := time.Duration(c.readFrom.Load() - monoNow(stopped))
	t.Logf("%s peer frozen by SIGSTOP dropped after %v (tick time %v; its last frame read %v after SIGSTOP): %v",
		map[bool]string{false: "idle", true: "saturated"}[loaded], took, tick, lastFrame, nd.Reason)

	if err := p.signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// It drops its end of the old connection when it reads our close, and
	// then takes a new one.
	eventually(t, "reconnecting to the resumed peer", func() bool {
		return a.Ping(ctx(t), p.Name) == "pong"
	})
	if err := me.SendName(proc.Name{Name: "echo", Node: p.Name}, []any{me.Pid(), "back"}); err != nil {
		t.Fatal(err)
	}
	got, err := me.ReceiveMatchTimeout(waitTime, func(m any) bool { return m == "back" })
	if err != nil {
		t.Fatalf("echo over the new connection: %v %v", got, err)
	}
}

// The reason a node monitor sees names what ended the connection.
func TestDownReasons(t *testing.T) {
	for err, want := range map[error]string{
		nil:             "connection_closed",
		errTickTimeout:  "net_tick_timeout",
		errWriteTimeout: "write_timeout",
		errDisconnected: "disconnect",
	} {
		if got := downReason(err); got != want {
			t.Errorf("downReason(%v) = %q, want %q", err, got, want)
		}
	}
}

// connectedToPeer starts a node with the tick time tick, connected to a
// peer OS process (named from prefix) with the same tick time, and a
// process of its own watching nodes, past the peer's nodeup.
func connectedToPeer(t *testing.T, prefix string, tick time.Duration) (*Node, *peerProc, *proc.Process) {
	t.Helper()
	cl := newCluster(t)
	a := cl.start("a@localhost", func(cfg *Config) { cfg.TickTime = tick })
	p := startPeer(t, cl.epmd, uniqueName(prefix), peerOpts{tick: tick})
	me := attach(t, a)
	a.MonitorNodes(me.Pid(), true, false)
	if err := a.Connect(ctx(t), p.Name); err != nil {
		t.Fatal(err)
	}
	if _, ok := recv(t, me).(NodeUp); !ok {
		t.Fatal("no nodeup")
	}
	return a, p, me
}
