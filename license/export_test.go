package license

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/irego/irego/store"
)

// SetInstallPage sets how many installs an import reads in one store
// view, for tests that cross pages with a few, and returns the undo.
func SetInstallPage(n int) (undo func()) {
	old := installPage
	installPage = n
	return func() { installPage = old }
}

// The reads as they were before they read a row at a time are kept here
// as the model the streamed reads are compared with: every computer
// system loaded first, and a day's server totals listed whole.

// read is readTitles with every computer system loaded into s.dims.
func (m *Manager) read(fn func(*snapshot) error) error {
	return m.readTitles(func(s *snapshot) (err error) {
		if s.dims, err = readDims(s.r); err != nil {
			return err
		}
		return fn(s)
	})
}

func readDims(r store.Reader) (*dims, error) {
	d, err := readTitles(r)
	if err != nil {
		return nil, err
	}
	err = r.Iterate(store.LicenseDimPrefix(kindSystem), func(_, v []byte) error {
		var c ComputerSystem
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("license: corrupt computer system: %w", err)
		}
		d.systems[c.ID] = &c
		return nil
	})
	return d, err
}

// ServerUsageFromDims is ServerUsage as it was before it read a row at a
// time.
func ServerUsageFromDims(m *Manager, ctx context.Context, group int, d string) ([]ServerUsage, error) {
	var out []ServerUsage
	err := m.read(func(s *snapshot) error {
		return s.serverUsage(ctx, group, d, func(su *ServerUsage, _ *serverTotal) { out = append(out, *su) })
	})
	slices.SortFunc(out, func(a, b ServerUsage) int {
		return cmp.Or(cmp.Compare(a.Title.ID, b.Title.ID), cmp.Compare(a.Metric.CodeName, b.Metric.CodeName), cmp.Compare(a.Server.ID, b.Server.ID))
	})
	return out, err
}

// ProductUsageFromDims is ProductUsage as it was before it read a day a
// computer system at a time: each day's server totals listed whole, then
// added up per title and metric.
func ProductUsageFromDims(m *Manager, ctx context.Context, group int, from, to string) ([]ProductUsage, error) {
	var out []ProductUsage
	err := m.read(func(s *snapshot) error {
		hw := highWater{}
		for _, d := range s.days(from, to) {
			var totals []*serverTotal
			err := s.serverUsage(ctx, group, d, func(_ *ServerUsage, t *serverTotal) { totals = append(totals, t) })
			if err != nil {
				return err
			}
			hw.note(d, totals)
		}
		out = make([]ProductUsage, 0, len(hw))
		for _, k := range slices.SortedFunc(maps.Keys(hw), func(a, b productKey) int {
			return cmp.Or(cmp.Compare(a.title, b.title), cmp.Compare(a.metric, b.metric))
		}) {
			out = append(out, ProductUsage{Title: s.dims.titles[k.title], Metric: s.metric(k.metric), Quantity: hw[k].Quantity, Day: hw[k].Day})
		}
		return nil
	})
	return out, err
}

// serverUsage aggregates day d's rows of group per title, metric and
// server, as they are counted (see count), and calls fn for each.
func (s *snapshot) serverUsage(ctx context.Context, group int, d string, fn func(*ServerUsage, *serverTotal)) error {
	totals, err := s.dayTotals(ctx, group, d)
	if err != nil {
		return err
	}
	for _, t := range totals {
		server, title, err := s.resolve(t)
		if err != nil {
			return err
		}
		if title != nil && server != nil {
			fn(&ServerUsage{Title: title, Metric: s.metric(t.metric), Server: server, Quantity: t.qty, Systems: t.systems}, t)
		}
	}
	return nil
}

// dayTotals adds up day d's rows of group per title, metric and server, as
// they are counted (see count), all of them at once.
func (s *snapshot) dayTotals(ctx context.Context, group int, d string) ([]*serverTotal, error) {
	imp, ok := s.rec.Days[d]
	if !ok {
		return nil, nil
	}
	t := newTotaler(true)
	c := newCounter(true, t.add)
	var member *ComputerSystem // the last system found in group
	err := eachUsageErr(s.r, d, imp, func(u usage) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if member == nil || member.ID != u.System {
			cs, err := s.system(u.System)
			if err != nil {
				return err
			}
			if cs == nil || !s.groups.member(group, cs) {
				return nil
			}
			member = cs
		}
		c.add(u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.done()
	return t.out, nil
}

// PeaksFromDims is Peaks as it was before it read a row at a time.
func PeaksFromDims(m *Manager, ctx context.Context) ([]PeakUsage, error) {
	var out []PeakUsage
	err := m.read(func(s *snapshot) error {
		if s.rec.Current == 0 {
			return nil
		}
		return s.peaks(ctx, func(p PeakUsage) error { out = append(out, p); return nil })
	})
	return out, err
}
