package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/irego/irego/version"
)

// buildInfo is the constant 1 labelled with the running build, as
// Prometheus' own *_build_info metrics are.
func buildInfo() prometheus.Collector {
	v := version.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "irego_build_info",
		Help:        "The running build of irego: module version, VCS revision and Go version.",
		ConstLabels: prometheus.Labels{"version": v.Version, "revision": v.Revision, "goversion": v.Go},
	})
	g.Set(1)
	return g
}
