//go:build race

package dist

// raceEnabled: the race detector slows message passing about tenfold, so
// the stress test sends fewer messages under it (see stressMessages).
const raceEnabled = true
