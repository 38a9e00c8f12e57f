package term

import (
	"os"

	"golang.org/x/sys/unix"
)

// SaveModes records the modes of the terminal f and returns what puts
// them back. The shell restores them on every way out: readline switches the
// terminal to raw mode while it waits for a key, and a SIGTERM, a peer's
// halt or a crash of the shell can end the program while it waits, with
// readline's own restore never reached.
func SaveModes(f *os.File) (restore func()) {
	if f == nil {
		return func() {}
	}
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {} // not a terminal
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, t) }
}
