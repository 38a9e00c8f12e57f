package wire

import "strings"

// WinsSimultaneous reports whether, when nodes self and peer are connecting
// to each other at the same time, self's own outgoing attempt is the one
// that survives: it does when self's name sorts after peer's. A node
// accepting a hello from peer while its own attempt to peer is pending
// answers StatusNok when this is true, and otherwise drops its attempt and
// answers StatusOK.
func WinsSimultaneous(self, peer string) bool { return self > peer }

// ValidName reports whether s is a usable node name: name@host with both
// parts non-empty, a single @, no spaces, control characters or angle
// brackets, at most MaxNameLen bytes. It is the same rule as proc's.
func ValidName(s string) bool {
	if len(s) > MaxNameLen {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '<' || r == '>' || r == 0x7f {
			return false
		}
	}
	return true
}
