// Package wire is the byte layer of gonode's native distribution protocol:
// the framing of a connection's byte stream and the handshake that opens it.
// It knows nothing of processes or messages (package dist encodes those into
// frame payloads) and imports nothing of gonode.
//
// # Protocol flow (native protocol, version 1)
//
// Node A dials node B over TCP; A runs Initiate and B runs Accept on the
// connection. Every integer is big-endian; a str is [Len:u16][UTF-8 bytes].
// Handshake messages are framed as [Len:u16][Body] with 1 <= Len <=
// MaxHandshakeMessage, and the first byte of Body is the message tag:
//
//	A -> B  hello      tag=1 "GOND" version:u16 creation:u32 flags:u64 hidden:u8 name:str
//	B -> A  status     tag=2 status:u8                  (the handshake stops here unless ok, or alive below)
//	A -> B  alive ans  tag=7 dead:u8                    (only after status alive to a hello with FlagAliveAsk)
//	B -> A  challenge  tag=3 creation:u32 flags:u64 hidden:u8 nonceB:[32] name:str
//	A -> B  reply      tag=4 nonceA:[32] digestA:[32]
//	B -> A  ack        tag=5 digestB:[32]               (or authfail, tag=6, and B closes)
//
// Status alive says that B holds a connection from A's incarnation. If A's
// hello carries FlagAliveAsk, B then waits for A's answer: dead=1 (A has no
// connection to B: B's is half-open) and the handshake goes on with the
// challenge alone, B replacing its old connection only once A has proved
// the cookie; dead=0 stops it. Flags are capability bits (FlagAliveAsk,
// ...); each side sends its own and both digests cover them.
//
// The tag, magic and version open every hello of every version, so a node
// meeting a version it does not speak can still answer bad_version. B sends
// status and challenge in one write. The digests prove that both sides know
// the cookie without sending it:
//
//	digestA = HMAC-SHA256(cookie, "A" || transcript)
//	digestB = HMAC-SHA256(cookie, "B" || transcript)
//	transcript = version:u16 nonceA nonceB nameA:str nameB:str
//	             creationA:u32 creationB:u32 flagsA:u64 flagsB:u64 hiddenA:u8 hiddenB:u8
//
// Each side's digest covers the nonce the other side chose, so it cannot be
// replayed, and the labels "A" and "B" keep B's digest from being reflected
// back as A's. Digests are compared in constant time.
//
// After the ack both sides exchange frames, [Len:u32][Payload]; Len = 0 is a
// tick (keepalive) and carries no payload. Bytes may follow the ack in the
// same TCP segment: the handshake reads through the caller's bufio.Reader
// and leaves whatever follows buffered there for the FrameReader.
//
// TLS is the transport's business, below all of this, with two
// exceptions so that a mismatch reads as one: Accept answers a TLS
// ClientHello (first byte 0x16, never the first byte of a hello) with
// status not_allowed and ErrTLSMismatch, and a node that requires TLS
// answers a plaintext hello with status tls_required (WriteStatus).
//
// Timeouts are the caller's job: set deadlines on the connection before
// calling Initiate or Accept, and around reads of frames.
package wire
