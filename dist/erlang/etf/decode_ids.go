package etf

import (
	"encoding/binary"
	"unicode/utf8"
)

// commonAtoms holds, already boxed, the atoms that fill ordinary traffic
// and the three that decode to Go values: looking one up with a []byte
// key neither allocates nor copies.
var commonAtoms = map[string]any{
	"true": true, "false": false, "nil": nil,
}

func init() {
	for _, a := range []Atom{
		"ok", "error", "undefined", "normal", "kill", "killed", "shutdown",
		"noproc", "noconnection", "EXIT", "DOWN", "process", "port",
		"$gen_call", "$gen_cast", "alias", "call", "cast", "reply", "return",
		"throw", "exit", "badarg", "badarith", "undef", "function_clause",
		"timeout", "infinity", "is_auth", "yes", "no", "rex", "net_kernel",
		"global_name_server", "features_request", "features_reply", "erpc",
		"execute_call", "execute_cast", "erlang", "apply", "monitor", "link",
		"get", "put", "set", "__struct__", "__exception__", "message",
		"nonode@nohost", "notsup", "badrpc", "nodedown", "", "user",
	} {
		commonAtoms[string(a)] = a
	}
}

// atomBytes reads the length and text of an atom of the given tag and
// returns its UTF-8 text, still in the input (or converted from Latin-1).
func (d *decoder) atomBytes(tag int) ([]byte, error) {
	var n int
	var err error
	if tag == tagSmallAtom || tag == tagSmallAtomUTF8 {
		n, err = d.u8()
	} else {
		n, err = d.u16()
	}
	if err != nil {
		return nil, err
	}
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if tag == tagAtom || tag == tagSmallAtom {
		if n > MaxAtomChars {
			return nil, d.limitf("atom of %d characters, the limit is %d", n, MaxAtomChars)
		}
		if s := latin1(p); len(s) != n {
			return []byte(s), d.charge(len(s))
		}
		return p, nil
	}
	if !utf8.Valid(p) {
		return nil, d.errorf("atom is not UTF-8")
	}
	if c := utf8.RuneCount(p); c > MaxAtomChars {
		return nil, d.limitf("atom of %d characters, the limit is %d", c, MaxAtomChars)
	}
	return p, nil
}

// atomTerm reads an atom as a term: true, false and nil become Go values.
func (d *decoder) atomTerm(tag int) (any, error) {
	p, err := d.atomBytes(tag)
	if err != nil {
		return nil, err
	}
	if v, ok := commonAtoms[string(p)]; ok {
		return v, nil
	}
	return Atom(p), d.charge(len(p) + 32)
}

// atom reads a term that must be an atom (a node, a module), as an Atom.
func (d *decoder) atom() (Atom, error) {
	tag, err := d.u8()
	if err != nil {
		return "", err
	}
	switch tag {
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
	case tagAtomCacheRef:
		return "", ErrAtomCacheRef
	default:
		return "", d.errorf("tag %d where an atom must be", tag)
	}
	p, err := d.atomBytes(tag)
	if err != nil {
		return "", err
	}
	if string(p) == string(d.node) {
		return d.node, nil
	}
	if v, ok := commonAtoms[string(p)].(Atom); ok {
		return v, nil
	}
	d.node = Atom(p)
	return d.node, d.charge(len(p) + 16)
}

func (d *decoder) pidBody(tag int) (Pid, error) {
	node, err := d.atom()
	if err != nil {
		return Pid{}, err
	}
	n := 12 // ID, Serial, Creation:u32
	if tag == tagPid {
		n = 9 // Creation:u8
	}
	p, err := d.take(n)
	if err != nil {
		return Pid{}, err
	}
	pid := Pid{Node: node, ID: binary.BigEndian.Uint32(p), Serial: binary.BigEndian.Uint32(p[4:])}
	if tag == tagPid {
		pid.Creation = uint32(p[8])
	} else {
		pid.Creation = binary.BigEndian.Uint32(p[8:12])
	}
	return pid, nil
}

