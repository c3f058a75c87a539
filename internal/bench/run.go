package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/irego/irego/payload"
)

// Target receives payloads: a batch is applied in one transaction when the
// target can, else one after the other.
type Target interface {
	Send(ctx context.Context, batch []*payload.Payload) error
}

// Config says how hard and how long to drive a target.
type Config struct {
	Concurrency int
	// Batch is how many payloads each Send carries.
	Batch int
	// Duration bounds the run by time, Count by payloads; whichever is set
	// (Count wins when both are).
	Duration time.Duration
	Count    int
	Gen      *Generator
	// Progress, when not nil, receives a progress line every second.
	Progress io.Writer
}

// Report is what a run measured.
type Report struct {
	Mode        string `json:"mode"`
	Concurrency int    `json:"concurrency"`
	Batch       int    `json:"batch"`
	Sync        bool   `json:"sync"`
	Preloaded   int    `json:"preloaded_cis"`
	// Rules describes the rule set identified with (in-process runs).
	Rules          string  `json:"rules,omitempty"`
	Payloads       int64   `json:"payloads"`
	Items          int64   `json:"items"`
	Errors         int64   `json:"errors"`
	Seconds        float64 `json:"seconds"`
	ItemsPerSec    float64 `json:"items_per_sec"`
	PayloadsPerSec float64 `json:"payloads_per_sec"`
	P50ms          float64 `json:"p50_ms"`
	P95ms          float64 `json:"p95_ms"`
	P99ms          float64 `json:"p99_ms"`
	AllocsPerItem  float64 `json:"allocs_per_item"`
	PeakRSSBytes   int64   `json:"peak_rss_bytes"`
	// PeakAnonBytes is the largest anonymous (heap and stack) part of the
	// resident set seen while running; the rest of the RSS is the store's
	// memory-mapped files, which the kernel reclaims under pressure.
	PeakAnonBytes int64  `json:"peak_anon_bytes"`
	FirstError    string `json:"first_error,omitempty"`
	// KeysPerItem and BytesPerItem are what committed transactions wrote
	// per item (keys set or deleted; their keys and values), in process.
	KeysPerItem  float64 `json:"keys_per_item,omitempty"`
	BytesPerItem float64 `json:"bytes_per_item,omitempty"`
	// Repeats, with --repeats-alone, is a run of repeated chains only
	// (every item NO_CHANGE), measured after the main one.
	Repeats *Report `json:"repeats,omitempty"`
	// With --sync on Badger: the group fsyncs of the timed run and how
	// many commits each made durable on average.
	Syncs          int64   `json:"syncs,omitempty"`
	CommitsPerSync float64 `json:"commits_per_sync,omitempty"`
	// Retries counts transactions that conflicted with a concurrent one
	// and were applied again (in process).
	Retries int64 `json:"retries,omitempty"`
	// With a baseline run:
	BaselineItemsPerSec float64 `json:"baseline_items_per_sec,omitempty"`
	Ratio               float64 `json:"ratio,omitempty"`
	// With a writes baseline run (the same writes, bare):
	WritesBaselineItemsPerSec float64 `json:"writes_baseline_items_per_sec,omitempty"`
	WritesRatio               float64 `json:"writes_ratio,omitempty"`
}

// Run drives t until the count or the duration is reached and reports.
func Run(ctx context.Context, t Target, c Config) *Report {
	c.Concurrency, c.Batch = max(c.Concurrency, 1), max(c.Batch, 1)
	if c.Count <= 0 && c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Count <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	var payloads, items, errs, claimed atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, c.Concurrency)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	stop := progress(c.Progress, start, &payloads, &items)
	stopSampling, peakAnon := sampleAnon()
	var wg sync.WaitGroup
	for w := range c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := c.Batch
				if c.Count > 0 {
					got := claimed.Add(int64(n))
					if over := got - int64(c.Count); over >= int64(n) {
						return
					} else if over > 0 {
						n -= int(over)
					}
				}
				batch := make([]*payload.Payload, n)
				k := 0
				for i := range batch {
					batch[i] = c.Gen.Next()
					k += Items(batch[i])
				}
				t0 := time.Now()
				err := t.Send(ctx, batch)
				if err != nil {
					if ctx.Err() != nil && c.Count <= 0 {
						return // the run's time is up
					}
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				payloads.Add(int64(n))
				items.Add(int64(k))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	stopSampling()
	runtime.ReadMemStats(&after)
	r := &Report{Concurrency: c.Concurrency, Batch: c.Batch, Payloads: payloads.Load(), Items: items.Load(),
		Errors: errs.Load(), Seconds: elapsed.Seconds(), PeakRSSBytes: procStatus("VmHWM:"), PeakAnonBytes: peakAnon.Load()}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	r.ItemsPerSec = float64(r.Items) / r.Seconds
	r.PayloadsPerSec = float64(r.Payloads) / r.Seconds
	if r.Items > 0 {
		r.AllocsPerItem = float64(after.Mallocs-before.Mallocs) / float64(r.Items)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	r.P50ms, r.P95ms, r.P99ms = percentile(all, 50), percentile(all, 95), percentile(all, 99)
	return r
}

func percentile(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	i := min(len(d)-1, (len(d)*p+99)/100-1)
	return float64(d[max(i, 0)].Microseconds()) / 1000
}

// progress prints a line every second until the returned stop is called.
func progress(w io.Writer, start time.Time, payloads, items *atomic.Int64) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case <-tick.C:
				s := time.Since(start).Seconds()
				fmt.Fprintf(w, "\r%6.0fs %10d payloads %12.0f items/s", s, payloads.Load(), float64(items.Load())/s)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// procStatus reads one kB figure of /proc/self/status in bytes (Linux;
// 0 elsewhere): VmHWM is the peak resident set, RssAnon its anonymous part.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// sampleAnon tracks the peak anonymous resident memory until stopped.
func sampleAnon() (stop func(), peak *atomic.Int64) {
	peak = new(atomic.Int64)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if n := procStatus("RssAnon:"); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }, peak
}
