package dist

import (
	"errors"
	"hash/fnv"
	"reflect"
	"sync"
	"testing"

	"github.com/gonode/gonode/dist/wire"
)

// Unnamed struct types, as the shell's session types look to Go.
var (
	vecType  = reflect.TypeOf(struct{ X, Y int }{})
	lineType = reflect.TypeOf(struct {
		A, B struct{ X, Y int }
		Tag  string
	}{})
)

// testTypes names struct types as the shell does: a name per type, a
// fingerprint hashed from the type's Go form. MakeStruct builds the value
// when it has the name with the same fingerprint, converting ints.
type testTypes struct {
	mu     sync.Mutex
	byType map[reflect.Type]string
	made   int // guarded by mu: values MakeStruct built
}

func newTestTypes() *testTypes {
	return &testTypes{byType: map[reflect.Type]string{vecType: "Vec", lineType: "Line"}}
}

func layoutOf(t reflect.Type) uint64 {
	h := fnv.New64a()
	h.Write([]byte(t.String()))
	return h.Sum64()
}

func (tt *testTypes) StructName(t reflect.Type) (string, uint64, bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	n, ok := tt.byType[t]
	return n, layoutOf(t), ok
}

func (tt *testTypes) MakeStruct(name string, layout uint64, fields map[string]any) (any, bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for t, n := range tt.byType {
		if n != name || layoutOf(t) != layout {
			continue
		}
		v := reflect.New(t).Elem()
		for k, x := range fields {
			f := v.FieldByName(k)
			if !f.IsValid() {
				return nil, false
			}
			xv, err := ConvertValue(x, f.Type())
			if err != nil {
				return nil, false
			}
			f.Set(xv)
		}
		tt.made++
		return v.Interface(), true
	}
	return nil, false
}

func typedRoundTrip(t *testing.T, enc, dec *NativeCodec, payload any) any {
	t.Helper()
	frame, err := enc.Encode(nil, &Message{Kind: KindSend, To: pidB, Payload: payload})
	if err != nil {
		t.Fatalf("encode %#v: %v", payload, err)
	}
	m, err := dec.Decode(frame)
	if err != nil {
		t.Fatalf("decode %#v: %v", payload, err)
	}
	return m.Payload
}

// A named struct arrives as its type wherever it is: alone, in []any and
// maps, in typed slices, maps and pointers, and in another named struct's
// fields.
func TestCodecStructTypes(t *testing.T) {
	c := &NativeCodec{Types: newTestTypes()}
	vec := func(x, y int) any {
		v := reflect.New(vecType).Elem()
		v.Field(0).SetInt(int64(x))
		v.Field(1).SetInt(int64(y))
		return v.Interface()
	}
	line := reflect.New(lineType).Elem()
	line.Field(0).Set(reflect.ValueOf(vec(1, 2)))
	line.Field(1).Set(reflect.ValueOf(vec(3, 4)))
	line.Field(2).SetString("l")
	vecs := reflect.MakeSlice(reflect.SliceOf(vecType), 0, 2)
	vecs = reflect.Append(vecs, reflect.ValueOf(vec(5, 6)), reflect.ValueOf(vec(7, 8)))
	byName := reflect.MakeMap(reflect.MapOf(reflect.TypeOf(""), vecType))
	byName.SetMapIndex(reflect.ValueOf("a"), reflect.ValueOf(vec(9, 10)))
	ptr := reflect.New(vecType)
	ptr.Elem().Set(reflect.ValueOf(vec(11, 12)))
	tests := []struct {
		name    string
		in, out any
	}{
		{"alone", vec(1, 2), vec(1, 2)},
		{"in []any", []any{vec(1, 2), "x"}, []any{vec(1, 2), "x"}},
		{"in a map", map[string]any{"v": vec(3, 4)}, map[string]any{"v": vec(3, 4)}},
		{"nested", line.Interface(), line.Interface()},
		{"typed slice", vecs.Interface(), []any{vec(5, 6), vec(7, 8)}},
		{"typed map", byName.Interface(), map[string]any{"a": vec(9, 10)}},
		{"pointer", ptr.Interface(), vec(11, 12)},
		{"nil typed slice", reflect.Zero(vecs.Type()).Interface(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := typedRoundTrip(t, c, c, tt.in); !reflect.DeepEqual(got, tt.out) {
				t.Errorf("got %#v (%T), want %#v (%T)", got, got, tt.out, tt.out)
			}
		})
	}
}

