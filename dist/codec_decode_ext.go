package dist

import (
	"math"
	"time"

	"github.com/gonode/gonode/proc"
)

// Extensions carry what MessagePack has no type for: pids, refs, names,
// signals, errors and structs. Each body is read between open and close, so
// a body that holds more or less than its header says is refused rather
// than read into the value after it.

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
	case extStruct:
		return d.structBody()
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
	body := d.b[d.i:d.end]
	if p, ok := d.pids.lookup(body); ok {
		d.i = d.end
		return p, d.close(outer)
	}
	p, err := d.pidBody()
	if err != nil {
		return proc.Pid{}, err
	}
	d.pids.remember(body, p)
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
