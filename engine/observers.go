package engine

// Observing returns the Observer the engine reports to now, or nil. A
// second consumer wraps it with Observers, so both keep learning.
func (e *Engine) Observing() Observer {
	if o := e.observer.Load(); o != nil {
		return *o
	}
	return nil
}

// Observers returns an Observer that tells each non-nil one of os, in
// order.
func Observers(os ...Observer) Observer {
	var t tee
	for _, o := range os {
		if o != nil {
			t = append(t, o)
		}
	}
	return t
}

type tee []Observer

func (t tee) Applied(committed bool, results []*Result) {
	for _, o := range t {
		o.Applied(committed, results)
	}
}

func (t tee) Committed(payloads, keys int) {
	for _, o := range t {
		o.Committed(payloads, keys)
	}
}

func (t tee) Retried() {
	for _, o := range t {
		o.Retried()
	}
}
