package etf

import "fmt"

// DecodeUntagged reads one term written without VersionMagic, as the
// terms after a distribution header are (131 68 ... and the fragments 131
// 69 and 131 70 of a peer that agreed FRAGMENTS): the header's own 131
// stands for theirs. It returns the term and the bytes after it, with
// Decode's bounds and errors. A compressed term has no untagged form.
func DecodeUntagged(b []byte) (term any, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	d := decoder{b: b, budget: DecodeBudgetFactor*len(b) + DecodeBudgetFloor}
	t, err := d.term()
	if err != nil {
		return nil, nil, err
	}
	return t, b[d.i:], nil
}

// AppendUntagged appends the encoding of v without VersionMagic, as a
// term after a distribution header is written. On error it returns dst
// unchanged.
func AppendUntagged(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.term(v, 0); err != nil {
		return dst, err
	}
	return e.buf, nil
}
