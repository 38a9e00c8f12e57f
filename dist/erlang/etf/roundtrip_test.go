package etf

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

func bigInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 0)
	if !ok {
		panic(s)
	}
	return v
}

var (
	pidA = Pid{Node: "a@host", ID: 85, Serial: 2, Creation: 0xdeadbeef}
	refA = Ref{Node: "a@host", Creation: 7, Len: 3, ID: [5]uint32{1, 2, 3}}
	ref5 = Ref{Node: "b@host", Creation: 1 << 31, Len: 5, ID: [5]uint32{1, 2, 3, 4, 0xffffffff}}
)

// roundTrips are Go values with the value decoding their encoding must
// give: the decoded form of the package doc's table.
var roundTrips = []struct {
	name string
	in   any
	want any
}{
	{"small int", 7, int64(7)},
	{"255", int64(255), int64(255)},
	{"256", int64(256), int64(256)},
	{"-1", int8(-1), int64(-1)},
	{"min int32", int32(math.MinInt32), int64(math.MinInt32)},
	{"max int32 + 1", int64(math.MaxInt32) + 1, int64(math.MaxInt32) + 1},
	{"min int64", int64(math.MinInt64), int64(math.MinInt64)},
	{"max int64", int64(math.MaxInt64), int64(math.MaxInt64)},
	{"uint16", uint16(65535), int64(65535)},
	{"max uint64", uint64(math.MaxUint64), bigInt("18446744073709551615")},
	{"big 2^100", bigInt("1267650600228229401496703205376"), bigInt("1267650600228229401496703205376")},
	{"big -2^100", bigInt("-1267650600228229401496703205376"), bigInt("-1267650600228229401496703205376")},
	{"big of 300 bytes", new(big.Int).Lsh(big.NewInt(3), 2399), new(big.Int).Lsh(big.NewInt(3), 2399)},
	{"big that fits", big.NewInt(-5), int64(-5)},
	{"float", 1.5, 1.5},
	{"negative zero", math.Copysign(0, -1), math.Copysign(0, -1)},
	{"float32", float32(0.25), 0.25},
	{"tiny float", math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64},
	{"true", true, true},
	{"false", false, false},
	{"nil", nil, nil},
	{"nil pointer", (*int)(nil), nil},
	{"pointer", new(int), int64(0)},
	{"atom", Atom("ok"), Atom("ok")},
	{"uncommon atom", Atom("zebra"), Atom("zebra")},
	{"empty atom", Atom(""), Atom("")},
	{"utf-8 atom", Atom("héllo"), Atom("héllo")},
	{"atom of 255 characters in 765 bytes", Atom(strings.Repeat("日", 255)), Atom(strings.Repeat("日", 255))},
	{"atom undefined", Atom("undefined"), Atom("undefined")},
	{"string", "héllo", "héllo"},
	{"empty string", "", ""},
	{"non-UTF-8 binary", "\xff\x00", "\xff\x00"},
	{"bytes", []byte{1, 2, 3}, "\x01\x02\x03"},
	{"nil bytes", []byte(nil), ""},
	{"named string", myString("x"), "x"},
	{"named int", myInt(-3), int64(-3)},
	{"bitstring", BitString{Bytes: []byte{0xe0}, TailBits: 3}, BitString{Bytes: []byte{0xe0}, TailBits: 3}},
	{"bitstring with set unused bits", BitString{Bytes: []byte{1, 0xff}, TailBits: 1}, BitString{Bytes: []byte{1, 0x80}, TailBits: 1}},
	{"bitstring of whole bytes", BitString{Bytes: []byte{1}, TailBits: 8}, "\x01"},
	{"empty tuple", Tuple{}, Tuple{}},
	{"tuple", Tuple{Atom("ok"), 1, "x"}, Tuple{Atom("ok"), int64(1), "x"}},
	{"large tuple", make(Tuple, 300), func() any {
		t := make(Tuple, 300)
		return t
	}()},
	{"empty list", []any{}, []any{}},
	{"nil list", []any(nil), []any{}},
	{"list", []any{int64(1), Atom("a"), []any{}}, []any{int64(1), Atom("a"), []any{}}},
	{"typed slice", []string{"a", "b"}, []any{"a", "b"}},
	{"array", [2]int{1, 2}, []any{int64(1), int64(2)}},
	{"charlist", Charlist("abc"), Charlist("abc")},
	{"latin-1 charlist", Charlist("é\x00ÿ"), Charlist("é\x00ÿ")},
	{"unicode charlist", Charlist("日本"), []any{int64(26085), int64(26412)}},
	{"empty charlist", Charlist(""), []any{}},
	{"improper list", ImproperList{Elems: []any{Atom("alias")}, Tail: refA}, ImproperList{Elems: []any{Atom("alias")}, Tail: refA}},
	{"improper list ending in nil", ImproperList{Elems: []any{int64(1)}, Tail: nil}, ImproperList{Elems: []any{int64(1)}, Tail: nil}},
	{"map", map[any]any{Atom("a"): int64(1), "b": []any{}, int64(3): nil, nil: true, pidA: refA, Charlist("k"): 1.5},
		map[any]any{Atom("a"): int64(1), "b": []any{}, int64(3): nil, nil: true, pidA: refA, Charlist("k"): 1.5}},
	{"empty map", map[any]any{}, map[any]any{}},
	{"atom keys", map[Atom]any{"name": "x", "age": 3}, map[any]any{Atom("name"): "x", Atom("age"): int64(3)}},
	{"string keys", map[string]any{"key": Atom("v")}, map[any]any{"key": Atom("v")}},
	{"typed map", map[string]int{"one": 1}, map[any]any{"one": int64(1)}},
	{"map with tuple keys", Map{{Tuple{int64(1)}, int64(2)}, {[]any{}, Map{{map[any]any{}, nil}}}},
		Map{{Tuple{int64(1)}, int64(2)}, {[]any{}, Map{{map[any]any{}, nil}}}}},
	{"struct", Struct{Name: "Elixir.URI", Fields: map[Atom]any{"host": "h", "port": int64(80)}},
		Struct{Name: "Elixir.URI", Fields: map[Atom]any{"host": "h", "port": int64(80)}}},
	{"struct with no fields", Struct{Name: "Elixir.Empty", Fields: map[Atom]any{}}, Struct{Name: "Elixir.Empty", Fields: map[Atom]any{}}},
	{"__struct__ with a binary key too", map[any]any{structKey: Atom("Elixir.X"), "k": 1}, map[any]any{structKey: Atom("Elixir.X"), "k": int64(1)}},
	{"pid", pidA, pidA},
	{"ref", refA, refA},
	{"ref of 5 words", ref5, ref5},
	{"port", Port{Node: "a@host", ID: 5, Creation: 3}, Port{Node: "a@host", ID: 5, Creation: 3}},
	{"v4 port", Port{Node: "a@host", ID: 1 << 40, Creation: 3}, Port{Node: "a@host", ID: 1 << 40, Creation: 3}},
	{"export", Export{Module: "lists", Function: "map", Arity: 2}, Export{Module: "lists", Function: "map", Arity: 2}},
	{"fun", Fun{Module: "m", Arity: 1, Uniq: [16]byte{1, 2}, Index: 4, OldIndex: 4, OldUniq: -5, Pid: pidA, Free: []any{int64(1), Tuple{}}},
		Fun{Module: "m", Arity: 1, Uniq: [16]byte{1, 2}, Index: 4, OldIndex: 4, OldUniq: -5, Pid: pidA, Free: []any{int64(1), Tuple{}}}},
	{"error", errors.New("boom"), Tuple{Atom("error"), "boom"}},
	{"typed nil error inside", []any{error(nil)}, []any{nil}},
	{"gen call", Tuple{Atom("$gen_call"), Tuple{pidA, ImproperList{Elems: []any{Atom("alias")}, Tail: refA}}, Tuple{Atom("get"), "key"}},
		Tuple{Atom("$gen_call"), Tuple{pidA, ImproperList{Elems: []any{Atom("alias")}, Tail: refA}}, Tuple{Atom("get"), "key"}}},
}

