package dist

import (
	"errors"
	"fmt"
)

// Codec turns Messages into frame payloads and frame payloads back into
// Messages. A connection's writer goroutine calls Encode, its reader
// goroutine calls Decode; implementations must be safe for concurrent use.
type Codec interface {
	// Encode appends the encoding of m to dst and returns the extended
	// slice, so that a writer can reuse one buffer for every message. On
	// error it returns dst unchanged (bytes beyond len(dst) may have been
	// overwritten).
	Encode(dst []byte, m *Message) ([]byte, error)
	// Decode decodes one frame payload. The Message shares no memory with
	// frame, which the caller may reuse as soon as Decode returns. An error
	// concerns this frame only: frame boundaries are intact and the caller
	// may drop the message and go on reading.
	Decode(frame []byte) (Message, error)
}

// ReplyingCodec is a Codec whose protocol answers some frames itself,
// below the processes (Erlang's UNLINK_ID_ACK; a SPAWN_REPLY to a spawn
// request). DecodeReply decodes as Decode does and may also return a
// frame payload that the connection writes back before it hands the
// message (if any) to the node, so that nothing the message causes
// overtakes it.
type ReplyingCodec interface {
	Codec
	DecodeReply(frame []byte) (m Message, reply []byte, err error)
}

// FragmentingCodec is a Codec whose protocol cuts a large message into
// fragments, each a frame of its own (Erlang's 131 69 and 131 70 packets,
// 64 KiB of the message each). The connection asks it about each frame
// payload Encode made (and each of ReplyingCodec's replies) as it queues
// it: Fragments returns false for a payload that goes out whole, or calls
// frame once per fragment, in order, and returns true. A fragment's frame
// payload is head followed by data: two slices, so that the message's
// bytes are copied once, into the queue; neither may be kept after frame
// returns. Fragments runs under the connection's queue lock, so that the
// fragments of a message are queued back to back, and must not block.
type FragmentingCodec interface {
	Codec
	Fragments(payload []byte, frame func(head, data []byte)) bool
}

// Errors of the codecs; compare with errors.Is.
var (
	// ErrIgnored: a well-formed frame that carries nothing for the node
	// (an operation the codec does not support, or one it answered
	// itself). The connection logs it, if it says why, and reads on: a
	// peer using a feature gonode lacks keeps its connection.
	ErrIgnored = errors.New("dist: message ignored")
	// ErrMalformed: a frame payload that does not decode.
	ErrMalformed = errors.New("dist: malformed message")
	// ErrUnencodable: a Message that cannot be encoded (an unknown kind, a
	// payload holding a channel or a function, nesting deeper than
	// MaxDepth).
	ErrUnencodable = errors.New("dist: message cannot be encoded")
)

// MaxDepth bounds the nesting of containers and structured values in a
// message, on both encode and decode, so that neither can exhaust the stack.
const MaxDepth = 256

// # The native encoding (native protocol version 1)
//
// A frame payload is one MessagePack map from field numbers (uint) to
// values. Fields at their zero value are left out; a decoder skips fields it
// does not know, so later versions can add some. Field numbers are part of
// the wire format: only append.
const (
	fieldKind    = 1  // uint: the Kind; required
	fieldFrom    = 2  // ext Pid
	fieldTo      = 3  // ext Pid
	fieldToName  = 4  // str
	fieldRef     = 5  // ext Ref
	fieldPayload = 6  // any value; present when Payload != nil
	fieldFn      = 7  // str
	fieldArgs    = 8  // array of values; present when Args != nil
	fieldSource  = 9  // str
	fieldOpts    = 10 // uint bit set: 1 Link, 2 Monitor; unknown bits are ignored
	fieldErr     = 11 // ext RemoteError
)

