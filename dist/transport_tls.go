package dist

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// TLS between nodes: mutual TLS 1.3 under the native handshake.
//
// Both sides present a certificate signed by the cluster's CA, and both
// check the other's against it. The dialling side also checks that the
// certificate is the dialled node's: a certificate with URI SANs of the
// form gonode:NAME@HOST (what gonode cert makes) must carry the dialled
// node's full name among them; one without any must name the node's host
// in a DNS or IP SAN (a host certificate made elsewhere). The accepting
// side, which learns who dials only from the hello that follows inside
// TLS, checks the name in the hello against the certificate by the same
// rule before the native handshake reads it (answering not_allowed if
// they disagree); the cookie handshake then proves the rest.
//
// A mismatch reads as one at both ends: a node that requires TLS answers a
// plaintext hello with status tls_required (and logs "plaintext
// connection from ADDR refused"), and a node without TLS answers a TLS
// ClientHello with not_allowed, which the dialler reports as a peer that
// runs without TLS (see package wire). Certificate failures name what did
// not match: the CA, the validity dates, the name.
//
// Handshakes run under the node's deadlines: the dialler's in Dial, under
// the connection set-up context; the acceptor's on the first read of the
// native handshake, after the node has set its deadline on the
// connection.

// Errors callers branch on.
var (
	// ErrTLSCertificate: a certificate was refused (not from the cluster
	// CA, expired, for another node, or missing), by this node or by the
	// peer.
	ErrTLSCertificate = errors.New("dist: TLS certificate refused")
	// ErrTLSMismatch: one side requires TLS and the other runs without
	// (wire.ErrTLSMismatch).
	ErrTLSMismatch = wire.ErrTLSMismatch
)

// TLSURIScheme is the scheme of the URI SAN that names a node in its
// certificate: gonode:NAME@HOST.
const TLSURIScheme = "gonode"

// NodeURI is the URI SAN naming node in its certificate.
func NodeURI(node string) *url.URL {
	return &url.URL{Scheme: TLSURIScheme, Opaque: url.PathEscape(node)}
}

// TLS is a Transport that runs mutual TLS 1.3 over another transport
// (TCP by default). Its fields are read only: set them before the node
// starts. Safe for concurrent use.
type TLS struct {
	Cert tls.Certificate // this node's certificate (chain) and private key
	CAs  *x509.CertPool  // the cluster's CA: peers' certificates must chain to it
	Base Transport       // what TLS runs over (default TCP)
	// Source says where the certificates came from ("--tls-dir certs"),
	// for messages; default "TLS certificates".
	Source string
}

// TLSFiles names the PEM files of a TLS transport.
type TLSFiles struct {
	Cert string // this node's certificate, then any intermediates
	Key  string // its private key
	CA   string // the cluster CA's certificate (one or more)
}

// TLSDirFiles is where a certificate directory, as gonode cert writes it,
// holds node's files: DIR/ca.pem, DIR/NODE.pem and DIR/NODE-key.pem, NODE
// being the full name (node1@localhost).
func TLSDirFiles(dir, node string) TLSFiles {
	return TLSFiles{
		Cert: filepath.Join(dir, node+".pem"),
		Key:  filepath.Join(dir, node+"-key.pem"),
		CA:   filepath.Join(dir, "ca.pem"),
	}
}

