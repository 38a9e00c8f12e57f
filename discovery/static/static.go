package static

import (
	"context"
	"fmt"
	"time"

	"github.com/gonode/gonode/discovery"
)

// Config configures a Strategy.
type Config struct {
	// Hosts are the hosts to ask; at least one.
	Hosts []discovery.Host
	// Interval is how often they are asked (default
	// discovery.DefaultInterval).
	Interval time.Duration
	// Logf receives the port mappers' failures (logged once until they
	// change); nil discards them.
	Logf func(format string, args ...any)
}

// Strategy asks the port mappers of a fixed list of hosts.
type Strategy struct {
	cfg Config
	log discovery.ErrorLog
}

// New returns a Strategy for cfg.
func New(cfg Config) (*Strategy, error) {
	if len(cfg.Hosts) == 0 {
		return nil, fmt.Errorf("%w: static: no hosts", discovery.ErrNoNodes)
	}
	for _, h := range cfg.Hosts {
		if h.Name == "" || h.PortMapper == "" {
			return nil, fmt.Errorf("static: host %+v: want a name and a port mapper address", h)
		}
	}
	return &Strategy{cfg: cfg, log: discovery.ErrorLog{Logf: cfg.Logf}}, nil
}

// LocalInterval is how often Local asks: a question on loopback costs
// next to nothing, and a node started in another terminal should show up
// before its user looks.
const LocalInterval = time.Second

// Local returns the Strategy of zero configuration on one machine: the
// port mapper at portMapper (this node's) lists every node here, named
// name@host with host this node's own host part. It asks every
// LocalInterval.
func Local(portMapper, host string, logf func(format string, args ...any)) (*Strategy, error) {
	return New(Config{Hosts: []discovery.Host{{Name: host, PortMapper: portMapper}}, Interval: LocalInterval, Logf: logf})
}

// Run asks the port mappers at once and then every Interval until ctx
// ends (see discovery.Strategy).
func (s *Strategy) Run(ctx context.Context, found func([]string)) error {
	list := func(ctx context.Context) ([]string, error) {
		return discovery.AskPortMappers(ctx, s.cfg.Hosts, &s.log), nil
	}
	return discovery.Poll(ctx, s.cfg.Interval, list, found, &s.log, "static")
}
