package dist

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// testCA is a cluster CA for tests, with a helper that makes a node's
// transport.
type testCA struct {
	t  testing.TB
	ca *CA
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{t: t, ca: ca}
}

// transport makes a TLS transport whose certificate names node.
func (c *testCA) transport(node string) *TLS {
	c.t.Helper()
	return c.transportValid(node, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

func (c *testCA) transportValid(node string, from, to time.Time) *TLS {
	c.t.Helper()
	cp, kp, err := c.ca.nodeCert(node, from, to)
	if err != nil {
		c.t.Fatal(err)
	}
	tr, err := c.ca.Transport(cp, kp)
	if err != nil {
		c.t.Fatal(err)
	}
	return tr
}

func withTransport(tr Transport) func(*Config) { return func(c *Config) { c.Transport = tr } }

func TestTLSConnectSendRPC(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	a := c.start("a@localhost", withTransport(ca.transport("a@localhost")))
	b := c.start("b@localhost", withTransport(ca.transport("b@localhost")))
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatalf("connect over mTLS: %v\n%s", err, c.logs.text())
	}
	eventually(t, "b to list a", func() bool {
		got := b.Nodes()
		return len(got) == 1 && got[0] == "a@localhost"
	})
	// send, by name and back by pid
	pb := attach(t, b)
	if err := b.Proc().Register("inbox", pb.Pid()); err != nil {
		t.Fatal(err)
	}
	pa := attach(t, a)
	if err := pa.SendName(proc.Name{Name: "inbox", Node: "b@localhost"}, []any{pa.Pid(), "over TLS"}); err != nil {
		t.Fatal(err)
	}
	m := recv(t, pb).([]any)
	if m[1] != "over TLS" {
		t.Fatalf("b got %v", m)
	}
	if err := pb.Send(m[0].(proc.Pid), strings.Repeat("x", 100_000)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, pa).(string); len(got) != 100_000 {
		t.Fatalf("a got %d bytes", len(got))
	}
	if v, err := a.RPC(ctx(t), "b@localhost", "square", 9); err != nil || v != int(81) {
		t.Fatalf("rpc over TLS: %v %v", v, err)
	}
	if v, err := b.RPC(ctx(t), "a@localhost", "square", 3); err != nil || v != int(9) {
		t.Fatalf("rpc back over TLS: %v %v", v, err)
	}
}

// connectRefused connects from to to, expects an error wrapping want, and
// returns it.
func connectRefused(t *testing.T, from *Node, to string, want error) error {
	t.Helper()
	err := from.Connect(ctx(t), to)
	if err == nil {
		t.Fatalf("%s connected to %s", from.Name(), to)
	}
	if !errors.Is(err, want) {
		t.Fatalf("connect: %v, want an error wrapping %v", err, want)
	}
	if got := from.Nodes(); len(got) != 0 {
		t.Fatalf("%s.Nodes() = %v after a refused connection", from.Name(), got)
	}
	t.Logf("refused as it should be: %v", err)
	return err
}

func waitLog(t *testing.T, c *cluster, want string) {
	t.Helper()
	eventually(t, "a log line with "+want, func() bool { return strings.Contains(c.logs.text(), want) })
	for _, l := range strings.Split(c.logs.text(), "\n") {
		if strings.Contains(l, want) {
			t.Logf("logged: %s", l)
		}
	}
}

func TestTLSNodeWithoutCertificateRefused(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	c.start("b@localhost", withTransport(ca.transport("b@localhost")))
	pool := ca.transport("x@localhost").CAs
	a := c.start("a@localhost", withTransport(&TLS{CAs: pool})) // trusts the CA, has no certificate
	err := connectRefused(t, a, "b@localhost", ErrTLSCertificate)
	if !strings.Contains(err.Error(), "refused this node's certificate") {
		t.Errorf("dialler's error: %v", err)
	}
	waitLog(t, c, "sent no certificate, and this node requires one from its CA")
}

func TestTLSCertificateFromAnotherCARefused(t *testing.T) {
	c := newCluster(t)
	ca, other := newTestCA(t), newTestCA(t)
	c.start("b@localhost", withTransport(ca.transport("b@localhost")))
	// a trusts b's CA but presents a certificate from another one: b,
	// which trusts only its own, refuses it and says why.
	foreign := other.transport("a@localhost")
	foreign.CAs = ca.transport("x@localhost").CAs
	a := c.start("a@localhost", withTransport(foreign))
	err := connectRefused(t, a, "b@localhost", ErrTLSCertificate)
	if !strings.Contains(err.Error(), "b@localhost refused this node's certificate") || !strings.Contains(err.Error(), "unknown certificate authority") {
		t.Errorf("dialler's error: %v", err)
	}
	waitLog(t, c, `is signed by "CN=test CA,O=gonode" (key `)
	waitLog(t, c, `), not by this node's CA (TLS certificates)`)

	// Trusting only its own CA, a finds b's certificate foreign.
	a2 := c.start("a2@localhost", withTransport(other.transport("a2@localhost")))
	err = connectRefused(t, a2, "b@localhost", ErrTLSCertificate)
	if !strings.Contains(err.Error(), "the certificate of b@localhost at ") || !strings.Contains(err.Error(), "not by this node's CA") {
		t.Errorf("dialler's error does not name the CA mismatch: %v", err)
	}
}

func TestTLSCertificateForAnotherNodeRefused(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	// b presents x's certificate: signed by the right CA, for another node.
	c.start("b@localhost", withTransport(ca.transport("x@localhost")))
	a := c.start("a@localhost", withTransport(ca.transport("a@localhost")))
	err := connectRefused(t, a, "b@localhost", ErrTLSCertificate)
	if !strings.Contains(err.Error(), "answered with a certificate for x@localhost, not for b@localhost") {
		t.Errorf("error does not name the node mismatch: %v", err)
	}

	// The other way round: d dials with y's certificate; c, which
	// accepts, finds that the hello and the certificate disagree.
	c.start("c@localhost", withTransport(ca.transport("c@localhost")))
	d := c.start("d@localhost", withTransport(ca.transport("y@localhost")))
	connectRefused(t, d, "c@localhost", wire.ErrRefused)
	waitLog(t, c, "says it is d@localhost, but its certificate is for y@localhost")
}

// A certificate made elsewhere, without gonode URI SANs, names hosts:
// the dialled node's host must be among them.
func TestTLSHostCertificate(t *testing.T) {
	ca := newTestCA(t)
	cert := func(hosts ...string) *TLS {
		cp, kp, err := ca.ca.hostCert(hosts)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ca.ca.Transport(cp, kp)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	c := newCluster(t)
	c.start("b@localhost", withTransport(cert("localhost")))
	a := c.start("a@127.0.0.1", withTransport(cert("127.0.0.1")), func(cfg *Config) { cfg.ListenHost = "127.0.0.1" })
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatalf("host certificates: %v", err)
	}
	c.start("e@localhost", withTransport(cert("elsewhere.example")))
	err := a.Connect(ctx(t), "e@localhost")
	if !errors.Is(err, ErrTLSCertificate) || !strings.Contains(err.Error(), "answered with a certificate for the hosts elsewhere.example, not for e@localhost") {
		t.Errorf("connect to a node whose certificate names another host: %v", err)
	}
}

func TestTLSExpiredCertificateRefused(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	past := time.Now().Add(-48 * time.Hour)
	c.start("b@localhost", withTransport(ca.transportValid("b@localhost", past, past.Add(time.Hour))))
	a := c.start("a@localhost", withTransport(ca.transport("a@localhost")))
	err := connectRefused(t, a, "b@localhost", ErrTLSCertificate)
	if !strings.Contains(err.Error(), "has expired or is not valid yet") {
		t.Errorf("error does not name the expiry: %v", err)
	}
}

func TestTLSRefusesPlaintextNode(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	b := c.start("b@localhost", withTransport(ca.transport("b@localhost")))
	a := c.start("a@localhost") // plain TCP
	err := connectRefused(t, a, "b@localhost", wire.ErrTLSMismatch)
	if !strings.Contains(err.Error(), "tls_required: it accepts TLS connections only, and this node runs without TLS") {
		t.Errorf("plaintext dialler's error: %v", err)
	}
	waitLog(t, c, "plaintext connection from 127.0.0.1:")
	waitLog(t, c, "refused: this node requires TLS")
	if got := b.Nodes(); len(got) != 0 {
		t.Fatalf("b.Nodes() = %v", got)
	}
}

func TestTLSNodeDialsPlaintextNode(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	c.start("b@localhost") // plain TCP
	a := c.start("a@localhost", withTransport(ca.transport("a@localhost")))
	err := connectRefused(t, a, "b@localhost", wire.ErrTLSMismatch)
	if !strings.Contains(err.Error(), "answered without TLS: it runs without TLS and this node requires it") {
		t.Errorf("TLS dialler's error: %v", err)
	}
	waitLog(t, c, "the peer opened with a TLS handshake, and this node runs without TLS")
}

// Bytes that are neither TLS nor a hello, or a TLS record of garbage,
// close the connection; the node goes on serving.
func TestTLSGarbageOnListener(t *testing.T) {
	c := newCluster(t)
	ca := newTestCA(t)
	a := c.start("a@localhost", withTransport(ca.transport("a@localhost")))
	b := c.start("b@localhost", withTransport(ca.transport("b@localhost")))
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int, first byte) []byte {
		out := make([]byte, n)
		for i := range out {
			out[i] = byte(rng.UintN(256))
		}
		out[0] = first
		return out
	}
	inputs := [][]byte{
		[]byte("GET / HTTP/1.0\r\n\r\n"),
		{0x00, 0x05, 'h', 'e'},
		random(3000, 0x16),
		{0x16, 0x03, 0x01, 0x00, 0x10, 1, 2, 3},
		random(100, 0x42),
		random(70_000, 0x16),
	}
	for i, in := range inputs {
		nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.Port()))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write(in)
		_ = nc.(*net.TCPConn).CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(waitTime))
		buf := make([]byte, 64)
		for {
			if _, err := nc.Read(buf); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("input %d: b kept the connection open", i)
				}
				break // closed by b
			}
		}
		nc.Close()
	}
	if v, err := a.RPC(ctx(t), "b@localhost", "square", 7); err != nil || v != int(49) {
		t.Fatalf("b after garbage: %v %v", v, err)
	}
}

func TestTLSCertDirAndLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	res, err := WriteCertDir(dir, []string{"n1@localhost", "n2@127.0.0.1"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 6 || len(res.Kept) != 0 {
		t.Fatalf("written %v kept %v", res.Written, res.Kept)
	}
	for _, f := range []string{"ca-key.pem", "n1@localhost-key.pem", "n2@127.0.0.1-key.pem"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", f, st.Mode(), err)
		}
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "n2@127.0.0.1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if names, err := CertNames(pemBytes); err != nil || len(names) != 1 || names[0] != "n2@127.0.0.1" {
		t.Fatalf("CertNames = %v %v", names, err)
	}
	// Again, with a third node: the CA and the first two are kept.
	res, err = WriteCertDir(dir, []string{"n1@localhost", "n3@localhost"}, 24*time.Hour)
	if err != nil || len(res.Written) != 2 || len(res.Kept) != 2 {
		t.Fatalf("second run: written %v kept %v: %v", res.Written, res.Kept, err)
	}
	tr1, err := LoadTLS(TLSDirFiles(dir, "n1@localhost"))
	if err != nil {
		t.Fatal(err)
	}
	tr3, err := LoadTLS(TLSDirFiles(dir, "n3@localhost"))
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	n1 := c.start("n1@localhost", withTransport(tr1))
	c.start("n3@localhost", withTransport(tr3))
	if err := n1.Connect(ctx(t), "n3@localhost"); err != nil {
		t.Fatalf("nodes from one cert dir: %v", err)
	}

	// A key that is not the certificate's, and a missing CA.
	bad := TLSDirFiles(dir, "n1@localhost")
	bad.Key = filepath.Join(dir, "n3@localhost-key.pem")
	if _, err := LoadTLS(bad); err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	if _, err := LoadTLS(TLSDirFiles(filepath.Join(dir, "nope"), "n1@localhost")); err == nil {
		t.Error("missing files loaded")
	}
	if _, err := WriteCertDir(dir, []string{"no-host"}, time.Hour); !errors.Is(err, ErrBadNodeName) {
		t.Errorf("bad name: %v", err)
	}
}

