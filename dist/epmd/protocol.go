// Package epmd speaks the Erlang port mapper daemon protocol: a server
// (embedded port mapper), a client, and a Registrar that keeps a node
// registered, serving an embedded port mapper when none answers and taking
// over when the node serving it exits.
//
// Names handled here are the short part of a node name, before the '@', as
// epmd stores them.
package epmd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ProtocolVersion is the version of this package's wire handling. It is
// bumped when the bytes sent or accepted change.
const ProtocolVersion = 1

// Wire format (erl_dist_protocol.md §EPMD, epmd_srv.c). All integers are
// big-endian. Requests are framed [Len:u16][Req], with 1 <= Len <=
// MaxRequestLen; responses carry no length prefix.
//
// Protocol flow:
//
//	register:  -> ALIVE2_REQ        <- ALIVE2_X_RESP (Hi >= 6) or ALIVE2_RESP (Hi < 6)
//	           the socket then stays open; closing it unregisters the name.
//	           A taken name is answered with Result=1, Creation=99, and
//	           the socket is kept open, as epmd does.
//	lookup:    -> PORT_PLEASE2_REQ  <- PORT2_RESP, then the server closes
//	list:      -> NAMES_REQ         <- EpmdPort:u32, "name X at port N\n"..., close
//
// Messages (only append to this list):
//
//	ALIVE2_REQ       120, Port:u16, NodeType(77 normal/72 hidden), Proto:u8(0 = tcp),
//	                 Hi:u16, Lo:u16, NLen:u16, Name[NLen], ELen:u16, Extra[ELen]
//	ALIVE2_X_RESP    118, Result:u8, Creation:u32
//	ALIVE2_RESP      121, Result:u8, Creation:u16 (creation 1..3)
//	PORT_PLEASE2_REQ 122, Name (to the end of the request; one trailing NUL is ignored)
//	PORT2_RESP       119, 0, Port:u16, NodeType, Proto, Hi:u16, Lo:u16,
//	                 NLen:u16, Name, ELen:u16, Extra     (known name)
//	                 119, 1                              (unknown name)
//	NAMES_REQ        110 (anything after the opcode is ignored)
//	KILL_REQ         107 -> "OK" or "NO"; the embedded server always answers "NO"
const (
	OpNamesReq       = 110 // 'n'
	OpKillReq        = 107 // 'k'
	OpAlive2Req      = 120 // 'x'
	OpAlive2XResp    = 118 // 'v'
	OpAlive2Resp     = 121 // 'y'
	OpPortPlease2Req = 122 // 'z'
	OpPort2Resp      = 119 // 'w'
)

// Node types carried in ALIVE2_REQ and PORT2_RESP.
const (
	NodeTypeNormal = 77 // 'M'
	NodeTypeHidden = 72 // 'H'
)

// Distribution versions this package registers with: OTP 23+ nodes use
// Hi=6/Lo=5.
const (
	DistHigh = 6
	DistLow  = 5
)

// GonodeExtra is the Extra field gonode nodes register with (ALIVE2_REQ's
// Extra, returned in PORT2_RESP): a dialer that finds it speaks gonode's
// native protocol to the node, and one that does not finds a BEAM node
// (erl registers an empty Extra).
var GonodeExtra = []byte("gonode")

// IsGonode reports whether a looked-up entry is a gonode node's.
func (e Entry) IsGonode() bool { return string(e.Extra) == string(GonodeExtra) }

// Limits checked before anything is allocated.
const (
	// MaxRequestLen is the largest request body accepted, as in epmd
	// (INBUF_SIZE 1024 minus the 2-byte prefix and a NUL).
	MaxRequestLen = 1021
	// MaxNameChars is the longest name, in UTF-8 characters (epmd's limit).
	MaxNameChars = 255
	// maxNameBytes bounds a name in bytes: 255 characters of at most 4 bytes.
	maxNameBytes = 4 * MaxNameChars
	// maxExtraLen bounds the Extra field (epmd's MAXSYMLEN).
	maxExtraLen = 4 * MaxNameChars
	// maxNamesResp bounds a whole NAMES reply read by the client.
	maxNamesResp = 1 << 20
)

