package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/irego/irego/license"
)

// licenseObserver is the license.Observer that counts into Metrics.
type licenseObserver struct{ m *Metrics }

// License is the observer to give license.Options, so that import runs
// are counted and timed.
func (m *Metrics) License() license.Observer { return licenseObserver{m} }

func (o licenseObserver) Imported(kind license.Run, took time.Duration, err error) {
	outcome := "ok"
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		outcome = "canceled"
	case err != nil:
		outcome = "failed"
	}
	o.m.licenseImports.WithLabelValues(string(kind), outcome).Inc()
	o.m.licenseSeconds.WithLabelValues(string(kind)).Observe(took.Seconds())
}
