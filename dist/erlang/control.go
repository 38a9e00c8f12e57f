package erlang

// The connected phase of Erlang distribution, as OTP 25 speaks it to a
// peer that did not offer DIST_HDR_ATOM_CACHE (gonode does not) nor
// FRAGMENTS (gonode does, and then the packets have a distribution
// header instead of 'p': see fragments.go):
//
//	[Len:u32] 'p' ControlMessage [Message]
//
// Len is the same framing as gonode's native frames (dist/wire's
// FrameReader and FrameWriter), and Len 0 is a tick, answered by the
// peer's own ticks. 'p' (112) is the pass-through type; ControlMessage is
// a tuple in ETF (131 ...) whose first element is the operation below,
// and Message, for the operations that carry one, a second ETF term right
// after it. Nothing else may follow.
const passThrough = 112

// Control message operations (erts/emulator/beam/dist.h, the DOP_*
// constants): the first element of the control tuple. The layout of each
// tuple is beside it; "+ Msg" means a second term follows. These numbers
// are Erlang's wire format.
const (
	opLink       = 1  // {1, FromPid, ToPid}
	opSend       = 2  // {2, Unused, ToPid} + Msg
	opExit       = 3  // {3, FromPid, ToPid, Reason}
	opUnlink     = 4  // {4, FromPid, ToPid} (the old link protocol)
	opNodeLink   = 5  // {5} (obsolete)
	opRegSend    = 6  // {6, FromPid, Unused, ToName} + Msg
	opGroupLead  = 7  // {7, FromPid, ToPid}
	opExit2      = 8  // {8, FromPid, ToPid, Reason}
	opSendTT     = 12 // {12, Unused, ToPid, TraceToken} + Msg
	opExitTT     = 13 // {13, FromPid, ToPid, TraceToken, Reason}
	opRegSendTT  = 16 // {16, FromPid, Unused, ToName, TraceToken} + Msg
	opExit2TT    = 18 // {18, FromPid, ToPid, TraceToken, Reason}
	opMonitorP   = 19 // {19, FromPid, ToProc, Ref}: ToProc a pid or a registered name
	opDemonitorP = 20 // {20, FromPid, ToProc, Ref}
	opMonitorEx  = 21 // {21, FromProc, ToPid, Ref, Reason}: FromProc the pid or name monitored
	opSendSender = 22 // {22, FromPid, ToPid} + Msg
	opSendSendTT = 23 // {23, FromPid, ToPid, TraceToken} + Msg
	opPExit      = 24 // {24, FromPid, ToPid} + Reason
	opPExitTT    = 25 // {25, FromPid, ToPid, TraceToken} + Reason
	opPExit2     = 26 // {26, FromPid, ToPid} + Reason
	opPExit2TT   = 27 // {27, FromPid, ToPid, TraceToken} + Reason
	opPMonitorEx = 28 // {28, FromProc, ToPid, Ref} + Reason
	opSpawnReq   = 29 // {29, ReqId, FromPid, GroupLeader, {M, F, Arity}, Opts} + Args
	opSpawnReqTT = 30 // {30, ReqId, FromPid, GroupLeader, {M, F, Arity}, Opts, TraceToken} + Args
	opSpawnReply = 31 // {31, ReqId, ToPid, Flags, Result}: Result the new pid or an error atom
	opSpawnRepTT = 32 // {32, ReqId, ToPid, Flags, Result, TraceToken}
	opAliasSend  = 33 // {33, FromPid, Alias} + Msg
	opAliasSndTT = 34 // {34, FromPid, Alias, TraceToken} + Msg
	opUnlinkID   = 35 // {35, Id, FromPid, ToPid}: answered by UNLINK_ID_ACK
	opUnlinkAck  = 36 // {36, Id, FromPid, ToPid}: From is the unlinked side answering
)

// layout says, for each operation gonode decodes, how many elements its
// control tuple has and whether a second term (message or reason)
// follows; a frame that does not fit is malformed and closes the
// connection, as a frame the native codec cannot decode does.
var layout = map[int64]struct {
	size    int
	payload bool
}{
	opLink: {3, false}, opSend: {3, true}, opExit: {4, false}, opUnlink: {3, false},
	opRegSend: {4, true}, opExit2: {4, false}, opSendTT: {4, true}, opExitTT: {5, false},
	opRegSendTT: {5, true}, opExit2TT: {5, false}, opMonitorP: {4, false},
	opDemonitorP: {4, false}, opMonitorEx: {5, false}, opSendSender: {3, true},
	opSendSendTT: {4, true}, opPExit: {3, true}, opPExitTT: {4, true}, opPExit2: {3, true},
	opPExit2TT: {4, true}, opPMonitorEx: {4, true}, opSpawnReq: {6, true},
	opSpawnReqTT: {7, true}, opSpawnReply: {5, false}, opSpawnRepTT: {6, false},
	opAliasSend: {3, true}, opAliasSndTT: {4, true}, opUnlinkID: {4, false}, opUnlinkAck: {4, false},
}

// spawnReplyError is what a SPAWN_REQUEST gets: gonode cannot run BEAM
// code, and the requester (erpc, rpc:call, spawn/4 on this node) gets
// notsup at once instead of waiting for ever.
const spawnReplyError = "notsup"