// MessagePack extension types carry gonode's own types, in payloads at any
// depth as well as in the fields above. The ids are part of the wire format:
// only append. Each body is a sequence of MessagePack values (no array
// header) unless said otherwise; pid, ref and name inside a body are their
// fields inline, not nested extensions.
const (
	extPid         int8 = 1  // proc.Pid: str node, uint id, uint serial, uint creation
	extRef         int8 = 2  // proc.Ref: str node, uint creation, uint id0, uint id1, uint id2
	extAtom        int8 = 3  // proc.Atom: the atom's bytes, raw
	extName        int8 = 4  // proc.Name: str name, str node
	extPanicReason int8 = 5  // proc.PanicReason: value, str stack
	extExitMsg     int8 = 6  // proc.ExitMsg: pid from, value reason
	extDownMsg     int8 = 7  // proc.DownMsg: ref, pid, name, value reason
	extRemoteError int8 = 8  // *RemoteError: str kind, str message
	extCallRequest int8 = 9  // proc.CallRequest: pid from, ref, value request
	extCallReply   int8 = 10 // proc.CallReply: ref, value reply
	extExitError   int8 = 11 // *proc.ExitError: pid, value reason
	// A struct of a type the program names through StructTypes (the
	// shell's session types): str type name (1 to 255 bytes), uint
	// fingerprint of its declaration, map of the exported fields by name.
	// A receiver without the type takes the map. Sent only to peers whose
	// handshake carried wire.FlagStructTypes; others get the map.
	extStruct      int8 = 12
	extMsgpackTime int8 = -1 // time.Time, MessagePack's own timestamp type
)

// Decode's memory budget: the decoded form of a frame may take at most
// DecodeBudgetFactor bytes per frame byte, plus DecodeBudgetFloor. Ordinary
// data stays below it (a long list of {"x": 1} maps, about the most
// expensive shape there is per byte, is estimated at 105 and takes 90); a
// frame over it is refused with ErrMalformed.
const (
	DecodeBudgetFactor = 128
	DecodeBudgetFloor  = 64 << 10
)

// Estimated heap cost of decoded values, charged against the budget.
const (
	costValue    = 8   // boxing a scalar into an interface
	costExt      = 64  // one of gonode's structured types, boxed
	costSlot     = 16  // one element of a []any
	costSlice    = 24  // a slice header, boxed
	costMapHead  = 48  // a map without entries
	costMapGroup = 288 // the first group of 8 slots, allocated with the first entry
	costMapSlot  = 64  // per entry, with the garbage of growing

	maxMapSizeHint = 64 // decoded maps start no bigger than this and grow with their entries
)

