package dist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gonode/gonode/proc"
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

// Errors of the codecs; compare with errors.Is.
var (
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
//   - nil, bool, string, []byte, float64;
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
//   - every integer type arrives as int64, or as uint64 when above
//     math.MaxInt64 (MessagePack does not keep Go's integer types, and
//     msgpack/v5 writes small signed numbers as unsigned, so this is the
//     one rule that does not depend on the size of the number);
//   - float32 arrives as float64;
//   - a nil []any or []byte arrives empty rather than nil, and an empty
//     map[any]any as an empty map[string]any;
//   - other slices and arrays arrive as []any, other maps as
//     map[string]any when all keys are strings and map[any]any otherwise
//     (keys must then be nil, bool, numbers, strings, Atom, Pid, Ref, Name
//     or time.Time);
//   - structs of user types arrive as map[string]any keyed by field name
//     (or msgpack tag), since the peer does not know the type; types with
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
type NativeCodec struct{}

// NewNativeCodec returns the native codec.
func NewNativeCodec() *NativeCodec {
	registerOnce.Do(registerExt)
	return &NativeCodec{}
}

var _ Codec = (*NativeCodec)(nil)

// Encode appends the native encoding of m to dst.
func (*NativeCodec) Encode(dst []byte, m *Message) ([]byte, error) {
	registerOnce.Do(registerExt)
	if !m.Kind.Valid() {
		return dst, fmt.Errorf("%w: unknown kind %v", ErrUnencodable, m.Kind)
	}
	e := encoders.Get().(*encoder)
	e.b, e.depth = dst, 0
	err := e.message(m)
	out := e.b
	e.b = nil
	encoders.Put(e)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Decode decodes one native frame payload.
func (*NativeCodec) Decode(frame []byte) (Message, error) {
	d := decoder{b: frame, end: len(frame), budget: DecodeBudgetFactor*len(frame) + DecodeBudgetFloor}
	var m Message
	if err := d.message(&m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// ---- encoding ----

// encoder appends to b. It is also the io.Writer of its msgpack.Encoder,
// which writes through unbuffered, so the fast path below and msgpack can
// take turns appending to the same frame.
type encoder struct {
	b     []byte
	depth int
	mp    *msgpack.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.mp = msgpack.NewEncoder(e)
	e.mp.UseCompactInts(true)
	return e
}}

func (e *encoder) Write(p []byte) (int, error) { e.b = append(e.b, p...); return len(p), nil }
func (e *encoder) WriteByte(c byte) error      { e.b = append(e.b, c); return nil }

func (e *encoder) message(m *Message) error {
	n := 1
	for _, present := range [...]bool{
		!m.From.IsZero(), !m.To.IsZero(), m.ToName != "", !m.Ref.IsZero(), m.Payload != nil,
		m.Fn != "", m.Args != nil, m.Source != "", m.Link || m.Monitor, m.Err != nil,
	} {
		if present {
			n++
		}
	}
	e.b = appendMapHeader(e.b, n)
	e.b = appendUint(append(e.b, fieldKind), uint64(m.Kind))
	if !m.From.IsZero() {
		e.b = append(e.b, fieldFrom)
		e.pid(m.From)
	}
	if !m.To.IsZero() {
		e.b = append(e.b, fieldTo)
		e.pid(m.To)
	}
	if m.ToName != "" {
		e.b = appendStr(append(e.b, fieldToName), m.ToName)
	}
	if !m.Ref.IsZero() {
		e.b = append(e.b, fieldRef)
		start := e.beginExt(extRef)
		e.refBody(m.Ref)
		e.endExt(start)
	}
	if m.Payload != nil {
		e.b = append(e.b, fieldPayload)
		if err := e.value(m.Payload); err != nil {
			return err
		}
	}
	if m.Fn != "" {
		e.b = appendStr(append(e.b, fieldFn), m.Fn)
	}
	if m.Args != nil {
		e.b = append(e.b, fieldArgs)
		if err := e.array(m.Args); err != nil {
			return err
		}
	}
	if m.Source != "" {
		e.b = appendStr(append(e.b, fieldSource), m.Source)
	}
	if m.Link || m.Monitor {
		var opts byte
		if m.Link {
			opts |= 1
		}
		if m.Monitor {
			opts |= 2
		}
		e.b = append(e.b, fieldOpts, opts)
	}
	if m.Err != nil {
		e.b = append(e.b, fieldErr)
		e.remoteError(m.Err)
	}
	return nil
}

// value appends any value: gonode's types and the common dynamic types
// directly, everything else through msgpack/v5's reflection.
func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.b = append(e.b, 0xc0)
	case string:
		e.b = appendStr(e.b, v)
	case bool:
		if v {
			e.b = append(e.b, 0xc3)
		} else {
			e.b = append(e.b, 0xc2)
		}
	case int:
		e.b = appendInt(e.b, int64(v))
	case int64:
		e.b = appendInt(e.b, v)
	case int32:
		e.b = appendInt(e.b, int64(v))
	case int16:
		e.b = appendInt(e.b, int64(v))
	case int8:
		e.b = appendInt(e.b, int64(v))
	case uint:
		e.b = appendUint(e.b, uint64(v))
	case uint64:
		e.b = appendUint(e.b, v)
	case uint32:
		e.b = appendUint(e.b, uint64(v))
	case uint16:
		e.b = appendUint(e.b, uint64(v))
	case uint8:
		e.b = appendUint(e.b, uint64(v))
	case float64:
		e.b = binary.BigEndian.AppendUint64(append(e.b, 0xcb), math.Float64bits(v))
	case float32:
		e.b = binary.BigEndian.AppendUint32(append(e.b, 0xca), math.Float32bits(v))
	case []byte:
		e.b = appendBinHeader(e.b, len(v))
		e.b = append(e.b, v...)
	case []any:
		return e.array(v)
	case map[string]any:
		if err := e.enter(); err != nil {
			return err
		}
		e.b = appendMapHeader(e.b, len(v))
		for k, x := range v {
			e.b = appendStr(e.b, k)
			if err := e.value(x); err != nil {
				return err
			}
		}
		e.depth--
	case map[any]any:
		if err := e.enter(); err != nil {
			return err
		}
		e.b = appendMapHeader(e.b, len(v))
		for k, x := range v {
			if err := e.value(k); err != nil {
				return err
			}
			if err := e.value(x); err != nil {
				return err
			}
		}
		e.depth--
	case proc.Pid:
		e.pid(v)
	case proc.Ref:
		start := e.beginExt(extRef)
		e.refBody(v)
		e.endExt(start)
	case proc.Atom:
		start := e.beginExt(extAtom)
		e.b = append(e.b, v...)
		e.endExt(start)
	case proc.Name:
		start := e.beginExt(extName)
		e.nameBody(v)
		e.endExt(start)
	case proc.PanicReason:
		return e.ext(extPanicReason, v)
	case *proc.PanicReason:
		if v == nil {
			e.b = append(e.b, 0xc0)
			return nil
		}
		return e.ext(extPanicReason, *v)
	case proc.ExitMsg:
		return e.ext(extExitMsg, v)
	case proc.DownMsg:
		return e.ext(extDownMsg, v)
	case proc.CallRequest:
		return e.ext(extCallRequest, v)
	case proc.CallReply:
		return e.ext(extCallReply, v)
	case *proc.ExitError:
		if v == nil {
			e.b = append(e.b, 0xc0)
			return nil
		}
		return e.ext(extExitError, v)
	case *RemoteError:
		if v == nil {
			e.b = append(e.b, 0xc0)
			return nil
		}
		e.remoteError(v)
	case RemoteError:
		e.remoteError(&v)
	case time.Time:
		return e.fallback(v)
	case msgpack.CustomEncoder, msgpack.Marshaler:
		return e.fallback(v)
	case error:
		e.remoteError(&RemoteError{Kind: RemoteGoError, Message: v.Error()})
	default:
		return e.fallback(v)
	}
	return nil
}

func (e *encoder) array(v []any) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.b = appendArrayHeader(e.b, len(v))
	for _, x := range v {
		if err := e.value(x); err != nil {
			return err
		}
	}
	e.depth--
	return nil
}