// Errors returned by this package.
var (
	// ErrNameTaken: another node holds the name in the port mapper.
	ErrNameTaken = errors.New("epmd: name already registered")
	// ErrNotRegistered: the port mapper knows no node by that name.
	ErrNotRegistered = errors.New("epmd: name not registered")
	// ErrProtocol: a malformed request or reply; wrapped with details.
	ErrProtocol = errors.New("epmd: protocol error")
	// ErrBadName: a name that epmd cannot store (empty, too long, not
	// UTF-8, containing NUL or '@').
	ErrBadName = errors.New("epmd: bad node name")
	// ErrServerClosed is returned by Serve after Close.
	ErrServerClosed = errors.New("epmd: server closed")
)

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// checkName reports whether name is storable by epmd: 1..255 UTF-8
// characters, no NUL.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case len(name) > maxNameBytes || !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8 or too long", ErrBadName)
	case utf8.RuneCountInString(name) > MaxNameChars:
		return fmt.Errorf("%w: longer than %d characters", ErrBadName, MaxNameChars)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("%w: contains NUL", ErrBadName)
	}
	return nil
}

// aliveReq is an ALIVE2_REQ.
type aliveReq struct {
	Port     uint16
	NodeType uint8
	Protocol uint8
	High     uint16
	Low      uint16
	Name     string
	Extra    []byte
}

// portReq is a PORT_PLEASE2_REQ.
type portReq struct{ Name string }

// namesReq is a NAMES_REQ.
type namesReq struct{}

// killReq is a KILL_REQ.
type killReq struct{}

// readRequest reads one framed request and returns its body. The length is
// checked against MaxRequestLen before the body is allocated.
func readRequest(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n < 1 || n > MaxRequestLen {
		return nil, protoErr("request length %d out of range 1..%d", n, MaxRequestLen)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("truncated request of length %d: %w", n, err)
	}
	return body, nil
}

// decodeRequest parses a request body (without its length prefix) into
// aliveReq, portReq, namesReq or killReq. It is pure and never panics.
func decodeRequest(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, protoErr("empty request")
	}
	switch b[0] {
	case OpAlive2Req:
		return decodeAliveReq(b)
	case OpPortPlease2Req:
		name := b[1:]
		if len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		if err := checkName(string(name)); err != nil {
			return nil, fmt.Errorf("%w: PORT_PLEASE2_REQ: %w", ErrProtocol, err)
		}
		return portReq{Name: string(name)}, nil
	case OpNamesReq:
		return namesReq{}, nil
	case OpKillReq:
		return killReq{}, nil
	}
	return nil, protoErr("unknown request %d", b[0])
}

func decodeAliveReq(b []byte) (aliveReq, error) {
	// 1 op + 2 port + 1 type + 1 proto + 2 hi + 2 lo + 2 nlen = 11,
	// then the name, then 2 elen: 13 bytes of fixed fields.
	if len(b) < 13 {
		return aliveReq{}, protoErr("ALIVE2_REQ of %d bytes is too short", len(b))
	}
	r := aliveReq{
		Port:     binary.BigEndian.Uint16(b[1:]),
		NodeType: b[3],
		Protocol: b[4],
		High:     binary.BigEndian.Uint16(b[5:]),
		Low:      binary.BigEndian.Uint16(b[7:]),
	}
	nlen := int(binary.BigEndian.Uint16(b[9:]))
	if 13+nlen > len(b) {
		return aliveReq{}, protoErr("ALIVE2_REQ name length %d exceeds request", nlen)
	}
	name := b[11 : 11+nlen]
	elen := int(binary.BigEndian.Uint16(b[11+nlen:]))
	if 13+nlen+elen > len(b) {
		return aliveReq{}, protoErr("ALIVE2_REQ extra length %d exceeds request", elen)
	}
	if err := checkName(string(name)); err != nil {
		return aliveReq{}, fmt.Errorf("%w: ALIVE2_REQ: %w", ErrProtocol, err)
	}
	r.Name = string(name)
	r.Extra = append([]byte{}, b[13+nlen:13+nlen+elen]...)
	return r, nil
}

// frame prefixes a request body with its u16 length.
func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(body))), body...)
}

// encodeAliveReq returns the ALIVE2_REQ body (no length prefix).
func encodeAliveReq(r aliveReq) []byte {
	b := []byte{OpAlive2Req}
	b = binary.BigEndian.AppendUint16(b, r.Port)
	b = append(b, r.NodeType, r.Protocol)
	b = binary.BigEndian.AppendUint16(b, r.High)
	b = binary.BigEndian.AppendUint16(b, r.Low)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Name)))
	b = append(b, r.Name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Extra)))
	return append(b, r.Extra...)
}

