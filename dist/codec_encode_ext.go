package dist

import (
	"fmt"
	"math"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gonode/gonode/proc"
)

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

// pid appends p as an extPid value. The whole value of the last pids
// this encoder wrote is kept (pidMemo): a stream between two processes
// writes the same sender and receiver in every frame, and copying a few
// dozen bytes is cheaper than writing a node name and three numbers.
func (e *encoder) pid(p proc.Pid) {
	if enc, ok := e.pids.lookup(p); ok {
		e.b = append(e.b, enc...)
		return
	}
	start := e.beginExt(extPid)
	e.pidBody(p)
	e.endExt(start)
	e.pids.remember(p, e.b[start:])
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
