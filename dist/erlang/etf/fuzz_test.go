package etf

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocatedBy returns the fewest bytes f allocated in three runs (the
// fewest, so that a GC cycle or a stray goroutine does not count).
func allocatedBy(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// allocLimit is what decoding in may allocate: the decode budget over its
// bytes (and over the inflated bytes of a compressed term, whose size is
// checked against the bytes given before inflating), a quarter more for
// the allocator's size classes and the budget's estimates, and a fixed
// slack for error values and the inflater's window and tables.
func allocLimit(in []byte) uint64 {
	n, slack := len(in), DecodeBudgetFloor*5/4
	if len(in) >= 6 && in[0] == VersionMagic && in[1] == tagCompressed {
		size := int(binary.BigEndian.Uint32(in[2:6]))
		if size <= MaxInflated && size <= maxInflateRatio*(len(in)-6) {
			n += size
		}
		slack += 64 << 10
	}
	return uint64(DecodeBudgetFactor*5/4*n + slack)
}

// seeds are the real node's encodings (testdata/erl_terms.txt, written by
// go test -run TestRealNode -update-seeds), this package's encodings of
// the round-trip values, and the hostile inputs.
func seeds(tb testing.TB) [][]byte {
	raw, err := os.ReadFile(filepath.Join("testdata", "erl_terms.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, line := range strings.Fields(string(raw)) {
		b, err := hex.DecodeString(line)
		if err != nil {
			tb.Fatalf("testdata/erl_terms.txt: %v", err)
		}
		out = append(out, b)
	}
	for _, c := range roundTrips {
		if b, err := Encode(c.in); err == nil {
			out = append(out, b)
		}
	}
	for _, c := range hostile {
		out = append(out, c.in)
	}
	return out
}

// FuzzDecode feeds arbitrary bytes to Decode. It must not panic, must fail
// only with the package's errors, must stay within its allocation bound,
// and what it accepts must encode and decode again to the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		var rest []byte
		var err error
		alloc := allocatedBy(func() { v, rest, err = Decode(in) })
		if limit := allocLimit(in); alloc > limit {
			t.Fatalf("decoding %d bytes allocated %d, limit %d", len(in), alloc, limit)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) && !errors.Is(err, ErrAtomCacheRef) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			return
		}
		if len(rest) > len(in) || !bytes.Equal(rest, in[len(in)-len(rest):]) {
			t.Fatalf("rest is not a suffix of the input")
		}
		again, err := Encode(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		v2, rest2, err := Decode(again)
		if err != nil || len(rest2) != 0 {
			t.Fatalf("decoding the re-encoding % x of %#v: %v, %d left", again, v, err, len(rest2))
		}
		if !Equal(v, v2) {
			t.Fatalf("decode, encode, decode differs:\n%#v\n%#v", v, v2)
		}
	})
}

// TestSeedsWithinBounds runs the seeds through FuzzDecode's property in
// ordinary test runs, with the real node's terms among them.
func TestSeedsDecodeInBudget(t *testing.T) {
	for _, s := range seeds(t) {
		alloc := allocatedBy(func() { Decode(s) })
		if limit := allocLimit(s); alloc > limit {
			t.Errorf("decoding % x allocated %d, limit %d", s[:min(len(s), 32)], alloc, limit)
		}
	}
}
