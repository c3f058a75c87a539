package license_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
)

// BenchmarkLicensePage times the reads of the console's license page:
// Compliance in All Computers, and the drill-down to the computer systems
// behind one title's metric, from the import's summaries and, for
// comparison, from the snapshots (the store as a release before summaries
// left it: what the page read before). The estate is
// $IREGO_BENCH_LICENSE_COMPUTERS computers (default 200; see estate),
// imported on $IREGO_BENCH_LICENSE_DAYS days (default 3).
//
//	IREGO_BENCH_LICENSE_COMPUTERS=20000 go test ./license -run '^$' -bench LicensePage -benchtime 10x
func BenchmarkLicensePage(b *testing.B) {
	n, days := envInt(b, "IREGO_BENCH_LICENSE_COMPUTERS", 200), envInt(b, "IREGO_BENCH_LICENSE_DAYS", 3)
	e := estateEngine(b, n)
	at := day1
	m := license.New(e, license.Options{Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	var st *license.State
	var err error
	for d := range days {
		at = day1.AddDate(0, 0, d)
		start, heap := time.Now(), sampleHeap("")
		if st, err = m.Import(ctx); err != nil {
			b.Fatal(err)
		}
		base, peak, _ := heap()
		b.Logf("import of day %d: %d installs, %d usage rows, %v, heap in use %d MiB before, at most %d MiB during", d+1, st.Installs, st.Usages,
			time.Since(start).Round(time.Millisecond), base>>20, peak>>20)
	}
	rows, _, err := m.Compliance(ctx, license.AllComputers)
	if err != nil || len(rows) == 0 {
		b.Fatalf("compliance: %d rows, %v", len(rows), err)
	}
	title, metric := rows[0].Title.ID, "PVU_FULL_CAP"
	page := func(b *testing.B) {
		for b.Loop() {
			if rows, _, err := m.Compliance(ctx, license.AllComputers); err != nil || len(rows) == 0 {
				b.Fatalf("compliance: %d rows, %v", len(rows), err)
			}
		}
	}
	drill := func(b *testing.B) {
		for b.Loop() {
			if peaks, _, _, err := m.PeaksOf(ctx, title, metric, 200); err != nil || len(peaks) == 0 {
				b.Fatalf("drill-down: %d peaks, %v", len(peaks), err)
			}
		}
	}
	b.Run("compliance/summary", page)
	b.Run("drill-down/summary", drill)
	summary := stateField(b, e.Store(), "summary")
	setStateField(b, e.Store(), "summary", 0) // reads fall back to the snapshots
	b.Run("compliance/snapshots", page)
	b.Run("drill-down/snapshots", drill)
	setStateField(b, e.Store(), "summary", summary)
}

// estateEngine opens an engine on disk, closed when b ends, holding the
// estate of n computers, applied 250 at a time.
func estateEngine(b *testing.B, n int) *engine.Engine {
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	const chunk = 250
	for first := 0; first < n; first += chunk {
		applyPayload(b, e, estate(first, min(chunk, n-first), 0))
	}
	return e
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}
