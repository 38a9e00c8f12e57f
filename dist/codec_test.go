package dist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

var (
	pidA = proc.Pid{Node: "alpha@host", ID: 42, Serial: 1, Creation: 7}
	pidB = proc.Pid{Node: "beta@host", ID: 1 << 31, Serial: 0, Creation: math.MaxUint32}
	refA = proc.Ref{Node: "alpha@host", Creation: 7, ID: [3]uint32{1, 2, math.MaxUint32}}
)

func roundTrip(t *testing.T, m Message) Message {
	t.Helper()
	c := NewNativeCodec()
	frame, err := c.Encode(nil, &m)
	if err != nil {
		t.Fatalf("encode %v: %v", m.Kind, err)
	}
	got, err := c.Decode(frame)
	if err != nil {
		t.Fatalf("decode %v: %v (frame %x)", m.Kind, err, frame)
	}
	return got
}

// Every kind, with the fields the table in Message's comment gives it.
func TestCodecRoundTripKinds(t *testing.T) {
	byName := proc.Pid{Node: "beta@host"}
	tests := []Message{
		{Kind: KindSend, From: pidA, To: pidB, Payload: "hello"},
		{Kind: KindSend, To: pidB, Payload: []any{1, "two", pidA, proc.Atom("three")}},
		{Kind: KindRegSend, From: pidA, To: byName, ToName: "logger", Payload: map[string]any{"level": "info", "from": pidA}},
		{Kind: KindLink, From: pidA, To: pidB},
		{Kind: KindUnlink, From: pidA, To: pidB},
		{Kind: KindExit, From: pidA, To: pidB, Payload: proc.Normal},
		{Kind: KindExit, From: pidA, To: pidB, Payload: proc.PanicReason{Value: "boom", Stack: "goroutine 1 [running]:\n..."}},
		{Kind: KindExit2, From: pidA, To: pidB, Payload: proc.Kill},
		{Kind: KindMonitor, From: pidA, To: pidB, Ref: refA},
		{Kind: KindMonitor, From: pidA, To: byName, ToName: "db", Ref: refA},
		{Kind: KindDemonitor, From: pidA, To: pidB, Ref: refA},
		{Kind: KindDown, From: pidB, To: pidA, Ref: refA, Payload: proc.NoProc},
		{Kind: KindDown, To: pidA, ToName: "db", Ref: refA, Payload: proc.NoConnection},
		{Kind: KindSpawnRequest, From: pidA, To: byName, Ref: refA, Fn: "worker", Args: []any{3, "x"}, Link: true, Monitor: true},
		{Kind: KindSpawnRequest, From: pidA, To: byName, Ref: refA, Source: "func(p *proc.Process) { p.Receive() }"},
		{Kind: KindSpawnReply, From: pidB, To: pidA, Ref: refA},
		{Kind: KindSpawnReply, To: pidA, Ref: refA, Err: &RemoteError{Kind: RemoteUndef, Message: "no function worker"}},
		{Kind: KindCall, From: pidA, To: byName, Ref: refA, Fn: "math.Add", Args: []any{1, 2}},
		{Kind: KindCall, From: pidA, To: byName, Ref: refA, Fn: "noargs", Args: []any{}},
		{Kind: KindReply, To: pidA, Ref: refA, Payload: 3},
		{Kind: KindReply, To: pidA, Ref: refA, Err: &RemoteError{Kind: RemotePanic, Message: "runtime error: index out of range"}},
		{Kind: KindCast, To: byName, Fn: "log", Args: []any{"hi"}},
		{Kind: KindPeers, Payload: []any{"gamma@host", "delta@host"}},
		{Kind: KindCancel, Ref: refA},
		{Kind: KindTickTime, Payload: 60000},
	}
	seen := map[Kind]bool{}
	for _, m := range tests {
		seen[m.Kind] = true
		if got := roundTrip(t, m); !reflect.DeepEqual(got, m) {
			t.Errorf("%v:\n got %#v\nwant %#v", m.Kind, got, m)
		}
	}
	for k := Kind(1); k.Valid(); k++ {
		if !seen[k] {
			t.Errorf("kind %v has no round-trip case", k)
		}
	}
}

