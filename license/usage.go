package license

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/irego/irego/store"
)

// PeakUsage is a computer system's peak use of one title's metric over the
// Window days up to the last successful import. PVU and RVU (see Capacity)
// are reported on the server, once: a cloud host's, or the computer's own.
type PeakUsage struct {
	System *ComputerSystem
	Title  *Title
	Metric Metric
	Value  float64
	// Day and At are when the peak was first reached.
	Day string
	At  time.Time
}

// ProductUsage is the high-water mark of one title's metric in a computer
// group over a period: the largest daily total, and the first day it was
// reached.
type ProductUsage struct {
	Title    *Title
	Metric   Metric
	Quantity float64
	Day      string
}

// ServerUsage is what one server used of one title's metric on one day:
// the sum over its computer systems in the group, or for metrics counted
// per host the largest of them; sub-capacity at most full capacity.
type ServerUsage struct {
	Title    *Title
	Metric   Metric
	Server   *ComputerSystem
	Quantity float64
	// Systems are the computer systems counted, by id.
	Systems []uint64
}

// snapshot is what one read sees: the state, the dimensions, the metric
// catalogue and the computer groups, all from one store view.
type snapshot struct {
	r      store.Reader
	rec    *stateRecord
	dims   *dims
	cat    catalogue
	groups *groups
	// lazy reads computer systems one at a time (system) rather than from
	// dims; last is the last one read.
	lazy  bool
	last  *ComputerSystem
	ahead readAhead
	// seenOf is what lazy reads of a day's usage found of the systems of
	// one group (see seen).
	seenOf *seenSystems
}

// readTitles reads a snapshot with the titles only in s.dims: the computer
// systems can be many, and reads are lazy (see system) or read one title's.
func (m *Manager) readTitles(fn func(*snapshot) error) error {
	return m.st.View(func(r store.Reader) error {
		s := &snapshot{r: r}
		var err error
		if s.rec, err = readState(r); err != nil {
			return err
		}
		if s.dims, err = readTitles(r); err != nil {
			return err
		}
		if s.cat, err = readCatalogue(r); err != nil {
			return err
		}
		if s.groups, err = readGroups(r); err != nil {
			return err
		}
		return fn(s)
	})
}

// metric is the catalogue entry of a code name (a bare one when missing).
func (s *snapshot) metric(code string) Metric {
	if m, ok := s.cat.byCode(code); ok {
		return m
	}
	return Metric{CodeName: code, DisplayName: code, SourceType: Custom}
}

// Peaks returns the peaks of the last successful import, by computer
// system, title and metric, with the state they come from.
func (m *Manager) Peaks(ctx context.Context) ([]PeakUsage, *State, error) {
	var out []PeakUsage
	st, err := m.EachPeak(ctx, func(_ *State, p PeakUsage) error {
		out = append(out, p)
		return nil
	})
	return out, st, err
}

// EachPeak calls fn with each peak Peaks returns, in its order, and the
// state they come from, reading them (and their computer systems) one at
// a time; an error from fn ends the read and is returned. It returns the
// state.
func (m *Manager) EachPeak(ctx context.Context, fn func(*State, PeakUsage) error) (*State, error) {
	var st *State
	err := m.readTitles(func(s *snapshot) error {
		st = m.public(s.rec)
		if s.rec.Current == 0 {
			return nil
		}
		s.lazy = true
		return s.peaks(ctx, func(p PeakUsage) error { return fn(st, p) })
	})
	return st, err
}

// peaks calls fn for every peak of the served import, in key order.
func (s *snapshot) peaks(ctx context.Context, fn func(PeakUsage) error) error {
	return s.r.Iterate(store.PeakPrefix(s.rec.Current), func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var p peak
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("license: corrupt peak: %w", err)
		}
		cs, err := s.system(p.System)
		if err != nil {
			return err
		}
		t := s.dims.titles[p.Title]
		if cs == nil || t == nil {
			return fmt.Errorf("license: peak of unknown computer system %d or title %d", p.System, p.Title)
		}
		return fn(PeakUsage{System: cs, Title: t, Metric: s.metric(p.Metric), Value: p.Value, Day: p.Day, At: p.At})
	})
}

// ProductUsage returns, for each title and metric used in group between
// the days from and to (YYYY-MM-DD, both included), the high-water mark.
// It reads each day as EachServerUsage does, adding the servers' totals
// up per title and metric as they come: what it holds is the hosts'
// totals of one day and a total per title and metric, whatever the
// estate.
func (m *Manager) ProductUsage(ctx context.Context, group int, from, to string) ([]ProductUsage, error) {
	var out []ProductUsage
	err := m.readTitles(func(s *snapshot) (err error) {
		s.lazy = true
		out, err = s.productUsage(ctx, group, from, to)
		return err
	})
	return out, err
}