// ext appends an extension value whose body holds nested values.
func (e *encoder) ext(id int8, v any) error {
	if err := e.enter(); err != nil {
		return err
	}
	start := e.beginExt(id)
	if err := e.extBody(id, v); err != nil {
		return err
	}
	e.endExt(start)
	e.depth--
	return nil
}

// extBody appends the body of the structured extension types.
func (e *encoder) extBody(id int8, v any) error {
	switch id {
	case extPanicReason:
		r := v.(proc.PanicReason)
		if err := e.value(r.Value); err != nil {
			return err
		}
		e.b = appendStr(e.b, r.Stack)
	case extExitMsg:
		m := v.(proc.ExitMsg)
		e.pidBody(m.From)
		return e.value(m.Reason)
	case extDownMsg:
		m := v.(proc.DownMsg)
		e.refBody(m.Ref)
		e.pidBody(m.Pid)
		e.nameBody(m.Name)
		return e.value(m.Reason)
	case extCallRequest:
		m := v.(proc.CallRequest)
		e.pidBody(m.From)
		e.refBody(m.Ref)
		return e.value(m.Request)
	case extCallReply:
		m := v.(proc.CallReply)
		e.refBody(m.Ref)
		return e.value(m.Reply)
	case extExitError:
		m := v.(*proc.ExitError)
		e.pidBody(m.Pid)
		return e.value(m.Reason)
	default:
		panic(fmt.Sprintf("dist: no body encoder for ext %d", id))
	}
	return nil
}

