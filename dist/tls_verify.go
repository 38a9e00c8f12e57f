package dist

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"github.com/gonode/gonode/dist/wire"
)

// Which certificate is whose, and how a refusal reads: each failure names
// what did not match (the CA, the dates, the name), so that one log line
// tells an operator which file to fix.

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
