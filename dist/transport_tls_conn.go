package dist

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// The connections of a TLS transport differ from a plain net.Conn where
// TLS would otherwise misbehave under the node: the accepting handshake
// waits for first use, so that it runs under the deadlines the node sets,
// and a write that times out is retried below TLS, which cannot retry one.

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
