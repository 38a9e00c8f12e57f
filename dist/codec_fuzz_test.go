package dist

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// FuzzDecode feeds arbitrary frames to the decoder. It must not panic, must
// fail only with ErrMalformed, must stay within its allocation bound, and
// whatever it accepts must survive encoding and decoding again unchanged.
func FuzzDecode(f *testing.F) {
	c := &NativeCodec{Types: newTestTypes()} // so that extStruct values are rebuilt too
	// A connection's codec remembers pids across frames: it must decode
	// every frame as the shared codec does, its memory of earlier inputs
	// notwithstanding.
	conn := c.forConn()
	r := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		m := genMessage(r)
		frame, err := c.Encode(nil, &m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	for _, m := range []Message{
		benchSend,
		{Kind: KindDown, From: pidB, To: pidA, Ref: refA, ToName: "db", Payload: proc.PanicReason{Value: []any{pidA}, Stack: "s"}},
		{Kind: KindSpawnRequest, From: pidA, Ref: refA, Fn: "f", Args: []any{map[any]any{1: refA}}, Link: true},
		{Kind: KindReply, To: pidA, Ref: refA, Err: &RemoteError{Kind: RemotePanic, Message: "m"}},
		{Kind: KindSend, To: pidB, Payload: time.Unix(1<<40, 5).UTC()},
		{Kind: KindCancel, Ref: refA},
		{Kind: KindTickTime, Payload: 60000},
		{Kind: KindReply, To: pidA, Ref: refA, Err: &RemoteError{Kind: RemoteBusy, Message: "b"}},
		{Kind: KindReply, To: pidA, Ref: refA, Err: &RemoteError{Kind: RemoteRefused, Message: "r"}},
	} {
		frame, err := c.Encode(nil, &m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	vec := reflect.New(vecType).Elem()
	vec.Field(0).SetInt(-3)
	vecs := reflect.Append(reflect.MakeSlice(reflect.SliceOf(vecType), 0, 1), vec)
	for _, p := range []any{vec.Interface(), vecs.Interface(), []any{vec.Interface(), map[string]any{"v": vec.Interface()}}} {
		frame, err := c.Encode(nil, &Message{Kind: KindSend, To: pidB, Payload: p})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add(structFrame(0xa3, 'V', 'e', 'c', 0, 0x81, 0xa1, 'Z', 1)) // a field the type has not
	f.Add(hostile(0xdd, 100, 0x80))
	f.Add(deepExt(10))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var m Message
		var err error
		alloc := allocatedBy(func() { m, err = c.Decode(frame) })
		if limit := uint64(decodeAllocFactor*len(frame) + decodeAllocSlack); alloc > limit {
			t.Fatalf("decoding %d bytes allocated %d, limit %d", len(frame), alloc, limit)
		}
		for range 2 { // the second time, from the cache
			cm, cerr := conn.Decode(frame)
			if (cerr == nil) != (err == nil) || err == nil && !hasNaN(reflect.ValueOf(m)) && !reflect.DeepEqual(m, cm) {
				t.Fatalf("a connection's codec decoded %#v, %v; the shared one %#v, %v", cm, cerr, m, err)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again, err := c.Encode(nil, &m)
		if err != nil {
			t.Fatalf("re-encoding a decoded message: %v", err)
		}
		m2, err := c.Decode(again)
		if err != nil {
			t.Fatalf("decoding a re-encoded message: %v", err)
		}
		if !hasNaN(reflect.ValueOf(m)) && !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip of a decoded message differs:\n%#v\n%#v", m, m2)
		}
	})
}

// FuzzRoundTrip checks decode(encode(m)) == m for messages generated from
// the fuzzer's seeds.
func FuzzRoundTrip(f *testing.F) {
	for i := range uint64(8) {
		f.Add(i, i*7919)
	}
	c := NewNativeCodec()
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		checkRoundTrip(t, c, genMessage(rand.New(rand.NewPCG(s1, s2))))
	})
}

// TestRoundTripProperty is FuzzRoundTrip over a fixed set of seeds, for
// plain go test runs.
func TestRoundTripProperty(t *testing.T) {
	c := NewNativeCodec()
	r := rand.New(rand.NewPCG(42, 4242))
	for range 3000 {
		checkRoundTrip(t, c, genMessage(r))
	}
}

func checkRoundTrip(t *testing.T, c Codec, m Message) {
	t.Helper()
	frame, err := c.Encode(nil, &m)
	if err != nil {
		t.Fatalf("encode: %v\n%#v", err, m)
	}
	got, err := c.Decode(frame)
	if err != nil {
		t.Fatalf("decode: %v\n%#v", err, m)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip differs:\n got %#v\nwant %#v", got, m)
	}
}

// hasNaN reports whether v holds a NaN anywhere: NaN != NaN, so
// reflect.DeepEqual cannot compare such values.
func hasNaN(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.IsNaN(v.Float())
	case reflect.Interface, reflect.Pointer:
		return !v.IsNil() && hasNaN(v.Elem())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if hasNaN(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if hasNaN(it.Key()) || hasNaN(it.Value()) {
				return true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if hasNaN(v.Field(i)) {
				return true
			}
		}
	}
	return false
}

// genMessage makes a random message of a random kind, every field filled at
// random, from the values that cross the wire with their types intact.
func genMessage(r *rand.Rand) Message {
	m := Message{Kind: Kind(1 + r.IntN(len(kindNames)-1))}
	if r.IntN(4) > 0 {
		m.From = genPid(r)
	}
	if r.IntN(4) > 0 {
		m.To = genPid(r)
	}
	if r.IntN(3) == 0 {
		m.ToName = genString(r)
	}
	if r.IntN(2) == 0 {
		m.Ref = genRef(r)
	}
	if r.IntN(4) > 0 {
		m.Payload = genValue(r, 3)
	}
	if r.IntN(3) == 0 {
		m.Fn = genString(r)
	}
	if r.IntN(3) == 0 {
		m.Args = make([]any, r.IntN(4))
		for i := range m.Args {
			m.Args[i] = genValue(r, 2)
		}
	}
	if r.IntN(5) == 0 {
		m.Source = genString(r)
	}
	m.Link, m.Monitor = r.IntN(3) == 0, r.IntN(3) == 0
	if r.IntN(4) == 0 {
		m.Err = &RemoteError{Kind: genString(r), Message: genString(r)}
	}
	return m
}

func genString(r *rand.Rand) string {
	n := []int{0, 1, 5, 31, 32, 255, 256, 70000}[r.IntN(8)]
	if n > 300 && r.IntN(4) > 0 {
		n = r.IntN(40)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func genPid(r *rand.Rand) proc.Pid {
	return proc.Pid{Node: []string{"a@h", "bb@host", genString(r)}[r.IntN(3)], ID: r.Uint32(), Serial: r.Uint32() % 3, Creation: r.Uint32()}
}

func genRef(r *rand.Rand) proc.Ref {
	return proc.Ref{Node: []string{"a@h", genString(r)}[r.IntN(2)], Creation: r.Uint32(), ID: [3]uint32{r.Uint32(), r.Uint32(), r.Uint32()}}
}

// genInt returns an integer as the decoder gives it back (see integer).
func genInt(r *rand.Rand) any { return integer(genInt64(r)) }

func genInt64(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return int64(r.IntN(256)) - 128
	case 1:
		return r.Int64() - r.Int64()
	case 2:
		return []int64{math.MinInt64, math.MaxInt64, -33, -32, 127, 128, 255, 256, 65535, 65536, 1 << 32}[r.IntN(11)]
	}
	return int64(r.IntN(1 << 20))
}

func genValue(r *rand.Rand, depth int) any {
	n := 22
	if depth <= 0 {
		n = 12 // scalars only
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return genInt(r)
	case 3:
		return uint64(math.MaxInt64) + 1 + r.Uint64()%(math.MaxInt64)
	case 4:
		return []float64{0, -1.5, math.Inf(1), math.MaxFloat64, math.SmallestNonzeroFloat64, r.NormFloat64()}[r.IntN(6)]
	case 5:
		return genString(r)
	case 6:
		return []byte(genString(r))
	case 7:
		return proc.Atom(genString(r))
	case 8:
		return genPid(r)
	case 9:
		return genRef(r)
	case 10:
		return proc.Name{Name: genString(r), Node: "a@h"}
	case 11:
		return time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).UTC()
	case 12:
		s := make([]any, r.IntN(5))
		for i := range s {
			s[i] = genValue(r, depth-1)
		}
		return s
	case 13:
		m := map[string]any{}
		for range r.IntN(5) {
			m[genString(r)] = genValue(r, depth-1)
		}
		return m
	case 14:
		// A map with at least one key that is not a string.
		m := map[any]any{genInt(r): genValue(r, depth-1)}
		for range r.IntN(4) {
			keys := []any{genString(r), genInt(r), genPid(r), proc.Atom(genString(r)), genRef(r), true, nil, 2.5}
			m[keys[r.IntN(len(keys))]] = genValue(r, depth-1)
		}
		return m
	case 15:
		return proc.PanicReason{Value: genValue(r, depth-1), Stack: genString(r)}
	case 16:
		return proc.ExitMsg{From: genPid(r), Reason: genValue(r, depth-1)}
	case 17:
		return proc.DownMsg{Ref: genRef(r), Pid: genPid(r), Name: proc.Name{Name: genString(r), Node: "n@h"}, Reason: genValue(r, depth-1)}
	case 18:
		return proc.CallRequest{From: genPid(r), Ref: genRef(r), Request: genValue(r, depth-1)}
	case 19:
		return proc.CallReply{Ref: genRef(r), Reply: genValue(r, depth-1)}
	case 20:
		return &proc.ExitError{Pid: genPid(r), Reason: genValue(r, depth-1)}
	}
	return &RemoteError{Kind: genString(r), Message: genString(r)}
}
