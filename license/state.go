package license

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/irego/irego/store"
)

// Import modes, as the Import-Mode header names them.
const (
	ModeNone    = "none"    // no import was ever started
	ModeRunning = "running" // an import is in progress
	ModeIdle    = "idle"    // no import is running
	ModePending = "pending" // the metric rules changed since the last successful import
)

// Import outcomes, as the Import-Last-Status header names them.
const (
	StatusSuccessful = "successful"
	StatusFailed     = "failed"
)

// State is the import state: what runs now and what the last imports left.
type State struct {
	Mode string `json:"mode"`
	// Progress is the running import's progress in percent; nil when none runs.
	Progress    *int      `json:"progress"`
	LastStatus  string    `json:"last_status,omitempty"`
	LastSuccess time.Time `json:"last_success_time,omitzero"`
	LastStart   time.Time `json:"last_start_time,omitzero"`
	LastEnd     time.Time `json:"last_end_time,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// LastRun is the kind of the last import started.
	LastRun Run `json:"last_run,omitempty"`
	// Day is the day of the usage the last successful import stored; peaks
	// cover the Window days up to it.
	Day string `json:"day,omitempty"`
	// Installs the last successful import saw, those that counted, and
	// the usage snapshots it stored.
	Installs int `json:"installs"`
	Counted  int `json:"counted_installs"`
	Usages   int `json:"usages"`
	// Warnings are the first rule failures of the last import (an install
	// whose metric could not be computed is left out of that metric).
	Warnings     []string `json:"warnings,omitempty"`
	WarningCount int      `json:"warning_count"`
	// Next is when the next scheduled import is due; zero when imports are
	// not scheduled.
	Next time.Time `json:"next_scheduled_time,omitzero"`
}

// PeriodStart is the first day the last successful import's peaks cover.
func (s *State) PeriodStart() string { return addDays(s.Day, 1-Window) }

// stateRecord is the stored state: the public part, and what makes the
// stored usage readable.
type stateRecord struct {
	State
	// Seq is the number of the last import started.
	Seq uint64 `json:"seq"`
	// Current is the import whose peaks are served.
	Current uint64 `json:"current"`
	// Days maps each day kept to the import holding its snapshot.
	Days map[string]uint64 `json:"days"`
	// Fingerprint is that of the metric rules of the last successful import.
	Fingerprint string `json:"fingerprint"`
	// Summary is the import whose summaries and peaks by title are
	// stored (see summary.go); 0 for imports made before they were.
	Summary uint64 `json:"summary,omitempty"`
	// DimSeq is the last id given to a computer system or title.
	DimSeq uint64 `json:"dim_seq"`
	// CompleteStart is when the last complete import started: the
	// schedule counts from it, so a raw data import does not put off
	// the next complete one.
	CompleteStart time.Time `json:"complete_start,omitzero"`
}

func readState(r store.Reader) (*stateRecord, error) {
	rec := &stateRecord{Days: map[string]uint64{}}
	b, err := r.Get(store.LicenseStateKey())
	if errors.Is(err, store.ErrNotFound) {
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, err
	}
	if rec.Days == nil {
		rec.Days = map[string]uint64{}
	}
	return rec, nil
}

func (m *Manager) writeState(rec *stateRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return m.update(func(txn store.Txn) error { return txn.Set(store.LicenseStateKey(), b) })
}

// State returns the import state now.
func (m *Manager) State() (*State, error) {
	var rec *stateRecord
	if err := m.st.View(func(r store.Reader) (err error) { rec, err = readState(r); return err }); err != nil {
		return nil, err
	}
	return m.public(rec), nil
}

// public is the state as callers see it, with the mode.
func (m *Manager) public(rec *stateRecord) *State {
	s := rec.State
	s.Warnings = append([]string(nil), s.Warnings...)
	switch {
	case m.busy.Load():
		s.Mode = ModeRunning
		p := int(m.progress.Load())
		s.Progress = &p
	case rec.Seq == 0:
		s.Mode = ModeNone
	case rec.Current != 0 && rec.Fingerprint != m.fingerprint():
		s.Mode = ModePending
	default:
		s.Mode = ModeIdle
	}
	if m.scheduled.Load() {
		if next, ok := m.next(); ok {
			s.Next = next.UTC()
		}
	}
	return &s
}

// fingerprint is that of the engine's metric rules, "" without any.
func (m *Manager) fingerprint() string {
	if mr := m.e.Rules().Metrics(); mr != nil {
		return mr.Fingerprint()
	}
	return ""
}

// update runs fn in a transaction and commits it, again when a concurrent
// commit conflicts.
func (m *Manager) update(fn func(store.Txn) error) error {
	for attempt := 1; ; attempt++ {
		txn := m.st.NewTxn()
		err := fn(txn)
		if err == nil {
			err = txn.Commit()
		}
		txn.Discard()
		if !errors.Is(err, store.ErrConflict) || attempt == 8 {
			return err
		}
		time.Sleep(time.Duration(attempt) * time.Millisecond)
	}
}
