package handshake

import (
	"fmt"
	"strings"
)

// Distribution capability flags, sent as Flags:u64 in send_name and in the
// challenge (the old send_name 'n' carries only the low 32 bits; its
// complement 'c' the high 32). Values and names are those of OTP 25's
// lib/kernel/include/dist.hrl (DFLAG_<NAME>); the names in error messages
// are dist_util:dflag2str's. The bit numbers are Erlang's wire format:
// never change one.
const (
	FlagPublished          uint64 = 0x01       // DFLAG_PUBLISHED: a visible node (Node.list); without it the peer is hidden
	FlagAtomCache          uint64 = 0x02       // DFLAG_ATOM_CACHE: obsolete
	FlagExtendedReferences uint64 = 0x04       // DFLAG_EXTENDED_REFERENCES: refs of 3 words (mandatory)
	FlagDistMonitor        uint64 = 0x08       // DFLAG_DIST_MONITOR: MONITOR_P/DEMONITOR_P/MONITOR_P_EXIT by pid
	FlagFunTags            uint64 = 0x10       // DFLAG_FUN_TAGS: funs have their own tag (mandatory)
	FlagDistMonitorName    uint64 = 0x20       // DFLAG_DIST_MONITOR_NAME: monitors of registered names
	FlagHiddenAtomCache    uint64 = 0x40       // DFLAG_HIDDEN_ATOM_CACHE: obsolete
	FlagNewFunTags         uint64 = 0x80       // DFLAG_NEW_FUN_TAGS: NEW_FUN_EXT (mandatory)
	FlagExtendedPidsPorts  uint64 = 0x100      // DFLAG_EXTENDED_PIDS_PORTS (mandatory)
	FlagExportPtrTag       uint64 = 0x200      // DFLAG_EXPORT_PTR_TAG: EXPORT_EXT, fun M:F/A (mandatory)
	FlagBitBinaries        uint64 = 0x400      // DFLAG_BIT_BINARIES: BIT_BINARY_EXT (mandatory)
	FlagNewFloats          uint64 = 0x800      // DFLAG_NEW_FLOATS: NEW_FLOAT_EXT (mandatory)
	FlagUnicodeIO          uint64 = 0x1000     // DFLAG_UNICODE_IO
	FlagDistHdrAtomCache   uint64 = 0x2000     // DFLAG_DIST_HDR_ATOM_CACHE: the dist header with an atom cache
	FlagSmallAtomTags      uint64 = 0x4000     // DFLAG_SMALL_ATOM_TAGS: SMALL_ATOM_EXT
	FlagUTF8Atoms          uint64 = 0x10000    // DFLAG_UTF8_ATOMS: (SMALL_)ATOM_UTF8_EXT (mandatory)
	FlagMapTag             uint64 = 0x20000    // DFLAG_MAP_TAG: MAP_EXT (mandatory)
	FlagBigCreation        uint64 = 0x40000    // DFLAG_BIG_CREATION: 32-bit creations, NEW_PID_EXT... (mandatory)
	FlagSendSender         uint64 = 0x80000    // DFLAG_SEND_SENDER: SEND_SENDER instead of SEND
	FlagBigSeqtraceLabels  uint64 = 0x100000   // DFLAG_BIG_SEQTRACE_LABELS: any term as a seq_trace label
	FlagExitPayload        uint64 = 0x400000   // DFLAG_EXIT_PAYLOAD: PAYLOAD_EXIT, PAYLOAD_EXIT2, PAYLOAD_MONITOR_P_EXIT
	FlagFragments          uint64 = 0x800000   // DFLAG_FRAGMENTS: fragmented messages
	FlagHandshake23        uint64 = 0x1000000  // DFLAG_HANDSHAKE_23: the 'N' send_name and challenge (mandatory)
	FlagUnlinkID           uint64 = 0x2000000  // DFLAG_UNLINK_ID: the new link protocol (UNLINK_ID, UNLINK_ID_ACK)
	FlagMandatory25Digest  uint64 = 0x4000000  // DFLAG_MANDATORY_25_DIGEST: stands for all of Mandatory25
	FlagSpawn              uint64 = 1 << 32    // DFLAG_SPAWN: SPAWN_REQUEST/SPAWN_REPLY (erpc, rpc:call)
	FlagNameMe             uint64 = 1 << 33    // DFLAG_NAME_ME: the initiator asks the acceptor for a name
	FlagV4NC               uint64 = 1 << 34    // DFLAG_V4_NC: 64-bit pid and port numbers (V4_PORT_EXT)
	FlagAlias              uint64 = 1 << 35    // DFLAG_ALIAS: ALIAS_SEND and alias monitors
	flagReserved           uint64 = 0xf8000000 // DFLAG_RESERVED: OTP's unused bits of the first word
)

// Mandatory25 is what an OTP 25 node requires of its peer
// (MANDATORY_DFLAGS_25, erts_internal:get_dflags() gives 16#1070F94); a
// node lacking any of them is refused both ways.
const Mandatory25 = FlagExtendedReferences | FlagFunTags | FlagNewFunTags |
	FlagExtendedPidsPorts | FlagExportPtrTag | FlagBitBinaries | FlagNewFloats |
	FlagUTF8Atoms | FlagMapTag | FlagBigCreation | FlagHandshake23

