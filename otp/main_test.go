package otp_test

import (
	"os"
	"testing"
)

// TestMain runs the tests, or, when the test binary was re-executed as a
// peer node (GONODE_TEST_PEER set, see peer_test.go), serves as that node
// until its stdin closes.
func TestMain(m *testing.M) {
	if name := os.Getenv(envPeer); name != "" {
		os.Exit(runPeer(name))
	}
	os.Exit(m.Run())
}
