package license_test

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/irego/irego/license"
)

// BenchmarkImport runs complete imports of the estate of
// $IREGO_BENCH_LICENSE_COMPUTERS computers (default 200; see estate), one
// a day, and reports the heap in use at most during an import
// (peak-heap-MB) and before it, after a collection (base-heap-MB), and
// the largest live heap a collection found during it (peak-live-MB): what
// an import holds while it runs. With $IREGO_BENCH_LICENSE_HEAPPROFILE
// set, a heap profile is written to that file each time the live heap
// grows by a tenth: the objects live at the largest.
//
//	IREGO_BENCH_LICENSE_COMPUTERS=40000 go test ./license -run '^$' -bench Import -benchtime 3x
func BenchmarkImport(b *testing.B) {
	e := estateEngine(b, envInt(b, "IREGO_BENCH_LICENSE_COMPUTERS", 200))
	at := day1
	m := license.New(e, license.Options{Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	var base, peak, live uint64
	for i := 0; b.Loop(); i++ {
		at = day1.AddDate(0, 0, i)
		b.StopTimer()
		stop := sampleHeap(os.Getenv("IREGO_BENCH_LICENSE_HEAPPROFILE"))
		b.StartTimer()
		st, err := m.Import(ctx)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		before, most, mostLive := stop()
		base, peak, live = max(base, before), max(peak, most), max(live, mostLive)
		b.Logf("import %d: %d installs, %d usage rows, heap in use %d MiB before, at most %d MiB during (live at most %d MiB)",
			i+1, st.Installs, st.Usages, before>>20, most>>20, mostLive>>20)
		b.StartTimer()
	}
	b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
}

// heapInUse is runtime.MemStats.HeapInuse read without stopping the
// world (the heap's object spans, live or not yet swept, and their free
// slots), then the live heap the last collection marked.
var heapInUse = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}, {Name: "/gc/heap/live:bytes"}}

func readHeapInUse(s []metrics.Sample) (inUse, live uint64) {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64(), s[2].Value.Uint64()
}

// sampleHeap samples the heap every 2 ms until the returned function is
// called, which returns the first heap in use (after a collection), the
// largest, and the largest live heap a collection found meanwhile. With
// profile set, it writes a heap profile there each time the largest live
// heap grows by a tenth.
func sampleHeap(profile string) func() (base, peak, live uint64) {
	runtime.GC()
	s := append([]metrics.Sample(nil), heapInUse...)
	base, _ := readHeapInUse(s)
	stop, done := make(chan struct{}), make(chan [2]uint64)
	go func() {
		peak, live, written := base, uint64(0), uint64(0)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			v, l := readHeapInUse(s)
			peak, live = max(peak, v), max(live, l)
			if profile != "" && live > written+written/10 {
				written = live
				writeHeapProfile(profile)
			}
			select {
			case <-stop:
				done <- [2]uint64{peak, live}
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64, uint64) { close(stop); r := <-done; return base, r[0], r[1] }
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("heap").WriteTo(f, 0)
}
