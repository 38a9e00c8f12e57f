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
	pids  pidMemo     // kept while the encoder is in encoders, unlike the rest
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
