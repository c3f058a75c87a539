package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store/badger"
)

// Metrics holds irego's collectors in a registry of its own (not
// Prometheus' global one, so two servers in one process do not collide).
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	items, relations *prometheus.CounterVec
	payloads         *prometheus.CounterVec
	retries          prometheus.Counter
	txnPayloads      prometheus.Histogram
	txnKeys          prometheus.Histogram
	syncCommits      prometheus.Histogram
	syncSeconds      prometheus.Histogram

	licenseImports *prometheus.CounterVec
	licenseSeconds *prometheus.HistogramVec
	tmfDeliveries  *prometheus.CounterVec
	tmfFailures    *prometheus.CounterVec
}

// New makes the collectors and registers them with the Go runtime,
// process and build-info collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "irego_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10), // 0.5ms … 131s
		}, []string{"route", "method"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_ire_items_total",
			Help: "Payload items identified, by mode (apply or identify), IRE operation and first error code (none when it has none).",
		}, []string{"mode", "operation", "error"}),
		relations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_ire_relations_total",
			Help: "Payload relations processed, by mode (apply or identify), IRE operation and first error code (none when it has none).",
		}, []string{"mode", "operation", "error"}),
		payloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_payloads_total",
			Help: "Payloads processed, by mode: apply (written) or identify (dry run).",
		}, []string{"mode"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "irego_txn_conflict_retries_total",
			Help: "Transactions that conflicted with a concurrent write, or stopped early because they would have, and were run again.",
		}),
		txnPayloads: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "irego_txn_payloads",
			Help:    "Payloads per committed transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		txnKeys: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "irego_txn_keys",
			Help:    "Keys written per committed transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		syncCommits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "irego_store_sync_commits",
			Help:    "Commits made durable by one group fsync (irego serve --sync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		syncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "irego_store_sync_duration_seconds",
			Help:    "Time one group fsync took (irego serve --sync).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		licenseImports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_license_imports_total",
			Help: "License usage import runs, by kind (complete or raw_only) and outcome (ok, failed or canceled).",
		}, []string{"run", "outcome"}),
		licenseSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "irego_license_import_duration_seconds",
			Help:    "Time one license usage import run took, by kind (complete or raw_only).",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10), // 10ms … 44min
		}, []string{"run"}),
		tmfDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_tmf637_event_deliveries_total",
			Help: "TMF637 event delivery attempts to listeners, by outcome: delivered, or retrying (failed, tried again later: events are kept until the listener takes them).",
		}, []string{"outcome"}),
		tmfFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "irego_tmf637_event_delivery_failures_total",
			Help: "Failed TMF637 event delivery attempts, by reason: status (the listener answered other than 2xx), timeout or connection.",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
		m.httpRequests, m.httpDuration,
		m.items, m.relations, m.payloads, m.retries, m.txnPayloads, m.txnKeys,
		m.syncCommits, m.syncSeconds,
		m.licenseImports, m.licenseSeconds, m.tmfDeliveries, m.tmfFailures,
	)
	return m
}

// Registry is where the collectors live, for callers that add their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Watch makes the engine report to m, and registers collectors for its
// store's size and partial payloads. Call it once per Metrics.
func (m *Metrics) Watch(e *engine.Engine) {
	e.Observe(observer{m})
	if db, ok := e.Store().(*badger.DB); ok {
		db.ObserveSyncs(m.synced)
		m.reg.MustRegister(badgerCollector{db})
	}
	m.reg.MustRegister(partialsCollector{e})
}
