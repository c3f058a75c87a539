//go:build race

package badger

// raceEnabled says the tests run under the race detector.
const raceEnabled = true
