package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestEncodeUnsupported(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	for _, c := range []struct {
		name string
		in   any
		want error
	}{
		{"channel", make(chan int), ErrUnsupported},
		{"func", func() {}, ErrUnsupported},
		{"complex", complex(1, 2), ErrUnsupported},
		{"go struct", struct{ A int }{1}, ErrUnsupported},
		{"struct in a list", []any{struct{}{}}, ErrUnsupported},
		{"NaN", math.NaN(), ErrUnsupported},
		{"infinity", math.Inf(-1), ErrUnsupported},
		{"atom not UTF-8", Atom("\xff"), ErrUnsupported},
		{"atom of 256 characters", Atom(strings.Repeat("a", 256)), ErrUnsupported},
		{"ref of 6 words", Ref{Node: "n", Len: 6}, ErrUnsupported},
		{"empty bitstring with tail bits", BitString{TailBits: 3}, ErrUnsupported},
		{"improper list with a list tail", ImproperList{Elems: []any{1}, Tail: []any{2}}, ErrUnsupported},
		{"struct naming __struct__ in Fields", Struct{Name: "X", Fields: map[Atom]any{structKey: Atom("Y")}}, ErrUnsupported},
		{"charlist not UTF-8", Charlist("\xff"), ErrUnsupported},
		{"fun OldUniq beyond 32 bits", Fun{Module: "m", OldUniq: 1 << 40}, ErrUnsupported},
		{"cycle", cyclic, ErrLimit},
	} {
		dst := []byte("keep")
		got, err := Append(dst, c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		if string(got) != "keep" {
			t.Errorf("%s: Append changed dst to % x on error", c.name, got)
		}
	}
}

func u32(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func term(parts ...[]byte) []byte {
	return bytes.Join(append([][]byte{{VersionMagic}}, parts...), nil)
}

func deepTuples(n int) []byte {
	b := []byte{VersionMagic}
	for range n {
		b = append(b, tagSmallTuple, 1)
	}
	return append(b, tagNil)
}

// nestedTails is [1 | [1 | [1 | ... []]]] with each tail a LIST_EXT of its
// own, which the BEAM never writes but binary_to_term accepts.
func nestedTails(n int) []byte {
	b := []byte{VersionMagic}
	for range n {
		b = append(b, tagList, 0, 0, 0, 1, tagSmallInteger, 1)
	}
	return append(b, tagNil)
}

func zlibBytes(p []byte) []byte {
	var w bytes.Buffer
	z := zlib.NewWriter(&w)
	z.Write(p)
	z.Close()
	return w.Bytes()
}

// hostile holds inputs that must fail with the given error, cheaply.
var hostile = []struct {
	name string
	in   []byte
	want error
}{
	{"empty", nil, ErrMalformed},
	{"no version", []byte{97, 1}, ErrMalformed},
	{"truncated", []byte{131, 98, 0, 0}, ErrMalformed},
	{"unknown tag", []byte{131, 200}, ErrMalformed},
	{"list announcing 4G elements", term([]byte{tagList}, u32(math.MaxUint32), []byte{106}), ErrMalformed},
	{"list announcing one element too many", term([]byte{tagList}, u32(2), []byte{97, 1, 106}), ErrMalformed},
	{"tuple announcing 4G elements", term([]byte{tagLargeTuple}, u32(math.MaxUint32)), ErrMalformed},
	{"small tuple announcing 255", []byte{131, tagSmallTuple, 255, 106}, ErrMalformed},
	{"map announcing 4G pairs", term([]byte{tagMap}, u32(math.MaxUint32)), ErrMalformed},
	{"map pairs need two bytes", term([]byte{tagMap}, u32(2), []byte{106, 106, 106}), ErrMalformed},
	{"binary announcing 4G bytes", term([]byte{tagBinary}, u32(math.MaxUint32)), ErrMalformed},
	{"bit binary with 9 bits", term([]byte{tagBitBinary}, u32(1), []byte{9, 0}), ErrMalformed},
	{"bit binary of 0 bytes with bits", term([]byte{tagBitBinary}, u32(0), []byte{3}), ErrMalformed},
	{"string announcing more than given", []byte{131, tagString, 255, 255, 'a'}, ErrMalformed},
	{"big integer past the limit", term([]byte{tagLargeBig}, u32(MaxBigBytes+1), []byte{0}, make([]byte, MaxBigBytes+1)), ErrLimit},
	{"big integer announcing 4G bytes", term([]byte{tagLargeBig}, u32(math.MaxUint32), []byte{0}), ErrLimit},
	{"atom of 256 latin-1 characters", term([]byte{tagAtom, 1, 0}, bytes.Repeat([]byte{'a'}, 256)), ErrLimit},
	{"atom of 256 UTF-8 characters", term([]byte{tagAtomUTF8, 2, 0}, bytes.Repeat([]byte{0xc3, 0xa9}, 256)), ErrLimit},
	{"atom not UTF-8", []byte{131, tagSmallAtomUTF8, 1, 0xff}, ErrMalformed},
	{"nesting past the limit", deepTuples(MaxDepth + 1), ErrLimit},
	{"list tails nested to grow quadratically", nestedTails(MaxDepth - 1), ErrLimit},
	{"duplicate map keys", term([]byte{tagMap}, u32(2), []byte{97, 1, 97, 1, 97, 1, 97, 2}), ErrMalformed},
	{"duplicate struct keys", term([]byte{tagMap}, u32(3), []byte{119, 10}, []byte("__struct__"), []byte{119, 1, 'X', 119, 1, 'a', 97, 1, 119, 1, 'a', 97, 2}), ErrMalformed},
	{"duplicate __struct__", term([]byte{tagMap}, u32(2), []byte{119, 10}, []byte("__struct__"), []byte{119, 1, 'X', 119, 10}, []byte("__struct__"), []byte{119, 1, 'Y'}), ErrMalformed},
	{"NaN", term([]byte{tagNewFloat}, []byte{0x7f, 0xf8, 0, 0, 0, 0, 0, 0}), ErrMalformed},
	{"infinity", term([]byte{tagNewFloat}, []byte{0x7f, 0xf0, 0, 0, 0, 0, 0, 0}), ErrMalformed},
	{"FLOAT_EXT not a number", term([]byte{tagFloat}, make([]byte, 31)), ErrMalformed},
	{"ref of 6 words", term([]byte{tagNewerReference, 0, 6, 119, 1, 'n'}, make([]byte, 28)), ErrMalformed},
	{"pid whose node is not an atom", term([]byte{tagNewPid, 97, 1}, make([]byte, 12)), ErrMalformed},
	{"pid with an atom cache node", term([]byte{tagNewPid, tagAtomCacheRef, 1}, make([]byte, 12)), ErrAtomCacheRef},
	{"atom cache reference", []byte{131, tagAtomCacheRef, 3}, ErrAtomCacheRef},
	{"LOCAL_EXT", []byte{131, tagLocal, 0, 0, 0, 0, 97, 1}, ErrUnsupported},
	{"fun announcing more than given", term([]byte{tagNewFun}, u32(1000), make([]byte, 30)), ErrMalformed},
	{"fun announcing 4G free variables", term([]byte{tagNewFun}, u32(4+1+16+4+4+3+2+2+17), []byte{0}, make([]byte, 16), u32(0), u32(math.MaxUint32),
		[]byte{119, 1, 'm', 97, 0, 97, 0, tagNewPid, 119, 1, 'n'}, make([]byte, 12)), ErrMalformed},
	{"export arity not a small integer", []byte{131, tagExport, 119, 1, 'm', 119, 1, 'f', 98, 0, 0, 0, 1}, ErrMalformed},
	{"compressed past MaxInflated", term([]byte{tagCompressed}, u32(MaxInflated+1), zlibBytes([]byte{97, 1})), ErrLimit},
	{"compressed announcing more than zlib can give", term([]byte{tagCompressed}, u32(100000), zlibBytes([]byte{97, 1})), ErrMalformed},
	{"compressed announcing more than it holds", term([]byte{tagCompressed}, u32(3), zlibBytes([]byte{97, 1})), ErrMalformed},
	{"compressed holding more than announced", term([]byte{tagCompressed}, u32(2), zlibBytes([]byte{97, 1, 97})), ErrMalformed},
	{"compressed holding bytes after its term", term([]byte{tagCompressed}, u32(3), zlibBytes([]byte{97, 1, 97})), ErrMalformed},
	{"compressed not zlib", term([]byte{tagCompressed}, u32(2), []byte{1, 2, 3, 4}), ErrMalformed},
	{"compressed corrupt checksum", func() []byte {
		z := zlibBytes([]byte{97, 1})
		z[len(z)-1] ^= 1
		return term([]byte{tagCompressed}, u32(2), z)
	}(), ErrMalformed},
	{"compressed inside a term", term([]byte{tagSmallTuple, 1, tagCompressed}, u32(2), zlibBytes([]byte{97, 1})), ErrMalformed},
}

func TestDecodeHostile(t *testing.T) {
	for _, c := range hostile {
		var err error
		alloc := allocatedBy(func() { _, _, err = Decode(c.in) })
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		if limit := allocLimit(c.in); alloc > limit {
			t.Errorf("%s: decoding %d bytes allocated %d, limit %d", c.name, len(c.in), alloc, limit)
		}
	}
}

// TestDecodeLimitsAccept checks the other side of each limit: what is
// just within it decodes.
func TestDecodeLimitsAccept(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"nesting at the limit", deepTuples(MaxDepth)},
		{"atom of 255 characters", term([]byte{tagAtomUTF8, 1, 254}, bytes.Repeat([]byte{0xc3, 0xa9}, 255))},
		{"big integer at the limit", term([]byte{tagLargeBig}, u32(MaxBigBytes), []byte{0}, bytes.Repeat([]byte{1}, MaxBigBytes))},
		{"compressed at zlib's best ratio", term([]byte{tagCompressed}, u32(1<<20+5), zlibBytes(append([]byte{tagBinary, 0, 16, 0, 0}, make([]byte, 1<<20)...)))},
	} {
		if _, _, err := Decode(c.in); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