// encodePortReq returns the PORT_PLEASE2_REQ body.
func encodePortReq(name string) []byte { return append([]byte{OpPortPlease2Req}, name...) }

// encodeAliveResp returns the reply to an ALIVE2_REQ made with version
// high: ALIVE2_X_RESP (u32 creation) for high >= 6, else ALIVE2_RESP (u16).
func encodeAliveResp(high uint16, result uint8, creation uint32) []byte {
	if high >= 6 {
		return binary.BigEndian.AppendUint32([]byte{OpAlive2XResp, result}, creation)
	}
	return binary.BigEndian.AppendUint16([]byte{OpAlive2Resp, result}, uint16(creation))
}

// decodeAliveResp reads an ALIVE2_X_RESP or ALIVE2_RESP.
func decodeAliveResp(r io.Reader) (result uint8, creation uint32, err error) {
	var b [6]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return 0, 0, fmt.Errorf("reading ALIVE2 reply: %w", err)
	}
	switch b[0] {
	case OpAlive2XResp:
		if _, err := io.ReadFull(r, b[2:6]); err != nil {
			return 0, 0, fmt.Errorf("reading ALIVE2_X_RESP: %w", err)
		}
		return b[1], binary.BigEndian.Uint32(b[2:]), nil
	case OpAlive2Resp:
		if _, err := io.ReadFull(r, b[2:4]); err != nil {
			return 0, 0, fmt.Errorf("reading ALIVE2_RESP: %w", err)
		}
		return b[1], uint32(binary.BigEndian.Uint16(b[2:])), nil
	}
	return 0, 0, protoErr("unexpected reply %d to ALIVE2_REQ", b[0])
}

// portInfo is a successful PORT2_RESP.
type portInfo struct {
	Port     uint16
	NodeType uint8
	Protocol uint8
	High     uint16
	Low      uint16
	Name     string
	Extra    []byte
}

// encodePort2Resp returns PORT2_RESP: the node's details, or 119,1 if p is nil.
func encodePort2Resp(p *portInfo) []byte {
	if p == nil {
		return []byte{OpPort2Resp, 1}
	}
	b := binary.BigEndian.AppendUint16([]byte{OpPort2Resp, 0}, p.Port)
	b = append(b, p.NodeType, p.Protocol)
	b = binary.BigEndian.AppendUint16(b, p.High)
	b = binary.BigEndian.AppendUint16(b, p.Low)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Name)))
	b = append(b, p.Name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Extra)))
	return append(b, p.Extra...)
}

// decodePort2Resp reads a PORT2_RESP. An unknown name gives ErrNotRegistered.
func decodePort2Resp(r io.Reader) (portInfo, error) {
	var b [12]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return portInfo{}, fmt.Errorf("reading PORT2_RESP: %w", err)
	}
	if b[0] != OpPort2Resp {
		return portInfo{}, protoErr("unexpected reply %d to PORT_PLEASE2_REQ", b[0])
	}
	if b[1] != 0 {
		return portInfo{}, ErrNotRegistered
	}
	if _, err := io.ReadFull(r, b[2:12]); err != nil {
		return portInfo{}, fmt.Errorf("reading PORT2_RESP: %w", err)
	}
	p := portInfo{
		Port:     binary.BigEndian.Uint16(b[2:]),
		NodeType: b[4],
		Protocol: b[5],
		High:     binary.BigEndian.Uint16(b[6:]),
		Low:      binary.BigEndian.Uint16(b[8:]),
	}
	nlen := int(binary.BigEndian.Uint16(b[10:]))
	if nlen > maxNameBytes {
		return portInfo{}, protoErr("PORT2_RESP name length %d over %d", nlen, maxNameBytes)
	}
	name := make([]byte, nlen+2)
	if _, err := io.ReadFull(r, name); err != nil {
		return portInfo{}, fmt.Errorf("reading PORT2_RESP name: %w", err)
	}
	p.Name = string(name[:nlen])
	elen := int(binary.BigEndian.Uint16(name[nlen:]))
	if elen > maxExtraLen {
		return portInfo{}, protoErr("PORT2_RESP extra length %d over %d", elen, maxExtraLen)
	}
	p.Extra = make([]byte, elen)
	if _, err := io.ReadFull(r, p.Extra); err != nil {
		return portInfo{}, fmt.Errorf("reading PORT2_RESP extra: %w", err)
	}
	return p, nil
}
