package dns_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/gonode/gonode/discovery"
	"github.com/gonode/gonode/discovery/dns"
	"github.com/gonode/gonode/discovery/internal/testnet"
)

// zone is a DNS server on loopback answering from records the test
// changes while the strategy polls: UDP, and TCP for answers too large
// for a datagram.
type zone struct {
	t       *testing.T
	udp     *mdns.Server
	tcp     *mdns.Server
	udpAddr string
	tcpAddr string

	mu         sync.Mutex
	records    map[string][]mdns.RR // guarded by mu: by name and type, "nodes.test./A"
	tcpQueries int                  // guarded by mu
}

func startZone(t *testing.T) *zone {
	t.Helper()
	z := &zone{t: t, records: map[string][]mdns.RR{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z.udpAddr, z.tcpAddr = pc.LocalAddr().String(), ln.Addr().String()
	z.udp = &mdns.Server{PacketConn: pc, Handler: z}
	z.tcp = &mdns.Server{Listener: ln, Handler: z}
	var wg sync.WaitGroup
	for _, s := range []*mdns.Server{z.udp, z.tcp} {
		wg.Add(1)
		go func() { defer wg.Done(); s.ActivateAndServe() }()
	}
	t.Cleanup(func() { z.stop(); wg.Wait() })
	return z
}

// stop stops answering (the resolver goes down).
func (z *zone) stop() {
	z.udp.Shutdown()
	z.tcp.Shutdown()
}

// resolver sends every query to the zone, whatever /etc/resolv.conf says.
func (z *zone) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		if strings.HasPrefix(network, "tcp") {
			return d.DialContext(ctx, network, z.tcpAddr)
		}
		return d.DialContext(ctx, network, z.udpAddr)
	}}
}

// set replaces the records of name and type with the given ones, written
// as in a zone file ("A 10.0.0.1", "SRV 0 0 4369 pm1.test.").
func (z *zone) set(name string, typ uint16, rrs ...string) {
	z.t.Helper()
	var parsed []mdns.RR
	for _, s := range rrs {
		rr, err := mdns.NewRR(name + " 1 IN " + s)
		if err != nil {
			z.t.Fatalf("record %q: %v", s, err)
		}
		parsed = append(parsed, rr)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	key := name + "/" + mdns.TypeToString[typ]
	if parsed == nil {
		delete(z.records, key)
	} else {
		z.records[key] = parsed
	}
}

func (z *zone) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	// Authoritative, so that an empty answer means "no records" to Go's
	// resolver rather than a lame referral.
	m.Authoritative, m.RecursionAvailable = true, true
	z.mu.Lock()
	if _, udp := w.RemoteAddr().(*net.UDPAddr); !udp {
		z.tcpQueries++
	}
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		m.Answer = append(m.Answer, z.records[name+"/"+mdns.TypeToString[q.Qtype]]...)
		known := false
		for key := range z.records {
			known = known || strings.HasPrefix(key, name+"/")
		}
		if !known {
			m.Rcode = mdns.RcodeNameError
		}
	}
	z.mu.Unlock()
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(512) // as a server does without EDNS0: the client retries over TCP
		if opt := req.IsEdns0(); opt != nil {
			m.Truncate(int(opt.UDPSize()))
		}
	}
	w.WriteMsg(m)
}

func start(t *testing.T, cfg dns.Config) *testnet.Recorder {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 20 * time.Millisecond
	}
	s, err := dns.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := testnet.NewRecorder()
	testnet.Run(t, s.Run, rec.Found)
	return rec
}

// A headless service's A/AAAA records, one node per pod named base@IP:
// pods come and go as the records change, and a name with no records, or
// none at all, means no nodes.
func TestBasenameFromAddressRecords(t *testing.T) {
	z := startZone(t)
	z.set("nodes.test.", mdns.TypeA, "A 10.0.0.1", "A 10.0.0.2")
	z.set("nodes.test.", mdns.TypeAAAA, "AAAA fd00::1")
	rec := start(t, dns.Config{Name: "nodes.test.", Basename: "app", Resolver: z.resolver(), Logf: t.Logf})
	rec.WaitFor(t, 5*time.Second, "app@10.0.0.1", "app@10.0.0.2", "app@fd00::1")

	z.set("nodes.test.", mdns.TypeA, "A 10.0.0.2", "A 10.0.0.3")
	rec.WaitFor(t, 5*time.Second, "app@10.0.0.2", "app@10.0.0.3", "app@fd00::1")

	z.set("nodes.test.", mdns.TypeA)
	z.set("nodes.test.", mdns.TypeAAAA)
	rec.WaitFor(t, 5*time.Second) // NXDOMAIN: everyone left

	z.set("nodes.test.", mdns.TypeA, "A 10.0.0.9")
	rec.WaitFor(t, 5*time.Second, "app@10.0.0.9")
}

