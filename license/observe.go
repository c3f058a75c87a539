package license

import "time"

// Observer learns of import runs, for metrics. The manager calls it from
// the goroutine that ran the import, so it must be quick and safe for
// concurrent use. The package records nothing itself: the server wires an
// Observer to Prometheus.
type Observer interface {
	// Imported reports one import run of the kind that took the time
	// given and failed with err (nil when it succeeded).
	Imported(kind Run, took time.Duration, err error)
}

type noObserver struct{}

func (noObserver) Imported(Run, time.Duration, error) {}