// OfferedFlags is what gonode offers by default (0xD075F4FBD): Mandatory25
// and the features the Erlang dialect implements, so that a BEAM peer
// treats gonode as one of its own.
//
//   - PUBLISHED: visible in Node.list, and global and rex talk to it.
//   - DIST_MONITOR, DIST_MONITOR_NAME: without them the BEAM sends no
//     MONITOR_P, and a remote DOWN only comes when the connection drops.
//   - UNLINK_ID and V4_NC: mandatory from OTP 26.
//   - SPAWN (erpc and rpc:call need it: without it they answer notsup),
//     ALIAS, SEND_SENDER, EXIT_PAYLOAD, SMALL_ATOM_TAGS,
//     BIG_SEQTRACE_LABELS: what an OTP 25 node sends itself.
//   - MANDATORY_25_DIGEST: OTP 27 and later require it, and read it as
//     Mandatory25 (which is also set bit by bit, for OTP 25 and 26).
//
// Left out on purpose: DIST_HDR_ATOM_CACHE and FRAGMENTS (the BEAM then
// sends every message as one pass-through packet, 'p' 131 ...; the
// dialect, dist/erlang, adds FRAGMENTS through Config.Flags), the
// obsolete ATOM_CACHE and HIDDEN_ATOM_CACHE, UNICODE_IO, and NAME_ME
// (set by Initiate only when Config.NameMe asks for a name).
const OfferedFlags = Mandatory25 | FlagPublished | FlagDistMonitor | FlagDistMonitorName |
	FlagSmallAtomTags | FlagSendSender | FlagBigSeqtraceLabels | FlagExitPayload |
	FlagUnlinkID | FlagMandatory25Digest | FlagSpawn | FlagV4NC | FlagAlias

// RequiredFlags is what gonode requires of a peer by default: Mandatory25,
// and UNLINK_ID and V4_NC, which OTP 26 makes mandatory too, so that the
// Erlang dialect speaks only the new link protocol and 64-bit node
// containers. Every node from OTP 24 on sets all of them.
const RequiredFlags = Mandatory25 | FlagUnlinkID | FlagV4NC

// flagNames are dist_util:dflag2str's names, by bit number.
var flagNames = map[uint64]string{
	FlagPublished: "PUBLISHED", FlagAtomCache: "ATOM_CACHE",
	FlagExtendedReferences: "EXTENDED_REFERENCES", FlagDistMonitor: "DIST_MONITOR",
	FlagFunTags: "FUN_TAGS", FlagDistMonitorName: "DIST_MONITOR_NAME",
	FlagHiddenAtomCache: "HIDDEN_ATOM_CACHE", FlagNewFunTags: "NEW_FUN_TAGS",
	FlagExtendedPidsPorts: "EXTENDED_PIDS_PORTS", FlagExportPtrTag: "EXPORT_PTR_TAG",
	FlagBitBinaries: "BIT_BINARIES", FlagNewFloats: "NEW_FLOATS",
	FlagUnicodeIO: "UNICODE_IO", FlagDistHdrAtomCache: "DIST_HDR_ATOM_CACHE",
	FlagSmallAtomTags: "SMALL_ATOM_TAGS", FlagUTF8Atoms: "UTF8_ATOMS",
	FlagMapTag: "MAP_TAG", FlagBigCreation: "BIG_CREATION",
	FlagSendSender: "SEND_SENDER", FlagBigSeqtraceLabels: "BIG_SEQTRACE_LABELS",
	FlagExitPayload: "EXIT_PAYLOAD", FlagFragments: "FRAGMENTS",
	FlagHandshake23: "HANDSHAKE_23", FlagUnlinkID: "UNLINK_ID",
	FlagMandatory25Digest: "MANDATORY_25_DIGEST", FlagSpawn: "SPAWN",
	FlagNameMe: "NAME_ME", FlagV4NC: "V4_NC", FlagAlias: "ALIAS",
}

// FlagNames names the flags set in f, lowest bit first, as the BEAM does
// in its logs (flags it does not know as UNKNOWN<hex>).
func FlagNames(f uint64) []string {
	var names []string
	for f != 0 {
		bit := f & -f
		f &^= bit
		if n, ok := flagNames[bit]; ok {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("UNKNOWN<%X>", bit))
		}
	}
	return names
}

// FormatFlags writes f as its hex value and names, for logs.
func FormatFlags(f uint64) string {
	return fmt.Sprintf("%#x [%s]", f, strings.Join(FlagNames(f), " "))
}

// ExpandFlags reads a peer's flags as OTP does (expand_mandatory_25_flag):
// MANDATORY_25_DIGEST stands for every flag of Mandatory25, so a node from
// OTP 27 on may leave their bits clear (and, talking to an OTP 27+ node,
// reuse them).
func ExpandFlags(f uint64) uint64 {
	if f&FlagMandatory25Digest != 0 {
		f |= Mandatory25
	}
	return f
}

// missingFlags returns the flags of want that have is lacks.
func missingFlags(want, have uint64) uint64 { return want &^ have }

// MissingFlagsError refuses a peer that lacks flags this node requires.
// errors.Is(err, ErrMissingFlags) holds.
type MissingFlagsError struct {
	Peer    string // the peer's name as it gave it
	Missing uint64 // the required flags it did not set
	Dir     string // "from" (it dialed us) or "to" (we dialed it)
}

func (e *MissingFlagsError) Error() string {
	return fmt.Sprintf("handshake: connection %s %s refused: it cannot handle %s",
		e.Dir, e.Peer, strings.Join(FlagNames(e.Missing), ", "))
}

func (e *MissingFlagsError) Unwrap() error { return ErrMissingFlags }
