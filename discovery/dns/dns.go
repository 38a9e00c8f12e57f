package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gonode/gonode/discovery"
)

// DefaultPortMapperPort is the port mappers' port at the addresses of
// A/AAAA records (epmd's).
const DefaultPortMapperPort = 4369

// DefaultMaxHosts bounds the hosts one answer may bring in.
const DefaultMaxHosts = 256

// Config configures a Strategy.
type Config struct {
	// Name is the DNS name to look up (nodes.ns.svc.cluster.local, or
	// _epmd._tcp.nodes... for SRV).
	Name string
	// SRV looks up SRV records instead of A/AAAA: each target is a host,
	// and its port the port of its port mapper.
	SRV bool
	// Basename, if set, names one node per host, Basename@host (the
	// address as text, or the SRV target), without asking port mappers:
	// libcluster's Kubernetes.DNS, for nodes started with --name
	// Basename@$POD_IP.
	Basename string
	// PortMapperPort is the port mappers' port at A/AAAA addresses
	// (default DefaultPortMapperPort).
	PortMapperPort int
	// Resolver does the lookups (default net.DefaultResolver, which
	// follows /etc/resolv.conf).
	Resolver *net.Resolver
	// Interval is how often the name is looked up (default
	// discovery.DefaultInterval).
	Interval time.Duration
	// MaxHosts bounds the hosts taken from one answer (default
	// DefaultMaxHosts); the rest are dropped with a log line.
	MaxHosts int
	// Logf receives lookup and port mapper failures (each logged once
	// until it changes); nil discards them.
	Logf func(format string, args ...any)
}

// Strategy looks a name up in DNS.
type Strategy struct {
	cfg Config
	log discovery.ErrorLog
}

// New returns a Strategy for cfg.
func New(cfg Config) (*Strategy, error) {
	if strings.TrimSuffix(cfg.Name, ".") == "" {
		return nil, fmt.Errorf("%w: dns: no name", discovery.ErrNoNodes)
	}
	if cfg.Basename != "" && !discovery.ValidName(cfg.Basename+"@host") {
		return nil, fmt.Errorf("dns: base name %q: want the part of a node name before '@'", cfg.Basename)
	}
	if cfg.PortMapperPort <= 0 {
		cfg.PortMapperPort = DefaultPortMapperPort
	}
	if cfg.PortMapperPort > 65535 {
		return nil, fmt.Errorf("dns: port mapper port %d out of range", cfg.PortMapperPort)
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	return &Strategy{cfg: cfg, log: discovery.ErrorLog{Logf: cfg.Logf}}, nil
}

// Run looks the name up at once and then every Interval until ctx ends
// (see discovery.Strategy). A lookup that fails (no answer) keeps the
// nodes found last; a name that does not exist, or has no records, means
// no nodes.
func (s *Strategy) Run(ctx context.Context, found func([]string)) error {
	return discovery.Poll(ctx, s.cfg.Interval, s.list, found, &s.log, "dns "+s.cfg.Name)
}

// list does one lookup and turns its hosts into node names.
func (s *Strategy) list(ctx context.Context) ([]string, error) {
	hosts, err := s.hosts(ctx)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return nil, nil // no such name, or no records: no nodes
	}
	if err != nil {
		return nil, err
	}
	if len(hosts) > s.cfg.MaxHosts {
		s.log.Report("dns "+s.cfg.Name+" size", fmt.Errorf("more than %d hosts in the answer; taking the first %d", s.cfg.MaxHosts, s.cfg.MaxHosts))
		hosts = hosts[:s.cfg.MaxHosts]
	} else {
		s.log.Report("dns "+s.cfg.Name+" size", nil)
	}
	if s.cfg.Basename != "" {
		names := make([]string, len(hosts))
		for i, h := range hosts {
			names[i] = s.cfg.Basename + "@" + h.Name
		}
		return names, nil
	}
	return discovery.AskPortMappers(ctx, hosts, &s.log), nil
}

// hosts does the lookup: sorted, without duplicates.
func (s *Strategy) hosts(ctx context.Context) ([]discovery.Host, error) {
	var hosts []discovery.Host
	if s.cfg.SRV {
		_, srvs, err := s.cfg.Resolver.LookupSRV(ctx, "", "", s.cfg.Name)
		if err != nil {
			return nil, err
		}
		// Bound the answer before resolving each target: one lookup per
		// target at most MaxHosts times.
		srvs = srvs[:min(len(srvs), s.cfg.MaxHosts+1)]
		for _, srv := range srvs {
			target := strings.ToLower(strings.TrimSuffix(srv.Target, "."))
			if target == "" || srv.Port == 0 {
				continue // "." is the service's way of saying it is not here
			}
			h := discovery.Host{Name: target}
			if s.cfg.Basename == "" {
				// The target's port mapper is found through the same
				// resolver as the records, not the system's.
				addrs, err := s.cfg.Resolver.LookupNetIP(ctx, "ip", target)
				s.log.Report("dns "+target, err)
				if err != nil || len(addrs) == 0 {
					continue
				}
				h.PortMapper = net.JoinHostPort(addrs[0].Unmap().String(), strconv.Itoa(int(srv.Port)))
			}
			hosts = append(hosts, h)
		}
		return sortHosts(hosts), nil
	}
	addrs, err := s.cfg.Resolver.LookupNetIP(ctx, "ip", s.cfg.Name)
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(s.cfg.PortMapperPort)
	for _, a := range addrs {
		a = a.Unmap().WithZone("")
		hosts = append(hosts, discovery.Host{Name: a.String(), PortMapper: net.JoinHostPort(a.String(), port)})
	}
	return sortHosts(hosts), nil
}

// sortHosts sorts hosts by name and drops repeats.
func sortHosts(hosts []discovery.Host) []discovery.Host {
	slices.SortFunc(hosts, func(a, b discovery.Host) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(hosts, func(a, b discovery.Host) bool { return a.Name == b.Name })
}
