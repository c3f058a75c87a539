package metrics

import (
	"time"

	"github.com/irego/irego/engine"
)

// observer is the engine.Observer that counts into Metrics.
type observer struct{ m *Metrics }

func (o observer) Applied(committed bool, results []*engine.Result) {
	mode := "identify"
	if committed {
		mode = "apply"
	}
	o.m.payloads.WithLabelValues(mode).Add(float64(len(results)))
	for _, r := range results {
		for _, it := range r.Items {
			o.m.items.WithLabelValues(mode, it.Operation, firstCode(it.Errors)).Inc()
		}
		for _, rel := range r.Relations {
			o.m.relations.WithLabelValues(mode, rel.Operation, firstCode(rel.Errors)).Inc()
		}
	}
}

func (o observer) Committed(payloads, keys int) {
	o.m.txnPayloads.Observe(float64(payloads))
	o.m.txnKeys.Observe(float64(keys))
}

func (o observer) Retried() { o.m.retries.Inc() }

// synced observes one group fsync of the Badger store.
func (m *Metrics) synced(commits int, took time.Duration) {
	m.syncCommits.Observe(float64(commits))
	m.syncSeconds.Observe(took.Seconds())
}

// firstCode is the IRE code of an outcome's first error: the label stays
// within the fixed set of IRE codes.
func firstCode(errs []engine.Issue) string {
	if len(errs) == 0 || errs[0].Code == "" {
		return "none"
	}
	return errs[0].Code
}