func (e *encoder) pid(p proc.Pid) {
	start := e.beginExt(extPid)
	e.pidBody(p)
	e.endExt(start)
}

func (e *encoder) pidBody(p proc.Pid) {
	e.b = appendStr(e.b, p.Node)
	e.b = appendUint(e.b, uint64(p.ID))
	e.b = appendUint(e.b, uint64(p.Serial))
	e.b = appendUint(e.b, uint64(p.Creation))
}

func (e *encoder) refBody(r proc.Ref) {
	e.b = appendStr(e.b, r.Node)
	e.b = appendUint(e.b, uint64(r.Creation))
	for _, x := range r.ID {
		e.b = appendUint(e.b, uint64(x))
	}
}

func (e *encoder) nameBody(n proc.Name) {
	e.b = appendStr(e.b, n.Name)
	e.b = appendStr(e.b, n.Node)
}

func (e *encoder) remoteError(r *RemoteError) {
	start := e.beginExt(extRemoteError)
	e.b = appendStr(e.b, r.Kind)
	e.b = appendStr(e.b, r.Message)
	e.endExt(start)
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrUnencodable, MaxDepth)
	}
	return nil
}

// fallback encodes v with msgpack/v5's reflection. A panic in there (from a
// user type's marshaling method, say) becomes an error: it must not take
// down the connection's writer.
func (e *encoder) fallback(v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %T: panic: %v", ErrUnencodable, v, r)
		}
	}()
	if err := e.mp.Encode(v); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrUnencodable, v, err)
	}
	return nil
}

// beginExt appends an ext 8 header with a placeholder length; endExt sets
// the length, widening the header if the body outgrew ext 8.
func (e *encoder) beginExt(id int8) int {
	start := len(e.b)
	e.b = append(e.b, 0xc7, 0, byte(id))
	return start
}

func (e *encoder) endExt(start int) {
	n := len(e.b) - start - 3
	if n <= math.MaxUint8 {
		e.b[start+1] = byte(n)
		return
	}
	id := e.b[start+2]
	var hdr []byte
	if n <= math.MaxUint16 {
		hdr = []byte{0xc8, byte(n >> 8), byte(n), id}
	} else {
		hdr = []byte{0xc9, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), id}
	}
	grow := len(hdr) - 3
	e.b = append(e.b, hdr[:grow]...)
	copy(e.b[start+len(hdr):], e.b[start+3:len(e.b)-grow])
	copy(e.b[start:], hdr)
}

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendBinHeader(b []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
}

func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// ---- msgpack/v5 registration ----

// registerOnce guards the one global side effect of this codec: teaching
// msgpack/v5's reflection (used for user types) to write gonode's types as
// our extension types when it meets them inside a user's struct, slice or
// map. Only encoders are registered: decoding never goes through msgpack's
// registry.
var registerOnce sync.Once

