package discovery_test

import (
	"net"
	"strings"
	"sync"

	mdns "github.com/miekg/dns"
)

// dnsServer answers A queries for one name on the hub's address, port
// 53, which every host's resolv.conf names: the A records are the
// addresses of the hosts given to ServeDNS.
type dnsServer struct {
	name string // fully qualified, lower case
	udp  *mdns.Server
	tcp  *mdns.Server
	wg   sync.WaitGroup // the two servers' goroutines

	mu    sync.Mutex
	addrs []string // guarded by mu
}

// ServeDNS serves name with one A record per host in hosts, for the rest
// of the test.
func (l *Lab) ServeDNS(name string, hosts []*Host) {
	l.t.Helper()
	if l.dns != nil {
		l.t.Fatal("netlab: ServeDNS called twice")
	}
	s := &dnsServer{name: mdns.Fqdn(strings.ToLower(name))}
	for _, h := range hosts {
		s.addrs = append(s.addrs, h.Addr)
	}
	var (
		pc net.PacketConn
		ln net.Listener
	)
	err := inNamespace(l.hub, func() error {
		var err error
		if pc, err = net.ListenPacket("udp4", HubAddr+":53"); err != nil {
			return err
		}
		if ln, err = net.Listen("tcp4", HubAddr+":53"); err != nil {
			pc.Close()
		}
		return err
	})
	if err != nil {
		l.t.Fatalf("netlab: DNS server in %s: %v", l.hub, err)
	}
	// Shutdown of a server not started yet fails and leaves it to serve
	// forever: ServeDNS returns once both have started.
	var started sync.WaitGroup
	started.Add(2)
	s.udp = &mdns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: started.Done}
	s.tcp = &mdns.Server{Listener: ln, Handler: s, NotifyStartedFunc: started.Done}
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); _ = srv.ActivateAndServe() }()
	}
	started.Wait()
	l.dns = s
}

func (s *dnsServer) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	if len(req.Question) == 1 {
		q := req.Question[0]
		switch {
		case strings.ToLower(q.Name) != s.name:
			m.Rcode = mdns.RcodeNameError
		case q.Qtype == mdns.TypeA:
			s.mu.Lock()
			for _, a := range s.addrs {
				m.Answer = append(m.Answer, &mdns.A{
					Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 1},
					A:   net.ParseIP(a),
				})
			}
			s.mu.Unlock()
		}
	}
	_ = w.WriteMsg(m)
}

func (s *dnsServer) stop() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
	s.wg.Wait()
}