// LoadTLS reads f and returns a TLS transport over TCP. A certificate that
// has expired, or whose key does not match, is an error here rather than
// at the first connection.
func LoadTLS(f TLSFiles) (*TLS, error) {
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("dist: TLS certificate %s with key %s: %w", f.Cert, f.Key, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("dist: TLS certificate %s: %w", f.Cert, err)
	}
	cert.Leaf = leaf
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("dist: TLS certificate %s is valid from %s to %s only", f.Cert,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("dist: TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("dist: TLS CA %s: no PEM certificate in it", f.CA)
	}
	return &TLS{Cert: cert, CAs: pool}, nil
}

// CertNames lists the node names a certificate (PEM) is for: its gonode
// URI SANs.
func CertNames(certPEM []byte) ([]string, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil, errors.New("dist: no PEM certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, err
	}
	return certNodes(c), nil
}

// Nodes lists the node names this node's certificate is for (its gonode
// URI SANs; none for a certificate made elsewhere).
func (t *TLS) Nodes() []string {
	if t.Cert.Leaf == nil {
		return nil
	}
	return certNodes(t.Cert.Leaf)
}

func (t *TLS) base() Transport {
	if t.Base != nil {
		return t.Base
	}
	return TCP{}
}

func (t *TLS) source() string {
	if t.Source != "" {
		return t.Source
	}
	return "TLS certificates"
}

// Listen implements Transport. Accepted connections run the TLS handshake
// on their first read or write.
func (t *TLS) Listen(host string) (net.Listener, error) {
	ln, err := t.base().Listen(host)
	if err != nil {
		return nil, err
	}
	return &tlsListener{Listener: ln, t: t}, nil
}

// Dial implements Transport: it connects and runs the TLS handshake under
// ctx, and checks that the peer's certificate is name's.
func (t *TLS) Dial(ctx context.Context, addr, name string) (net.Conn, error) {
	raw, err := t.base().Dial(ctx, addr, name)
	if err != nil {
		return nil, err
	}
	keep := &writeKeeper{Conn: raw}
	rec := &firstBytes{Conn: keep}
	host := name[strings.IndexByte(name, '@')+1:]
	tc := tls.Client(rec, &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{t.Cert},
		ServerName:   host,
		// The chain and the name are checked by VerifyConnection, against
		// the node's name rather than a host name.
		InsecureSkipVerify:          true,
		VerifyConnection:            func(cs tls.ConnectionState) error { return t.verifyServer(cs, name, addr) },
		DynamicRecordSizingDisabled: true,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, t.dialError(name, addr, rec, err)
	}
	return &tlsConn{Conn: tc, raw: raw, keep: keep, peer: name, client: true}, nil
}

func (t *TLS) verifyServer(cs tls.ConnectionState, name, addr string) error {
	who := fmt.Sprintf("%s at %s", name, addr)
	if len(cs.PeerCertificates) == 0 {
		return tlsErr(ErrTLSCertificate, nil, "TLS: %s sent no certificate", who)
	}
	if err := t.verifyChain(cs.PeerCertificates, x509.ExtKeyUsageServerAuth); err != nil {
		return describeCertErr(err, "the certificate of "+who, t.source())
	}
	if names, ok := certIsFor(cs.PeerCertificates[0], name); !ok {
		return tlsErr(ErrTLSCertificate, nil, "TLS: %s answered with a certificate for %s, not for %s", who, names, name)
	}
	return nil
}

func (t *TLS) verifyChain(certs []*x509.Certificate, usage x509.ExtKeyUsage) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: t.CAs, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// describeCertErr words a failed certificate check: what mismatched.
func describeCertErr(err error, whose, source string) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		issuer := "?"
		if c := unknown.Cert; c != nil {
			issuer = fmt.Sprintf("%q", c.Issuer.String())
			if len(c.AuthorityKeyId) >= 4 {
				// CAs made by gonode cert share a name: the key tells them apart.
				issuer += fmt.Sprintf(" (key %x)", c.AuthorityKeyId[:4])
			}
		}
		return tlsErr(ErrTLSCertificate, err, "TLS: %s is signed by %s, not by this node's CA (%s)", whose, issuer, source)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return tlsErr(ErrTLSCertificate, err, "TLS: %s has expired or is not valid yet", whose)
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		return tlsErr(ErrTLSCertificate, err, "TLS: %s is not for node-to-node use (extended key usage)", whose)
	case errors.As(err, &host):
		return tlsErr(ErrTLSCertificate, err, "TLS: %s names another host", whose)
	}
	return tlsErr(ErrTLSCertificate, err, "TLS: %s refused", whose)
}

// dialError words a failed client handshake.
func (t *TLS) dialError(name, addr string, rec *firstBytes, err error) error {
	var te *tlsError
	if errors.As(err, &te) {
		return te // from verifyServer, already worded
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return describeCertErr(cve.Err, fmt.Sprintf("the certificate of %s at %s", name, addr), t.source())
	}
	got := rec.got()
	switch {
	case len(got) > 0 && (got[0] < 0x14 || got[0] > 0x17):
		// Not a TLS record: the native handshake's framing (a node
		// without TLS answering not_allowed), or something else altogether.
		return tlsErr(wire.ErrTLSMismatch, nil, "TLS: %s at %s answered without TLS: it runs without TLS and this node requires it", name, addr)
	case len(got) == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)):
		return tlsErr(wire.ErrTLSMismatch, err, "TLS: %s at %s closed the connection in the TLS handshake (does it run without TLS?)", name, addr)
	case isRemoteAlert(err):
		return tlsErr(ErrTLSCertificate, err, "TLS: %s at %s refused the handshake (its log says why)", name, addr)
	}
	return fmt.Errorf("TLS handshake with %s at %s: %w", name, addr, err)
}

// tlsError is a TLS failure worded for a log line; it wraps the kind
// (ErrTLSCertificate or wire.ErrTLSMismatch) and the cause.
type tlsError struct {
	msg         string
	kind, cause error
}

func tlsErr(kind, cause error, format string, args ...any) *tlsError {
	return &tlsError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}
}

