package discovery

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Options says what Start does with the nodes a strategy finds.
type Options struct {
	// Connect connects to a node, returning at once if already connected
	// (dist.Node.Connect).
	Connect func(ctx context.Context, name string) error
	// Self is this node's name: never connected to, never listed.
	Self string
	// Ignore, if set, drops names nobody should connect to (the hidden
	// nodes of remote shells, which port mappers list too).
	Ignore func(name string) bool
	// Logf receives failures and recoveries; nil discards them.
	Logf func(format string, args ...any)
	// MinBackoff and MaxBackoff bound the wait before trying again a node
	// that refused: it doubles from MinBackoff (default 1 s) up to
	// MaxBackoff (default 30 s), with jitter, so that a node refusing
	// (wrong cookie, still starting) is never hammered.
	MinBackoff, MaxBackoff time.Duration
	// Recheck is how often a node connected to is connected again
	// (default 5 s): nothing happens if the connection is up, and a
	// connection lost while the node is still found comes back.
	Recheck time.Duration
	// MaxNodes bounds the nodes tracked (default 4096); more are dropped
	// with a log line.
	MaxNodes int
}

// maxDialsAtOnce bounds the connection attempts running at once: a
// connection set-up can take seconds, and one slow node must not hold up
// the others, nor a thousand names start a thousand dials.
const maxDialsAtOnce = 8

// Discovery is a strategy running, and the connections it makes. Close
// stops both.
type Discovery struct {
	strategy Strategy
	opts     Options
	cancel   context.CancelFunc
	wg       sync.WaitGroup // run and connectLoop
	changed  chan struct{}  // 1-buffered: found a new set
	runErr   error          // set by the strategy goroutine before wg.Done

	mu     sync.Mutex
	latest []string // guarded by mu: the last set found, without Self and ignored names
	closed bool     // guarded by mu
}

// Start runs s and connects to every node it finds. It returns at once;
// the strategy runs until Close. The Discovery owns s from then on: Close
// closes it if it is an io.Closer.
func Start(s Strategy, o Options) *Discovery {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	if o.Recheck <= 0 {
		o.Recheck = 5 * time.Second
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = 4096
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Discovery{strategy: s, opts: o, cancel: cancel, changed: make(chan struct{}, 1)}
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		if err := s.Run(ctx, d.found); err != nil {
			d.runErr = err
			d.logf("discovery: stopped: %v", err)
		}
	}()
	go func() {
		defer d.wg.Done()
		d.connectLoop(ctx)
	}()
	return d
}

// Nodes returns the nodes the strategy found last, sorted, without this
// node.
func (d *Discovery) Nodes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.latest)
}

// Close stops the strategy and the connection attempts, waits for them,
// and closes the strategy if it holds resources. The connections made
// stay up. It returns the error the strategy stopped with, if any.
// Idempotent.
func (d *Discovery) Close() error {
	d.mu.Lock()
	closed := d.closed
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	if closed {
		return nil
	}
	err := d.runErr
	if c, ok := d.strategy.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

// found is the strategy's callback: it keeps the set and wakes the
// connect loop, never blocking.
func (d *Discovery) found(nodes []string) {
	keep := make([]string, 0, len(nodes))
	for _, n := range Normalize(nodes) {
		if n != d.opts.Self && (d.opts.Ignore == nil || !d.opts.Ignore(n)) {
			keep = append(keep, n)
		}
	}
	if len(keep) > d.opts.MaxNodes {
		d.logf("discovery: %d nodes found; tracking the first %d", len(keep), d.opts.MaxNodes)
		keep = keep[:d.opts.MaxNodes]
	}
	d.mu.Lock()
	d.latest = keep
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default: // a wake-up is pending: it will read the latest set
	}
}

func (d *Discovery) logf(format string, args ...any) {
	if d.opts.Logf != nil {
		d.opts.Logf(format, args...)
	}
}

// target is the connect loop's record of one node found.
type target struct {
	next     time.Time     // when to call Connect next
	backoff  time.Duration // the wait after the next failure; 0 after a success
	failures int           // failures in a row
	lastErr  string        // the error last logged
	dialing  bool          // an attempt is running
}

// result is the outcome of one attempt.
type result struct {
	name string
	err  error
}

// connectLoop owns the targets: it connects to new nodes at once, retries
// failures with backoff, and rechecks connected ones now and then.
func (d *Discovery) connectLoop(ctx context.Context) {
	targets := make(map[string]*target)
	results := make(chan result)
	var dials sync.WaitGroup
	defer dials.Wait()
	running := 0
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.changed:
			now := time.Now()
			current := d.Nodes()
			for name := range targets {
				if !slices.Contains(current, name) {
					delete(targets, name) // gone: an attempt running for it is forgotten
				}
			}
			for _, name := range current {
				if targets[name] == nil {
					targets[name] = &target{next: now}
				}
			}
		case r := <-results:
			running--
			if t := targets[r.name]; t != nil {
				t.dialing = false
				d.record(r, t)
			}
		case <-timer.C:
		}
		// Start the attempts that are due, earliest first, and set the
		// timer for the next one.
		now := time.Now()
		due := make([]string, 0)
		var wake time.Time
		for name, t := range targets {
			switch {
			case t.dialing:
			case !t.next.After(now):
				due = append(due, name)
			case wake.IsZero() || t.next.Before(wake):
				wake = t.next
			}
		}
		slices.SortFunc(due, func(a, b string) int { return targets[a].next.Compare(targets[b].next) })
		for _, name := range due {
			if running == maxDialsAtOnce {
				break // the next result wakes the loop again
			}
			targets[name].dialing = true
			running++
			dials.Add(1)
			go func() {
				defer dials.Done()
				err := d.opts.Connect(ctx, name)
				select {
				case results <- result{name, err}:
				case <-ctx.Done():
				}
			}()
		}
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
		}
	}
}

// record updates t after an attempt: a success rechecks later; a failure
// waits twice as long as the last one (with jitter), and is logged when
// its error changes.
func (d *Discovery) record(r result, t *target) {
	now := time.Now()
	if r.err == nil {
		if t.failures > 0 {
			d.logf("discovery: connected to %s after %d failed attempts", r.name, t.failures)
		}
		t.failures, t.backoff, t.lastErr = 0, 0, ""
		t.next = now.Add(d.opts.Recheck)
		return
	}
	t.failures++
	if t.backoff == 0 {
		t.backoff = d.opts.MinBackoff
	}
	// Jitter of up to a quarter keeps nodes that failed together from
	// retrying together.
	wait := t.backoff + rand.N(t.backoff/4+1)
	t.next = now.Add(wait)
	t.backoff = min(2*t.backoff, d.opts.MaxBackoff)
	if msg := r.err.Error(); msg != t.lastErr {
		t.lastErr = msg
		d.logf("discovery: cannot connect to %s: %v (retrying with backoff up to %v)", r.name, r.err, d.opts.MaxBackoff)
	}
}
