// Package handshake is the Erlang distribution handshake, version 6 (OTP
// 23 and later, as OTP 25 speaks it: lib/kernel/src/dist_util.erl): its
// one job is to open a connection with a real Erlang or Elixir node, in
// either direction, proving the shared cookie and agreeing on the
// capability flags. It knows nothing of processes, terms or packets, and
// imports nothing of gonode.
//
// # Protocol flow
//
// A dials B (B's port comes from epmd, where B registered with Hi=6,
// Lo=5). Every handshake message is framed [Len:u16][Body], integers are
// big-endian, and the first byte of the body is the tag:
//
//	A -> B  send_name   'N' Flags:u64 Creation:u32 NLen:u16 Name
//	B -> A  status      's' Text   ok | ok_simultaneous | nok | not_allowed | alive
//	                    's' "named:" NLen:u16 Name Creation:u32   (A set NAME_ME)
//	A -> B  alive reply 's' "true" | 's' "false"                  (after alive only)
//	B -> A  challenge   'N' Flags:u64 Challenge:u32 Creation:u32 NLen:u16 Name
//	A -> B  reply       'r' Challenge:u32 Digest[16]
//	B -> A  ack         'a' Digest[16]
//
// The handshake stops after status nok or not_allowed, and after alive
// answered false. Each digest is md5(Cookie ++ integer_to_list(C)), C
// being the challenge the other side chose: A's reply proves A knows the
// cookie, B's ack proves B does. B refuses a wrong digest by closing the
// connection without a word (its log says "Invalid challenge reply"), so
// Initiate reports a close right after its reply as ErrBadCookie.
//
// Status alive says B holds a connection from A's name: A answers true
// when it has none to B (B's is half-open: B replaces it once A has
// proved the cookie) and false when it has. ok_simultaneous and nok
// settle two nodes dialing each other at once: the greater name's
// attempt survives (WinsSimultaneous).
//
// A node with a dynamic name (erl -sname undefined@host) sets NAME_ME,
// sends its host alone and creation 0, and B names it in the status.
//
// The old send_name, 'n' Version:u16 Flags:u32 Name, is never sent, but
// Accept takes it as OTP 25.3 and later do (an OTP 23 or 24 node that did
// not ask epmd sends it): B answers with the same 'N' challenge and A
// then sends a complement before its reply, 'c' FlagsHigh:u32
// Creation:u32. OTP 25.0 to 25.2 close the connection on 'n'. A node from
// OTP 22 or older sends 'n' without HANDSHAKE_23 and is refused
// not_allowed, as OTP 25 refuses it.
//
// After the ack the connection carries [Len:u32] packets, Len 0 being a
// tick. The BEAM sends its first packets in the same segment as its ack:
// the handshake reads through the caller's bufio.Reader and leaves them
// there.
//
// # Flags
//
// Each side sends its flags; the flags in effect are the AND of the two
// (PeerInfo.Agreed), and each side refuses a peer lacking its mandatory
// set: OTP 25 requires Mandatory25 and answers not_allowed (or aborts,
// dialing). gonode offers OfferedFlags and requires RequiredFlags
// (Mandatory25 and the flags OTP 26 makes mandatory), refusing a peer
// that lacks one with a *MissingFlagsError naming them as the BEAM names
// them (MAP_TAG, UNLINK_ID, ...). A peer's MANDATORY_25_DIGEST stands for
// all of Mandatory25 (ExpandFlags), as it does for OTP.
//
// # Telling the dialect apart
//
// A listener serving gonode's native protocol and Erlang's tells them
// apart by the dialer's first three bytes: IsErlangHello (and
// MayBeErlangHello for byte-by-byte sniffing) recognise a send_name.
//
// # Limits
//
// The caller bounds the whole handshake with a deadline on the
// connection (OTP allows net_setuptime, 7 s by default). Each message's
// length is checked against the most its step can carry (MaxMessage at
// most, 274 bytes) before anything is allocated, and names are at most
// MaxNameLen bytes. Every decoder is fuzzed, and so are Initiate and
// Accept fed arbitrary bytes.
//
// # The cookie
//
// The cookie file is read by cmd/gonode (cookie.go: $GONODE_COOKIE, else
// ~/.erlang.cookie, created 0600 with 20 random capitals when missing,
// refused when group or others may read it, as erl refuses it), so a
// gonode and the BEAM nodes of one user share a cookie without
// configuration. This package takes the cookie as a string and never puts
// it in an error.
//
// # Left to the adapter
//
// The dist adapter chooses this package or the native dist/wire per
// connection (IsErlangHello on accept; the peer's epmd entry or a flag on
// dial), maps Config and PeerInfo to its own, applies the pending/up
// rules through decide and AliveAsked, and, after an accepted alive, drops
// the old connection before it delivers anything from the new one (OTP
// waits for the old one to die before it sends its ack; Accept sends the
// ack at once). Control messages, ticks and the ETF of the packets
// (dist/erlang/etf) come after this package.
package handshake
