package etf

// mapBody reads MAP_EXT. Its result is, in order of preference:
//   - a Struct, for an Elixir struct (a :__struct__ key holding an atom,
//     and atom keys only);
//   - map[any]any, when every key can be a Go map key;
//   - Map, the pairs in order, when some key cannot (a tuple, a list, a
//     map, a big integer).
//
// Duplicate keys are refused, as binary_to_term refuses them, in the first
// two forms; a Map keeps its pairs as they came.
func (d *decoder) mapBody() (any, error) {
	n, err := d.count(2)
	if err != nil {
		return nil, err
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	if err := d.charge(32*n + 24); err != nil {
		return nil, err
	}
	pairs := make([]Pair, n)
	hashable, atoms := true, true
	var structName Atom
	for i := range pairs {
		p := &pairs[i]
		if p.Key, err = d.term(); err != nil {
			return nil, err
		}
		if p.Value, err = d.term(); err != nil {
			return nil, err
		}
		switch k := p.Key.(type) {
		case Atom:
			if k == structKey {
				structName, _ = p.Value.(Atom)
			}
			continue
		case nil, bool, int64, float64, string, Charlist, Pid, Ref, Port, Export:
		default:
			hashable = false
		}
		atoms = false
	}
	d.depth--
	if !hashable {
		return Map(pairs), nil
	}
	// A Go map costs about 80 bytes an entry once its groups and growth
	// are counted.
	if err := d.charge(80 * n); err != nil {
		return nil, err
	}
	if atoms && structName != "" {
		s := Struct{Name: structName, Fields: make(map[Atom]any, n-1)}
		for _, p := range pairs {
			k := p.Key.(Atom)
			if k == structKey {
				continue
			}
			if _, dup := s.Fields[k]; dup {
				return nil, d.errorf("map key %v twice", k)
			}
			s.Fields[k] = p.Value
		}
		if len(s.Fields) != n-1 {
			return nil, d.errorf("map key %v twice", structKey)
		}
		return s, nil
	}
	m := make(map[any]any, n)
	for _, p := range pairs {
		if _, dup := m[p.Key]; dup {
			return nil, d.errorf("map key %v twice", p.Key)
		}
		m[p.Key] = p.Value
	}
	return m, nil
}