// A receiver without the type, or whose type of that name is declared
// differently, gets the map of the fields, as for any struct; so does a
// node without StructTypes. An unnamed type goes as a map.
func TestCodecStructFallback(t *testing.T) {
	sender := &NativeCodec{Types: newTestTypes()}
	v := reflect.New(vecType).Elem()
	v.Field(0).SetInt(1)
	want := map[string]any{"X": 1, "Y": 0}

	other := newTestTypes()
	other.byType = map[reflect.Type]string{reflect.TypeOf(struct{ X, Y, Z int }{}): "Vec"}
	for name, recv := range map[string]*NativeCodec{
		"no StructTypes":    NewNativeCodec(),
		"no such type":      {Types: &testTypes{byType: map[reflect.Type]string{}}},
		"other declaration": {Types: other},
	} {
		if got := typedRoundTrip(t, sender, recv, v.Interface()); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v (%T), want %#v", name, got, got, want)
		}
	}
	unnamed := struct{ Q string }{"q"}
	if got := typedRoundTrip(t, sender, sender, unnamed); !reflect.DeepEqual(got, map[string]any{"Q": "q"}) {
		t.Errorf("unnamed struct: got %#v", got)
	}
}

// structFrame is a send whose payload is an extStruct with the given body.
func structFrame(body ...byte) []byte {
	b := []byte{0x82, fieldKind, byte(KindSend), fieldPayload, 0xc7, byte(len(body)), byte(extStruct)}
	return append(b, body...)
}

func TestCodecStructMalformed(t *testing.T) {
	c := &NativeCodec{Types: newTestTypes()}
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'a'
	}
	for name, frame := range map[string][]byte{
		"empty name":         structFrame(0xa0, 0, 0x80),
		"no layout":          structFrame(0xa1, 'V'),
		"negative layout":    structFrame(0xa1, 'V', 0xff, 0x80),
		"fields not a map":   structFrame(0xa1, 'V', 0, 0x90),
		"field key not text": structFrame(0xa1, 'V', 0, 0x81, 1, 2),
		"truncated fields":   structFrame(0xa1, 'V', 0, 0x82, 0xa1, 'X', 1),
		"trailing bytes":     structFrame(0xa1, 'V', 0, 0x80, 0xc0),
	} {
		if _, err := c.Decode(frame); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	// A name of 256 bytes, well formed otherwise, is refused before the
	// program sees it.
	body := append([]byte{0xda, 0x01, 0x00}, long...)
	body = append(body, 0, 0x80)
	b := []byte{0x82, fieldKind, byte(KindSend), fieldPayload, 0xc8, byte(len(body) >> 8), byte(len(body)), byte(extStruct)}
	if _, err := c.Decode(append(b, body...)); !errors.Is(err, ErrMalformed) {
		t.Errorf("name of 256 bytes: got %v, want ErrMalformed", err)
	}
	if tt := c.Types.(*testTypes); tt.made != 0 {
		t.Errorf("MakeStruct built %d values from malformed frames", tt.made)
	}
}

// A peer that did not announce wire.FlagStructTypes (a version of before
// extStruct, which would drop the message as malformed) is sent named
// structs as maps; a peer that did gets them named. Every connection
// decodes them named.
func TestNativeProtocolStructTypesFlag(t *testing.T) {
	p := nativeProtocol(newTestTypes())
	v := reflect.New(vecType).Elem().Interface()
	for _, tt := range []struct {
		flags uint64
		named bool
	}{{0, false}, {wire.Flags &^ wire.FlagStructTypes, false}, {wire.Flags, true}} {
		c := p.NewConn(wire.PeerInfo{Name: "b@h", Flags: tt.flags})
		frame, err := c.Encode(nil, &Message{Kind: KindSend, To: pidB, Payload: v})
		if err != nil {
			t.Fatal(err)
		}
		seen := newTestTypes() // counts the extStruct values it rebuilds
		m, err := (&NativeCodec{Types: seen}).Decode(frame)
		if err != nil {
			t.Fatal(err)
		}
		if named := seen.made > 0; named != tt.named {
			t.Errorf("flags %b: sent named %v, want %v (payload %#v)", tt.flags, named, tt.named, m.Payload)
		}
		if tt.named && reflect.TypeOf(m.Payload) != vecType {
			t.Errorf("flags %b: got %#v", tt.flags, m.Payload)
		}
	}
}
