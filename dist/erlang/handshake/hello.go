package handshake

import "encoding/binary"

// HelloLen is how many bytes IsErlangHello needs.
const HelloLen = 3

// IsErlangHello reports whether the first bytes a dialer sent open an
// Erlang send_name: [Len:u16] with a length a send_name can have, then
// 'N' (OTP 23 and later) or 'n' (the old form Accept also takes). It needs
// HelloLen bytes; with fewer it answers false (see MayBeErlangHello).
//
// gonode's native hello opens [Len:u16] 1 "GOND" and a TLS ClientHello
// 0x16 0x03: the third byte tells all three apart, and a native hello
// is never longer than 1024 bytes, so its first byte is at most 4.
func IsErlangHello(peek []byte) bool {
	if len(peek) < HelloLen {
		return false
	}
	n := int(binary.BigEndian.Uint16(peek))
	switch peek[2] {
	case tagSendName:
		return n > sendNameFixed && n <= MaxMessage
	case tagOldSendName:
		return n > oldSendNameFixed && n <= oldSendNameFixed+MaxNameLen
	}
	return false
}

// MayBeErlangHello reports whether prefix, however short, could still be
// the start of an Erlang send_name, so that a listener sniffing several
// protocols byte by byte refuses anything else at once: it is false as
// soon as a byte rules the send_name out, and equals IsErlangHello from
// HelloLen bytes on.
func MayBeErlangHello(prefix []byte) bool {
	switch len(prefix) {
	case 0:
		return true
	case 1:
		return int(prefix[0]) <= MaxMessage>>8
	case 2:
		n := int(binary.BigEndian.Uint16(prefix))
		return n > oldSendNameFixed && n <= MaxMessage
	}
	return IsErlangHello(prefix)
}
