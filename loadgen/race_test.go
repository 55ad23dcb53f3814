//go:build race

package loadgen

// raceEnabled: the race detector makes every handshake many times slower,
// so tests skip timing bounds under it.
const raceEnabled = true