// Each address is a host whose port mapper lists its nodes: two loopback
// addresses with a port mapper each on the same port.
func TestAddressRecordsAskPortMappers(t *testing.T) {
	pm1 := testnet.StartPortMapper(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(pm1.Addr)
	pm2 := testnet.StartPortMapper(t, "127.0.0.2:"+port) // another host, the same port
	pm1.Register("a")
	pm1.Register("b")
	pm2.Register("c")
	p, _ := strconv.Atoi(port)

	z := startZone(t)
	z.set("nodes.test.", mdns.TypeA, "A 127.0.0.1", "A 127.0.0.2")
	rec := start(t, dns.Config{Name: "nodes.test.", PortMapperPort: p, Resolver: z.resolver(), Logf: t.Logf})
	rec.WaitFor(t, 5*time.Second, "a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.2")

	z.set("nodes.test.", mdns.TypeA, "A 127.0.0.2")
	rec.WaitFor(t, 5*time.Second, "c@127.0.0.2")
}

// SRV records: each target's port mapper, at the record's port, found
// through the same resolver.
func TestSRVRecordsAskTargetsPortMappers(t *testing.T) {
	pm1 := testnet.StartPortMapper(t, "127.0.0.1:0")
	pm2 := testnet.StartPortMapper(t, "127.0.0.1:0")
	pm1.Register("a")
	pm2.Register("b")
	_, p1, _ := net.SplitHostPort(pm1.Addr)
	_, p2, _ := net.SplitHostPort(pm2.Addr)

	z := startZone(t)
	z.set("pm1.test.", mdns.TypeA, "A 127.0.0.1")
	z.set("pm2.test.", mdns.TypeA, "A 127.0.0.1")
	z.set("_epmd._tcp.nodes.test.", mdns.TypeSRV, "SRV 0 0 "+p1+" pm1.test.", "SRV 0 0 "+p2+" PM2.test.")
	rec := start(t, dns.Config{Name: "_epmd._tcp.nodes.test.", SRV: true, Resolver: z.resolver(), Logf: t.Logf})
	rec.WaitFor(t, 5*time.Second, "a@pm1.test", "b@pm2.test")

	z.set("_epmd._tcp.nodes.test.", mdns.TypeSRV, "SRV 0 0 "+p2+" pm2.test.")
	rec.WaitFor(t, 5*time.Second, "b@pm2.test")
}

func TestSRVRecordsWithBasename(t *testing.T) {
	z := startZone(t)
	z.set("_epmd._tcp.nodes.test.", mdns.TypeSRV, "SRV 0 0 4369 pod-0.nodes.test.", "SRV 0 0 4369 pod-1.nodes.test.")
	rec := start(t, dns.Config{Name: "_epmd._tcp.nodes.test.", SRV: true, Basename: "app", Resolver: z.resolver()})
	rec.WaitFor(t, 5*time.Second, "app@pod-0.nodes.test", "app@pod-1.nodes.test")
}

// An answer of 300 addresses (too large for UDP: the resolver asks again
// over TCP) brings in MaxHosts hosts, and says so.
func TestLargeAnswersAreBounded(t *testing.T) {
	z := startZone(t)
	var rrs []string
	for i := range 300 {
		rrs = append(rrs, fmt.Sprintf("A 10.0.%d.%d", i/250, i%250+1))
	}
	z.set("many.test.", mdns.TypeA, rrs...)
	lg := &testnet.Logs{}
	rec := start(t, dns.Config{Name: "many.test.", Basename: "app", MaxHosts: 100, Resolver: z.resolver(), Logf: lg.Logf})
	var want []string
	for _, rr := range rrs {
		want = append(want, "app@"+strings.TrimPrefix(rr, "A "))
	}
	slices.Sort(want) // the strategy keeps the first hosts by name
	rec.WaitFor(t, 5*time.Second, want[:100]...)
	z.mu.Lock()
	if z.tcpQueries == 0 {
		t.Error("the large answer never went over TCP: the test does not test what it says")
	}
	z.mu.Unlock()
	if lg.Count("more than 100 hosts") == 0 {
		t.Errorf("the cut was not logged: %q", lg.Lines())
	}
}

// A resolver that stops answering leaves the last nodes found in place
// (no answer is not "no nodes"), and the failure is logged.
func TestResolverDownKeepsLastNodes(t *testing.T) {
	z := startZone(t)
	z.set("nodes.test.", mdns.TypeA, "A 10.0.0.1")
	lg := &testnet.Logs{}
	s, err := dns.New(dns.Config{Name: "nodes.test.", Basename: "app", Resolver: z.resolver(), Interval: 20 * time.Millisecond, Logf: lg.Logf})
	if err != nil {
		t.Fatal(err)
	}
	rec := testnet.NewRecorder()
	testnet.Run(t, s.Run, rec.Found)
	rec.WaitFor(t, 5*time.Second, "app@10.0.0.1")
	z.stop()
	deadline := time.Now().Add(10 * time.Second)
	for lg.Count("dns nodes.test.:") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the resolver's failure was not logged")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := rec.Last(); len(got) != 1 || got[0] != "app@10.0.0.1" {
		t.Errorf("after the resolver went down the strategy reports %v, want the last set", got)
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := dns.New(dns.Config{}); !errors.Is(err, discovery.ErrNoNodes) {
		t.Errorf("New without a name: %v, want ErrNoNodes", err)
	}
	if _, err := dns.New(dns.Config{Name: "x.test", Basename: "a b"}); err == nil {
		t.Error("New with a bad base name: no error")
	}
}