// gonode's types keep their Go types at any depth.
func TestCodecNestedTypes(t *testing.T) {
	exitErr := &proc.ExitError{Pid: pidB, Reason: proc.NoProc}
	payload := map[string]any{
		"pids":   []any{pidA, pidB, []any{pidA, map[string]any{"deep": pidB}}},
		"ref":    refA,
		"atom":   proc.Atom("ok"),
		"name":   proc.Name{Name: "db", Node: "beta@host"},
		"exit":   proc.ExitMsg{From: pidA, Reason: proc.Atom("shutdown")},
		"down":   proc.DownMsg{Ref: refA, Name: proc.Name{Name: "db", Node: "beta@host"}, Reason: []any{proc.NoConnection}},
		"panic":  proc.PanicReason{Value: map[string]any{"why": pidA}, Stack: "stack"},
		"call":   proc.CallRequest{From: pidA, Ref: refA, Request: []any{proc.Atom("get"), "key"}},
		"reply":  proc.CallReply{Ref: refA, Reply: proc.ExitMsg{From: pidB, Reason: proc.Killed}},
		"exiter": exitErr,
		"remote": &RemoteError{Kind: RemoteTimeout},
		"when":   time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC),
		"bytes":  []byte{0, 1, 2},
		"mixed":  map[any]any{1: "one", pidA: "pid", "s": proc.Atom("x")},
		"nil":    nil,
		"f":      1.5,
		"big":    uint64(math.MaxUint64),
		"neg":    math.MinInt64,
	}
	got := roundTrip(t, Message{Kind: KindSend, To: pidB, Payload: payload})
	if !reflect.DeepEqual(got.Payload, payload) {
		t.Fatalf("got  %#v\nwant %#v", got.Payload, payload)
	}
	e := got.Payload.(map[string]any)["exiter"].(*proc.ExitError)
	if !errors.Is(e, proc.ErrNoProc) {
		t.Errorf("ExitError lost its meaning: %v", e)
	}
}

type point struct {
	X, Y int
	Who  proc.Pid
	Tag  string `msgpack:"tag"`
	skip int
}

type textID int

func (id textID) MarshalText() ([]byte, error) { return []byte("id-" + string(rune('0'+id))), nil }

