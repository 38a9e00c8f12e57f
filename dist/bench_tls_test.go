package dist

import (
	"testing"
	"time"
)

// The TLS rows of the distribution benchmarks: the same benchmarks as
// BenchmarkRemotePingPong and BenchmarkRemoteStream, with both nodes on
// mutual TLS 1.3 (certificates from WriteCertDir). Run them beside the
// plaintext ones, in one sitting, and compare the ratios:
//
//	go test -run '^$' -bench 'RemotePingPong|RemoteStream' -count 3 ./dist/

// benchTLS is set while a benchmark runs over TLS (benchOverTLS); only
// the benchmark's own goroutine reads it.
var benchTLS bool

func benchOverTLS(b *testing.B, bench func(*testing.B)) {
	benchTLS = true
	defer func() { benchTLS = false }()
	bench(b)
}

// benchTLSSetup returns what benchPeer starts its two nodes with: nothing
// for plain TCP, or certificates for both while benchTLS is set.
func benchTLSSetup(b *testing.B, local, peer string) ([]func(*Config), peerOpts) {
	if !benchTLS {
		return nil, peerOpts{}
	}
	dir := b.TempDir()
	if _, err := WriteCertDir(dir, []string{local, peer}, time.Hour); err != nil {
		b.Fatal(err)
	}
	t, err := LoadTLS(TLSDirFiles(dir, local))
	if err != nil {
		b.Fatal(err)
	}
	return []func(*Config){withTransport(t)}, peerOpts{tlsDir: dir}
}

// BenchmarkRemotePingPongTLS: BenchmarkRemotePingPong over mutual TLS.
func BenchmarkRemotePingPongTLS(b *testing.B) { benchOverTLS(b, BenchmarkRemotePingPong) }

// BenchmarkRemoteStreamTLS: BenchmarkRemoteStream over mutual TLS.
func BenchmarkRemoteStreamTLS(b *testing.B) { benchOverTLS(b, BenchmarkRemoteStream) }

// BenchmarkRPCLatencyTLS: BenchmarkRPCLatency over mutual TLS.
func BenchmarkRPCLatencyTLS(b *testing.B) { benchOverTLS(b, BenchmarkRPCLatency) }
