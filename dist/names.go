package dist

import (
	"fmt"
	"os"
	"strings"

	"github.com/gonode/gonode/dist/wire"
)

// ShortName turns an --sname argument into a full name: "node1" gets this
// machine's short host name (as Erlang does), "node1@host" stays as written.
func ShortName(s string) (string, error) {
	if !strings.Contains(s, "@") {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("dist: host name for --sname %s: %w", s, err)
		}
		if i := strings.IndexByte(h, '.'); i > 0 {
			h = h[:i]
		}
		s += "@" + h
	}
	if !wire.ValidName(s) {
		return "", fmt.Errorf("%w: %q: want name@host", ErrBadNodeName, s)
	}
	return s, nil
}

// LongName checks a --name argument: name@host.domain or name@IP. A name
// without a host gets this machine's full host name.
func LongName(s string) (string, error) {
	if !strings.Contains(s, "@") {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("dist: host name for --name %s: %w", s, err)
		}
		s += "@" + h
	}
	if !wire.ValidName(s) {
		return "", fmt.Errorf("%w: %q: want name@host", ErrBadNodeName, s)
	}
	return s, nil
}

// peerHostPort splits a node name into the short name the port mapper knows
// and the host to reach it on.
func peerHostPort(name string) (alive, host string, err error) {
	at := strings.IndexByte(name, '@')
	if at <= 0 || !wire.ValidName(name) {
		return "", "", fmt.Errorf("%w: %q", ErrBadNodeName, name)
	}
	return name[:at], name[at+1:], nil
}
