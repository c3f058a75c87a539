package engine_test

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
)

// BenchmarkBackupMemory measures the heap one backup of a store of 50,000
// CIs (BYOL chains) holds: the live heap beyond the one before it,
// sampled every 10ms while it runs (each sample collects garbage first, so
// it counts what the backup holds, not what the collector has yet to
// free), to a fast reader and to a slow one (a client at 20 MB/s, which
// lets a backup that buffers fill its buffers).
func BenchmarkBackupMemory(b *testing.B) {
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	const chains = 12_200 // four CIs a chain, plus shared datacenters and accounts: 50k CIs
	for k := 0; k < chains; k += 100 {
		if res, err := e.Apply(context.Background(), "ServiceNow", byolChains(100, k), seedOptions); err != nil || res.HasError {
			b.Fatalf("preload: %v", err)
		}
	}
	for _, c := range []struct {
		name string
		w    func() io.Writer
	}{
		{"reader=fast", func() io.Writer { return io.Discard }},
		{"reader=20MBps", func() io.Writer { return &slowWriter{rate: 20 << 20} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			// A first backup fills Badger's block cache (64 MiB, shared by
			// every read): what follows is the backup's own.
			if err := e.Backup(io.Discard); err != nil {
				b.Fatal(err)
			}
			var peak, written uint64
			for i := 0; i < b.N; i++ {
				base := liveHeap()
				stop, max := sampleHeap()
				w := &countingWriter{w: c.w()}
				if err := e.Backup(w); err != nil {
					b.Fatal(err)
				}
				peak, written = max(stop())-base, w.n
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MiB")
			b.ReportMetric(float64(written)/(1<<20), "backup-MiB")
		})
	}
}

// liveHeap is the heap in use once garbage is collected.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// sampleHeap samples the live heap every 10ms until stop is called; max
// returns the largest sample.
func sampleHeap() (stop func() uint64, max func(uint64) uint64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			h := liveHeap()
			mu.Lock()
			peak = maxU(peak, h)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	return func() uint64 {
			close(done)
			wg.Wait()
			return liveHeap()
		}, func(last uint64) uint64 {
			mu.Lock()
			defer mu.Unlock()
			return maxU(peak, last)
		}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

type countingWriter struct {
	w io.Writer
	n uint64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}

// slowWriter takes rate bytes a second, like a client on a slow link.
type slowWriter struct{ rate int }

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(len(p)) * time.Second / time.Duration(s.rate))
	return len(p), nil
}
