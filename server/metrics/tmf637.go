package metrics

import (
	"errors"
	"net"
	"os"

	"github.com/irego/irego/api/tmf637"
)

// tmfObserver is the tmf637.Observer that counts into Metrics.
type tmfObserver struct{ m *Metrics }

// TMF637 is the observer to give tmf637.Options, so that event deliveries
// are counted by outcome and failed attempts by reason.
func (m *Metrics) TMF637() tmf637.Observer { return tmfObserver{m} }

func (o tmfObserver) Delivery(outcome tmf637.Outcome, err error) {
	o.m.tmfDeliveries.WithLabelValues(string(outcome)).Inc()
	if err != nil {
		o.m.tmfFailures.WithLabelValues(failureReason(err)).Inc()
	}
}

// failureReason sorts a failed delivery into a few label values: the
// listener answered with an error status, did not answer in time, or
// could not be reached (refused addresses included).
func failureReason(err error) string {
	var se *tmf637.StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return "status"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "connection"
}
