package dist

import (
	"math"
	"time"

	"github.com/gonode/gonode/proc"
)

// emptyArray is returned for every empty array: boxing a fresh empty slice
// would allocate, and nothing can be stored in a zero-length slice.
var emptyArray any = []any{}

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
