package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Frame layout: [Len:u32 big-endian][Payload]. Len = 0 is a tick.
const (
	// FrameHeaderLen is the size of a frame's length prefix.
	FrameHeaderLen = 4
	// DefaultMaxFrame is the largest payload a FrameReader accepts and a
	// FrameWriter sends unless told otherwise.
	DefaultMaxFrame = 64 << 20

	// growStep bounds how much a FrameReader allocates ahead of the bytes
	// that have actually arrived: a peer announcing a 60 MiB frame and then
	// stalling costs at most this much.
	growStep = 1 << 20
	// retainMax is the largest buffer a FrameReader keeps between frames.
	retainMax = 1 << 20
)

// ErrFrameTooLarge is returned, wrapped with the sizes, for a frame whose
// length exceeds the limit. On the reading side the stream is then out of
// step and the connection must be closed; on the writing side nothing was
// written and the connection is still usable.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// FrameReader reads frames from a connection. It is used by one goroutine
// (the connection's reader).
type FrameReader struct {
	r   *bufio.Reader
	max int
	buf []byte
	hdr [FrameHeaderLen]byte
}

// NewFrameReader returns a reader of frames from r, refusing frames larger
// than max bytes (DefaultMaxFrame if max <= 0). r may already hold bytes
// that followed the handshake.
func NewFrameReader(r *bufio.Reader, max int) *FrameReader {
	if max <= 0 || max > math.MaxUint32 {
		max = DefaultMaxFrame
	}
	return &FrameReader{r: r, max: max}
}

// ReadFrame reads the next frame and returns its payload. A tick is returned
// as a zero-length payload with a nil error, so that the caller can treat
// every ReadFrame as a sign of life (for example by pushing its read
// deadline forward); messages are never empty.
//
// The payload aliases memory owned by the FrameReader or by its
// bufio.Reader: it is valid only until the next ReadFrame or other read
// from the bufio.Reader. Copy what must live longer (dist's codecs copy
// everything they keep).
//
// The length is checked against the limit before anything is allocated,
// and a large frame's buffer grows with the bytes that arrive rather than
// with the length the peer announced. At a clean end of stream between
// frames ReadFrame returns io.EOF; in the middle of a frame,
// io.ErrUnexpectedEOF.
func (fr *FrameReader) ReadFrame() ([]byte, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return nil, err
	}
	n64 := uint64(binary.BigEndian.Uint32(fr.hdr[:]))
	if n64 == 0 {
		return fr.hdr[:0], nil
	}
	if n64 > uint64(fr.max) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n64, fr.max)
	}
	n := int(n64)

	// Small frames: hand out the bufio.Reader's own buffer, no copy.
	if n <= fr.r.Size() {
		p, err := fr.r.Peek(n)
		if err != nil {
			return nil, unexpected(err)
		}
		_, _ = fr.r.Discard(n) // cannot fail: Peek returned n bytes
		return p, nil
	}

	if cap(fr.buf) >= n {
		p := fr.buf[:n]
		if _, err := io.ReadFull(fr.r, p); err != nil {
			return nil, unexpected(err)
		}
		return p, nil
	}
	p := make([]byte, 0, min(n, growStep))
	for len(p) < n {
		if len(p) == cap(p) {
			p = slices.Grow(p, min(n-len(p), len(p))) // at most double
		}
		m, err := io.ReadFull(fr.r, p[len(p):min(cap(p), n)])
		p = p[:len(p)+m]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	if cap(p) <= retainMax {
		fr.buf = p
	}
	return p, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// FrameWriter writes frames to a connection. It must be used by exactly one
// goroutine (the connection's writer): it is not safe for concurrent use.
//
// Frames are written into the bufio.Writer and reach the connection when it
// fills up or on Flush, so a writer goroutine should write every frame it
// has queued and Flush once its queue is empty: many small messages then
// cost one system call.
type FrameWriter struct {
	w   *bufio.Writer
	max int
	hdr [FrameHeaderLen]byte
}

// NewFrameWriter returns a writer of frames to w, refusing payloads larger
// than max bytes (DefaultMaxFrame if max <= 0), which should be the limit
// the peer reads with.
func NewFrameWriter(w *bufio.Writer, max int) *FrameWriter {
	if max <= 0 || max > math.MaxUint32 {
		max = DefaultMaxFrame
	}
	return &FrameWriter{w: w, max: max}
}

// WriteFrame writes one frame carrying p. An empty p writes a tick. A p
// over the limit returns ErrFrameTooLarge and writes nothing, so the
// connection stays usable. p is not retained.
func (fw *FrameWriter) WriteFrame(p []byte) error {
	if len(p) > fw.max {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(p), fw.max)
	}
	binary.BigEndian.PutUint32(fw.hdr[:], uint32(len(p)))
	if _, err := fw.w.Write(fw.hdr[:]); err != nil {
		return err
	}
	_, err := fw.w.Write(p)
	return err
}

// WriteTick writes a tick: a frame of length 0 that tells the peer this
// side is alive.
func (fw *FrameWriter) WriteTick() error {
	return fw.WriteFrame(nil)
}

// Flush sends the buffered frames to the connection.
func (fw *FrameWriter) Flush() error {
	return fw.w.Flush()
}

// Buffered returns the number of bytes written but not yet flushed.
func (fw *FrameWriter) Buffered() int {
	return fw.w.Buffered()
}
