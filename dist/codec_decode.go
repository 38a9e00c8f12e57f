package dist

import (
	"fmt"
	"hash/maphash"
	"math"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/proc"
)

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
	types  StructTypes // rebuilds extStruct values; nil: they arrive as maps
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
			m.Link, m.Monitor, m.Supervised = opts&1 != 0, opts&2 != 0, opts&4 != 0
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
		return int(c), nil
	case c >= 0xe0:
		return int(int8(c)), nil
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
		return integer(int64(v)), nil
	case 0xd0:
		v, err := d.be(1)
		return int(int8(v)), err
	case 0xd1:
		v, err := d.be(2)
		return int(int16(v)), err
	case 0xd2:
		v, err := d.be(4)
		return integer(int64(int32(v))), err
	case 0xd3:
		v, err := d.be(8)
		return integer(int64(v)), err
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

// integer is a decoded integer as the shell and Go code expect it: an int
// when it fits (always, where int has 64 bits), else an int64.
func integer(v int64) any {
	if int64(int(v)) == v {
		return int(v)
	}
	return v
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
		case nil, bool, int, int64, uint64, float64, string, proc.Atom, proc.Pid, proc.Ref, proc.Name, time.Time:
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
