package epmd

import (
	"net"
	"slices"
	"testing"
)

// Where an embedded port mapper listens: epmd listens on every interface,
// or on the addresses of ERL_EPMD_ADDRESS plus the loopback address.
func TestListenAddrs(t *testing.T) {
	for _, tc := range []struct {
		addr, env string
		want      []string
	}{
		{"127.0.0.1:4369", "", []string{":4369"}},
		{"127.0.0.1:4369", "127.0.0.2", []string{"127.0.0.2:4369", "127.0.0.1:4369"}},
		{"127.0.0.1:4369", "127.0.0.2, ::1,127.0.0.1", []string{"127.0.0.2:4369", "[::1]:4369", "127.0.0.1:4369"}},
		{"127.0.0.1:4369", "not-an-address", []string{"127.0.0.1:4369"}},
		{"10.1.2.3:4369", "", []string{"10.1.2.3:4369"}},
	} {
		if got := listenAddrs(tc.addr, tc.env); !slices.Equal(got, tc.want) {
			t.Errorf("listenAddrs(%q, %q) = %v, want %v", tc.addr, tc.env, got, tc.want)
		}
	}
}

// Without ERL_EPMD_ADDRESS the embedded port mapper answers on every
// address of the machine (here another loopback address), so that nodes
// named by a real address find each other without a real epmd.
func TestEmbeddedPortMapperOnAllInterfaces(t *testing.T) {
	t.Setenv("ERL_EPMD_ADDRESS", "")
	addr := freeAddr(t)
	startRegistrar(t, addr, "n1", 9001)
	_, port, _ := net.SplitHostPort(addr)
	if got := namesOf(t, net.JoinHostPort("127.0.0.3", port)); got["n1"] != 9001 {
		t.Fatalf("names at 127.0.0.3 = %v, want n1", got)
	}
}

// With ERL_EPMD_ADDRESS it answers on those addresses and loopback only.
func TestEmbeddedPortMapperOnEPMDAddress(t *testing.T) {
	t.Setenv("ERL_EPMD_ADDRESS", "127.0.0.2")
	addr := freeAddr(t)
	startRegistrar(t, addr, "n1", 9001)
	_, port, _ := net.SplitHostPort(addr)
	if got := namesOf(t, net.JoinHostPort("127.0.0.2", port)); got["n1"] != 9001 {
		t.Fatalf("names at 127.0.0.2 = %v, want n1", got)
	}
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.3", port)); err == nil {
		c.Close()
		t.Fatal("the port mapper answers at 127.0.0.3, not in ERL_EPMD_ADDRESS")
	}
}
