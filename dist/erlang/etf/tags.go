package etf

import "errors"

// The tags of the external term format, as OTP 25 reads and writes them
// (erts/doc/src/erl_ext_dist.xml). Every term is a tag byte followed by
// the fields below; all integers are big-endian unless said otherwise.
// The numbers are Erlang's: append only, never renumber.
const (
	// VersionMagic starts every encoded term (term_to_binary, and each
	// term of a distribution packet): 131, Term.
	VersionMagic = 131

	// tagCompressed: 80, UncompressedSize:u32, zlib stream. Only right
	// after VersionMagic; the stream inflates to exactly one term (without
	// the 131) of exactly UncompressedSize bytes.
	tagCompressed = 80
	// tagAtomCacheRef: 82, Index:u8. An index into the atom cache of the
	// distribution header; meaningless outside a packet with that header.
	tagAtomCacheRef = 82

	// tagSmallInteger: 97, Int:u8 (0..255).
	tagSmallInteger = 97
	// tagInteger: 98, Int:i32.
	tagInteger = 98
	// tagFloat: 99, 31 bytes of C text "%.20e", NUL padded. Pre-R11; decoded only.
	tagFloat = 99
	// tagNewFloat: 70, IEEE 754 binary64.
	tagNewFloat = 70
	// tagSmallBig: 110, N:u8, Sign:u8, Digits[N] (little-endian magnitude).
	tagSmallBig = 110
	// tagLargeBig: 111, N:u32, Sign:u8, Digits[N].
	tagLargeBig = 111

	// tagAtom: 100, Len:u16, Latin-1[Len]. Decoded only (OTP 25's
	// term_to_binary still writes it for Latin-1 atoms).
	tagAtom = 100
	// tagSmallAtom: 115, Len:u8, Latin-1[Len]. Decoded only.
	tagSmallAtom = 115
	// tagAtomUTF8: 118, Len:u16, UTF-8[Len].
	tagAtomUTF8 = 118
	// tagSmallAtomUTF8: 119, Len:u8, UTF-8[Len]. What this package writes.
	tagSmallAtomUTF8 = 119

	// tagSmallTuple: 104, Arity:u8, Elements[Arity].
	tagSmallTuple = 104
	// tagLargeTuple: 105, Arity:u32, Elements[Arity].
	tagLargeTuple = 105
	// tagMap: 116, Arity:u32, (Key, Value)[Arity]. Keys are unique.
	tagMap = 116
	// tagNil: 106. The empty list.
	tagNil = 106
	// tagString: 107, Len:u16, Bytes[Len]. A list of small integers, not a
	// binary: the BEAM's compact form for lists of bytes.
	tagString = 107
	// tagList: 108, Len:u32, Elements[Len], Tail. Tail is NIL for a proper
	// list; anything else makes an improper list.
	tagList = 108
	// tagBinary: 109, Len:u32, Data[Len].
	tagBinary = 109
	// tagBitBinary: 77, Len:u32, Bits:u8, Data[Len]. Bits (1..8) of the last
	// byte are used, from its most significant bit; Len 0 goes with Bits 0.
	tagBitBinary = 77

	// tagPid: 103, Node:atom, ID:u32, Serial:u32, Creation:u8. Decoded only.
	tagPid = 103
	// tagNewPid: 88, Node:atom, ID:u32, Serial:u32, Creation:u32.
	tagNewPid = 88
	// tagPort: 102, Node:atom, ID:u32, Creation:u8. Decoded only.
	tagPort = 102
	// tagNewPort: 89, Node:atom, ID:u32, Creation:u32.
	tagNewPort = 89
	// tagV4Port: 120, Node:atom, ID:u64, Creation:u32 (needs DFLAG_V4_NC).
	tagV4Port = 120
	// tagReference: 101, Node:atom, ID:u32, Creation:u8. Decoded only.
	tagReference = 101
	// tagNewReference: 114, Len:u16, Node:atom, Creation:u8, ID:u32[Len]. Decoded only.
	tagNewReference = 114
	// tagNewerReference: 90, Len:u16, Node:atom, Creation:u32, ID:u32[Len].
	tagNewerReference = 90

	// tagNewFun: 112, Size:u32, Arity:u8, Uniq[16], Index:u32, NumFree:u32,
	// Module:atom, OldIndex:integer, OldUniq:integer, Pid:pid,
	// FreeVars[NumFree]. Size counts from itself to the end of FreeVars.
	tagNewFun = 112
	// tagExport: 113, Module:atom, Function:atom, Arity:small integer.
	tagExport = 113
	// tagLocal: 121, then a term in an encoding private to the node that
	// made it (term_to_binary(T, [local]), OTP 26). Refused.
	tagLocal = 121
)

// Limits of the decoder. A term the BEAM sends in ordinary traffic stays
// far below each of them; they exist so that a hostile or corrupt input
// costs at most a bounded multiple of its own size.
const (
	// MaxDepth bounds the nesting of tuples, lists, maps and funs.
	MaxDepth = 256
	// MaxAtomChars is Erlang's own limit on the characters of an atom.
	MaxAtomChars = 255
	// MaxBigBytes bounds the magnitude of a big integer: 64 KiB, 524288
	// bits. Bigger numbers are refused rather than handed to math/big.
	MaxBigBytes = 1 << 16
	// MaxInflated bounds the uncompressed size a compressed term may
	// announce; the announcement is checked before any inflating.
	MaxInflated = 1 << 24
	// maxInflateRatio is zlib's own best ratio (about 1032:1): a stream
	// announcing more per compressed byte is lying and refused before
	// inflating.
	maxInflateRatio = 1032
	// DecodeBudgetFactor and DecodeBudgetFloor bound the heap a decode may
	// build: DecodeBudgetFactor bytes per input byte (for a compressed
	// term, per inflated byte) plus DecodeBudgetFloor.
	DecodeBudgetFactor = 64
	DecodeBudgetFloor  = 4096
	// maxRefWords is the longest reference OTP 25 makes (5 words, for
	// aliases and process-bound refs); 3 is usual.
	maxRefWords = 5
)

var (
	// ErrMalformed wraps every decode error about the bytes themselves:
	// truncated, an unknown tag, an invalid length or value.
	ErrMalformed = errors.New("etf: malformed term")
	// ErrLimit wraps a decode refused by one of the limits above.
	ErrLimit = errors.New("etf: term exceeds a decoder limit")
	// ErrAtomCacheRef is returned for ATOM_CACHE_REF (82). It only means
	// something inside a distribution packet with a DIST_HDR_ATOM_CACHE
	// header; gonode does not offer that flag, so a peer never sends it.
	// The adapter resolves it should the flag ever be enabled.
	ErrAtomCacheRef = errors.New("etf: atom cache reference outside a distribution header")
	// ErrUnsupported is returned by the encoder for a Go value with no term
	// (a channel, a func, a complex number, NaN ...) and by the decoder
	// for LOCAL_EXT, whose contents only the node that made it can read.
	ErrUnsupported = errors.New("etf: unsupported")
)
