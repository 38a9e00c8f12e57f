package wire

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A TLS ClientHello where a hello should be: Accept reads the record,
// answers not_allowed and names the mismatch.
func TestAcceptTLSClientHello(t *testing.T) {
	record := []byte{TLSRecordHandshake, 0x03, 0x01, 0x00, 0x04, 1, 2, 3, 4}
	var out bytes.Buffer
	br := bufio.NewReader(bytes.NewReader(append(record, 0xAA)))
	_, err := Accept(&out, br, cfgB, nil)
	if !errors.Is(err, ErrTLSMismatch) || !strings.Contains(err.Error(), "opened with a TLS handshake") {
		t.Fatalf("Accept: %v", err)
	}
	if got, want := out.Bytes(), appendStatus(nil, StatusNotAllowed); !bytes.Equal(got, want) {
		t.Fatalf("answered %x, want %x", got, want)
	}
	if b, _ := br.ReadByte(); b != 0xAA {
		t.Fatalf("the record was not read to its end: next byte %x", b)
	}
}

// A node that requires TLS answers a plaintext hello with tls_required:
// Initiate reports it as a refusal that names the mismatch.
func TestInitiateTLSRequired(t *testing.T) {
	var in bytes.Buffer
	if err := WriteStatus(&in, StatusTLSRequired); err != nil {
		t.Fatal(err)
	}
	_, err := Initiate(&bytes.Buffer{}, bufio.NewReader(&in), cfgA, cfgB.Name)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Status != StatusTLSRequired {
		t.Fatalf("Initiate: %v", err)
	}
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrTLSMismatch) || errors.Is(err, ErrBadVersion) {
		t.Fatalf("%v does not wrap ErrRefused and ErrTLSMismatch only", err)
	}
	if !strings.Contains(err.Error(), "tls_required: it accepts TLS connections only") {
		t.Fatalf("message: %v", err)
	}
}

func TestPeekHelloName(t *testing.T) {
	hello := appendHello(nil, hello{Version: Version, Name: "alpha@host", Creation: 3})
	br := bufio.NewReader(bytes.NewReader(hello))
	name, err := PeekHelloName(br)
	if err != nil || name != "alpha@host" {
		t.Fatalf("PeekHelloName = %q, %v", name, err)
	}
	if br.Buffered() != len(hello) {
		t.Fatalf("the hello was consumed: %d buffered of %d", br.Buffered(), len(hello))
	}
	if _, err := Accept(&bytes.Buffer{}, br, cfgB, func(p PeerInfo) Status { return StatusNotAllowed }); !errors.Is(err, ErrRefused) {
		t.Fatalf("Accept after the peek: %v", err)
	}
	for _, bad := range [][]byte{{0, 0}, {0xff, 0xff}, {0, 3, tagStatus, 1, 2}, {0, 9}} {
		if _, err := PeekHelloName(bufio.NewReader(bytes.NewReader(bad))); err == nil {
			t.Errorf("PeekHelloName(%x) succeeded", bad)
		}
	}
}
