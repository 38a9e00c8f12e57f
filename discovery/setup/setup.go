package setup

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gonode/gonode/discovery"
	"github.com/gonode/gonode/discovery/dns"
	"github.com/gonode/gonode/discovery/gossip"
	"github.com/gonode/gonode/discovery/static"
)

// Usage describes the flags' values, for help texts and errors.
const Usage = `--discover local            every node this host's port mapper lists
--discover static:H1,H2     every node the port mappers of these hosts list (HOST or HOST:PORT)
--discover dns:NAME         every node the port mapper at each A/AAAA address of NAME lists
--discover dns:BASE@NAME    BASE@ADDRESS for each A/AAAA address of NAME (Kubernetes headless service)
--discover dns-srv:NAME     every node the port mapper of each SRV target of NAME lists (at the record's port)
--discover dns-srv:BASE@NAME  BASE@TARGET for each SRV target of NAME
--discover gossip           gossip membership that others --join (hashicorp/memberlist)
--join HOST:PORT[,...]      join the gossip membership through these members (their --gossip-port)`

// ErrUsage is wrapped by errors about the flags' values.
var ErrUsage = errors.New("discovery flags")

// Options are the flags and what they need of the node.
type Options struct {
	Discover   string   // --discover
	Join       []string // --join: gossip members' host:port
	GossipPort int      // --gossip-port (0: gossip.DefaultPort)
	Node       string   // this node's full name, name@host
	Cookie     string   // the gossip key is derived from it
	PortMapper string   // this node's port mapper, host:port
	Logf       func(format string, args ...any)
}

// Enabled reports whether the flags ask for discovery at all.
func (o Options) Enabled() bool { return o.Discover != "" || len(o.Join) > 0 }

// Check checks the flags without starting anything (for usage errors
// before the node starts).
func Check(o Options) error {
	_, err := plan(o)
	return err
}

// New returns the strategy the flags ask for, nil if none. A gossip
// member starts here (its port is bound, or the error says it is taken);
// the strategy returned is then an io.Closer that leaves the membership.
func New(o Options) (discovery.Strategy, error) {
	p, err := plan(o)
	if err != nil || p == nil {
		return nil, err
	}
	var all discovery.Union
	if p.other != nil {
		s, err := p.other(o)
		if err != nil {
			return nil, err
		}
		all = append(all, s)
	}
	if p.gossip {
		m, err := gossip.Start(gossipConfig(o))
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

// planned is what the flags ask for.
type planned struct {
	other  func(Options) (discovery.Strategy, error) // the --discover strategy other than gossip
	gossip bool
}

func plan(o Options) (*planned, error) {
	if !o.Enabled() {
		if o.GossipPort != 0 {
			return nil, fmt.Errorf("%w: --gossip-port needs --join or --discover gossip", ErrUsage)
		}
		return nil, nil
	}
	if !discovery.ValidName(o.Node) {
		return nil, fmt.Errorf("%w: discovery needs a node name (--sname or --name)", ErrUsage)
	}
	if o.GossipPort < 0 || o.GossipPort > 65535 {
		return nil, fmt.Errorf("%w: --gossip-port %d: want a port number", ErrUsage, o.GossipPort)
	}
	p := &planned{gossip: len(o.Join) > 0}
	for _, j := range o.Join {
		if _, port, err := net.SplitHostPort(j); err != nil || port == "" {
			return nil, fmt.Errorf("%w: --join %q: want HOST:PORT (a member's --gossip-port)", ErrUsage, j)
		}
	}
	kind, arg, _ := strings.Cut(o.Discover, ":")
	switch kind {
	case "":
	case "gossip":
		p.gossip = true
	case "local":
		p.other = func(o Options) (discovery.Strategy, error) {
			return static.Local(o.PortMapper, hostOf(o.Node), o.Logf)
		}
	case "static":
		hosts, err := staticHosts(arg, portOf(o.PortMapper))
		if err != nil {
			return nil, err
		}
		p.other = func(o Options) (discovery.Strategy, error) {
			return static.New(static.Config{Hosts: hosts, Logf: o.Logf})
		}
	case "dns", "dns-srv":
		base, name, ok := strings.Cut(arg, "@")
		if !ok {
			base, name = "", arg
		}
		port, _ := strconv.Atoi(portOf(o.PortMapper))
		cfg := dns.Config{Name: name, SRV: kind == "dns-srv", Basename: base, PortMapperPort: port}
		if _, err := dns.New(cfg); err != nil {
			return nil, fmt.Errorf("%w: --discover %s: %v", ErrUsage, o.Discover, err)
		}
		p.other = func(o Options) (discovery.Strategy, error) {
			cfg.Logf = o.Logf
			return dns.New(cfg)
		}
	default:
		return nil, fmt.Errorf("%w: --discover %q: want one of\n%s", ErrUsage, o.Discover, Usage)
	}
	return p, nil
}

// staticHosts parses "h1,h2:4370": each host's port mapper is at its
// port, or at defaultPort (this node's port mapper's).
func staticHosts(arg, defaultPort string) ([]discovery.Host, error) {
	var hosts []discovery.Host
	for _, h := range strings.Split(arg, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		addr := discovery.HostPort(h, defaultPort)
		name, _, err := net.SplitHostPort(addr)
		if err != nil || name == "" {
			return nil, fmt.Errorf("%w: --discover static: host %q: want HOST or HOST:PORT", ErrUsage, h)
		}
		hosts = append(hosts, discovery.Host{Name: name, PortMapper: addr})
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%w: --discover static: no hosts (static:HOST1,HOST2)", ErrUsage)
	}
	return hosts, nil
}

// gossipConfig binds gossip where dist listens: loopback for a node named
// on localhost, else every interface, advertising the node's address if
// its name holds one.
func gossipConfig(o Options) gossip.Config {
	cfg := gossip.Config{Node: o.Node, Port: o.GossipPort, Join: o.Join, SecretKey: GossipKey(o.Cookie), Logf: o.Logf}
	host := hostOf(o.Node)
	ip := net.ParseIP(host)
	switch {
	case host == "localhost" || (ip != nil && ip.IsLoopback()):
		cfg.BindAddr = "127.0.0.1"
	case ip != nil:
		cfg.AdvertiseAddr = host
	}
	return cfg
}

// GossipKey derives the gossip encryption key from the cookie: members
// with another cookie cannot read or join the membership, as nodes with
// another cookie cannot connect.
func GossipKey(cookie string) []byte {
	sum := sha256.Sum256([]byte("gonode gossip key v1\x00" + cookie))
	return sum[:]
}

func hostOf(node string) string {
	_, host, _ := strings.Cut(node, "@")
	return host
}

// portOf is the port of a host:port, or epmd's if it has none.
func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return port
	}
	return strconv.Itoa(dns.DefaultPortMapperPort)
}
