package dist

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gonode/gonode/dist/wire"
)

// TestBatchedFramesInOrderThenGarbage: frames that arrive in a burst are
// decoded beside the reader, in order, between frames that arrive alone;
// an undecodable frame in a burst closes the connection as a protocol
// error, after every frame before it was delivered and none after it.
func TestBatchedFramesInOrderThenGarbage(t *testing.T) {
	t.Parallel()
	cl := newCluster(t)
	a := cl.start("a@localhost")
	me := attach(t, a)
	frame := func(payload any) []byte {
		b, err := a.codec.Encode(nil, &Message{Kind: KindSend, To: me.Pid(), Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{byte(len(b) >> 24), byte(len(b) >> 16), byte(len(b) >> 8), byte(len(b))}, b...)
	}
	var burst []byte
	for i := range 300 {
		burst = append(burst, frame(fmt.Sprint("burst ", i))...)
	}
	var bad []byte
	for i := range 50 {
		bad = append(bad, frame(fmt.Sprint("before ", i))...)
	}
	bad = append(bad, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1) // 0xc1: never used by MessagePack
	for i := range 50 {
		bad = append(bad, frame(fmt.Sprint("after ", i))...)
	}

	ours, theirs := net.Pipe()
	defer theirs.Close()
	c := newConn(a, newJamConn(ours, false), bufio.NewReaderSize(ours, 64<<10), wire.PeerInfo{Name: "ghost@localhost", Creation: 7}, a.codec)
	a.wg.Add(1)
	done := make(chan struct{})
	go func() { defer close(done); c.readLoop() }()
	defer func() { c.close(errors.New("test over")); <-done }()

	// The pipe is unbuffered: each write waits for the reader, so it
	// runs beside the test, which reads what arrives. An error shows as a
	// missing message.
	write := func(p []byte) { _, _ = theirs.Write(p) }
	expect := func(want string) {
		t.Helper()
		if got := recv(t, me); got != want {
			t.Fatalf("got %#v, want %q", got, want)
		}
	}
	go write(frame("alone 1"))
	expect("alone 1")
	go write(burst)
	for i := range 300 {
		expect(fmt.Sprint("burst ", i))
	}
	go write(frame("alone 2"))
	expect("alone 2")

	go write(bad)
	for i := range 50 {
		expect(fmt.Sprint("before ", i))
	}
	<-done
	if r := c.closeReason(); r == nil || !strings.Contains(r.Error(), "protocol error") {
		t.Fatalf("closed with %v, want a protocol error", r)
	}
	if m, err := me.ReceiveTimeout(0); err == nil {
		t.Fatalf("a frame after the undecodable one was delivered: %v", m)
	}
}