// NativeCodec is the Codec of gonode's native protocol: MessagePack, through
// github.com/vmihailenco/msgpack/v5, with extension types for gonode's own
// types. It holds no state: the zero value is ready and safe for concurrent
// use.
//
// What crosses the wire intact, keeping its Go type, at any depth:
//
//   - nil, bool, string, []byte, float64, int;
//   - proc.Pid, proc.Ref, proc.Atom, proc.Name, proc.PanicReason,
//     proc.ExitMsg, proc.DownMsg, proc.CallRequest, proc.CallReply,
//     *proc.ExitError and *RemoteError (pointers to the value types arrive
//     as values, and RemoteError values as pointers);
//   - []any, map[string]any, and map[any]any whose keys are not all
//     strings (see below for keys);
//   - time.Time, as the same instant in UTC.
//
// What arrives changed:
//
//   - every integer type arrives as int, or as uint64 when above
//     math.MaxInt64 (MessagePack does not keep Go's integer types, and
//     msgpack/v5 writes small signed numbers as unsigned, so this is the
//     one rule that does not depend on the size of the number; int, not
//     int64, so that a received number works with .(int) and case int, as
//     it does on the sending node). Where int has 32 bits, numbers beyond
//     it arrive as int64. Peers of before this rule send the same bytes
//     and decode integers as int64: code that reads numbers from older
//     peers accepts both;
//   - float32 arrives as float64;
//   - a nil []any or []byte arrives empty rather than nil, and an empty
//     map[any]any as an empty map[string]any;
//   - other slices and arrays arrive as []any, other maps as
//     map[string]any when all keys are strings and map[any]any otherwise
//     (keys must then be nil, bool, numbers, strings, Atom, Pid, Ref, Name
//     or time.Time);
//   - structs of user types arrive as map[string]any keyed by field name
//     (or msgpack tag), since the peer does not know the type, except
//     struct types that NativeCodec.Types names (the shell's session
//     types): they travel as extStruct with their name, in a payload, in
//     []any and maps, in slices, arrays, maps and pointers of them and in
//     each other's fields (not inside other Go structs, which msgpack/v5
//     encodes), and arrive as Types.MakeStruct rebuilds them, or as the
//     map of their fields when it does not; types with
//     their own msgpack marshaling arrive as what that produces, and
//     binary or text marshalers as the []byte they produce;
//   - a Go error value in a payload (outside the types above) arrives as a
//     *RemoteError of Kind RemoteGoError carrying its text; inside a user
//     struct it arrives as whatever msgpack makes of the error's concrete
//     type, usually an empty map.
//
// Channels, functions and complex numbers cannot be sent. Cyclic data built
// from []any and map[string]any is refused at MaxDepth; cyclic data behind
// pointers in user structs is not detected by msgpack/v5 and must not be
// sent.
//
// Decoding does not use msgpack/v5's interface decoding, which sizes slices
// and maps from the length a header claims (up to 4 Gi elements) and
// recurses without limit. NativeCodec's decoder is a single pass over the
// frame that checks every length against the bytes left, starts maps small
// and bounds nesting at MaxDepth. It also keeps an estimate of the memory
// the decoded message takes and refuses frames whose decoded form would
// exceed DecodeBudgetFactor bytes per frame byte: Go maps cost hundreds of
// bytes each, so without a budget a frame of tiny nested maps would expand
// more than 150-fold.
type NativeCodec struct {
	// Types, if set, names the struct types declared at run time, so that
	// their values cross with their names (see StructTypes). Set it before
	// the codec is used.
	Types StructTypes
	// plainStructs: encode named structs as maps all the same (a peer
	// without wire.FlagStructTypes cannot decode extStruct); decoding
	// still rebuilds them.
	plainStructs bool
	// pids, in a codec made for one connection (forConn), remembers the
	// pids last decoded; such a codec's Decode must not run concurrently.
	pids *pidCache
}

// NewNativeCodec returns the native codec.
func NewNativeCodec() *NativeCodec { return newNativeCodec(nil) }

func newNativeCodec(types StructTypes) *NativeCodec {
	registerOnce.Do(registerExt)
	return &NativeCodec{Types: types}
}

// forConn returns a copy of c for one connection, with a pid cache of its
// own.
func (c *NativeCodec) forConn() *NativeCodec {
	cc := *c
	cc.pids = new(pidCache)
	return &cc
}

var _ Codec = (*NativeCodec)(nil)

// Encode appends the native encoding of m to dst.
func (c *NativeCodec) Encode(dst []byte, m *Message) ([]byte, error) {
	registerOnce.Do(registerExt)
	if !m.Kind.Valid() {
		return dst, fmt.Errorf("%w: unknown kind %v", ErrUnencodable, m.Kind)
	}
	e := encoders.Get().(*encoder)
	e.b, e.depth, e.types = dst, 0, c.Types
	if c.plainStructs {
		e.types = nil
	}
	err := e.message(m)
	out := e.b
	e.b, e.types = nil, nil
	encoders.Put(e)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Decode decodes one native frame payload.
func (c *NativeCodec) Decode(frame []byte) (Message, error) {
	d := decoder{b: frame, end: len(frame), budget: DecodeBudgetFactor*len(frame) + DecodeBudgetFloor, types: c.Types, pids: c.pids}
	var m Message
	if err := d.message(&m); err != nil {
		return Message{}, err
	}
	return m, nil
}
