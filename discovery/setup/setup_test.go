package setup

import (
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/gonode/gonode/discovery"
	"github.com/gonode/gonode/discovery/dns"
	"github.com/gonode/gonode/discovery/gossip"
	"github.com/gonode/gonode/discovery/static"
)

func opts(discover string, join ...string) Options {
	return Options{Discover: discover, Join: join, Node: "a@localhost", Cookie: "c", PortMapper: "127.0.0.1:4400"}
}

func TestCheckRefusesBadFlags(t *testing.T) {
	for _, o := range []Options{
		opts("nearby"),
		opts("static:"),
		opts("static:h1,[::1"),
		opts("dns:"),
		opts("dns:a b@svc"),
		opts("", "hostwithoutport"),
		{Discover: "local"}, // no node name
		{GossipPort: 7000},  // a port for nothing
		{Join: []string{"h:1"}, Node: "a@h", GossipPort: 70000},
	} {
		if err := Check(o); !errors.Is(err, ErrUsage) {
			t.Errorf("Check(%+v) = %v, want a usage error", o, err)
		}
	}
	for _, o := range []Options{{}, opts("local"), opts("static:h1,h2:4370,[::1]:4371"), opts("dns:svc.ns"), opts("dns-srv:app@_epmd._tcp.svc"), opts("gossip"), opts("", "h:7946")} {
		if err := Check(o); err != nil {
			t.Errorf("Check(%+v) = %v", o, err)
		}
	}
}

func TestStaticHostsUseThisNodesPortMapperPort(t *testing.T) {
	hosts, err := staticHosts("h1, h2:4370,[::1]:4371", "4400")
	if err != nil {
		t.Fatal(err)
	}
	want := []discovery.Host{{Name: "h1", PortMapper: "h1:4400"}, {Name: "h2", PortMapper: "h2:4370"}, {Name: "::1", PortMapper: "[::1]:4371"}}
	if len(hosts) != len(want) {
		t.Fatalf("hosts %v, want %v", hosts, want)
	}
	for i := range want {
		if hosts[i] != want[i] {
			t.Errorf("host %d = %+v, want %+v", i, hosts[i], want[i])
		}
	}
}

func TestNewBuildsTheStrategy(t *testing.T) {
	if s, err := New(Options{}); s != nil || err != nil {
		t.Errorf("New without flags = %v, %v; want nothing", s, err)
	}
	if s, err := New(opts("local")); err != nil {
		t.Error(err)
	} else if _, ok := s.(*static.Strategy); !ok {
		t.Errorf("local gave %T", s)
	}
	if s, err := New(opts("dns-srv:_epmd._tcp.svc")); err != nil {
		t.Error(err)
	} else if _, ok := s.(*dns.Strategy); !ok {
		t.Errorf("dns-srv gave %T", s)
	}
	o := opts("local", "127.0.0.1:1")
	o.GossipPort = freeGossipPort(t)
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := s.(discovery.Union)
	if !ok || len(u) != 2 {
		t.Fatalf("local with --join gave %T %v, want a union of two", s, s)
	}
	if _, ok := u[1].(*gossip.Member); !ok {
		t.Errorf("--join gave %T", u[1])
	}
	if err := s.(io.Closer).Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// freeGossipPort starts a gossip member on any port, stops it, and
// returns the port.
func freeGossipPort(t *testing.T) int {
	m, err := gossip.Start(gossip.Config{Node: "probe@localhost", BindAddr: "127.0.0.1", AnyPort: true})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(m.Addr())
	m.Close()
	p, _ := strconv.Atoi(port)
	return p
}

func TestGossipKeyFollowsTheCookie(t *testing.T) {
	a, b := GossipKey("one"), GossipKey("two")
	if len(a) != 32 || string(a) == string(b) || string(a) != string(GossipKey("one")) {
		t.Errorf("keys %x %x", a, b)
	}
}

func TestGossipBindsWhereDistListens(t *testing.T) {
	for node, want := range map[string][2]string{
		"a@localhost":  {"127.0.0.1", ""},
		"a@127.0.0.5":  {"127.0.0.1", ""},
		"a@10.1.2.3":   {"", "10.1.2.3"},
		"a@host.local": {"", ""},
	} {
		cfg := gossipConfig(Options{Node: node})
		if cfg.BindAddr != want[0] || cfg.AdvertiseAddr != want[1] {
			t.Errorf("%s: bind %q advertise %q, want %q %q", node, cfg.BindAddr, cfg.AdvertiseAddr, want[0], want[1])
		}
	}
}
