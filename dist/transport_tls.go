package dist

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
