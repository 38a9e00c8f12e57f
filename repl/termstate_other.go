//go:build !linux

package repl

import "os"

// saveTerminal is a no-op outside Linux: there, readline's own restore is
// all there is (see termstate_linux.go).
func saveTerminal(*os.File) (restore func()) { return func() {} }