func (e *tlsError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *tlsError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// isRemoteAlert reports whether err is a TLS alert from the peer.
func isRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// certNodes lists the node names in a certificate's gonode URI SANs.
func certNodes(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.URIs {
		if u.Scheme == TLSURIScheme {
			if s, err := url.PathUnescape(u.Opaque); err == nil && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// firstBytes remembers the first bytes the peer sent, to tell a peer
// without TLS from a failed TLS handshake.
type firstBytes struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (f *firstBytes) Read(p []byte) (int, error) {
	k, err := f.Conn.Read(p)
	if k > 0 {
		f.mu.Lock()
		if len(f.buf) < 8 {
			f.buf = append(f.buf, p[:min(k, 8-len(f.buf))]...)
		}
		f.mu.Unlock()
	}
	return k, err
}

func (f *firstBytes) got() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf
}

// tlsListener hands out server connections whose handshake runs on first
// use.
type tlsListener struct {
	net.Listener
	t *TLS
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tlsConn{raw: c, keep: &writeKeeper{Conn: c}, t: l.t}, nil
}

// tlsConn is a TLS connection as the node sees it. On the accepting side
// (Conn nil until then) its first read or write looks at the first byte:
// a TLS ClientHello goes on to the TLS handshake, anything else is a
// plaintext peer, answered tls_required and refused. Deadlines go to the
// raw connection, so the handshake runs under the ones the node set.
//
// Reads and writes may run concurrently with each other, as on any
// net.Conn; the accepting handshake runs under mu.
type tlsConn struct {
	*tls.Conn          // nil until the accepting handshake is done
	raw       net.Conn // the connection under TLS
	keep      *writeKeeper
	t         *TLS   // set on the accepting side
	peer      string // the dialled node (dialling side)
	client    bool

	ok   atomic.Bool // the handshake is done and succeeded: no more locking
	mu   sync.Mutex  // guards the accepting handshake, done and err
	done bool        // the accepting handshake ran
	err  error       // why it failed

	pre     *bufio.Reader // accepting side: holds the peeked hello until read
	readAny bool          // a read returned data (only the reader uses it)
	wdead   bool          // a write timed out (only the writer uses it)
}

func (c *tlsConn) ready() error {
	if c.client || c.ok.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		c.done = true
		c.err = c.serverHandshake()
		c.ok.Store(c.err == nil)
	}
	return c.err
}

func (c *tlsConn) serverHandshake() error {
	addr := c.raw.RemoteAddr().String()
	var b [1]byte
	if _, err := io.ReadFull(c.raw, b[:]); err != nil {
		return err
	}
	if b[0] != wire.TLSRecordHandshake {
		refusePlaintext(c.raw, b[0])
		return tlsErr(wire.ErrTLSMismatch, nil, "plaintext connection from %s refused: this node requires TLS (%s)", addr, c.t.source())
	}
	tc := tls.Server(&prefixConn{Conn: c.keep, first: b[:]}, &tls.Config{
		MinVersion:                  tls.VersionTLS13,
		Certificates:                []tls.Certificate{c.t.Cert},
		ClientAuth:                  tls.RequireAndVerifyClientCert,
		ClientCAs:                   c.t.CAs,
		DynamicRecordSizingDisabled: true,
	})
	if err := tc.Handshake(); err != nil {
		var cve *tls.CertificateVerificationError
		switch {
		case errors.As(err, &cve):
			return describeCertErr(cve.Err, "the certificate of the peer at "+addr, c.t.source())
		case strings.Contains(err.Error(), "didn't provide a certificate"):
			return tlsErr(ErrTLSCertificate, err, "TLS: the peer at %s sent no certificate, and this node requires one from its CA (%s)", addr, c.t.source())
		case isRemoteAlert(err):
			return tlsErr(ErrTLSCertificate, err, "TLS: the peer at %s refused this node's certificate (its log says why)", addr)
		}
		return fmt.Errorf("TLS handshake with the peer at %s: %w", addr, err)
	}
	c.Conn = tc
	// The hello says who dials: it must be whom the certificate names.
	br := bufio.NewReaderSize(tc, 4096)
	c.pre = br
	name, err := wire.PeekHelloName(br)
	if err != nil || len(tc.ConnectionState().PeerCertificates) == 0 {
		return nil // Accept reports what is wrong with the hello
	}
	if certNames, ok := certIsFor(tc.ConnectionState().PeerCertificates[0], name); !ok {
		_ = wire.WriteStatus(tc, wire.StatusNotAllowed)
		return tlsErr(ErrTLSCertificate, nil, "TLS: the peer at %s says it is %s, but its certificate is for %s", addr, name, certNames)
	}
	return nil
}

// certIsFor reports whether c is node name's (see TLS) and, if not, whom
// it names.
func certIsFor(c *x509.Certificate, name string) (string, bool) {
	if nodes := certNodes(c); len(nodes) > 0 {
		return strings.Join(nodes, ", "), slices.Contains(nodes, name)
	}
	host := name[strings.IndexByte(name, '@')+1:]
	if c.VerifyHostname(host) == nil {
		return "", true
	}
	return "the hosts " + strings.Join(append(slices.Clone(c.DNSNames), ipStrings(c.IPAddresses)...), ", "), false
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// refusePlaintext answers a plaintext hello (first byte b0) with
// tls_required, after reading the rest of it so that closing does not
// reset the connection before the peer reads the answer.
func refusePlaintext(raw net.Conn, b0 byte) {
	var b1 [1]byte
	if _, err := io.ReadFull(raw, b1[:]); err != nil {
		return
	}
	if n := int(b0)<<8 | int(b1[0]); n > 0 && n <= wire.MaxHandshakeMessage {
		if _, err := io.CopyN(io.Discard, raw, int64(n)); err != nil {
			return
		}
	}
	_ = wire.WriteStatus(raw, wire.StatusTLSRequired)
}

func (c *tlsConn) Read(p []byte) (int, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	if c.pre != nil {
		if c.pre.Buffered() > 0 {
			return c.pre.Read(p)
		}
		c.pre = nil
	}
	k, err := c.Conn.Read(p)
	if k > 0 {
		c.readAny = true
	}
	if err != nil && c.client && !c.readAny && isRemoteAlert(err) {
		// In TLS 1.3 the server checks the client's certificate after the
		// client's handshake is over: a refusal arrives on the first read.
		err = tlsErr(ErrTLSCertificate, err, "TLS: %s refused this node's certificate (its log says why)", c.peer)
	}
	return k, err
}

// Write writes through TLS. A write that times out leaves a TLS
// connection unusable (every later write fails at once), so it must not
// time out early: the node sets write deadlines lazily (see lazyDeadline)
// and retries a write that hit an old one, which TLS cannot. writeKeeper
// does that retry below TLS instead, so a write times out a whole
// deadline span after it started, as it would over TCP; after that, a
// further write fails with an error that is not a timeout, so that
// nothing retries it.
func (c *tlsConn) Write(p []byte) (int, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	if c.wdead {
		return 0, errors.New("TLS: a write timed out earlier: the connection is unusable")
	}
	c.keep.start.Store(time.Now().UnixNano())
	k, err := c.Conn.Write(p)
	c.keep.start.Store(0)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.wdead = true
	}
	return k, err
}

// Close closes the connection under TLS at once, without the close_notify
// alert (which could block for seconds on a peer that takes nothing); the
// peer reads an end of file.
func (c *tlsConn) Close() error { return c.raw.Close() }

func (c *tlsConn) LocalAddr() net.Addr               { return c.raw.LocalAddr() }
func (c *tlsConn) RemoteAddr() net.Addr              { return c.raw.RemoteAddr() }
func (c *tlsConn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

func (c *tlsConn) SetDeadline(t time.Time) error {
	c.keep.span(t)
	return c.raw.SetDeadline(t)
}

func (c *tlsConn) SetWriteDeadline(t time.Time) error {
	c.keep.span(t)
	return c.raw.SetWriteDeadline(t)
}

// writeKeeper is the connection under TLS as TLS writes to it. While a
// write of the node runs (start set), a raw write that times out before
// the write has had the last deadline span (how far ahead the node set
// its last write deadline) gets the rest of it and goes on, as the node's
// own writer would retry over TCP; TLS never sees that timeout.
type writeKeeper struct {
	net.Conn
	start atomic.Int64 // UnixNano when the node's current write began; 0 outside one
	grace atomic.Int64 // the last deadline span, in ns
}

func (w *writeKeeper) span(t time.Time) {
	if !t.IsZero() {
		w.grace.Store(int64(time.Until(t)))
	}
}

func (w *writeKeeper) Write(p []byte) (int, error) {
	n := 0
	for {
		k, err := w.Conn.Write(p[n:])
		n += k
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		start := w.start.Load()
		if start == 0 {
			return n, err
		}
		// A millisecond past the span, so that the node's writer, which
		// measures the span from a moment earlier, does not retry.
		until := time.Unix(0, start+w.grace.Load()).Add(time.Millisecond)
		if !time.Now().Before(until) || w.Conn.SetWriteDeadline(until) != nil {
			return n, err
		}
	}
}

// prefixConn gives back bytes already read before the connection's own.
type prefixConn struct {
	net.Conn
	first []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 {
		k := copy(p, c.first)
		c.first = c.first[k:]
		return k, nil
	}
	return c.Conn.Read(p)
}