// The documented changes: integers become int (uint64 above MaxInt64),
// float32 becomes float64, other slices []any, user structs maps, errors
// *RemoteError.
func TestCodecConversions(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"int", 5, 5},
		{"int 200", 200, 200},
		{"uint8", uint8(200), 200},
		{"uint64 small", uint64(1 << 40), 1 << 40},
		{"uint64 big", uint64(1 << 63), uint64(1 << 63)},
		{"int16 negative", int16(-300), -300},
		{"float32", float32(0.5), float64(0.5)},
		{"typed slice", []int{1, 200, -3}, []any{1, 200, -3}},
		{"typed pid slice", []proc.Pid{pidA}, []any{pidA}},
		{"array", [2]string{"a", "b"}, []any{"a", "b"}},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": 1}},
		{"int-keyed map", map[int]string{7: "x"}, map[any]any{7: "x"}},
		{"struct", point{X: 1, Y: 300, Who: pidA, Tag: "t", skip: 9},
			map[string]any{"X": 1, "Y": 300, "Who": pidA, "tag": "t"}},
		{"struct pointer", &point{X: 2}, map[string]any{"X": 2, "Y": 0, "Who": proc.Pid{}, "tag": ""}},
		{"pid pointer", &pidA, pidA},
		{"atom pointer in struct", struct{ A *proc.Atom }{A: ptr(proc.Atom("a"))}, map[string]any{"A": proc.Atom("a")}},
		{"text marshaler", textID(3), []byte("id-3")},
		{"error", errors.New("disk full"), &RemoteError{Kind: RemoteGoError, Message: "disk full"}},
		{"wrapped error in slice", []any{errors.Join(errors.New("a"))}, []any{&RemoteError{Kind: RemoteGoError, Message: "a"}}},
		{"remote error value", RemoteError{Kind: RemoteBadarg, Message: "m"}, &RemoteError{Kind: RemoteBadarg, Message: "m"}},
		{"panic reason pointer", &proc.PanicReason{Value: "v"}, proc.PanicReason{Value: "v"}},
		{"local time", time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)), time.Date(2024, 1, 2, 2, 4, 5, 6, time.UTC)},
		{"nil slice", []any(nil), emptyArray},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTrip(t, Message{Kind: KindSend, To: pidB, Payload: tt.in})
			if !reflect.DeepEqual(got.Payload, tt.want) {
				t.Errorf("got %#v (%T), want %#v (%T)", got.Payload, got.Payload, tt.want, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCodecUnencodable(t *testing.T) {
	c := NewNativeCodec()
	deep := []any{}
	for range MaxDepth + 1 {
		deep = []any{deep}
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for name, m := range map[string]Message{
		"kind 0":      {To: pidB},
		"kind 99":     {Kind: 99},
		"channel":     {Kind: KindSend, Payload: make(chan int)},
		"func":        {Kind: KindSend, Payload: []any{func() {}}},
		"too deep":    {Kind: KindSend, Payload: deep},
		"cyclic":      {Kind: KindSend, Payload: cyclic},
		"panicky":     {Kind: KindSend, Payload: panicky{}},
		"in args":     {Kind: KindCall, Fn: "f", Args: []any{make(chan int)}},
		"struct chan": {Kind: KindSend, Payload: struct{ C chan int }{}},
	} {
		dst := []byte("keep")
		out, err := c.Encode(dst, &m)
		if !errors.Is(err, ErrUnencodable) {
			t.Errorf("%s: got %v, want ErrUnencodable", name, err)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed to %q", name, out)
		}
	}
}

type panicky struct{}

func (panicky) MarshalMsgpack() ([]byte, error) { panic("marshal exploded") }

// Encode appends: several messages encoded into one buffer decode one by one.
func TestCodecAppends(t *testing.T) {
	c := NewNativeCodec()
	m1 := Message{Kind: KindSend, To: pidB, Payload: strings.Repeat("x", 300)}
	m2 := Message{Kind: KindLink, From: pidA, To: pidB}
	b, _ := c.Encode([]byte("prefix"), &m1)
	n1 := len(b)
	b, _ = c.Encode(b, &m2)
	if string(b[:6]) != "prefix" {
		t.Fatal("prefix overwritten")
	}
	if got, err := c.Decode(b[6:n1]); err != nil || !reflect.DeepEqual(got, m1) {
		t.Fatalf("first: %v %v", got, err)
	}
	if got, err := c.Decode(b[n1:]); err != nil || !reflect.DeepEqual(got, m2) {
		t.Fatalf("second: %v %v", got, err)
	}
}

// Decode keeps nothing of the frame: the frame reader reuses its buffer.
func TestCodecDecodeCopies(t *testing.T) {
	c := NewNativeCodec()
	m := Message{Kind: KindSend, From: pidA, To: pidB, Payload: []any{"text", []byte("bin"), proc.Atom("custom_atom")}}
	frame, _ := c.Encode(nil, &m)
	got, err := c.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frame {
		frame[i] = 0xff
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("decoded message changed with its frame: %#v", got)
	}
}

// Long strings and big extension bodies take the wider headers.
func TestCodecLargeValues(t *testing.T) {
	for _, n := range []int{31, 32, 255, 256, 65535, 65536, 1 << 17} {
		s := strings.Repeat("y", n)
		m := Message{Kind: KindSend, To: pidB, Payload: []any{
			s, []byte(s), proc.Atom(s), proc.ExitMsg{From: pidA, Reason: s},
			make([]any, n%70000), map[string]any{s: s},
		}}
		m.Payload.([]any)[4].([]any)[0] = nil
		if got := roundTrip(t, m); !reflect.DeepEqual(got, m) {
			t.Fatalf("size %d: round trip differs", n)
		}
	}
}

func TestCodecSkipsUnknownFields(t *testing.T) {
	c := NewNativeCodec()
	// {kind: send, 40: [1, "later"], 6: "payload"}
	frame := []byte{0x83, fieldKind, byte(KindSend), 40, 0x92, 0x01, 0xa5, 'l', 'a', 't', 'e', 'r', fieldPayload, 0xa1, 'p'}
	got, err := c.Decode(frame)
	if err != nil || got.Kind != KindSend || got.Payload != "p" {
		t.Fatalf("got %#v, %v", got, err)
	}
}

func TestCodecMalformed(t *testing.T) {
	c := NewNativeCodec()
	good, _ := c.Encode(nil, &Message{Kind: KindSend, From: pidA, To: pidB, Payload: []any{"x", refA}})
	frames := map[string][]byte{
		"empty":          {},
		"not a map":      {0x91, 0x01},
		"no kind":        {0x81, fieldPayload, 0x01},
		"unknown kind":   {0x81, fieldKind, 99},
		"duplicate":      {0x82, fieldKind, 1, fieldKind, 1},
		"trailing":       append(append([]byte{}, good...), 0),
		"truncated":      good[:len(good)-1],
		"reserved code":  {0x82, fieldKind, 1, fieldPayload, 0xc1},
		"pid not ext":    {0x82, fieldKind, 1, fieldFrom, 0x01},
		"pid wrong ext":  {0x82, fieldKind, 1, fieldFrom, 0xd4, byte(extAtom), 'a'},
		"args not array": {0x82, fieldKind, 1, fieldArgs, 0x01},
		"err not error":  {0x82, fieldKind, 1, fieldErr, 0x01},
		"negative id":    {0x82, fieldKind, 1, fieldFrom, 0xc7, 5, byte(extPid), 0xa1, 'n', 0xff, 0, 0},
		"id too big":     {0x82, fieldKind, 1, fieldFrom, 0xc7, 9, byte(extPid), 0xa1, 'n', 0xcf, 0, 0, 0, 1, 0, 0, 0},
		"unknown ext":    {0x82, fieldKind, 1, fieldPayload, 0xd4, 77, 0},
		"ext leftovers":  {0x82, fieldKind, 1, fieldPayload, 0xc7, 3, byte(extRemoteError), 0xa0, 0xa0, 0x01},
		"bad timestamp":  {0x82, fieldKind, 1, fieldPayload, 0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		"slice map key":  {0x82, fieldKind, 1, fieldPayload, 0x81, 0x90, 0x01},
		"map key ext":    {0x82, fieldKind, 1, fieldPayload, 0x81, 0xc7, 2, byte(extRemoteError), 0xa0, 0xa0, 0x01},
		"huge array":     {0x82, fieldKind, 1, fieldPayload, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge map":       {0x82, fieldKind, 1, fieldPayload, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge str":       {0x82, fieldKind, 1, fieldPayload, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge bin":       {0x82, fieldKind, 1, fieldPayload, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge ext":       {0x82, fieldKind, 1, fieldPayload, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge envelope":  {0xdf, 0xff, 0xff, 0xff, 0xff},
		"too deep":       append([]byte{0x82, fieldKind, 1, fieldPayload}, bytes.Repeat([]byte{0x91}, MaxDepth+1)...),
		"deep ext":       deepExt(MaxDepth + 1),
	}
	for name, frame := range frames {
		if _, err := c.Decode(frame); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

// deepExt nests ExitMsg reasons n deep, by hand: the encoder would refuse.
func deepExt(n int) []byte {
	inner := []byte{0xd4, byte(extAtom), 'x'}
	for range n {
		b := []byte{0xc9, 0, 0, 0, 0, byte(extExitMsg), 0xa1, 'n', 0, 0, 0}
		b = append(b, inner...)
		binary.BigEndian.PutUint32(b[1:], uint32(len(b)-6))
		inner = b
	}
	return append([]byte{0x82, fieldKind, 1, fieldPayload}, inner...)
}

// Decoding allocates a bounded multiple of the frame's size, however large
// the lengths the frame claims and whatever it holds.
func TestCodecDecodeAllocationBound(t *testing.T) {
	c := NewNativeCodec()
	const n = 1 << 16
	chain := append(bytes.Repeat([]byte{0x81, 0xa0}, MaxDepth-2), 0xc0) // {"": {"": ... nil}}
	frames := map[string][]byte{
		"empty maps":      hostile(0xdd, n, 0x80),
		"one-entry maps":  hostile(0xdd, n/3, 0x81, 0xa0, 0xc0),
		"int-keyed maps":  hostile(0xdd, n/3, 0x81, 0x01, 0xc0),
		"nested maps":     hostile(0xdd, n/len(chain), chain...),
		"empty arrays":    hostile(0xdd, n, 0x90),
		"one-elem arrays": hostile(0xdd, n/2, 0x91, 0xc0),
		"empty strings":   hostile(0xdd, n, 0xa0),
		"empty bins":      hostile(0xdd, n/2, 0xc4, 0),
		"negative ints":   hostile(0xdd, n, 0xff),
		"one-byte atoms":  hostile(0xdd, n/3, 0xd4, byte(extAtom), 'a'),
		"empty errors":    hostile(0xdd, n/4, 0xd5, byte(extRemoteError), 0xa0, 0xa0),
		"nils":            hostile(0xdd, n, 0xc0),
		"map of nils":     hostile(0xdf, n/2, 0xa0, 0xc0),
		"short claim":     hostile(0xdd, n, 0xc0)[:9+n-1], // one element fewer than claimed
	}
	for name, frame := range frames {
		got := allocatedBy(func() { _, _ = c.Decode(frame) })
		if limit := uint64(decodeAllocFactor*len(frame) + decodeAllocSlack); got > limit {
			t.Errorf("%s: decoding %d bytes allocated %d (%.1f per byte), limit %d", name, len(frame), got, float64(got)/float64(len(frame)), limit)
		}
	}
	// The budget refuses the pathological shapes, and only those.
	for _, name := range []string{"one-entry maps", "nested maps"} {
		if _, err := c.Decode(frames[name]); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "per frame byte") {
			t.Errorf("%s: got %v, want the budget refusal", name, err)
		}
	}
	records := hostile(0xdd, n/4, 0x81, 0xa1, 'x', 0x01) // [{"x": 1}, ...]
	if m, err := c.Decode(records); err != nil || len(m.Payload.([]any)) != n/4 {
		t.Errorf("a list of small records: %v", err)
	}
}

// The bound Decode promises, checked here and in FuzzDecode: its budget,
// give or take the estimates' error.
const (
	decodeAllocFactor = DecodeBudgetFactor * 5 / 4
	decodeAllocSlack  = DecodeBudgetFloor * 5 / 4
)

// hostile builds {kind: send, payload: <array 32 or map 32 of count elems>}.
func hostile(code byte, count int, elem ...byte) []byte {
	b := []byte{0x82, fieldKind, 1, fieldPayload, code, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[5:], uint32(count))
	for range count {
		b = append(b, elem...)
	}
	return b
}

// allocatedBy returns the bytes f allocates. TotalAlloc counts every
// goroutine of the process (the race detector's and other tests' too), so
// it takes the least of several runs: noise only ever adds.
func allocatedBy(f func()) uint64 {
	least := uint64(1<<64 - 1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

func TestMessageSignal(t *testing.T) {
	for _, s := range []proc.Signal{
		{Kind: proc.SigSend, From: pidA, To: pidB, Msg: "hi"},
		{Kind: proc.SigSendName, From: pidA, To: proc.Pid{Node: "beta@host"}, ToName: "log", Msg: []any{1}},
		{Kind: proc.SigLink, From: pidA, To: pidB},
		{Kind: proc.SigUnlink, From: pidA, To: pidB},
		{Kind: proc.SigExit, From: pidA, To: pidB, Msg: proc.Killed},
		{Kind: proc.SigExit2, From: pidA, To: pidB, Msg: proc.Kill},
		{Kind: proc.SigMonitor, From: pidA, To: pidB, Ref: refA},
		{Kind: proc.SigDemonitor, From: pidA, To: pidB, Ref: refA},
		{Kind: proc.SigDown, From: pidB, To: pidA, Ref: refA, ToName: "db", Msg: proc.NoProc},
	} {
		m := MessageFromSignal(s)
		if !m.Kind.Valid() {
			t.Fatalf("%v: no message kind", s.Kind)
		}
		back, ok := roundTrip(t, m).Signal()
		if !ok || !reflect.DeepEqual(back, s) {
			t.Errorf("%v: got %#v, %v; want %#v", s.Kind, back, ok, s)
		}
	}
	if m := MessageFromSignal(proc.Signal{Kind: 200}); m.Kind.Valid() {
		t.Errorf("unknown signal kind gave %v", m.Kind)
	}
	for _, k := range []Kind{KindSpawnRequest, KindSpawnReply, KindCall, KindReply, KindCast, KindPeers, 0} {
		if _, ok := (Message{Kind: k}).Signal(); ok {
			t.Errorf("%v converted to a signal", k)
		}
	}
}

func TestRemoteError(t *testing.T) {
	if !errors.Is(&RemoteError{Kind: RemoteTimeout}, proc.ErrTimeout) || !errors.Is(&RemoteError{Kind: RemoteNoProc}, proc.ErrNoProc) {
		t.Error("timeout and noproc should match proc's sentinels")
	}
	if errors.Is(&RemoteError{Kind: RemotePanic}, proc.ErrTimeout) {
		t.Error("panic matches timeout")
	}
	if got := (&RemoteError{Kind: RemoteUndef, Message: "no f"}).Error(); got != "remote undef: no f" {
		t.Errorf("Error() = %q", got)
	}
	re := &RemoteError{Kind: RemoteBadarg}
	for err, want := range map[error]*RemoteError{
		nil:                              nil,
		re:                               re,
		errors.Join(errors.New("x"), re): re,
		proc.ErrTimeout:                  {Kind: RemoteTimeout, Message: proc.ErrTimeout.Error()},
		&proc.ExitError{Pid: pidA, Reason: proc.NoProc}: {Kind: RemoteNoProc, Message: (&proc.ExitError{Pid: pidA, Reason: proc.NoProc}).Error()},
		errors.New("plain"):                             {Kind: RemoteGoError, Message: "plain"},
	} {
		if got := AsRemoteError(err); !reflect.DeepEqual(got, want) {
			t.Errorf("AsRemoteError(%v) = %#v, want %#v", err, got, want)
		}
	}
}

func TestKindString(t *testing.T) {
	if KindSpawnRequest.String() != "spawn_request" || Kind(0).String() != "kind(0)" || Kind(200).String() != "kind(200)" {
		t.Error("bad Kind names")
	}
	if Kind(0).Valid() || !KindTickTime.Valid() || Kind(KindTickTime+1).Valid() || KindTickTime.String() != "tick_time" {
		t.Error("bad Kind.Valid")
	}
}

var benchSend = Message{Kind: KindSend, From: pidA, To: pidB, Payload: "hello, world"}

func BenchmarkEncodeSend(b *testing.B) {
	c := NewNativeCodec()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = c.Encode(buf[:0], &benchSend)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeSend(b *testing.B) {
	c := NewNativeCodec()
	frame, _ := c.Encode(nil, &benchSend)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeNested(b *testing.B) {
	c := NewNativeCodec()
	m := Message{Kind: KindSend, From: pidA, To: pidB, Payload: map[string]any{
		"op": proc.Atom("put"), "key": "k", "val": []any{int64(1), 2.5, pidA}, "ref": refA,
	}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = c.Encode(buf[:0], &m)
	}
}

func BenchmarkDecodeNested(b *testing.B) {
	c := NewNativeCodec()
	m := Message{Kind: KindSend, From: pidA, To: pidB, Payload: map[string]any{
		"op": proc.Atom("put"), "key": "k", "val": []any{int64(1), 2.5, pidA}, "ref": refA,
	}}
	frame, _ := c.Encode(nil, &m)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Decode(frame)
	}
}

// The spawn options travel as fieldOpts bits: 1 Link, 2 Monitor,
// 4 Supervised. Each combination comes back as sent.
func TestCodecSpawnOptions(t *testing.T) {
	for bits := range 8 {
		m := Message{Kind: KindSpawnRequest, From: pidA, To: proc.Pid{Node: "beta@host"}, Ref: refA, Fn: "worker",
			Link: bits&1 != 0, Monitor: bits&2 != 0, Supervised: bits&4 != 0}
		if got := roundTrip(t, m); !reflect.DeepEqual(got, m) {
			t.Errorf("options %03b:\n got %#v\nwant %#v", bits, got, m)
		}
	}
}

// A remote exit keeps its kind and reason text across the wire.
func TestCodecRemoteExit(t *testing.T) {
	m := Message{Kind: KindReply, To: pidA, Ref: refA, Err: &RemoteError{Kind: RemoteExit, Message: ":bye"}}
	got := roundTrip(t, m)
	if !reflect.DeepEqual(got, m) || got.Err.Error() != "remote exit: :bye" {
		t.Errorf("got %#v (%v)", got, got.Err)
	}
}

// BenchmarkDecodeStream decodes the frame of BenchmarkRemoteStream's
// messages, []any{:msg, i}: what a receiving node's reader spends per
// message, with a connection's codec (which remembers pids) and with the
// shared one.
func BenchmarkDecodeStream(b *testing.B) {
	for _, tc := range []struct {
		name  string
		codec *NativeCodec
	}{{"conn", NewNativeCodec().forConn()}, {"shared", NewNativeCodec()}} {
		b.Run(tc.name, func(b *testing.B) {
			frame, _ := tc.codec.Encode(nil, &Message{Kind: KindSend, From: pidA, To: pidB, Payload: []any{proc.Atom("msg"), 123456}})
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.codec.Decode(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A connection's codec remembers the pids it read: frames whose pids
// differ in one number only, or share a body's length, still decode to
// their own pids, however the cache's slots turn over.
func TestPidCacheTellsPidsApart(t *testing.T) {
	shared := NewNativeCodec()
	conn := shared.forConn()
	var pids []proc.Pid
	for i := range 3 * pidCacheSlots {
		pids = append(pids, proc.Pid{Node: "alpha@host", ID: uint32(100 + i%7), Serial: uint32(i % 2), Creation: 7})
	}
	long := proc.Pid{Node: strings.Repeat("n", 200) + "@host", ID: 1}
	pids = append(pids, long, long, pidA, pidB)
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		m := Message{Kind: KindSend, From: pids[r.IntN(len(pids))], To: pids[r.IntN(len(pids))], Payload: 1}
		frame, err := shared.Encode(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := conn.Decode(frame)
		if err != nil || got.From != m.From || got.To != m.To {
			t.Fatalf("decoded %v -> %v, %v; sent %v -> %v", got.From, got.To, err, m.From, m.To)
		}
	}
}

// An encoder's memo of the last pids it wrote gives the bytes a fresh
// encoder writes, whichever pids follow each other (a pid differing in
// one number only, a node name too long to remember).
func TestPidMemoWritesWhatAFreshEncoderWrites(t *testing.T) {
	pids := []proc.Pid{pidA, pidB, {Node: pidA.Node, ID: pidA.ID + 1, Serial: pidA.Serial, Creation: pidA.Creation},
		{Node: pidA.Node, ID: pidA.ID, Serial: pidA.Serial, Creation: pidA.Creation + 1},
		{Node: strings.Repeat("n", 100) + "@host", ID: 3}}
	memo := &encoder{}
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		p := pids[r.IntN(len(pids))]
		fresh := &encoder{}
		fresh.pid(p)
		memo.b = memo.b[:0]
		memo.pid(p)
		if !bytes.Equal(memo.b, fresh.b) {
			t.Fatalf("pid %v: memo wrote % x, a fresh encoder % x", p, memo.b, fresh.b)
		}
	}
}