func (s *snapshot) productUsage(ctx context.Context, group int, from, to string) ([]ProductUsage, error) {
	hw := highWater{}
	for _, d := range s.days(from, to) {
		daily := map[productKey]float64{}
		err := s.eachTotal(ctx, group, d, forProducts, func(t *serverTotal) error {
			daily[productKey{t.title, t.metric}] += t.qty
			return nil
		})
		if err != nil {
			return nil, err
		}
		hw.noteDaily(d, daily)
	}
	out := make([]ProductUsage, 0, len(hw))
	for _, k := range slices.SortedFunc(maps.Keys(hw), func(a, b productKey) int {
		return cmp.Or(cmp.Compare(a.title, b.title), cmp.Compare(a.metric, b.metric))
	}) {
		out = append(out, ProductUsage{Title: s.dims.titles[k.title], Metric: s.metric(k.metric), Quantity: hw[k].Quantity, Day: hw[k].Day})
	}
	return out, nil
}

// ServerUsage returns what each server used of each title's metric in
// group on day d, by title, metric and server.
func (m *Manager) ServerUsage(ctx context.Context, group int, d string) ([]ServerUsage, error) {
	var out []ServerUsage
	err := m.EachServerUsage(ctx, group, d, func(u ServerUsage) error {
		out = append(out, u)
		return nil
	})
	slices.SortFunc(out, func(a, b ServerUsage) int {
		return cmp.Or(cmp.Compare(a.Title.ID, b.Title.ID), cmp.Compare(a.Metric.CodeName, b.Metric.CodeName), cmp.Compare(a.Server.ID, b.Server.ID))
	})
	return out, err
}

// EachServerUsage calls fn with each row ServerUsage returns, in no set
// order, without loading the computer systems or the day's totals whole
// (see eachTotal). An error from fn ends the read and is returned.
func (m *Manager) EachServerUsage(ctx context.Context, group int, d string, fn func(ServerUsage) error) error {
	return m.readTitles(func(s *snapshot) error {
		s.lazy = true
		return s.eachTotal(ctx, group, d, forServers, func(t *serverTotal) error {
			server, title, err := s.resolve(t) // known to eachTotal, and read just before (see ahead)
			if err != nil {
				return err
			}
			return fn(ServerUsage{Title: title, Metric: s.metric(t.metric), Server: server, Quantity: t.qty, Systems: t.systems})
		})
	})
}

// days returns the stored days between from and to, in order.
func (s *snapshot) days(from, to string) []string {
	var out []string
	for d := range s.rec.Days {
		if d >= from && d <= to {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// resolve finds the server (else the computer system) and the title of a
// total, nil when unknown.
func (s *snapshot) resolve(t *serverTotal) (*ComputerSystem, *Title, error) {
	server, err := s.system(t.server)
	if err == nil && server == nil {
		server, err = s.system(t.system)
	}
	return server, s.dims.titles[t.title], err
}

// system is a computer system by id, nil when there is none: from the
// dimensions read whole, or when the snapshot is lazy from the store (the
// last one read is kept, as rows come by computer system; see ahead).
func (s *snapshot) system(id uint64) (*ComputerSystem, error) {
	if !s.lazy {
		return s.dims.systems[id], nil
	}
	if s.last != nil && s.last.ID == id {
		return s.last, nil
	}
	v, err := s.ahead.get(s.r, id)
	if err != nil || v == nil {
		return nil, err
	}
	var c ComputerSystem
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("license: corrupt computer system %d: %w", id, err)
	}
	s.last = &c
	return &c, nil
}

// systemsAhead is how many computer systems one read of the store brings.
const systemsAhead = 64

// readAhead holds the stored computer systems of a range of ids, read in
// one pass: lazy reads look systems up in id order (usage rows and peaks
// come by computer system, the hosts' totals by server), so one walk of
// the next systemsAhead records costs less than a read of each.
type readAhead struct {
	from, to uint64 // the ids covered, both included; none when to < from
	ids      []uint64
	vals     [][]byte
}

// get returns the stored computer system id, nil when there is none.
func (a *readAhead) get(r store.Reader, id uint64) ([]byte, error) {
	if id < a.from || id > a.to {
		if err := a.read(r, id); err != nil {
			return nil, err
		}
	}
	if i, ok := slices.BinarySearch(a.ids, id); ok {
		return a.vals[i], nil
	}
	return nil, nil
}

// read reads the systems from id on, at most systemsAhead of them.
func (a *readAhead) read(r store.Reader, id uint64) error {
	a.from, a.to = id, math.MaxUint64
	a.ids, a.vals = a.ids[:0], a.vals[:0]
	prefix := store.LicenseDimPrefix(kindSystem)
	err := r.IterateFrom(prefix, store.LicenseDimKey(kindSystem, id), func(k, v []byte) error {
		if len(a.ids) == systemsAhead {
			a.to = a.ids[len(a.ids)-1]
			return store.ErrStop
		}
		a.ids = append(a.ids, store.IDAfter(prefix, k))
		a.vals = append(a.vals, slices.Clone(v))
		return nil
	})
	if err != nil {
		a.from, a.to = 1, 0
	}
	return err
}
