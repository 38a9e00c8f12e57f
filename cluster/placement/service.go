package placement

import (
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// ServerName is the name the load process is registered under on every
// node.
const ServerName = "placement_load"

// Errors callers branch on.
var (
	ErrNoLiveNode = errors.New("placement: no live node fits")
	ErrClosed     = errors.New("placement: service is closed")
)

// Options tune a Service. The zero value is the default.
type Options struct {
	// Interval is how often the node is sampled and its record pushed to
	// the peers (default 500 ms).
	Interval time.Duration
	// MaxAge is how old a record may be, since it arrived, and still count
	// as fresh for LeastLoaded and Among (default 3 intervals, at least
	// 2 intervals).
	MaxAge time.Duration
	// Sampler measures the node (default NewSampler of the node's
	// process table); tests inject one to make a node look loaded.
	Sampler Sampler
	// Logf is where the load process logs what it ignores (default
	// log.Printf).
	Logf func(format string, args ...any)
	// Rand draws LeastLoaded's two candidates (default a random source of
	// its own); a test may fix it. Used under the Service's mutex.
	Rand *rand.Rand
}

// Service is one node's placement: its load process and the records it
// holds. All methods are safe for concurrent use from any goroutine.
type Service struct {
	node *dist.Node
	o    Options
	pid  proc.Pid
	done chan struct{} // closed when the load process has ended
	stop sync.Once

	mu      sync.Mutex        // guards records, closed and o.Rand
	records map[string]*entry // by node name, this node's included
	closed  bool
}

// entry is a node's latest record, when it arrived here, and how many
// tasks this node placed there since (LeastLoaded's tie-breaker).
type entry struct {
	load     Load
	received time.Time
	placed   int
	from     proc.Pid // the load process that sent it
	ref      proc.Ref // this load process's monitor of from
}

// Start starts the load process on node (registered as ServerName), takes
// the node's first sample before returning, and pushes it to every
// connected node. A second Start on one node fails with an error wrapping
// proc.ErrNameTaken.
func Start(node *dist.Node, o Options) (*Service, error) {
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 3 * o.Interval
	}
	o.MaxAge = max(o.MaxAge, 2*o.Interval)
	if o.Sampler == nil {
		o.Sampler = NewSampler(node.Proc())
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	s := &Service{node: node, o: o, done: make(chan struct{}), records: make(map[string]*entry)}
	started, ready := make(chan struct{}), make(chan struct{})
	pid, err := node.Proc().SpawnOpt(func(p *proc.Process) {
		<-started // s.pid is set
		s.run(p, ready)
	}, proc.SpawnOptions{Name: ServerName, Label: "placement load"})
	if err != nil {
		return nil, fmt.Errorf("placement: starting on %s: %w", node.Name(), err)
	}
	s.pid = pid
	close(started)
	select {
	case <-ready: // the local record exists before Start returns
	case <-s.done:
	}
	return s, nil
}

// Pid returns the load process's pid.
func (s *Service) Pid() proc.Pid { return s.pid }

// Close stops the load process and waits for it. Peers drop this node's
// record when they see it go. Idempotent; afterwards Choose returns
// ErrClosed and Loads nothing.
func (s *Service) Close() error {
	s.stop.Do(func() { s.node.Proc().Exit(s.pid, proc.Atom("shutdown")) })
	<-s.done
	return nil
}

// Done is closed when the load process has ended (Close, the node
// stopping, or killed).
func (s *Service) Done() <-chan struct{} { return s.done }

// Loads returns every node's record held here, sorted by node name, each
// with its Age. Stale records are included (Age says so); a node that went
// down is not.
func (s *Service) Loads() []Load {
	now := time.Now()
	s.mu.Lock()
	out := make([]Load, 0, len(s.records))
	for _, e := range s.records {
		l := e.load
		l.Age = now.Sub(e.received)
		out = append(out, l)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// sample measures the node and stores the local record; called by Start
// and then only by the load process.
func (s *Service) sample() Load {
	l := s.o.Sampler()
	now := time.Now()
	l.Node, l.At, l.Age = s.node.Name(), now, 0
	s.mu.Lock()
	if !s.closed {
		s.records[l.Node] = &entry{load: l, received: now}
	}
	s.mu.Unlock()
	return l
}
