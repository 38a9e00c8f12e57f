//go:build !linux

package term

import "os"

// SaveModes is a no-op outside Linux: there, readline's own restore is
// all there is (see modes_linux.go).
func SaveModes(*os.File) (restore func()) { return func() {} }
