package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store/badger"
)

var (
	lsmBytesDesc = prometheus.NewDesc("irego_badger_lsm_level_bytes",
		"Size of each level of Badger's LSM tree.", []string{"level"}, nil)
	lsmTablesDesc = prometheus.NewDesc("irego_badger_lsm_level_tables",
		"Tables in each level of Badger's LSM tree.", []string{"level"}, nil)
	vlogBytesDesc = prometheus.NewDesc("irego_badger_vlog_bytes",
		"Size of Badger's value log, as Badger last measured it (about once a minute).", nil, nil)
	vlogGCFilesDesc = prometheus.NewDesc("irego_badger_vlog_gc_files_total",
		"Value log files the background collection rewrote (their live values moved to the newest file) and deleted.", nil, nil)
	vlogGCFailedDesc = prometheus.NewDesc("irego_badger_vlog_gc_failed_rounds_total",
		"Rounds of the value log collection that ended in an error; the next round tries again.", nil, nil)
	partialsDesc = prometheus.NewDesc("irego_partial_payloads",
		"Partial payloads waiting for a later payload to complete them.", nil, nil)
	scrapeErrorsDesc = prometheus.NewDesc("irego_metrics_read_errors",
		"1 when reading a figure for this scrape failed (the store is closed or unreadable).", []string{"figure"}, nil)
)

// badgerCollector reads Badger's own figures at each scrape.
type badgerCollector struct{ db *badger.DB }

func (c badgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lsmBytesDesc
	ch <- lsmTablesDesc
	ch <- vlogBytesDesc
	ch <- vlogGCFilesDesc
	ch <- vlogGCFailedDesc
}

func (c badgerCollector) Collect(ch chan<- prometheus.Metric) {
	bdb := c.db.Badger()
	if bdb.IsClosed() {
		return
	}
	for _, l := range bdb.Levels() {
		level := strconv.Itoa(l.Level)
		ch <- prometheus.MustNewConstMetric(lsmBytesDesc, prometheus.GaugeValue, float64(l.Size), level)
		ch <- prometheus.MustNewConstMetric(lsmTablesDesc, prometheus.GaugeValue, float64(l.NumTables), level)
	}
	_, vlog := bdb.Size()
	ch <- prometheus.MustNewConstMetric(vlogBytesDesc, prometheus.GaugeValue, float64(vlog))
	files, failed := c.db.ValueLogGC()
	ch <- prometheus.MustNewConstMetric(vlogGCFilesDesc, prometheus.CounterValue, float64(files))
	ch <- prometheus.MustNewConstMetric(vlogGCFailedDesc, prometheus.CounterValue, float64(failed))
}

// partialsCollector counts the partial payloads waiting at each scrape.
// It reads them all; there are few unless a source keeps sending
// incomplete payloads, which is what this figure is there to show.
type partialsCollector struct{ e *engine.Engine }

func (c partialsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- partialsDesc
	ch <- scrapeErrorsDesc
}

func (c partialsCollector) Collect(ch chan<- prometheus.Metric) {
	ps, err := c.e.Partials()
	failed := 0.0
	if err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(partialsDesc, prometheus.GaugeValue, float64(len(ps)))
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrorsDesc, prometheus.GaugeValue, failed, "partial_payloads")
}
