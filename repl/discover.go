package repl

import (
	"fmt"
	"strings"

	"github.com/gonode/gonode/discovery"
	"github.com/gonode/gonode/discovery/setup"
	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
)

// DiscoveryUsage lists the values of --discover and --join.
const DiscoveryUsage = setup.Usage

// CheckDiscoveryFlags checks --discover, --join and --gossip-port before
// the node starts, so that a mistake is a usage error.
func CheckDiscoveryFlags(cfg Config) error {
	if cfg.Remsh != "" && (cfg.Discover != "" || len(cfg.Join) > 0) {
		return fmt.Errorf("--discover and --join do not go with --remsh: the node attached to does its own discovery")
	}
	return setup.Check(discoveryOptions(cfg, nil))
}

func discoveryOptions(cfg Config, logf func(string, ...any)) setup.Options {
	return setup.Options{
		Discover: cfg.Discover, Join: cfg.Join, GossipPort: cfg.GossipPort,
		Node: cfg.NodeName, Cookie: cfg.Cookie, PortMapper: epmd.AddrFromEnv(), Logf: logf,
	}
}

// startDiscovery starts what --discover and --join ask for, once the node
// is up: every node found is connected to. rt.close stops it before the
// node closes.
func (rt *Runtime) startDiscovery(cfg Config, d *dist.Node, logf func(string, ...any)) error {
	s, err := setup.New(discoveryOptions(cfg, logf))
	if err != nil {
		return fmt.Errorf("cannot start discovery: %w", err)
	}
	if s == nil {
		return nil
	}
	rt.discovery = discovery.Start(s, discovery.Options{
		Connect: d.Connect, Self: d.Name(), Logf: logf,
		// Remote shells' nodes are hidden and come and go with a
		// terminal: the port mapper lists them, but nobody connects to them
		// unasked.
		Ignore: func(name string) bool { return strings.HasPrefix(name, "remsh_") },
	})
	return nil
}

// stopDiscovery stops discovery (a gossip member leaves the membership);
// the connections it made stay until the node closes.
func (rt *Runtime) stopDiscovery() {
	if rt.discovery != nil {
		_ = rt.discovery.Close()
	}
}

// Discovered returns the nodes discovery found last, connected to or not,
// without this node: empty without --discover or --join.
func (x *Proc) Discovered() []string {
	if x.rt.discovery == nil {
		return []string{}
	}
	if nodes := x.rt.discovery.Nodes(); nodes != nil {
		return nodes
	}
	return []string{}
}
