package erlang

import (
	"encoding/binary"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
)

// Sending in fragments, as OTP's erts does (dist.c, dsig_send): to a peer
// that agreed FRAGMENTS, a packet whose message (the term after the
// control message) is over fragSize goes in ceil(len/fragSize) fragments.
// The first carries the control message whole and the first fragSize
// bytes of the message, each next one fragSize bytes more (the last the
// rest):
//
//	131 69 SeqID:u64 N 0 Control Message[:64K]
//	131 70 SeqID:u64 N-1 Message[64K:128K]
//	...
//	131 70 SeqID:u64 1 Message[...]
//
// The BEAM sizes the control message from the first fragment alone, so it
// must be there whole. A packet without a message (a control message
// only, however large) goes whole, as OTP sends it. Sequence ids count up
// per connection from 1 (0 marks a packet that is not fragmented). dist
// queues a message's fragments back to back, so the peer never has more
// than one of gonode's sequences in flight, though it would take several.
const fragSize = 64 << 10

var _ dist.FragmentingCodec = (*Codec)(nil)

// Fragments cuts payload, a packet Encode made, into fragments if it is
// to be sent so (see dist.FragmentingCodec).
func (c *Codec) Fragments(payload []byte, frame func(head, data []byte)) bool {
	if c.agreed&handshake.FlagFragments == 0 || len(payload) <= 3+fragSize ||
		payload[0] != etf.VersionMagic || payload[1] != distHeader || payload[2] != 0 {
		return false
	}
	body := payload[3:]
	ctl := controlLen(body)
	if ctl < 0 || len(body)-ctl <= fragSize {
		return false
	}
	n := uint64((len(body) - ctl + fragSize - 1) / fragSize)
	seq := c.fragSeq.Add(1)
	var head [19]byte
	head[0], head[1] = etf.VersionMagic, fragHeader
	binary.BigEndian.PutUint64(head[2:], seq)
	binary.BigEndian.PutUint64(head[10:], n)
	head[18] = 0 // no atom cache references
	frame(head[:19], body[:ctl+fragSize])
	body = body[ctl+fragSize:]
	head[1] = fragCont
	for id := n - 1; id >= 1; id-- {
		binary.BigEndian.PutUint64(head[10:], id)
		k := min(fragSize, len(body))
		frame(head[:18], body[:k])
		body = body[k:]
	}
	return true
}

// controlLen is the length of the control message at the start of body
// (untagged, after a distribution header), or -1 if it does not end
// within fragSize bytes: such a packet goes whole. The control messages
// gonode writes with a message after them are tuples of pids, refs and
// atoms, a few hundred bytes at most, so this decodes little.
func controlLen(body []byte) int {
	window := body[:min(len(body), fragSize)]
	_, rest, err := etf.DecodeUntagged(window)
	if err != nil {
		return -1
	}
	return len(window) - len(rest)
}
