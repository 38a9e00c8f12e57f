package erlang

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/dist/wire"
)

// Packets with a distribution header. The dialect offers FRAGMENTS (and
// not DIST_HDR_ATOM_CACHE); a BEAM peer that agrees then writes every
// packet with a distribution header of no atom cache references, and a
// large message in fragments:
//
//	131 68 0 Control [Message]                          a whole message
//	131 69 SeqID:u64 FragID:u64 0 Control [Message]...  its first fragment
//	131 70 SeqID:u64 FragID:u64 ...                     the next ones
//
// The terms after a header have no 131 of their own. FragID counts down
// from the number of fragments to 1, the last; fragments of one sequence
// (one sending process) come in order, but those of other sequences and
// whole messages may come between them. gonode writes these forms to
// such a peer (fragments for a message over 64 KiB, see
// fragments_out.go), and pass-through packets, 'p' 131 Control [131
// Message], to a peer that did not agree FRAGMENTS, as that peer writes
// them.
const (
	distHeader = 68
	fragHeader = 69
	fragCont   = 70
)

// Bounds of reassembly per connection: the bytes held across every
// sequence in flight may not pass the frame limit (gonode's largest
// packet, which the BEAM's whole packets would otherwise be held to),
// and no more than maxSequences messages may be in flight at once (one
// per sending process of the peer: a BEAM node interleaves a few). A peer
// beyond either is refused as a malformed packet, which closes the
// connection with a log line saying why.
const (
	maxReassembled = wire.DefaultMaxFrame
	maxSequences   = 64
)

// reassembly holds the fragments of the messages in flight.
type reassembly struct {
	mu    sync.Mutex // guards seqs and held (Decode runs on the reader, one frame at a time)
	seqs  map[uint64]*partial
	held  int // bytes in seqs
	limit int // of held; 0 is maxReassembled (tests set less)
}

type partial struct {
	next uint64 // the FragID expected next
	buf  []byte // Control and Message so far
}

// unframe returns the control message and message bytes of a packet,
// and whether their terms carry their own 131 (pass-through) or not
// (after a distribution header). A fragment other than the last gives
// nil and dist.ErrIgnored: the message is decoded when it is whole.
func (c *Codec) unframe(frame []byte) (body []byte, tagged bool, err error) {
	if len(frame) > 0 && frame[0] == passThrough {
		return frame[1:], true, nil
	}
	if len(frame) < 3 || frame[0] != etf.VersionMagic {
		return nil, false, malformed("packet type %d, want pass-through 112 or a distribution header 131", first(frame))
	}
	switch frame[1] {
	case distHeader:
		if frame[2] != 0 {
			return nil, false, malformed("distribution header with %d atom cache references (no atom cache was agreed)", frame[2])
		}
		return frame[3:], false, nil
	case fragHeader, fragCont:
	default:
		return nil, false, malformed("distribution header type %d, want 68, 69 or 70", frame[1])
	}
	head := 18
	if frame[1] == fragHeader {
		head = 19
	}
	if len(frame) < head {
		return nil, false, malformed("fragment header of %d bytes", len(frame))
	}
	seq := binary.BigEndian.Uint64(frame[2:])
	id := binary.BigEndian.Uint64(frame[10:])
	if frame[1] == fragHeader && frame[18] != 0 {
		return nil, false, malformed("fragment header with %d atom cache references (no atom cache was agreed)", frame[18])
	}
	body, err = c.frags.add(frame[1] == fragHeader, seq, id, frame[head:])
	return body, false, err
}

// add takes one fragment's data, copying it, and returns the message once
// its last fragment is in.
func (r *reassembly) add(firstFrag bool, seq, id uint64, data []byte) ([]byte, error) {
	if id == 0 {
		return nil, malformed("fragment %d of sequence %d: fragment ids count down to 1", id, seq)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.seqs[seq]
	switch {
	case firstFrag && p != nil:
		return nil, malformed("sequence %d started again before its last fragment", seq)
	case firstFrag && id == 1:
		return data, nil // one fragment: the message is whole
	case firstFrag && len(r.seqs) >= maxSequences:
		return nil, malformed("more than %d fragmented messages in flight", maxSequences)
	case firstFrag:
		if r.seqs == nil {
			r.seqs = make(map[uint64]*partial)
		}
		p = &partial{next: id}
		r.seqs[seq] = p
	case p == nil:
		return nil, malformed("fragment %d of sequence %d, which has not started", id, seq)
	case id != p.next:
		return nil, malformed("fragment %d of sequence %d, want %d", id, seq, p.next)
	}
	limit := r.limit
	if limit == 0 {
		limit = maxReassembled
	}
	if r.held+len(data) > limit {
		return nil, malformed("fragmented messages in flight would hold %d bytes, over the limit of %d", r.held+len(data), limit)
	}
	p.buf = append(p.buf, data...)
	r.held += len(data)
	if id > 1 {
		p.next = id - 1
		return nil, dist.ErrIgnored
	}
	delete(r.seqs, seq)
	r.held -= len(p.buf)
	return p.buf, nil
}

// appendPacket appends a packet of the control message ctl and, if
// hasMsg, its message: pass-through to a peer without FRAGMENTS, after a
// distribution header to one with it (a BEAM that agreed FRAGMENTS
// refuses pass-through packets: "Got message from incompatible erlang").
// On error it returns dst unchanged.
func (c *Codec) appendPacket(dst []byte, ctl etf.Tuple, msg any, hasMsg bool) ([]byte, error) {
	var out []byte
	var err error
	if c.agreed&handshake.FlagFragments != 0 {
		out, err = etf.AppendUntagged(append(dst, etf.VersionMagic, distHeader, 0), ctl)
		if err == nil && hasMsg {
			out, err = etf.AppendUntagged(out, msg)
		}
	} else {
		out, err = etf.Append(append(dst, passThrough), ctl)
		if err == nil && hasMsg {
			out, err = etf.Append(out, msg)
		}
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

// decodeTerm reads one term of a packet's body.
func decodeTerm(b []byte, tagged bool) (any, []byte, error) {
	if tagged {
		return etf.Decode(b)
	}
	return etf.DecodeUntagged(b)
}

// String says what the reassembly holds, for tests and errors.
func (r *reassembly) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d sequences, %d bytes", len(r.seqs), r.held)
}
