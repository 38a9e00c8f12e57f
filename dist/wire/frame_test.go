package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var conn bytes.Buffer
	fw := NewFrameWriter(bufio.NewWriter(&conn), 0)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, bigger than the bufio.Reader
	frames := [][]byte{[]byte("hello"), nil, []byte("x"), big, []byte("after big"), big[:5000]}
	for _, f := range frames {
		if err := fw.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.WriteTick(); err != nil {
		t.Fatal(err)
	}
	if fw.Buffered() == 0 && conn.Len() == 0 {
		t.Fatal("nothing written")
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}

	fr := NewFrameReader(bufio.NewReaderSize(&conn, 4096), 0)
	for i, want := range append(frames, nil) {
		got, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %d bytes, want %d", i, len(got), len(want))
		}
	}
	if _, err := fr.ReadFrame(); err != io.EOF {
		t.Fatalf("at end: got %v, want io.EOF", err)
	}
}

func TestFrameReaderTruncated(t *testing.T) {
	for _, in := range [][]byte{{0, 0}, {0, 0, 0, 9, 'a'}, {0, 0x10, 0, 0, 'a'}} {
		fr := NewFrameReader(bufio.NewReaderSize(bytes.NewReader(in), 16), 0)
		if _, err := fr.ReadFrame(); err != io.ErrUnexpectedEOF {
			t.Errorf("%x: got %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
}

func TestFrameTooLarge(t *testing.T) {
	var conn bytes.Buffer
	fw := NewFrameWriter(bufio.NewWriter(&conn), 10)
	if err := fw.WriteFrame(make([]byte, 11)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("writer: got %v, want ErrFrameTooLarge", err)
	}
	if fw.Buffered() != 0 {
		t.Fatal("writer wrote part of a refused frame")
	}
	if err := fw.WriteFrame(make([]byte, 10)); err != nil {
		t.Fatalf("writer after refusal: %v", err)
	}

	fr := NewFrameReader(bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 11})), 10)
	if _, err := fr.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("reader: got %v, want ErrFrameTooLarge", err)
	}
}

// A length prefix of 4 GiB must be refused before anything is allocated for
// it, and a large announced frame that never arrives costs at most growStep.
func TestFrameHugeLengthNoAllocation(t *testing.T) {
	in := []byte{0xff, 0xff, 0xff, 0xff}
	if got := allocatedBy(func() {
		fr := NewFrameReader(bufio.NewReaderSize(bytes.NewReader(in), 16), 0)
		if _, err := fr.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("got %v, want ErrFrameTooLarge", err)
		}
	}); got > 4096 {
		t.Fatalf("refusing a huge frame allocated %d bytes", got)
	}

	in = []byte{0x03, 0xff, 0xff, 0xff, 'a'} // 64 MiB - 1 announced, 1 byte sent
	if got := allocatedBy(func() {
		fr := NewFrameReader(bufio.NewReaderSize(bytes.NewReader(in), 16), 0)
		if _, err := fr.ReadFrame(); err != io.ErrUnexpectedEOF {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
	}); got > growStep+64<<10 {
		t.Fatalf("a stalled 64 MiB frame allocated %d bytes", got)
	}
}

// Small frames come straight out of the bufio.Reader's buffer, and reading
// them allocates nothing.
func TestFrameReaderNoAllocs(t *testing.T) {
	var conn bytes.Buffer
	fw := NewFrameWriter(bufio.NewWriter(&conn), 0)
	for range 1000 {
		_ = fw.WriteFrame([]byte("a small message"))
	}
	_ = fw.Flush()
	fr := NewFrameReader(bufio.NewReader(&conn), 0)
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := fr.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ReadFrame allocated %v times per frame", allocs)
	}
}

// allocatedBy returns the bytes f allocates. TotalAlloc counts every
// goroutine of the process (the race detector's and other tests' too), so
// it takes the least of several runs: noise only ever adds.
func allocatedBy(f func()) uint64 {
	least := uint64(1<<64 - 1)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

func BenchmarkWriteFrame(b *testing.B) {
	fw := NewFrameWriter(bufio.NewWriter(io.Discard), 0)
	p := make([]byte, 100)
	b.ReportAllocs()
	for b.Loop() {
		_ = fw.WriteFrame(p)
	}
	_ = fw.Flush()
}
