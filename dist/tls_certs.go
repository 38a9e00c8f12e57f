package dist

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Certificates for a cluster (what gonode cert makes): one CA, and per
// node an ECDSA P-256 key and a certificate signed by the CA with the
// node's name as a URI SAN (gonode:NAME@HOST) and its host as a DNS or IP
// SAN, for both client and server authentication.

// CA is a cluster's certificate authority: its certificate and key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named cn, valid for validFor from now.
func NewCA(cn string, validFor time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"gonode"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// NodeCert makes a certificate and key for node (name@host), valid for
// validFor from now, and returns both as PEM.
func (ca *CA) NodeCert(node string, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	now := time.Now()
	return ca.nodeCert(node, now.Add(-time.Hour), now.Add(validFor))
}

func (ca *CA) nodeCert(node string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	_, host, err := peerHostPort(node)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: node, Organization: []string{"gonode"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{NodeURI(node)},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	return ca.sign(tmpl, key)
}

// hostCert makes a certificate that names hosts only (DNS or IP SANs, no
// gonode URI), as a certificate made elsewhere would.
func (ca *CA) hostCert(hosts []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.sign(tmpl, key)
}

// sign makes the certificate tmpl for key, signed by the CA, and returns
// both as PEM.
func (ca *CA) sign(tmpl *x509.Certificate, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// CertPEM is the CA's certificate as PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM is the CA's private key as PEM.
func (ca *CA) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// Transport returns a TLS transport for a node whose certificate and key
// are certPEM and keyPEM, trusting this CA.
func (ca *CA) Transport(certPEM, keyPEM []byte) (*TLS, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &TLS{Cert: cert, CAs: pool}, nil
}

// LoadCA reads a CA written by WriteCertDir.
func LoadCA(certFile, keyFile string) (*CA, error) {
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(kp.Certificate[0])
	if err != nil {
		return nil, err
	}
	key, ok := kp.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !cert.IsCA {
		return nil, fmt.Errorf("%s is not an ECDSA CA certificate", certFile)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// CertDirResult says what WriteCertDir did, file by file.
type CertDirResult struct {
	Written, Kept []string
}

// WriteCertDir makes dir a certificate directory (see TLSDirFiles) for
// nodes: it creates the CA (ca.pem, and its key ca-key.pem) unless there
// is one, and a certificate for each node that has none, valid for
// validFor. Existing files are kept, so that it can be run again to add a
// node. Keys are written with mode 0600.
func WriteCertDir(dir string, nodes []string, validFor time.Duration) (CertDirResult, error) {
	var res CertDirResult
	for _, n := range nodes {
		if _, _, err := peerHostPort(n); err != nil {
			return res, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	caCert, caKey := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	var ca *CA
	switch _, err := os.Stat(caCert); {
	case err == nil:
		if ca, err = LoadCA(caCert, caKey); err != nil {
			return res, fmt.Errorf("the CA in %s: %w", dir, err)
		}
		res.Kept = append(res.Kept, caCert)
	case errors.Is(err, os.ErrNotExist):
		if ca, err = NewCA("gonode cluster CA", validFor); err != nil {
			return res, err
		}
		kp, err := ca.KeyPEM()
		if err != nil {
			return res, err
		}
		if err := writeNew(caKey, kp, 0o600); err != nil {
			return res, err
		}
		if err := writeNew(caCert, ca.CertPEM(), 0o644); err != nil {
			return res, err
		}
		res.Written = append(res.Written, caCert, caKey)
	default:
		return res, err
	}
	for _, n := range nodes {
		f := TLSDirFiles(dir, n)
		if _, err := os.Stat(f.Cert); err == nil {
			res.Kept = append(res.Kept, f.Cert)
			continue
		}
		c, k, err := ca.NodeCert(n, validFor)
		if err != nil {
			return res, err
		}
		if err := writeNew(f.Key, k, 0o600); err != nil {
			return res, err
		}
		if err := writeNew(f.Cert, c, 0o644); err != nil {
			return res, err
		}
		res.Written = append(res.Written, f.Cert, f.Key)
	}
	return res, nil
}

// writeNew writes a file that must not exist yet, with mode perm.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}
