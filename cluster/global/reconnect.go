package global

import (
	"context"
	"sync"
	"time"

	"github.com/gonode/gonode/dist"
)

// reconnector dials the peers a server lost until they answer again (see
// "Reconnecting after a partition" in the package comment). It owns one
// goroutine, which owns the dials it starts; stop ends and waits for all.
type reconnector struct {
	node     *dist.Node
	interval time.Duration
	forget   time.Duration

	mu      sync.Mutex
	lostAt  map[string]time.Time // guarded by mu: lost peers, since when
	dialing map[string]bool      // guarded by mu: a dial to it is running

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newReconnector(node *dist.Node, interval, forget time.Duration) *reconnector {
	r := &reconnector{node: node, interval: interval, forget: forget,
		lostAt: make(map[string]time.Time), dialing: make(map[string]bool)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.loop()
	return r
}

// lost starts redialling node; found stops it.
func (r *reconnector) lost(node string) {
	r.mu.Lock()
	if _, ok := r.lostAt[node]; !ok {
		r.lostAt[node] = time.Now()
	}
	r.mu.Unlock()
}

func (r *reconnector) found(node string) {
	r.mu.Lock()
	delete(r.lostAt, node)
	r.mu.Unlock()
}

// lostNodes returns the nodes being redialled (for tests).
func (r *reconnector) lostNodes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.lostAt))
	for n := range r.lostAt {
		out = append(out, n)
	}
	return out
}

func (r *reconnector) stop() {
	r.cancel()
	r.wg.Wait()
}

func (r *reconnector) loop() {
	defer r.wg.Done()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			r.tick(now)
		}
	}
}

// tick starts a dial to every lost node that has none running. A dial is
// bounded by a few intervals (a host that does not answer), and a node
// lost for longer than forget is forgotten: it was stopped, not cut off.
func (r *reconnector) tick(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for node, at := range r.lostAt {
		if now.Sub(at) > r.forget {
			delete(r.lostAt, node)
			continue
		}
		if r.dialing[node] {
			continue
		}
		r.dialing[node] = true
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			ctx, cancel := context.WithTimeout(r.ctx, max(4*r.interval, time.Second))
			err := r.node.Connect(ctx, node)
			cancel()
			r.mu.Lock()
			delete(r.dialing, node)
			if err == nil {
				delete(r.lostAt, node)
			}
			r.mu.Unlock()
		}()
	}
}
