package etf

import (
	"errors"
	"testing"
)

// An untagged term is a tagged one without its first byte, and two of
// them read in turn as a distribution header's control message and
// message.
func TestDecodeUntagged(t *testing.T) {
	a, _ := Encode(Tuple{int64(6), Atom("x"), "bin"})
	b, _ := Encode([]any{int64(1), 2.5})
	buf := append(append([]byte{}, a[1:]...), b[1:]...)
	t1, rest, err := DecodeUntagged(buf)
	if err != nil || !Equal(t1, Tuple{int64(6), Atom("x"), "bin"}) {
		t.Fatalf("first term: %#v, %v", t1, err)
	}
	t2, rest, err := DecodeUntagged(rest)
	if err != nil || !Equal(t2, []any{int64(1), 2.5}) || len(rest) != 0 {
		t.Fatalf("second term: %#v, %v, %d bytes left", t2, err, len(rest))
	}
	for _, bad := range [][]byte{nil, {VersionMagic}, {tagSmallTuple, 3, tagNil}} {
		if _, _, err := DecodeUntagged(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: %v, want ErrMalformed", bad, err)
		}
	}
}
