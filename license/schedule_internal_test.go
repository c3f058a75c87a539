package license

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/irego/irego/engine"
)

// TestRawImportKeepsSchedule: the schedule counts from the last complete
// import, so a raw data import does not put the next one off.
func TestRawImportKeepsSchedule(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	m := New(e, Options{Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	if _, err := m.Import(ctx); err != nil {
		t.Fatal(err)
	}
	first, ok := m.next()
	if !ok || !first.Equal(at.Add(24*time.Hour)) {
		t.Fatalf("next after a complete import: %v %v", first, ok)
	}
	at = at.Add(time.Hour)
	if _, err := m.ImportRun(ctx, RunRawOnly); err != nil {
		t.Fatal(err)
	}
	if next, _ := m.next(); !next.Equal(first) {
		t.Errorf("next after a raw data import: %v, want %v", next, first)
	}
	if _, err := m.Import(ctx); err != nil {
		t.Fatal(err)
	}
	if next, _ := m.next(); !next.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("next after the second complete import: %v", next)
	}
}
