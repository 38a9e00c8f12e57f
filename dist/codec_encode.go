package dist

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gonode/gonode/proc"
)

// encoder appends to b. It is also the io.Writer of its msgpack.Encoder,
// which writes through unbuffered, so the fast path below and msgpack can
// take turns appending to the same frame.
type encoder struct {
	b     []byte
	depth int
	mp    *msgpack.Encoder
	types StructTypes // names the program's struct types; nil: none
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
		m.Fn != "", m.Args != nil, m.Source != "", m.Link || m.Monitor || m.Supervised, m.Err != nil,
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
	if m.Link || m.Monitor || m.Supervised {
		var opts byte
		if m.Link {
			opts |= 1
		}
		if m.Monitor {
			opts |= 2
		}
		if m.Supervised {
			opts |= 4 // fieldOpts bit 4: Supervised (older decoders ignore it)
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
		if e.types != nil && e.structType(reflect.TypeOf(v)) {
			return e.typed(reflect.ValueOf(v))
		}
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
		e.b = appendStr(e.b, r.StackText())
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
