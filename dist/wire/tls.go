package wire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// TLS is the transport's business; these are the few pieces of the
// handshake that know of it, so that a TLS node meeting a plaintext one
// reads as a mismatch, not as garbage.

// WriteStatus writes a status message alone, as B answers a hello it
// refuses. A TLS transport uses it to answer a plaintext hello with
// StatusTLSRequired.
func WriteStatus(w io.Writer, s Status) error {
	_, err := w.Write(appendStatus(nil, s))
	return err
}

// PeekHelloName returns the name in the hello at the head of br, leaving
// it unread for Accept: a TLS transport checks it against the dialler's
// certificate before the handshake goes on.
func PeekHelloName(br *bufio.Reader) (string, error) {
	hdr, err := br.Peek(2)
	if err != nil {
		return "", unexpected(err)
	}
	n := int(binary.BigEndian.Uint16(hdr))
	if n == 0 || n > MaxHandshakeMessage {
		return "", fmt.Errorf("%w: message length %d", ErrProtocol, n)
	}
	msg, err := br.Peek(2 + n)
	if err != nil {
		return "", unexpected(err)
	}
	h, err := decodeHello(msg[2:])
	if err != nil {
		return "", err
	}
	return h.Name, nil
}

// TLSRecordHandshake is the first byte of a TLS ClientHello (a handshake
// record). A hello's first byte is the high byte of a length of at most
// MaxHandshakeMessage, so it is never this.
const TLSRecordHandshake = 0x16

// refuseTLS answers a TLS ClientHello: it reads the record (so that
// closing the connection does not reset it before A reads the answer) and
// answers not_allowed, which A's TLS layer reports as a reply that is not
// TLS.
func refuseTLS(w io.Writer, br *bufio.Reader) error {
	var hdr [5]byte // type, version:u16, length:u16
	if _, err := io.ReadFull(br, hdr[:]); err == nil {
		if n := int(binary.BigEndian.Uint16(hdr[3:])); n <= 1<<14+256 {
			_, _ = br.Discard(n)
		}
	}
	_, _ = w.Write(appendStatus(nil, StatusNotAllowed))
	return fmt.Errorf("wire: handshake: %w: the peer opened with a TLS handshake, and this node runs without TLS", ErrTLSMismatch)
}
