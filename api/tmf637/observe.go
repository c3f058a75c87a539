package tmf637

import "strconv"

// Outcome is how one attempt to deliver an event to a listener ended.
type Outcome string

// The outcomes an Observer hears of.
const (
	// Delivered: the listener answered 2xx.
	Delivered Outcome = "delivered"
	// Retrying: the attempt failed; the event is tried again later (until
	// the listener takes it or its subscription is deleted).
	Retrying Outcome = "retrying"
)

// Observer learns how event deliveries end, for metrics. The hub calls it
// from its delivery goroutines, so it must be quick and safe for
// concurrent use. The package records nothing itself: the server wires an
// Observer to Prometheus.
type Observer interface {
	// Delivery reports one attempt to post an event to a listener; err is
	// why a failed attempt failed: a *StatusError when the listener
	// answered, else the client's error.
	Delivery(o Outcome, err error)
}

// StatusError is a listener's answer other than 2xx.
type StatusError struct{ Status int }

// Error names the listener's status.
func (e *StatusError) Error() string { return "listener answered " + strconv.Itoa(e.Status) }

type noObserver struct{}

func (noObserver) Delivery(Outcome, error) {}
