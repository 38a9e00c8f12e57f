package etf

import "testing"

// genCall is the message a GenServer.call from a BEAM node delivers:
// {'$gen_call', {Pid, [alias | Ref]}, {get, <<"key">>}}.
var genCall = Tuple{
	Atom("$gen_call"),
	Tuple{Pid{Node: "beam@localhost", ID: 112, Serial: 0, Creation: 1701234567},
		ImproperList{Elems: []any{Atom("alias")}, Tail: Ref{Node: "beam@localhost", Creation: 1701234567, Len: 3, ID: [5]uint32{180227, 2886729729, 3218211093}}}},
	Tuple{Atom("get"), "key"},
}

// genCallTerm is genCall boxed once, as a caller holding an any has it.
var genCallTerm any = genCall

func BenchmarkDecodeGenCall(b *testing.B) {
	in, err := Encode(genCall)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGenCall(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], genCallTerm); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkDecodeMap is a map with atom keys, as an Elixir caller sends
// one: %{id: 42, name: "widget", tags: ["a", "b"], price: 9.5}.
func BenchmarkDecodeMap(b *testing.B) {
	in, err := Encode(map[Atom]any{"id": 42, "name": "widget", "tags": []any{"a", "b"}, "price": 9.5})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}
