package epmd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// NodeEntry is one line of a NAMES reply: a registered short name and the
// distribution port it listens on.
type NodeEntry struct {
	Name string
	Port uint16
}

const (
	namesLinePrefix = "name "
	namesLineMid    = " at port "
)

// encodeNamesResp returns a NAMES reply: the port mapper's own port, then
// one "name X at port N\n" line per entry, in the order given.
func encodeNamesResp(epmdPort uint32, entries []NodeEntry) []byte {
	b := binary.BigEndian.AppendUint32(nil, epmdPort)
	for _, e := range entries {
		b = append(b, namesLinePrefix...)
		b = append(b, e.Name...)
		b = append(b, namesLineMid...)
		b = strconv.AppendUint(b, uint64(e.Port), 10)
		b = append(b, '\n')
	}
	return b
}

// parseNames parses a whole NAMES reply. It is pure and never panics. The
// name is everything between "name " and the last " at port " of a line.
func parseNames(b []byte) (epmdPort uint32, entries []NodeEntry, err error) {
	if len(b) < 4 {
		return 0, nil, protoErr("NAMES reply of %d bytes is too short", len(b))
	}
	epmdPort = binary.BigEndian.Uint32(b)
	rest := b[4:]
	for len(rest) > 0 {
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return 0, nil, protoErr("NAMES reply ends without a newline")
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		e, err := parseNamesLine(line)
		if err != nil {
			return 0, nil, err
		}
		entries = append(entries, e)
	}
	return epmdPort, entries, nil
}

func parseNamesLine(line []byte) (NodeEntry, error) {
	if !bytes.HasPrefix(line, []byte(namesLinePrefix)) {
		return NodeEntry{}, protoErr("NAMES line %q lacks %q", truncate(line), namesLinePrefix)
	}
	line = line[len(namesLinePrefix):]
	mid := bytes.LastIndex(line, []byte(namesLineMid))
	if mid < 0 {
		return NodeEntry{}, protoErr("NAMES line %q lacks %q", truncate(line), namesLineMid)
	}
	name, portStr := line[:mid], line[mid+len(namesLineMid):]
	if len(name) == 0 || len(name) > maxNameBytes {
		return NodeEntry{}, protoErr("NAMES line has a name of %d bytes", len(name))
	}
	port, err := strconv.ParseUint(string(portStr), 10, 16)
	if err != nil {
		return NodeEntry{}, protoErr("NAMES line has bad port %q", truncate(portStr))
	}
	return NodeEntry{Name: string(name), Port: uint16(port)}, nil
}

// truncate shortens b for error messages.
func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func (e NodeEntry) String() string { return fmt.Sprintf("%s:%d", e.Name, e.Port) }