func TestTLSLoadExpired(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	past := time.Now().Add(-48 * time.Hour)
	cp, kp, err := ca.ca.nodeCert("n@localhost", past, past.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f := TLSDirFiles(dir, "n@localhost")
	must(os.WriteFile(f.Cert, cp, 0o644))
	must(os.WriteFile(f.Key, kp, 0o600))
	must(os.WriteFile(f.CA, ca.ca.CertPEM(), 0o644))
	if _, err := LoadTLS(f); err == nil || !strings.Contains(err.Error(), "is valid from") {
		t.Fatalf("expired certificate loaded: %v", err)
	}
}

// A write that times out leaves a TLS connection unusable, so it must
// not time out on a deadline set for an earlier write (the node's writer
// sets them lazily and retries, see lazyDeadline): it gets the whole span
// from its own start, then a timeout, and a later write fails with an
// error that is not a timeout (which nothing retries).
func TestTLSWriteTimeout(t *testing.T) {
	ca := newTestCA(t)
	srv := ca.transport("b@localhost")
	ln, err := srv.Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Read(make([]byte, 1)) // the handshake; then it reads nothing
			accepted <- c
		}
	}()
	cl, err := ca.transport("a@localhost").Dial(ctx(t), ln.Addr().String(), "b@localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Not a hello (length 0): the accepting side's look at the hello gives
	// up at once, and its read returns.
	if _, err := cl.Write([]byte{0, 0}); err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	defer sc.Close()
	const span = 300 * time.Millisecond
	// The write that blocks starts after the deadline was set (after
	// the writes that fill the socket buffers).
	_ = cl.SetWriteDeadline(time.Now().Add(span))
	start := time.Now()
	big := make([]byte, 1<<20)
	for {
		_, err = cl.Write(big)
		if err != nil {
			break
		}
		start = time.Now()
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the deadline: %v", err)
	}
	if d := time.Since(start); d < span {
		t.Fatalf("the write timed out after %v, before its span of %v", d, span)
	}
	if _, err = cl.Write(big); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after a timeout: %v", err)
	}
}
