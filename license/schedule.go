package license

import (
	"context"
	"log/slog"
	"time"

	"github.com/irego/irego/settings"
	"github.com/irego/irego/store"
)

// recheck is how often Schedule looks at the interval setting again, so a
// change through the configs API takes effect without a restart.
const recheck = time.Minute

// Schedule runs a complete import whenever settings.ImportInterval has
// passed since the last complete one started (at once when none ever ran), until ctx ends;
// then it waits for a running import to stop. Imports it starts log to log
// (nil: the Manager's logger).
func (m *Manager) Schedule(ctx context.Context, log *slog.Logger) {
	if log != nil {
		m.log.Store(log)
	}
	m.base.Store(&ctx)
	m.scheduled.Store(true)
	defer m.scheduled.Store(false)
	defer m.Wait(context.Background()) //nolint:errcheck // never fails without a deadline
	for {
		wait := recheck
		if next, ok := m.next(); ok {
			wait = min(max(time.Until(next), 0), recheck)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if next, ok := m.next(); ok && !m.now().Before(next) {
			_, _ = m.Import(ctx) // ErrRunning: an import asked for over HTTP runs; the outcome is logged
		}
	}
}

// next is when the next scheduled import is due; false when scheduled
// imports are off (interval 0) or the state cannot be read.
func (m *Manager) next() (time.Time, bool) {
	every := m.set.Duration(settings.ImportInterval)
	if every <= 0 {
		return time.Time{}, false
	}
	var rec *stateRecord
	if err := m.st.View(func(r store.Reader) (err error) { rec, err = readState(r); return err }); err != nil {
		return time.Time{}, false
	}
	last := rec.CompleteStart
	if last.IsZero() { // stored before raw data imports existed
		last = rec.LastStart
	}
	if last.IsZero() {
		return m.now(), true
	}
	return last.Add(every), true
}
