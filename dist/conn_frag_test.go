package dist

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// halves is a FragmentingCodec that cuts payloads of over 4 bytes in two
// frames, each with a header byte of its own.
type halves struct{ NativeCodec }

func (halves) Fragments(payload []byte, frame func(head, data []byte)) bool {
	if len(payload) <= 4 {
		return false
	}
	frame([]byte{'A'}, payload[:len(payload)/2])
	frame([]byte{'B'}, payload[len(payload)/2:])
	return true
}

// queueFrames splits a connection's queue into its frame payloads.
func queueFrames(t *testing.T, q []byte) []string {
	var out []string
	for len(q) > 0 {
		n := int(binary.BigEndian.Uint32(q))
		if 4+n > len(q) {
			t.Fatalf("frame of %d bytes in %d", n, len(q)-4)
		}
		out = append(out, string(q[4:4+n]))
		q = q[4+n:]
	}
	return out
}

// A FragmentingCodec's fragments are queued as frames of their own, back
// to back, for one message of the queue; a payload it leaves whole, and
// every payload of a codec without the hook, is one frame.
func TestAppendFragments(t *testing.T) {
	c := newConnForQueue(&halves{})
	c.appendFrameLocked([]byte("abcdef"))
	c.appendFrameLocked([]byte("xy"))
	if got, want := queueFrames(t, c.queue), []string{"Aabc", "Bdef", "xy"}; !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
	if c.queued != 2 || c.stats.msgsOut.Load() != 3 || c.stats.bytesOut.Load() != 3*4+4+4+2 {
		t.Errorf("queued %d, frames out %d, bytes out %d; want 2 messages, 3 frames, 22 bytes", c.queued, c.stats.msgsOut.Load(), c.stats.bytesOut.Load())
	}

	native := newConnForQueue(NewNativeCodec())
	native.appendFrameLocked([]byte("abcdef"))
	if !bytes.Equal(native.queue, []byte{0, 0, 0, 6, 'a', 'b', 'c', 'd', 'e', 'f'}) || native.queued != 1 {
		t.Errorf("native queue % x (%d messages)", native.queue, native.queued)
	}
	// The native path allocates nothing once the queue has room.
	native.queue = make([]byte, 0, 1<<10)
	payload := []byte("a payload of some bytes")
	if n := testing.AllocsPerRun(100, func() {
		native.queue = native.queue[:0]
		native.appendFrameLocked(payload)
	}); n != 0 {
		t.Errorf("%v allocations per native frame, want 0", n)
	}
}

func newConnForQueue(codec Codec) *conn {
	c := &conn{codec: codec}
	c.hookFragments()
	return c
}