func registerExt() {
	reg := func(id int8, typ any, body func(e *encoder, v reflect.Value) error) {
		msgpack.RegisterExtEncoder(id, typ, func(me *msgpack.Encoder, v reflect.Value) ([]byte, error) {
			e := encoders.Get().(*encoder)
			e.b, e.depth = nil, 0
			if outer, ok := me.Writer().(*encoder); ok {
				e.depth = outer.depth + 1
			}
			var err error
			if e.depth > MaxDepth {
				err = fmt.Errorf("%w: nested deeper than %d", ErrUnencodable, MaxDepth)
			} else {
				err = body(e, v)
			}
			out := e.b
			e.b = nil
			encoders.Put(e)
			return out, err
		})
	}
	structured := func(id int8) func(e *encoder, v reflect.Value) error {
		return func(e *encoder, v reflect.Value) error { return e.extBody(id, v.Interface()) }
	}
	reg(extPid, proc.Pid{}, func(e *encoder, v reflect.Value) error { e.pidBody(v.Interface().(proc.Pid)); return nil })
	reg(extRef, proc.Ref{}, func(e *encoder, v reflect.Value) error { e.refBody(v.Interface().(proc.Ref)); return nil })
	reg(extAtom, proc.Atom(""), func(e *encoder, v reflect.Value) error { e.b = append(e.b, v.String()...); return nil })
	reg(extName, proc.Name{}, func(e *encoder, v reflect.Value) error { e.nameBody(v.Interface().(proc.Name)); return nil })
	reg(extPanicReason, proc.PanicReason{}, structured(extPanicReason))
	reg(extExitMsg, proc.ExitMsg{}, structured(extExitMsg))
	reg(extDownMsg, proc.DownMsg{}, structured(extDownMsg))
	reg(extCallRequest, proc.CallRequest{}, structured(extCallRequest))
	reg(extCallReply, proc.CallReply{}, structured(extCallReply))
	reg(extExitError, (*proc.ExitError)(nil), structured(extExitError))
	reg(extRemoteError, RemoteError{}, func(e *encoder, v reflect.Value) error {
		r := v.Interface().(RemoteError)
		e.b = appendStr(e.b, r.Kind)
		e.b = appendStr(e.b, r.Message)
		return nil
	})
}

// ---- decoding ----

// decoder reads one frame. end is the end of the innermost extension body
// being read (or of the frame); every length is checked against it.
type decoder struct {
	b     []byte
	i     int
	end   int
	depth int
	nodes [4]string // node names already read from this frame, to share their memory
	nn    int
	// budget is what the decoded message may still take, in estimated
	// bytes of heap.
	budget int
}

// emptyArray is returned for every empty array: boxing a fresh empty slice
// would allocate, and nothing can be stored in a zero-length slice.
var emptyArray any = []any{}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMalformed, d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) left() int { return d.end - d.i }

func (d *decoder) take(n uint64) ([]byte, error) {
	if n > uint64(d.left()) {
		return nil, d.errorf("%d bytes announced, %d left", n, d.left())
	}
	p := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return p, nil
}

func (d *decoder) byte1() (byte, error) {
	if d.i >= d.end {
		return 0, d.errorf("truncated")
	}
	c := d.b[d.i]
	d.i++
	return c, nil
}

