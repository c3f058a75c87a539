package license

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/settings"
	"github.com/irego/irego/store"
)

// Window is the period peaks are taken over, in days, today included.
const Window = 90

// Options shape a Manager; the zero value is usable.
type Options struct {
	// Now is the clock; nil means time.Now. Imports stamp their snapshots
	// with the UTC day of Now.
	Now func() time.Time
	// Logger receives import outcomes; nil means slog.Default().
	Logger *slog.Logger
	// Observer, when not nil, hears of every import run.
	Observer Observer
}

// Manager computes, stores and reads license usage and contracts over one
// engine.
type Manager struct {
	e    *engine.Engine
	st   store.Store
	set  *settings.Settings
	now  func() time.Time
	log  atomic.Pointer[slog.Logger]
	obs  Observer
	mu   sync.Mutex // held while an import runs
	busy atomic.Bool
	// progress is the running import's progress in percent.
	progress atomic.Int32
	// scheduled is set while Schedule runs; base is its context.
	scheduled atomic.Bool
	base      atomic.Pointer[context.Context]
}

// ErrRunning: an import is already running.
var ErrRunning = errors.New("license: an import is already running")

// New returns the manager of e's license data.
func New(e *engine.Engine, o Options) *Manager {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	m := &Manager{e: e, st: e.Store(), set: settings.New(e.Store()), now: o.Now, obs: o.Observer}
	m.log.Store(o.Logger)
	return m
}

// Context is the context imports started on demand run under: Schedule's
// while it runs (so they stop with the server), else the background.
func (m *Manager) Context() context.Context {
	if p := m.base.Load(); p != nil && m.scheduled.Load() {
		return *p
	}
	return context.Background()
}

// Now is the manager's clock.
func (m *Manager) Now() time.Time { return m.now() }

// Settings returns the settings the manager reads.
func (m *Manager) Settings() *settings.Settings { return m.set }

// Viewer is who reads: admins see every computer group, other users the
// groups granted to them.
type Viewer struct {
	Name  string
	Admin bool
}

// day renders t's UTC day.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// addDays moves a YYYY-MM-DD day by n days.
func addDays(d string, n int) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}