func TestRoundTrip(t *testing.T) {
	for _, c := range roundTrips {
		b, err := Encode(c.in)
		if err != nil {
			t.Errorf("%s: Encode(%#v): %v", c.name, c.in, err)
			continue
		}
		got, rest, err := Decode(b)
		if err != nil {
			t.Errorf("%s: Decode(% x): %v", c.name, b, err)
			continue
		}
		if len(rest) != 0 {
			t.Errorf("%s: %d bytes left after the term", c.name, len(rest))
		}
		if !Equal(got, c.want) || math.Signbit(asFloat(got)) != math.Signbit(asFloat(c.want)) {
			t.Errorf("%s: got %#v, want %#v", c.name, got, c.want)
		}
		// Encoding the decoded form gives the same bytes, maps and
		// structs apart (their fields are a Go map too, and Go's
		// iteration order is random).
		again, err := Encode(got)
		_, isMap := got.(map[any]any)
		_, isStruct := got.(Struct)
		if err != nil {
			t.Errorf("%s: re-encoding %#v: %v", c.name, got, err)
		} else if !isMap && !isStruct && !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoded as % x, first as % x", c.name, again, b)
		}
	}
}

type (
	myString string
	myInt    int
)

func asFloat(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestEncodeBytes checks encodings against terms written out by hand from
// erl_ext_dist.
func TestEncodeBytes(t *testing.T) {
	for _, c := range []struct {
		in   any
		want []byte
	}{
		{int64(1), []byte{131, 97, 1}},
		{int64(-1), []byte{131, 98, 255, 255, 255, 255}},
		{int64(1) << 31, []byte{131, 110, 4, 0, 0, 0, 0, 128}},
		{int64(math.MinInt64), []byte{131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}},
		{1.0, []byte{131, 70, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{Atom("ok"), []byte{131, 119, 2, 'o', 'k'}},
		{true, []byte{131, 119, 4, 't', 'r', 'u', 'e'}},
		{nil, []byte{131, 119, 3, 'n', 'i', 'l'}},
		{"ab", []byte{131, 109, 0, 0, 0, 2, 'a', 'b'}},
		{Charlist("ab"), []byte{131, 107, 0, 2, 'a', 'b'}},
		{[]any{}, []byte{131, 106}},
		{[]any{int64(1)}, []byte{131, 108, 0, 0, 0, 1, 97, 1, 106}},
		{ImproperList{Elems: []any{int64(1)}, Tail: int64(2)}, []byte{131, 108, 0, 0, 0, 1, 97, 1, 97, 2}},
		{Tuple{}, []byte{131, 104, 0}},
		{map[any]any{}, []byte{131, 116, 0, 0, 0, 0}},
		{BitString{Bytes: []byte{0xff}, TailBits: 3}, []byte{131, 77, 0, 0, 0, 1, 3, 0xe0}},
		{Export{Module: "m", Function: "f", Arity: 2}, []byte{131, 113, 119, 1, 'm', 119, 1, 'f', 97, 2}},
		{Pid{Node: "n", ID: 1, Serial: 2, Creation: 3}, []byte{131, 88, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}},
		{Ref{Node: "n", Creation: 3, Len: 1, ID: [5]uint32{9}}, []byte{131, 90, 0, 1, 119, 1, 'n', 0, 0, 0, 3, 0, 0, 0, 9}},
		{Port{Node: "n", ID: 1, Creation: 3}, []byte{131, 89, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 3}},
		{Port{Node: "n", ID: 1 << 32, Creation: 3}, []byte{131, 120, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3}},
	} {
		got, err := Encode(c.in)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("Encode(%#v) = % x, %v; want % x", c.in, got, err, c.want)
		}
	}
}

// TestDecodeOldForms decodes the tags that are read but not written,
// written out by hand from erl_ext_dist.
func TestDecodeOldForms(t *testing.T) {
	node := []byte{100, 0, 1, 'n'} // ATOM_EXT
	cat := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{{131}}, parts...), nil) }
	for _, c := range []struct {
		name string
		in   []byte
		want any
	}{
		{"ATOM_EXT", cat([]byte{100, 0, 2, 'o', 'k'}), Atom("ok")},
		{"SMALL_ATOM_EXT latin-1", cat([]byte{115, 2, 'o', 0xe9}), Atom("oé")},
		{"ATOM_EXT true", cat([]byte{100, 0, 4, 't', 'r', 'u', 'e'}), true},
		{"ATOM_UTF8_EXT", cat([]byte{118, 0, 2, 0xc3, 0xa9}), Atom("é")},
		{"FLOAT_EXT", cat([]byte{99}, []byte("1.50000000000000000000e+00"), make([]byte, 5)), 1.5},
		{"PID_EXT", cat([]byte{103}, node, []byte{0, 0, 0, 1, 0, 0, 0, 2, 3}), Pid{Node: "n", ID: 1, Serial: 2, Creation: 3}},
		{"PORT_EXT", cat([]byte{102}, node, []byte{0, 0, 0, 1, 3}), Port{Node: "n", ID: 1, Creation: 3}},
		{"REFERENCE_EXT", cat([]byte{101}, node, []byte{0, 0, 0, 9, 3}), Ref{Node: "n", Creation: 3, Len: 1, ID: [5]uint32{9}}},
		{"NEW_REFERENCE_EXT", cat([]byte{114, 0, 3}, node, []byte{3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}), Ref{Node: "n", Creation: 3, Len: 3, ID: [5]uint32{1, 2, 3}}},
		{"SMALL_BIG that fits", cat([]byte{110, 2, 1, 5, 0}), int64(-5)},
		{"LARGE_BIG", cat([]byte{111, 0, 0, 0, 1, 0, 5}), int64(5)},
		{"list tail flattened", cat([]byte{108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106}), []any{int64(1), int64(2)}},
		{"string tail flattened", cat([]byte{108, 0, 0, 0, 1, 97, 1, 107, 0, 1, 'a'}), []any{int64(1), int64('a')}},
		{"empty LIST_EXT is its tail", cat([]byte{108, 0, 0, 0, 0, 97, 1}), int64(1)},
		{"empty STRING_EXT", cat([]byte{107, 0, 0}), []any{}},
		{"empty bitstring", cat([]byte{77, 0, 0, 0, 0, 0}), ""},
	} {
		got, rest, err := Decode(c.in)
		if err != nil || len(rest) != 0 || !Equal(got, c.want) {
			t.Errorf("%s: Decode(% x) = %#v, %d left, %v; want %#v", c.name, c.in, got, len(rest), err, c.want)
		}
	}
}

