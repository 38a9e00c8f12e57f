package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// decodeCompressed reads 131, 80, UncompressedSize:u32, zlib stream, as
// written by term_to_binary(T, [compressed]). The announced size is
// checked before inflating: at most MaxInflated, and at most what zlib
// could produce from the bytes present (about 1032 per byte). The inflate
// is then capped at that size, whatever the stream holds, and must give
// exactly that many bytes; the inflated term gets a decode budget of its
// own, in proportion to its size.
func decodeCompressed(b []byte) (any, []byte, error) {
	if len(b) < 6 {
		return nil, nil, fmt.Errorf("%w: compressed term of %d bytes", ErrMalformed, len(b))
	}
	size := binary.BigEndian.Uint32(b[2:6])
	z := b[6:]
	if size > MaxInflated {
		return nil, nil, fmt.Errorf("%w: compressed term announces %d bytes, the limit is %d", ErrLimit, size, MaxInflated)
	}
	if uint64(size) > maxInflateRatio*uint64(len(z)) {
		return nil, nil, fmt.Errorf("%w: %d compressed bytes cannot inflate to the %d announced", ErrMalformed, len(z), size)
	}
	if size == 0 {
		return nil, nil, fmt.Errorf("%w: compressed term announces 0 bytes", ErrMalformed)
	}
	r := bytes.NewReader(z) // an io.ByteReader: flate reads no further than the stream's end
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: compressed term: %v", ErrMalformed, err)
	}
	plain := make([]byte, size)
	if _, err := io.ReadFull(zr, plain); err != nil {
		return nil, nil, fmt.Errorf("%w: compressed term: inflating %d announced bytes: %v", ErrMalformed, size, err)
	}
	// The stream must end here (which also checks its Adler-32).
	if n, err := zr.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%w: compressed term inflates to more than the %d bytes announced", ErrMalformed, size)
	}
	d := decoder{b: plain, budget: DecodeBudgetFactor*len(plain) + DecodeBudgetFloor}
	t, err := d.term()
	if err != nil {
		return nil, nil, fmt.Errorf("compressed term: %w", err)
	}
	if d.i != len(plain) {
		return nil, nil, fmt.Errorf("%w: compressed term has %d bytes after its term", ErrMalformed, len(plain)-d.i)
	}
	return t, z[len(z)-r.Len():], nil
}
