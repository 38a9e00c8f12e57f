// Package etf is Erlang's external term format (ETF, term_to_binary and
// binary_to_term) for Go values: its one job is to turn the bytes of one
// term into a Go value and back, with bounded work for any input. It knows
// nothing of gonode's processes or of the distribution protocol; the
// Erlang dialect of dist maps its Pid, Ref and Port to proc's types.
//
// # Mapping
//
// Decoding gives one Go form per term; encoding accepts that form and the
// other Go values listed. Decode(Encode(v)) gives v back for the decoded
// forms; the right column says where it does not.
//
//	Erlang term                  decodes to               also encoded from
//	integer (fits int64)         int64                    int, int8..int32, uint*, *big.Int
//	integer (beyond int64)       *big.Int                 uint64 > MaxInt64
//	float                        float64                  float32 (NaN, ±Inf refused)
//	atom true / false            bool
//	atom nil                     nil (untyped)            nil pointers, nil interfaces
//	any other atom               Atom
//	binary                       string                   []byte, other string kinds
//	bitstring (<<7:3>>)          BitString
//	tuple                        Tuple
//	[] and proper list           []any (never nil)        []T and [N]T for T ≠ byte
//	list of codes as STRING_EXT  Charlist                 (Charlist("") encodes as [])
//	improper list [a | b]        ImproperList
//	map with hashable keys       map[any]any              map[Atom]any, map[string]any, map[K]V
//	map with a tuple/list/map/
//	  big-integer key            Map (pairs, in order)
//	Elixir struct                Struct
//	pid / reference / port       Pid / Ref / Port         (refs of 1 to 5 words)
//	fun M:F/A                    Export
//	fun (a closure)              Fun (opaque)
//	{error, Reason}              Tuple                    error, as {error, <<Error()>>}
//
// Why these choices:
//
//   - Binaries are Go strings. Elixir's strings are binaries, so a string
//     is the natural Go side; a string is also comparable, which lets
//     binary keys (%{"key" => v}) be map[any]any keys. []byte encodes as a
//     binary too and comes back as a string of the same bytes.
//   - Erlang strings (lists of character codes) are a type of their own,
//     Charlist, because treating them as binaries is the classic bug (a
//     stack trace then shows <<1>> where Erlang has [1]). The BEAM writes
//     lists of codes up to 255 in the compact STRING_EXT, and only those
//     decode to Charlist: [1000] decodes to []any{int64(1000)}.
//     Charlist("日本") encodes as a list of two integers and so decodes as
//     []any. Charlist("") encodes as [] and decodes as []any{}.
//   - Go nil is the atom nil, which is Elixir's nil: Elixir code receiving
//     it sees nil, and is_nil works. Erlang's undefined is a convention
//     between programs, not a value of the language, and stays the atom
//     undefined: mapping it to nil too would lose, on the way back, which
//     of the two a peer sent. The mapping is thus a bijection.
//     The encoder writes a []any as LIST_EXT even when its elements are
//     all small integers, where the BEAM would write STRING_EXT: the term
//     is the same list, and it decodes back as []any, not Charlist.
//   - true and false are Go bools, both ways.
//   - Integers decode to int64 whenever they fit, whatever their tag (the
//     BEAM writes 2^40 as SMALL_BIG), and to *big.Int only beyond. The
//     encoder writes the smallest form, as the BEAM does.
//   - Maps decode to map[any]any when every key can be a Go map key (atoms,
//     numbers, binaries, pids, refs, ports, exports, charlists, bools,
//     nil). Erlang allows any term as a key, and a tuple or a list cannot
//     be a Go map key: such maps decode to Map, the pairs in the order
//     received, with Map.Get comparing keys by Equal. Duplicate keys are
//     refused in map[any]any and Struct, as binary_to_term refuses them.
//     Go maps are encoded in Go's iteration order: the BEAM sorts keys
//     itself, but two encodings of one Go map may differ in bytes.
//   - An Elixir struct (a map with the key :__struct__ holding an atom, and
//     atom keys only) decodes to Struct{Name, Fields} and encodes back to
//     the same map; with any other key it stays a map[any]any.
//   - A Go error encodes as {error, <<Message>>}, the failure value both
//     languages match on. Nothing decodes to an error by itself: AsError
//     recognises {error, Reason} and Elixir exceptions (structs with
//     __exception__: true) where a caller expects a failure, and the
//     TermError it returns encodes back to the term it came from.
//   - Funs, ports and bitstrings decode to opaque values that can be kept,
//     compared and sent back, and re-encode to the bytes the BEAM wrote
//     (term_to_binary with {minor_version, 2}, that is with UTF-8 atoms).
//     A fun names BEAM code, so gonode cannot run it.
//   - Go structs, channels, funcs, complex numbers and unsafe pointers have
//     no term: Encode returns an error wrapping ErrUnsupported.
//
// Atoms are written as SMALL_ATOM_UTF8 (ATOM_UTF8 past 255 bytes); the
// old Latin-1 atom tags, PID_EXT, PORT_EXT, REFERENCE_EXT, NEW_REFERENCE
// and FLOAT_EXT are decoded and re-encoded in their current forms.
//
// # Limits
//
// Every length is checked against the bytes left before anything is
// allocated for it (an element takes at least one byte, a map pair two),
// nesting stops at MaxDepth, atoms at MaxAtomChars characters, big
// integers at MaxBigBytes, and a decode may build at most
// DecodeBudgetFactor bytes of heap per input byte. A compressed term's
// announced size is checked (MaxInflated, and what zlib could produce from
// the bytes given) before inflating, and the inflate stops at that size.
//
// ATOM_CACHE_REF (82) gives ErrAtomCacheRef: it only exists inside a
// distribution packet whose header carries the atom cache, which gonode
// does not negotiate (DIST_HDR_ATOM_CACHE); the adapter resolves it if
// that ever changes. LOCAL_EXT (121) gives ErrUnsupported.
//
// # Plan for the adapter (not in this package)
//
// The Erlang dialect of dist converts between these types and proc's in
// one place, since proc's types are runtime handles and these are wire
// values:
//
//   - proc.Pid <-> Pid (node name as an Atom, same ID, Serial, Creation);
//     proc.Ref <-> Ref with Len 3 (refs of 4 or 5 words, aliases, get a
//     proc-side form when proc can hold them); proc.Atom <-> Atom;
//     proc.Name{Name, Node} <-> {Name, Node}.
//   - A gonode exit message (a linked process died, trapped) is delivered
//     to BEAM processes as {'EXIT', Pid, Reason}, and a down message as
//     {'DOWN', Ref, process, Pid | {Name, Node}, Reason}; the reverse
//     conversion turns these tuples, when they arrive from a BEAM peer as
//     EXIT/MONITOR_P_EXIT control messages, into proc's exit and down
//     signals.
//   - Reasons: proc's Normal, Kill, Killed, Shutdown, NoProc and
//     NoConnection are the atoms of the same name both ways; a panic
//     reason becomes {Value, Stack} as an Erlang error's {Reason, Stack};
//     any other Go error is {error, <<Message>>} as above.
//   - ErrAtomCacheRef is resolved against the packet's atom cache if
//     DIST_HDR_ATOM_CACHE is ever negotiated.
package etf