func (d *decoder) portBody(tag int) (any, error) {
	node, err := d.atom()
	if err != nil {
		return nil, err
	}
	port := Port{Node: node}
	switch tag {
	case tagPort: // ID:u32, Creation:u8
		p, err := d.take(5)
		if err != nil {
			return nil, err
		}
		port.ID, port.Creation = uint64(binary.BigEndian.Uint32(p)), uint32(p[4])
	case tagNewPort: // ID:u32, Creation:u32
		p, err := d.take(8)
		if err != nil {
			return nil, err
		}
		port.ID, port.Creation = uint64(binary.BigEndian.Uint32(p)), binary.BigEndian.Uint32(p[4:])
	default: // V4_PORT: ID:u64, Creation:u32
		p, err := d.take(12)
		if err != nil {
			return nil, err
		}
		port.ID, port.Creation = binary.BigEndian.Uint64(p), binary.BigEndian.Uint32(p[8:])
	}
	return port, d.charge(32)
}

func (d *decoder) refBody(tag int) (any, error) {
	n := 1
	if tag != tagReference {
		var err error
		if n, err = d.u16(); err != nil {
			return nil, err
		}
		if n > maxRefWords {
			return nil, d.errorf("reference of %d words, at most %d", n, maxRefWords)
		}
	}
	node, err := d.atom()
	if err != nil {
		return nil, err
	}
	r := Ref{Node: node, Len: uint8(n)}
	if tag == tagNewerReference {
		c, err := d.u32()
		if err != nil {
			return nil, err
		}
		r.Creation = c
	}
	if tag == tagNewReference {
		c, err := d.u8()
		if err != nil {
			return nil, err
		}
		r.Creation = uint32(c)
	}
	for i := range n {
		if r.ID[i], err = d.u32(); err != nil {
			return nil, err
		}
	}
	if tag == tagReference { // REFERENCE_EXT: ID:u32 then Creation:u8
		c, err := d.u8()
		if err != nil {
			return nil, err
		}
		r.Creation = uint32(c)
	}
	return r, d.charge(48)
}

// smallInt reads a SMALL_INTEGER or INTEGER, the only forms a fun's
// OldIndex and OldUniq take.
func (d *decoder) smallInt() (int64, error) {
	tag, err := d.u8()
	if err != nil {
		return 0, err
	}
	switch tag {
	case tagSmallInteger:
		c, err := d.u8()
		return int64(c), err
	case tagInteger:
		v, err := d.u32()
		return int64(int32(v)), err
	}
	return 0, d.errorf("tag %d where a small integer must be", tag)
}

func (d *decoder) fun() (any, error) {
	start := d.i
	size, err := d.u32()
	if err != nil {
		return nil, err
	}
	const fixed = 4 + 1 + 16 + 4 + 4 // Size, Arity, Uniq, Index, NumFree
	if size < fixed || uint64(size) > uint64(len(d.b)-start) {
		return nil, d.errorf("fun of %d bytes, %d left", size, len(d.b)-start)
	}
	end := start + int(size)
	if err := d.enter(); err != nil {
		return nil, err
	}
	p, _ := d.take(fixed - 4)
	f := Fun{Arity: p[0], Index: binary.BigEndian.Uint32(p[17:])}
	copy(f.Uniq[:], p[1:17])
	nfree := binary.BigEndian.Uint32(p[21:])
	if f.Module, err = d.atom(); err != nil {
		return nil, err
	}
	if f.OldIndex, err = d.smallInt(); err != nil {
		return nil, err
	}
	if f.OldUniq, err = d.smallInt(); err != nil {
		return nil, err
	}
	tag, err := d.u8()
	if err != nil {
		return nil, err
	}
	if tag != tagNewPid && tag != tagPid {
		return nil, d.errorf("tag %d where a fun's pid must be", tag)
	}
	if f.Pid, err = d.pidBody(tag); err != nil {
		return nil, err
	}
	if uint64(nfree) > uint64(max(end-d.i, 0)) {
		return nil, d.errorf("fun with %d free variables in %d bytes", nfree, end-d.i)
	}
	if err := d.charge(16*int(nfree) + 160); err != nil {
		return nil, err
	}
	f.Free = make([]any, nfree)
	for i := range f.Free {
		if f.Free[i], err = d.term(); err != nil {
			return nil, err
		}
	}
	if d.i != end {
		return nil, d.errorf("fun announced %d bytes, its fields took %d", size, d.i-start)
	}
	d.depth--
	return f, nil
}

func (d *decoder) export() (any, error) {
	var e Export
	var err error
	if e.Module, err = d.atom(); err != nil {
		return nil, err
	}
	if e.Function, err = d.atom(); err != nil {
		return nil, err
	}
	if tag, err := d.u8(); err != nil || tag != tagSmallInteger {
		return nil, d.errorf("an export's arity must be a small integer")
	}
	a, err := d.u8()
	e.Arity = uint8(a)
	return e, err
}
