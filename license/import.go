package license

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/settings"
	"github.com/irego/irego/store"
)

// What an import walks: the class of software installs and the relation
// types from a computer to its VM instance and from the VM to its host.
const (
	InstallClass  = "cmdb_sam_sw_install"
	VirtualizedBy = "Virtualized by::Virtualizes"
	RunsOn        = "Runs on::Runs"
)

// maxWarnings bounds the warnings an import keeps in its state.
const maxWarnings = 20

// usage is one stored snapshot row: what one computer system used of one
// title's metric on one day.
type usage struct {
	System uint64  `json:"cs"`
	Title  uint64  `json:"title"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	// Server is where the usage is counted (see ComputerSystem.Server);
	// PerHost says computers on one server share the value.
	Server  uint64 `json:"server"`
	PerHost bool   `json:"per_host,omitempty"`
	// At is when an import of the day first found this value.
	At time.Time `json:"at"`
}

// peakKey names a peak: a computer system's use of one title's metric.
type peakKey struct {
	system, title uint64
	metric        string
}

// peakOf is a peak being found: the largest value yet, and when it was
// first reached.
type peakOf struct {
	value float64
	day   string
	at    time.Time
}

// peak is one stored peak: the largest value of a usage row in the window,
// with the day and time it was first reached.
type peak struct {
	System uint64    `json:"cs"`
	Title  uint64    `json:"title"`
	Metric string    `json:"metric"`
	Value  float64   `json:"value"`
	Day    string    `json:"day"`
	At     time.Time `json:"at"`
}

// Run is a kind of import.
type Run string

// The kinds of import, as /api/import_status.json?run= names them.
const (
	// RunComplete reads the CI graph and computes and stores usage.
	RunComplete Run = "complete"
	// RunRawOnly reads the CI graph and refreshes the computer systems,
	// software titles and metric catalogue only: the usage served stays
	// that of the last complete import.
	RunRawOnly Run = "raw_only"
)

// Import runs a complete import now and returns the state it left. It
// returns ErrRunning when one is already running.
func (m *Manager) Import(ctx context.Context) (*State, error) { return m.ImportRun(ctx, RunComplete) }

// ImportRun runs an import of the kind now, as Import.
func (m *Manager) ImportRun(ctx context.Context, kind Run) (*State, error) {
	if !m.mu.TryLock() {
		return nil, ErrRunning
	}
	defer m.mu.Unlock()
	return m.run(ctx, kind)
}

// Start starts a complete import in the background, bound to ctx; it
// reports false when one is already running.
func (m *Manager) Start(ctx context.Context) bool { return m.StartRun(ctx, RunComplete) }

// StartRun starts an import of the kind in the background, as Start.
func (m *Manager) StartRun(ctx context.Context, kind Run) bool {
	if !m.mu.TryLock() {
		return false
	}
	m.busy.Store(true) // seen as running from now on
	go func() {
		defer m.mu.Unlock()
		_, _ = m.run(ctx, kind) // the outcome is in the state and the log
	}()
	return true
}

// Wait returns once no import runs, or when ctx ends.
func (m *Manager) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		m.mu.Lock()
		//lint:ignore SA2001 taking the lock once means the running import has ended
		m.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is one import; m.mu is held.
func (m *Manager) run(ctx context.Context, kind Run) (*State, error) {
	m.progress.Store(0)
	m.busy.Store(true)
	start := time.Now() // not m.now: a test clock would make the duration up
	rec, err := m.runImport(ctx, kind)
	m.busy.Store(false)
	m.obs.Imported(kind, time.Since(start), err)
	if rec == nil {
		return nil, err
	}
	return m.public(rec), err
}

func (m *Manager) runImport(ctx context.Context, kind Run) (*stateRecord, error) {
	start := m.now().UTC()
	var rec *stateRecord
	if err := m.st.View(func(r store.Reader) (err error) { rec, err = readState(r); return err }); err != nil {
		return nil, fmt.Errorf("license: import: reading its state: %w", err)
	}
	rec.Seq++
	rec.LastStart, rec.LastRun = start, kind
	if kind == RunComplete {
		rec.CompleteStart = start
	}
	if err := m.writeState(rec); err != nil {
		return nil, fmt.Errorf("license: import: %w", err)
	}
	imp := &importRun{m: m, rec: rec, id: rec.Seq, day: day(start), at: start, raw: kind == RunRawOnly}
	err := imp.do(ctx)
	rec.LastEnd = m.now().UTC()
	if err != nil {
		rec.LastStatus, rec.LastError = StatusFailed, err.Error()
		m.log.Load().Error("license import failed; the previous results stay served", "import", imp.id, "err", err)
		// Leave no half-written results behind; they are never read anyway.
		_ = m.deletePrefix(store.SnapshotPrefix(imp.day, imp.id))
		_ = m.deletePrefix(store.PeakPrefix(imp.id))
		_ = m.deletePrefix(store.PeakByTitleImportPrefix(imp.id))
		_ = m.deletePrefix(store.UsageSummaryPrefix(imp.id))
		if werr := m.writeState(rec); werr != nil {
			err = errors.Join(err, werr)
		}
		return rec, err
	}
	m.log.Load().Info("license import done", "import", imp.id, "run", kind, "installs", rec.Installs, "counted", rec.Counted,
		"usages", rec.Usages, "warnings", rec.WarningCount, "duration", rec.LastEnd.Sub(start))
	return rec, nil
}

// importRun is the work of one import.
type importRun struct {
	m   *Manager
	rec *stateRecord
	id  uint64
	day string
	at  time.Time
	raw bool // RunRawOnly
	// keepFrom is the first day usage retention keeps ("" for all).
	keepFrom string

	machines map[string]*machine        // by computer sys_id
	hosts    map[string]*ComputerSystem // by sys_id; nil when not stored
	systems  map[string]*ComputerSystem // by sys_id
	servers  map[string]string          // computer sys_id → its server's, when not itself
	titles   map[string]*Title          // by natural key
	rows     map[rowKey]pending
	warnings []string
	nwarn    int
	installs int
	counted  int
}

// rowKey names a usage row before ids are known, by the import's own
// computer system and title.
type rowKey struct {
	system *ComputerSystem
	title  *Title
	metric string
}

// pending is a usage row found: all that is needed to store it once the
// computer systems are numbered.
type pending struct {
	value   float64
	server  *ComputerSystem
	perHost bool
}

func (imp *importRun) do(ctx context.Context) error {
	rs := imp.m.e.Rules()
	mr := rs.Metrics()
	imp.machines, imp.hosts = map[string]*machine{}, map[string]*ComputerSystem{}
	imp.systems, imp.titles = map[string]*ComputerSystem{}, map[string]*Title{}
	imp.servers = map[string]string{}
	imp.rows = map[rowKey]pending{}
	if _, ok := rs.Class(InstallClass); ok && mr != nil {
		// Installs are evaluated as they are read, a page at a time: the
		// import holds what they add up to, not the installs.
		total, err := imp.countInstalls(rs)
		if err != nil {
			return fmt.Errorf("reading software installs: %w", err)
		}
		seen := 0
		err = imp.eachInstall(rs, func(rec *store.Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			seen++
			imp.m.progress.Store(int32(min(seen, total) * 80 / max(total, 1)))
			if rec.Retired {
				return nil
			}
			imp.installs++
			return imp.evaluate(mr, rec)
		})
		if err != nil {
			return err
		}
	}
	imp.machines, imp.hosts = nil, nil // what is counted on them is in systems and rows
	if err := imp.assignIDs(mr); err != nil {
		return fmt.Errorf("numbering computer systems and titles: %w", err)
	}
	if imp.raw {
		return imp.commitRaw()
	}
	imp.m.progress.Store(85)
	imp.keepFrom = imp.oldestKept()
	rows, err := imp.writeSnapshots()
	if err != nil {
		return fmt.Errorf("storing usage snapshots: %w", err)
	}
	imp.m.progress.Store(90)
	nrows := len(rows)
	if err := imp.writePeaks(ctx, rows); err != nil { // rows are let go of once counted
		return fmt.Errorf("storing peaks: %w", err)
	}
	imp.m.progress.Store(98)
	return imp.commit(nrows)
}

// evaluate computes the metrics of one install.
func (imp *importRun) evaluate(mr *rules.MetricRules, rec *store.Record) error {
	computerID := rec.Scope
	if computerID == "" {
		computerID, _ = rec.Values["installed_on"].(string)
	}
	mc, err := imp.machine(computerID)
	if err != nil {
		return err
	}
	if mc == nil {
		imp.warn("install %s: its computer %q is not stored", rec.SysID, computerID)
		return nil
	}
	env := rules.MetricEnv{Install: rec.Values, Computer: mc.computer.Values, VM: mc.vm}
	if mc.host != nil {
		env.Host = mc.host.Values
	}
	values, errs := mr.Evaluate(env)
	for _, e := range errs {
		imp.warn("install %s on %s: %v", rec.SysID, computerID, e)
	}
	if counts, _ := mr.Counts(env); counts {
		imp.counted++
	}
	if len(values) == 0 {
		return nil
	}
	t := imp.title(rec.Values)
	computer := imp.system(mc.computer, nil)
	server := computer
	if mc.host != nil {
		server = imp.system(mc.host, nil)
	}
	imp.system(computer, server)
	for _, v := range values {
		k := rowKey{computer, t, v.Metric}
		if old, ok := imp.rows[k]; ok && old.value >= v.Value {
			continue
		}
		imp.rows[k] = pending{value: v.Value, server: server, perHost: v.PerHost && mc.host != nil}
	}
	return nil
}

// title is the import's title of an install's values, one per natural key.
func (imp *importRun) title(values map[string]any) *Title {
	t := newTitle(values)
	k := t.key()
	if old := imp.titles[k]; old != nil {
		return old
	}
	imp.titles[k] = t
	return t
}

// system notes a computer system to number; server is the system its
// licenses count on (nil for itself). It returns the import's one
// computer system of that sys_id: the first noted.
func (imp *importRun) system(cs, server *ComputerSystem) *ComputerSystem {
	if first := imp.systems[cs.SysID]; first != nil {
		cs = first
	} else {
		imp.systems[cs.SysID] = cs
	}
	if server != nil && server.SysID != cs.SysID {
		imp.servers[cs.SysID] = server.SysID
	}
	return cs
}

func (imp *importRun) warn(format string, args ...any) {
	imp.nwarn++
	if len(imp.warnings) < maxWarnings {
		imp.warnings = append(imp.warnings, fmt.Sprintf(format, args...))
	}
}

// assignIDs numbers new computer systems and titles, and adds the rules'
// metrics to the catalogue. Ids are reserved in the state first, so a
// failure part way never hands one id out twice.
func (imp *importRun) assignIDs(mr *rules.MetricRules) error {
	m := imp.m
	ids := map[string]uint64{}                 // kind + natural key → id
	existing := map[string][sha256.Size]byte{} // what is stored, as a digest: dimension records can be many
	var fresh []string
	var cat catalogue
	kinds := []struct {
		kind string
		keys []string
	}{{kindSystem, slices.Sorted(maps.Keys(imp.systems))}, {kindTitle, slices.Sorted(maps.Keys(imp.titles))}}
	err := m.st.View(func(r store.Reader) error {
		for _, k := range kinds {
			for _, key := range k.keys {
				id, err := lookupID(r, k.kind, key)
				if err != nil {
					return err
				}
				if id == 0 {
					fresh = append(fresh, k.kind+key)
					continue
				}
				ids[k.kind+key] = id
				if b, err := r.Get(store.LicenseDimKey(k.kind, id)); err == nil {
					existing[k.kind+key] = sha256.Sum256(b)
				}
			}
		}
		var err error
		cat, err = readCatalogue(r)
		return err
	})
	if err != nil {
		return err
	}
	newMetrics := false
	if mr != nil {
		for _, code := range mr.Names() {
			if _, ok := cat.byCode(code); !ok {
				cat.add(code, mr.DisplayName(code))
				newMetrics = true
			}
		}
	}
	first := imp.rec.DimSeq + 1
	imp.rec.DimSeq += uint64(len(fresh))
	if len(fresh) > 0 || newMetrics {
		err := m.update(func(txn store.Txn) error {
			b, err := json.Marshal(imp.rec)
			if err != nil {
				return err
			}
			if newMetrics {
				if err := cat.write(txn); err != nil {
					return err
				}
			}
			return txn.Set(store.LicenseStateKey(), b)
		})
		if err != nil {
			return err
		}
	}
	for i, k := range fresh {
		ids[k] = first + uint64(i)
	}
	for k, t := range imp.titles {
		t.ID = ids[kindTitle+k]
	}
	for k, cs := range imp.systems {
		cs.ID = ids[kindSystem+k]
	}
	b := &batch{m: m}
	for k, cs := range imp.systems {
		cs.Server = cs.ID
		if s, ok := imp.servers[k]; ok {
			cs.Server = imp.systems[s].ID
		}
		if err := putDim(b, kindSystem, k, cs.ID, cs, existing); err != nil {
			return err
		}
	}
	for k, t := range imp.titles {
		if err := putDim(b, kindTitle, k, t.ID, t, existing); err != nil {
			return err
		}
	}
	return b.flush()
}

// putDim writes a dimension record and its index entry, unless the record
// is stored as it is.
func putDim(b *batch, kind, key string, id uint64, v any, existing map[string][sha256.Size]byte) error {
	val, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if old, ok := existing[kind+key]; ok && old == sha256.Sum256(val) {
		return nil
	}
	if err := b.set(store.LicenseDimKey(kind, id), val); err != nil {
		return err
	}
	return b.set(store.LicenseDimIndexKey(kind, key), binary.BigEndian.AppendUint64(nil, id))
}

// writeSnapshots stores today's rows under this import. A row whose value
// an earlier import of the same day already found keeps that import's time.
func (imp *importRun) writeSnapshots() ([]usage, error) {
	m := imp.m
	rows := make([]usage, 0, len(imp.rows))
	for k, p := range imp.rows {
		rows = append(rows, usage{System: k.system.ID, Title: k.title.ID, Metric: k.metric, Value: p.value,
			Server: p.server.ID, PerHost: p.perHost, At: imp.at})
	}
	imp.rows = nil
	sortUsage(rows)
	if prev, ok := imp.rec.Days[imp.day]; ok {
		err := m.st.View(func(r store.Reader) error {
			return eachUsage(r, imp.day, prev, func(old usage) {
				if i, ok := slices.BinarySearchFunc(rows, old, compareUsage); ok && rows[i].Value == old.Value {
					rows[i].At = old.At
				}
			})
		})
		if err != nil {
			return nil, err
		}
	}
	b := &batch{m: m}
	for _, u := range rows {
		v, err := json.Marshal(u)
		if err != nil {
			return nil, err
		}
		if err := b.set(store.SnapshotKey(imp.day, imp.id, u.System, u.Title, u.Metric), v); err != nil {
			return nil, err
		}
	}
	return rows, b.flush()
}

// writePeaks computes the peaks of the window ending today from the days
// stored and today's rows, as they are counted (see count: capacity
// metrics on the server), and stores them under this import, with the
// summaries of All Computers (see summary.go).
func (imp *importRun) writePeaks(ctx context.Context, today []usage) error {
	m := imp.m
	// The summaries cover the days the import keeps: those past retention
	// are gone once it commits, and ProductUsage would not see them.
	hw, oldest := highWater{}, imp.keepFrom
	peaks := map[peakKey]peakOf{}
	note := func(d string, u usage) {
		k := peakKey{u.System, u.Title, u.Metric}
		p, ok := peaks[k]
		if !ok || u.Value > p.value || (u.Value == p.value && (d < p.day || d == p.day && u.At.Before(p.at))) {
			peaks[k] = peakOf{value: u.Value, day: d, at: u.At}
		}
	}
	// Each day is counted as it is read, keeping only its capacity rows
	// per server and its totals per server, never the day's rows.
	countDay := func(d string, each func(fn func(usage)) error) error {
		var totals *totaler
		if d >= oldest {
			totals = newTotaler(false)
		}
		c := newCounter(false, func(x *counted) {
			note(d, x.usage)
			if totals != nil {
				totals.add(x)
			}
		})
		if err := each(c.add); err != nil {
			return err
		}
		c.done()
		if totals != nil {
			hw.note(d, totals.out)
		}
		return nil
	}
	from := addDays(imp.day, 1-Window)
	for _, d := range slices.Sorted(maps.Keys(imp.rec.Days)) {
		if d < from || d >= imp.day {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := countDay(d, func(fn func(usage)) error {
			return m.st.View(func(r store.Reader) error { return eachUsage(r, d, imp.rec.Days[d], fn) })
		})
		if err != nil {
			return err
		}
	}
	err := countDay(imp.day, func(fn func(usage)) error {
		for _, u := range today {
			fn(u)
		}
		return nil
	})
	if err != nil {
		return err
	}
	today = nil // counted: let go of it before the peaks are listed
	sorted := sortedPeaks(peaks)
	peaks = nil
	b := &batch{m: m}
	for _, p := range sorted {
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := b.set(store.PeakKey(imp.id, p.System, p.Title, p.Metric), v); err != nil {
			return err
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	return imp.writeSummary(hw, sorted)
}

// oldestKept is the first day usage retention keeps ("" when it keeps all).
func (imp *importRun) oldestKept() string {
	if keep := imp.m.set.Duration(settings.UsageRetention); keep > 0 {
		return day(imp.at.Add(-keep))
	}
	return ""
}

// commit makes this import's results the ones served, then removes what
// they replace and the days past retention.
func (imp *importRun) commit(nrows int) error {
	m, rec := imp.m, imp.rec
	replacedDay, hadDay := rec.Days[imp.day]
	replacedPeaks, replacedSummary := rec.Current, rec.Summary
	rec.Days[imp.day] = imp.id
	var expired []string
	if oldest := imp.keepFrom; oldest != "" {
		for d := range rec.Days {
			if d < oldest {
				expired = append(expired, d)
				delete(rec.Days, d)
			}
		}
	}
	rec.Current, rec.Summary, rec.Fingerprint = imp.id, imp.id, m.fingerprint()
	rec.LastStatus, rec.LastError = StatusSuccessful, ""
	rec.LastSuccess, rec.LastEnd, rec.Day = imp.at, m.now().UTC(), imp.day
	rec.Installs, rec.Counted, rec.Usages = imp.installs, imp.counted, nrows
	rec.Warnings, rec.WarningCount = imp.warnings, imp.nwarn
	if err := m.writeState(rec); err != nil {
		return err
	}
	// The results are served; what follows only frees space.
	var errs []error
	if hadDay && replacedDay != imp.id {
		errs = append(errs, m.deletePrefix(store.SnapshotPrefix(imp.day, replacedDay)))
	}
	if replacedPeaks != 0 {
		errs = append(errs, m.deletePrefix(store.PeakPrefix(replacedPeaks)))
	}
	if replacedSummary != 0 {
		errs = append(errs, m.deletePrefix(store.PeakByTitleImportPrefix(replacedSummary)),
			m.deletePrefix(store.UsageSummaryPrefix(replacedSummary)))
	}
	for _, d := range expired {
		errs = append(errs, m.deletePrefix(store.SnapshotDayPrefix(d)))
	}
	if err := errors.Join(errs...); err != nil {
		m.log.Load().Warn("license import: removing replaced results", "err", err)
	}
	return nil
}

// commitRaw records a raw data import: what it read, and nothing served
// changes.
func (imp *importRun) commitRaw() error {
	rec := imp.rec
	rec.LastStatus, rec.LastError, rec.LastEnd = StatusSuccessful, "", imp.m.now().UTC()
	rec.Installs, rec.Counted = imp.installs, imp.counted
	rec.Warnings, rec.WarningCount = imp.warnings, imp.nwarn
	return imp.m.writeState(rec)
}

// eachUsage calls fn for every snapshot row of one day stored by one import.
func eachUsage(r store.Reader, d string, imp uint64, fn func(usage)) error {
	return eachUsageErr(r, d, imp, func(u usage) error {
		fn(u)
		return nil
	})
}

// eachUsageErr is eachUsage with a fn that may end the read.
func eachUsageErr(r store.Reader, d string, imp uint64, fn func(usage) error) error {
	return r.Iterate(store.SnapshotPrefix(d, imp), func(_, v []byte) error {
		var u usage
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("license: corrupt usage snapshot of %s: %w", d, err)
		}
		return fn(u)
	})
}

func sortUsage(rows []usage) { slices.SortFunc(rows, compareUsage) }

// compareUsage orders usage rows as their keys: by computer system, title
// and metric.
func compareUsage(a, b usage) int {
	return cmp.Or(cmp.Compare(a.System, b.System), cmp.Compare(a.Title, b.Title), cmp.Compare(a.Metric, b.Metric))
}