// be reads an n-byte big-endian unsigned number.
func (d *decoder) be(n int) (uint64, error) {
	p, err := d.take(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// charge accounts for n bytes of heap that the decoded message will hold.
func (d *decoder) charge(n int) error {
	d.budget -= n
	if d.budget < 0 {
		return d.errorf("decoded form would exceed %d bytes per frame byte", DecodeBudgetFactor)
	}
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return d.errorf("nested deeper than %d", MaxDepth)
	}
	return nil
}

func (d *decoder) message(m *Message) error {
	c, err := d.byte1()
	if err != nil {
		return err
	}
	n, ok, err := d.mapLen(c)
	if err != nil {
		return err
	}
	if !ok {
		return d.errorf("message is not a map")
	}
	var seen uint64
	for range n {
		f, err := d.uint(math.MaxUint64)
		if err != nil {
			return err
		}
		if f < 64 {
			if seen&(1<<f) != 0 {
				return d.errorf("field %d twice", f)
			}
			seen |= 1 << f
		}
		switch f {
		case fieldKind:
			var k uint64
			k, err = d.uint(math.MaxUint8)
			m.Kind = Kind(k)
		case fieldFrom:
			m.From, err = d.pidValue()
		case fieldTo:
			m.To, err = d.pidValue()
		case fieldToName:
			m.ToName, err = d.str()
		case fieldRef:
			m.Ref, err = d.refValue()
		case fieldPayload:
			m.Payload, err = d.value()
		case fieldFn:
			m.Fn, err = d.str()
		case fieldArgs:
			var v any
			if v, err = d.value(); err == nil {
				var ok bool
				if m.Args, ok = v.([]any); !ok {
					err = d.errorf("args are %T, not an array", v)
				}
			}
		case fieldSource:
			m.Source, err = d.str()
		case fieldOpts:
			var opts uint64
			opts, err = d.uint(math.MaxUint64)
			m.Link, m.Monitor = opts&1 != 0, opts&2 != 0
		case fieldErr:
			var v any
			if v, err = d.value(); err == nil {
				var ok bool
				if m.Err, ok = v.(*RemoteError); !ok && v != nil {
					err = d.errorf("err is %T, not a RemoteError", v)
				}
			}
		default:
			_, err = d.value() // a field of a later version
		}
		if err != nil {
			return err
		}
	}
	if d.i != d.end {
		return d.errorf("%d trailing bytes", d.end-d.i)
	}
	if !m.Kind.Valid() {
		return fmt.Errorf("%w: unknown kind %d", ErrMalformed, m.Kind)
	}
	return nil
}

// value reads any value.
func (d *decoder) value() (any, error) {
	c, err := d.byte1()
	if err != nil {
		return nil, err
	}
	if err := d.charge(costValue); err != nil {
		return nil, err
	}
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c <= 0x8f:
		return d.mapBody(int(c & 0x0f))
	case c <= 0x9f:
		return d.arrayBody(int(c & 0x0f))
	case c <= 0xbf:
		return d.strBody(uint64(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6: // bin 8, 16, 32
		n, err := d.be(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		p, err := d.take(n)
		if err != nil {
			return nil, err
		}
		if err := d.charge(costSlice + len(p)); err != nil {
			return nil, err
		}
		return append([]byte{}, p...), nil
	case 0xc7, 0xc8, 0xc9: // ext 8, 16, 32
		n, err := d.be(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(n)
	case 0xca:
		v, err := d.be(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := d.be(8)
		return math.Float64frombits(v), err
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8, 16, 32, 64
		v, err := d.be(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if v > math.MaxInt64 {
			return v, nil
		}
		return int64(v), nil
	case 0xd0:
		v, err := d.be(1)
		return int64(int8(v)), err
	case 0xd1:
		v, err := d.be(2)
		return int64(int16(v)), err
	case 0xd2:
		v, err := d.be(4)
		return int64(int32(v)), err
	case 0xd3:
		v, err := d.be(8)
		return int64(v), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		return d.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb: // str 8, 16, 32
		n, err := d.be(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.strBody(n)
	case 0xdc, 0xdd: // array 16, 32
		n, err := d.be(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		if n > uint64(d.left()) {
			return nil, d.errorf("array of %d elements, %d bytes left", n, d.left())
		}
		return d.arrayBody(int(n))
	case 0xde, 0xdf: // map 16, 32
		n, err := d.be(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		if n > uint64(d.left()/2) {
			return nil, d.errorf("map of %d entries, %d bytes left", n, d.left())
		}
		return d.mapBody(int(n))
	}
	return nil, d.errorf("reserved code 0x%02x", c)
}

func (d *decoder) strBody(n uint64) (any, error) {
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if err := d.charge(len(p)); err != nil {
		return nil, err
	}
	return string(p), nil
}

// arrayBody reads n elements; every element takes at least one byte.
func (d *decoder) arrayBody(n int) (any, error) {
	if n > d.left() {
		return nil, d.errorf("array of %d elements, %d bytes left", n, d.left())
	}
	if n == 0 {
		return emptyArray, nil
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	if err := d.charge(costSlice + costSlot*n); err != nil {
		return nil, err
	}
	s := make([]any, n)
	for i := range s {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		s[i] = v
	}
	d.depth--
	return s, nil
}

// mapBody reads n entries into a map[string]any, switching to map[any]any
// at the first key that is not a string.
func (d *decoder) mapBody(n int) (any, error) {
	if n > d.left()/2 {
		return nil, d.errorf("map of %d entries, %d bytes left", n, d.left())
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	cost := costMapHead
	if n > 0 {
		cost += costMapGroup + costMapSlot*n
	}
	if err := d.charge(cost); err != nil {
		return nil, err
	}
	if n > 0 && d.i < d.end && !isStr(d.b[d.i]) {
		return d.anyMap(nil, n)
	}
	m := make(map[string]any, min(n, maxMapSizeHint))
	for i := range n {
		if d.i < d.end && !isStr(d.b[d.i]) {
			return d.anyMap(m, n-i)
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	d.depth--
	return m, nil
}

func (d *decoder) anyMap(sm map[string]any, rest int) (any, error) {
	m := make(map[any]any, len(sm)+min(rest, maxMapSizeHint))
	for k, v := range sm {
		m[k] = v
	}
	for range rest {
		k, err := d.value()
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case nil, bool, int64, uint64, float64, string, proc.Atom, proc.Pid, proc.Ref, proc.Name, time.Time:
		default:
			return nil, d.errorf("map key of type %T", k)
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	d.depth--
	return m, nil
}

func isStr(c byte) bool { return c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb }

// ext reads an extension value whose body is n bytes, after its type byte.
func (d *decoder) ext(n uint64) (any, error) {
	c, err := d.byte1()
	if err != nil {
		return nil, err
	}
	if err := d.charge(costExt); err != nil {
		return nil, err
	}
	end, err := d.open(n)
	if err != nil {
		return nil, err
	}
	v, err := d.extBody(int8(c))
	if err != nil {
		return nil, err
	}
	return v, d.close(end)
}

// open limits reading to the next n bytes, an extension body; close checks
// that the body was read exactly and lifts the limit.
func (d *decoder) open(n uint64) (outer int, err error) {
	if n > uint64(d.left()) {
		return 0, d.errorf("extension of %d bytes, %d left", n, d.left())
	}
	if err := d.enter(); err != nil {
		return 0, err
	}
	outer = d.end
	d.end = d.i + int(n)
	return outer, nil
}

func (d *decoder) close(outer int) error {
	if d.i != d.end {
		return d.errorf("%d bytes left in extension", d.end-d.i)
	}
	d.end = outer
	d.depth--
	return nil
}

func (d *decoder) extBody(id int8) (any, error) {
	switch id {
	case extPid:
		return d.pidBody()
	case extRef:
		return d.refBody()
	case extAtom:
		p, _ := d.take(uint64(d.left()))
		return internAtom(p), nil
	case extName:
		return d.nameBody()
	case extRemoteError:
		kind, err := d.str()
		if err != nil {
			return nil, err
		}
		msg, err := d.str()
		if err != nil {
			return nil, err
		}
		return &RemoteError{Kind: kind, Message: msg}, nil
	case extPanicReason:
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		stack, err := d.str()
		return proc.PanicReason{Value: v, Stack: stack}, err
	case extExitMsg:
		from, err := d.pidBody()
		if err != nil {
			return nil, err
		}
		reason, err := d.value()
		return proc.ExitMsg{From: from, Reason: reason}, err
	case extDownMsg:
		ref, err := d.refBody()
		if err != nil {
			return nil, err
		}
		pid, err := d.pidBody()
		if err != nil {
			return nil, err
		}
		name, err := d.nameBody()
		if err != nil {
			return nil, err
		}
		reason, err := d.value()
		return proc.DownMsg{Ref: ref, Pid: pid, Name: name, Reason: reason}, err
	case extCallRequest:
		from, err := d.pidBody()
		if err != nil {
			return nil, err
		}
		ref, err := d.refBody()
		if err != nil {
			return nil, err
		}
		req, err := d.value()
		return proc.CallRequest{From: from, Ref: ref, Request: req}, err
	case extCallReply:
		ref, err := d.refBody()
		if err != nil {
			return nil, err
		}
		reply, err := d.value()
		return proc.CallReply{Ref: ref, Reply: reply}, err
	case extExitError:
		pid, err := d.pidBody()
		if err != nil {
			return nil, err
		}
		reason, err := d.value()
		if err != nil {
			return nil, err
		}
		return &proc.ExitError{Pid: pid, Reason: reason}, nil
	case extMsgpackTime:
		return d.timestamp()
	}
	return nil, d.errorf("unknown extension type %d", id)
}

// timestamp reads MessagePack's timestamp 32, 64 or 96.
func (d *decoder) timestamp() (any, error) {
	var sec int64
	var nsec uint64
	switch d.left() {
	case 4:
		v, _ := d.be(4)
		sec = int64(v)
	case 8:
		v, _ := d.be(8)
		nsec, sec = v>>34, int64(v&(1<<34-1))
	case 12:
		nsec, _ = d.be(4)
		v, _ := d.be(8)
		sec = int64(v)
	default:
		return nil, d.errorf("timestamp of %d bytes", d.left())
	}
	if nsec >= 1e9 {
		return nil, d.errorf("timestamp with %d nanoseconds", nsec)
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}

// atom returns the atom named by p, sharing the common ones.
func atom(p []byte) proc.Atom {
	switch string(p) {
	case string(proc.Normal):
		return proc.Normal
	case string(proc.Kill):
		return proc.Kill
	case string(proc.Killed):
		return proc.Killed
	case string(proc.Shutdown):
		return proc.Shutdown
	case string(proc.NoProc):
		return proc.NoProc
	case string(proc.NoConnection):
		return proc.NoConnection
	}
	return proc.Atom(p)
}

// interned shares, across frames, the strings of node names and the boxed
// values of atoms, so that a stream of messages between the same processes
// decodes them without allocating. It is a fixed table indexed by a hash of
// the bytes: a collision only replaces an entry, so a peer that sends many
// different names costs misses, never memory. Entries are immutable.
var interned [512]atomic.Pointer[internEntry]

var internSeed = maphash.MakeSeed()

type internEntry struct {
	s    string
	atom any // proc.Atom(s) boxed, for atoms; nil for node names
}

// maxInterned bounds the strings kept in interned (node names are at most
// 255 bytes; longer atoms are rare).
const maxInterned = 255

func internLookup(p []byte, isAtom bool) *internEntry {
	h := maphash.Bytes(internSeed, p)
	if isAtom {
		h = ^h
	}
	slot := &interned[h%uint64(len(interned))]
	if e := slot.Load(); e != nil && (e.atom != nil) == isAtom && e.s == string(p) {
		return e
	}
	e := &internEntry{s: string(p)}
	if isAtom {
		e.atom = atom(p)
	}
	slot.Store(e)
	return e
}

// internNode returns p as a string, shared with earlier frames if it is there.
func internNode(p []byte) string {
	if len(p) > maxInterned {
		return string(p)
	}
	return internLookup(p, false).s
}

// internAtom returns the atom named by p, boxed, shared with earlier frames.
func internAtom(p []byte) any {
	if len(p) > maxInterned {
		return atom(p)
	}
	return internLookup(p, true).atom
}

// extHeader reads the header of an extension value of type want and opens
// its body.
func (d *decoder) extHeader(want int8) (outer int, err error) {
	c, err := d.byte1()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch c {
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		n = 1 << (c - 0xd4)
	case 0xc7, 0xc8, 0xc9:
		if n, err = d.be(1 << (c - 0xc7)); err != nil {
			return 0, err
		}
	default:
		return 0, d.errorf("code 0x%02x where extension %d was expected", c, want)
	}
	id, err := d.byte1()
	if err != nil {
		return 0, err
	}
	if int8(id) != want {
		return 0, d.errorf("extension %d where %d was expected", int8(id), want)
	}
	return d.open(n)
}

func (d *decoder) pidValue() (proc.Pid, error) {
	outer, err := d.extHeader(extPid)
	if err != nil {
		return proc.Pid{}, err
	}
	p, err := d.pidBody()
	if err != nil {
		return proc.Pid{}, err
	}
	return p, d.close(outer)
}

func (d *decoder) refValue() (proc.Ref, error) {
	outer, err := d.extHeader(extRef)
	if err != nil {
		return proc.Ref{}, err
	}
	r, err := d.refBody()
	if err != nil {
		return proc.Ref{}, err
	}
	return r, d.close(outer)
}

func (d *decoder) pidBody() (proc.Pid, error) {
	node, err := d.node()
	if err != nil {
		return proc.Pid{}, err
	}
	var f [3]uint64
	for i := range f {
		if f[i], err = d.uint(math.MaxUint32); err != nil {
			return proc.Pid{}, err
		}
	}
	return proc.Pid{Node: node, ID: uint32(f[0]), Serial: uint32(f[1]), Creation: uint32(f[2])}, nil
}

func (d *decoder) refBody() (proc.Ref, error) {
	node, err := d.node()
	if err != nil {
		return proc.Ref{}, err
	}
	var f [4]uint64
	for i := range f {
		if f[i], err = d.uint(math.MaxUint32); err != nil {
			return proc.Ref{}, err
		}
	}
	return proc.Ref{Node: node, Creation: uint32(f[0]), ID: [3]uint32{uint32(f[1]), uint32(f[2]), uint32(f[3])}}, nil
}

func (d *decoder) nameBody() (proc.Name, error) {
	name, err := d.str()
	if err != nil {
		return proc.Name{}, err
	}
	node, err := d.node()
	return proc.Name{Name: name, Node: node}, err
}

// strBytes reads a str and returns its bytes, still in the frame.
func (d *decoder) strBytes() ([]byte, error) {
	c, err := d.byte1()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c >= 0xd9 && c <= 0xdb:
		if n, err = d.be(1 << (c - 0xd9)); err != nil {
			return nil, err
		}
	default:
		return nil, d.errorf("code 0x%02x where a string was expected", c)
	}
	return d.take(n)
}

func (d *decoder) str() (string, error) {
	p, err := d.strBytes()
	if err != nil {
		return "", err
	}
	if err := d.charge(len(p)); err != nil {
		return "", err
	}
	return string(p), nil
}

// node reads a node name, sharing the memory of names already read from
// this frame.
func (d *decoder) node() (string, error) {
	p, err := d.strBytes()
	if err != nil {
		return "", err
	}
	for _, s := range d.nodes[:d.nn] {
		if s == string(p) {
			return s, nil
		}
	}
	if err := d.charge(len(p)); err != nil {
		return "", err
	}
	s := internNode(p)
	if d.nn < len(d.nodes) {
		d.nodes[d.nn] = s
		d.nn++
	}
	return s, nil
}

// uint reads a non-negative integer no greater than max, in any of
// MessagePack's integer encodings.
func (d *decoder) uint(max uint64) (uint64, error) {
	c, err := d.byte1()
	if err != nil {
		return 0, err
	}
	var v uint64
	switch {
	case c <= 0x7f:
		v = uint64(c)
	case c >= 0xcc && c <= 0xcf:
		if v, err = d.be(1 << (c - 0xcc)); err != nil {
			return 0, err
		}
	case c >= 0xd0 && c <= 0xd3:
		n := 1 << (c - 0xd0)
		u, err := d.be(n)
		if err != nil {
			return 0, err
		}
		if u>>(8*n-1)&1 != 0 {
			return 0, d.errorf("negative number where an unsigned one was expected")
		}
		v = u
	default:
		return 0, d.errorf("code 0x%02x where an unsigned number was expected", c)
	}
	if v > max {
		return 0, d.errorf("%d out of range (max %d)", v, max)
	}
	return v, nil
}

// mapLen reads a map header; ok is false if c opens something else. Every
// entry takes at least two bytes.
func (d *decoder) mapLen(c byte) (n int, ok bool, err error) {
	var v uint64
	switch {
	case c&0xf0 == 0x80:
		v = uint64(c & 0x0f)
	case c == 0xde || c == 0xdf:
		if v, err = d.be(2 << (c - 0xde)); err != nil {
			return 0, false, err
		}
	default:
		return 0, false, nil
	}
	if v > uint64(d.left()/2) {
		return 0, false, d.errorf("map of %d entries, %d bytes left", v, d.left())
	}
	return int(v), true, nil
}
