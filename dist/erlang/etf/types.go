package etf

import (
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
)

// Atom is an Erlang atom (an Elixir atom without its colon). The atoms
// true, false and nil are never Atoms after decoding: they become Go's
// true, false and nil (see the package doc).
type Atom string

// Tuple is an Erlang tuple.
type Tuple []any

// ImproperList is a list whose tail is not the empty list, such as the
// [alias | Ref] tag of a gen call. Elems is never empty and Tail is never
// a list: a list tail is flattened into Elems when decoding.
type ImproperList struct {
	Elems []any
	Tail  any
}

// Charlist is an Erlang string, a list of character codes ('abc' in
// Elixir, "abc" in Erlang), held as UTF-8 text. The BEAM sends lists of
// codes up to 255 as STRING_EXT, which decodes to a Charlist; a list with
// bigger codes decodes to []any of integers, as any list of integers.
type Charlist string

// Pair is one key and value of a Map.
type Pair struct {
	Key, Value any
}

// Map is an Erlang map whose keys cannot all be Go map keys (a tuple, a
// list or a map as a key). Maps whose keys are all comparable decode to
// map[any]any instead. Pairs keep the order they arrived in.
type Map []Pair

// Get returns the value of the first pair whose key is Equal to key.
func (m Map) Get(key any) (any, bool) {
	for _, p := range m {
		if Equal(p.Key, key) {
			return p.Value, true
		}
	}
	return nil, false
}

// Struct is an Elixir struct: a map with the key :__struct__ holding the
// module atom, and atom keys only. Fields hold every other key.
type Struct struct {
	Name   Atom
	Fields map[Atom]any
}

// structKey is the key that marks a map as an Elixir struct.
const structKey Atom = "__struct__"

// Pid is an Erlang process identifier: the node's name, a process
// number, a serial and the node's creation (its incarnation).
type Pid struct {
	Node     Atom
	ID       uint32
	Serial   uint32
	Creation uint32
}

// Ref is an Erlang reference. Len is how many words of ID are used: 3 for
// make_ref(), up to 5 in OTP 25 (aliases); a ref of 3 words and one of 4
// words with a zero fourth word are different refs.
type Ref struct {
	Node     Atom
	Creation uint32
	Len      uint8
	ID       [maxRefWords]uint32
}

// Port is an Erlang port identifier. Opaque to gonode: it can be stored,
// compared and sent back, not used.
type Port struct {
	Node     Atom
	ID       uint64
	Creation uint32
}

// Export is an external fun, fun Module:Function/Arity.
type Export struct {
	Module   Atom
	Function Atom
	Arity    uint8
}

// Fun is a BEAM closure. It names compiled BEAM code (module, index and
// the code's MD5) and carries only its free variables, so only a node with
// the same module loaded can run it: gonode keeps it opaque, to compare,
// store and send back, and it re-encodes to the bytes it came from.
type Fun struct {
	Module   Atom
	Arity    uint8
	Uniq     [16]byte
	Index    uint32
	OldIndex int64
	OldUniq  int64
	Pid      Pid
	Free     []any
}

// BitString is a binary whose length in bits is not a multiple of 8
// (<<7:3>>). Bytes holds the bits from the most significant bit of the
// first byte; TailBits (1..7) says how many bits of the last byte are
// used, the rest being zero. Whole bytes decode to string, not BitString.
type BitString struct {
	Bytes    []byte
	TailBits uint8
}

func (a Atom) String() string { return string(a) }

func (p Pid) String() string {
	return "<" + string(p.Node) + "." + strconv.FormatUint(uint64(p.ID), 10) + "." + strconv.FormatUint(uint64(p.Serial), 10) + ">"
}

// String prints the ref as Erlang does, the last word first.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString("#Ref<" + string(r.Node))
	for i := int(r.Len) - 1; i >= 0; i-- {
		b.WriteString("." + strconv.FormatUint(uint64(r.ID[i]), 10))
	}
	return b.String() + ">"
}

func (p Port) String() string {
	return "#Port<" + string(p.Node) + "." + strconv.FormatUint(p.ID, 10) + ">"
}

func (e Export) String() string {
	return fmt.Sprintf("fun %s:%s/%d", e.Module, e.Function, e.Arity)
}

// Equal reports whether a and b are the same term: reflect.DeepEqual,
// except that big integers compare by value.
func Equal(a, b any) bool {
	if x, ok := a.(*big.Int); ok {
		y, ok := b.(*big.Int)
		return ok && (x == y || x != nil && y != nil && x.Cmp(y) == 0)
	}
	return reflect.DeepEqual(a, b)
}

// AsError recognises the two shapes of a failure a BEAM node sends: the
// tuple {error, Reason} and an Elixir exception (a struct with the field
// __exception__ true and a binary message). It is the reading side of the
// encoder's rule that a Go error becomes {error, <<Message>>}.
func AsError(t any) (error, bool) {
	switch v := t.(type) {
	case Tuple:
		if len(v) == 2 && v[0] == Atom("error") {
			if s, ok := v[1].(string); ok {
				return &TermError{Reason: v[1], msg: s}, true
			}
			return &TermError{Reason: v[1]}, true
		}
	case Struct:
		if v.Fields["__exception__"] == true {
			msg, _ := v.Fields["message"].(string)
			return &TermError{Reason: v, msg: msg}, true
		}
	}
	return nil, false
}

// TermError is a failure received as a term.
type TermError struct {
	Reason any // the Reason of {error, Reason}, or the exception struct
	msg    string
}

func (e *TermError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("erlang error: %v", e.Reason)
}