// TestDecodeRest reads the two terms of a distribution packet in turn.
func TestDecodeRest(t *testing.T) {
	a, _ := Encode(Tuple{int64(2), Atom(""), pidA})
	b, _ := Encode("msg")
	in := append(append([]byte(nil), a...), b...)
	t1, rest, err := Decode(in)
	if err != nil || !bytes.Equal(rest, b) {
		t.Fatalf("first term: %v, %v, rest % x", t1, err, rest)
	}
	t2, rest, err := Decode(rest)
	if err != nil || t2 != "msg" || len(rest) != 0 {
		t.Fatalf("second term: %v, %v, rest % x", t2, err, rest)
	}
}

func TestAsError(t *testing.T) {
	exc := Struct{Name: "Elixir.RuntimeError", Fields: map[Atom]any{"__exception__": true, "message": "boom"}}
	for _, c := range []struct {
		in   any
		msg  string
		isEr bool
	}{
		{Tuple{Atom("error"), "bad"}, "bad", true},
		{Tuple{Atom("error"), Atom("enoent")}, "erlang error: enoent", true},
		{exc, "boom", true},
		{Tuple{Atom("ok"), "x"}, "", false},
		{Struct{Name: "Elixir.URI", Fields: map[Atom]any{}}, "", false},
	} {
		err, ok := AsError(c.in)
		if ok != c.isEr || ok && err.Error() != c.msg {
			t.Errorf("AsError(%#v) = %v, %v", c.in, err, ok)
			continue
		}
		if !ok {
			continue
		}
		// A TermError encodes back to the term it came from.
		b1, _ := Encode(c.in)
		b2, err2 := Encode(err)
		d1, _, _ := Decode(b1)
		d2, _, _ := Decode(b2)
		if err2 != nil || !Equal(d1, d2) {
			t.Errorf("TermError of %#v encodes as %#v, %v", c.in, d2, err2)
		}
	}
}

func TestMapGet(t *testing.T) {
	m := Map{{Tuple{Atom("a"), int64(1)}, "x"}, {bigInt("1267650600228229401496703205376"), "big"}}
	if v, ok := m.Get(Tuple{Atom("a"), int64(1)}); !ok || v != "x" {
		t.Errorf("Get tuple key: %v, %v", v, ok)
	}
	if v, ok := m.Get(bigInt("1267650600228229401496703205376")); !ok || v != "big" {
		t.Errorf("Get big key: %v, %v", v, ok)
	}
	if _, ok := m.Get(Atom("a")); ok {
		t.Error("Get of a missing key found it")
	}
}
