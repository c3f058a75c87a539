package engine

import "sync/atomic"

// Observer learns what the engine does, for metrics. The engine calls it
// synchronously from the goroutine doing the work, so its methods must be
// quick and safe for concurrent use. The library itself records nothing:
// the server wires an Observer to Prometheus.
type Observer interface {
	// Applied reports the results of one Apply, ApplyBatch or Identify
	// call that ended without a store error; committed is false for
	// Identify.
	Applied(committed bool, results []*Result)
	// Committed reports one committed transaction: how many payloads it
	// carried and how many keys it wrote.
	Committed(payloads, keys int)
	// Retried reports a transaction that conflicted with a concurrent
	// write, or stopped because it would have (intents.go), and starts
	// again.
	Retried()
}

// Observe makes o learn what the engine does from now on, replacing any
// earlier Observer; nil stops observing.
func (e *Engine) Observe(o Observer) {
	if o == nil {
		e.observer.Store(nil)
		return
	}
	e.observer.Store(&o)
}

// observed is the current Observer, or one that ignores everything.
func (e *Engine) observed() Observer {
	if o := e.observer.Load(); o != nil {
		return *o
	}
	return noObserver{}
}

type observerRef = atomic.Pointer[Observer]

type noObserver struct{}

func (noObserver) Applied(bool, []*Result) {}
func (noObserver) Committed(int, int)      {}
func (noObserver) Retried()                {}
