package license

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/irego/irego/store"
)

// An import stores, beside its peaks, what the console and Compliance read
// of All Computers without reading the usage whole: a summary per title and
// metric (the window's high-water mark, as ProductUsage computes it) and
// the peaks again keyed by title and metric first (PeaksOf). The state
// names the import whose summary is stored (stateRecord.Summary); imports
// written before summaries existed have none, and reads fall back to
// computing from the snapshots.

// summary is one title's metric in All Computers over the window up to an
// import's day: the largest daily total, first reached on Day ("" when
// the days kept hold no use: the peaks may reach further back), and the
// number of computer systems with a peak.
type summary struct {
	Title    uint64  `json:"title"`
	Metric   string  `json:"metric"`
	Quantity float64 `json:"quantity"`
	Day      string  `json:"day"`
	Systems  int     `json:"systems"`
}

// productKey names one title's metric.
type productKey struct {
	title  uint64
	metric string
}

// serverTotal is what one server used of one title's metric on one day.
type serverTotal struct {
	title, server, system uint64
	metric                string
	qty                   float64
	systems               []uint64
}

// totaler sums one day's counted quantities per title, server and metric,
// one at a time, in the order counter gives them. ServerUsage and the
// summaries both add up from this, so they agree to the last bit.
type totaler struct {
	agg     map[serverKey]*serverTotal
	out     []*serverTotal
	systems bool // fill serverTotal.systems
}

func newTotaler(systems bool) *totaler {
	return &totaler{agg: map[serverKey]*serverTotal{}, systems: systems}
}

// reset empties t for the next day or system.
func (t *totaler) reset() {
	clear(t.agg)
	clear(t.out)
	t.out = t.out[:0]
}

func (t *totaler) add(c *counted) {
	k := serverKey{c.Server, c.Title, c.Metric}
	st := t.agg[k]
	if st == nil {
		st = &serverTotal{title: c.Title, server: c.Server, system: c.System, metric: c.Metric}
		t.agg[k] = st
		t.out = append(t.out, st)
	}
	st.qty += c.Value
	if t.systems {
		st.systems = append(st.systems, c.Systems...)
	}
}

// highWater keeps the largest daily total per title and metric, and the
// first day it was reached; days must be noted in order.
type highWater map[productKey]*summary

func (h highWater) note(d string, totals []*serverTotal) {
	daily := map[productKey]float64{}
	for _, t := range totals {
		daily[productKey{t.title, t.metric}] += t.qty
	}
	h.noteDaily(d, daily)
}

// noteDaily notes day d's totals per title and metric.
func (h highWater) noteDaily(d string, daily map[productKey]float64) {
	for k, q := range daily {
		if p := h[k]; p == nil || q > p.Quantity {
			h[k] = &summary{Title: k.title, Metric: k.metric, Quantity: q, Day: d}
		}
	}
}

// writeSummary stores the import's summaries and its peaks by title.
func (imp *importRun) writeSummary(hw highWater, peaks []peak) error {
	for _, p := range peaks {
		k := productKey{p.Title, p.Metric}
		if hw[k] == nil {
			hw[k] = &summary{Title: p.Title, Metric: p.Metric}
		}
		hw[k].Systems++
	}
	b := &batch{m: imp.m}
	for _, s := range hw {
		v, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := b.set(store.UsageSummaryKey(imp.id, s.Title, s.Metric), v); err != nil {
			return err
		}
	}
	for _, p := range peaks {
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := b.set(store.PeakByTitleKey(imp.id, p.Title, p.Metric, rank(p.Value), p.System), v); err != nil {
			return err
		}
	}
	return b.flush()
}

// summarized reports whether the summaries of the served import are
// stored and stand for group: All Computers, which has no condition.
func (s *snapshot) summarized(group int) bool {
	return s.rec.Current != 0 && s.rec.Summary == s.rec.Current && group == AllComputers && s.groups.conds[AllComputers] == nil
}

// summaries reads the served import's summaries, by title and metric code.
func (s *snapshot) summaries(ctx context.Context) ([]ProductUsage, error) {
	var out []ProductUsage
	err := s.r.Iterate(store.UsageSummaryPrefix(s.rec.Current), func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var x summary
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("license: corrupt usage summary: %w", err)
		}
		if x.Day == "" {
			return nil
		}
		t := s.dims.titles[x.Title]
		if t == nil {
			return fmt.Errorf("license: usage summary of unknown title %d", x.Title)
		}
		out = append(out, ProductUsage{Title: t, Metric: s.metric(x.Metric), Quantity: x.Quantity, Day: x.Day})
		return nil
	})
	slices.SortFunc(out, func(a, b ProductUsage) int {
		return cmp.Or(cmp.Compare(a.Title.ID, b.Title.ID), cmp.Compare(a.Metric.CodeName, b.Metric.CodeName))
	})
	return out, err
}

// PeaksOf returns the peaks of one title's metric in the last successful
// import, the largest first (then by computer system id), at most limit
// of them (all when limit ≤ 0), and how many there are: the computer
// systems behind the title's peak. It reads only the rows it returns when
// the import stored its peaks by title, else it filters Peaks.
func (m *Manager) PeaksOf(ctx context.Context, title uint64, metric string, limit int) ([]PeakUsage, int, *State, error) {
	var out []PeakUsage
	var total int
	var st *State
	err := m.readTitles(func(s *snapshot) error {
		st = m.public(s.rec)
		if s.rec.Current == 0 {
			return nil
		}
		if !s.summarized(AllComputers) {
			s.lazy = true
			err := s.peaks(ctx, func(p PeakUsage) error {
				if p.Title.ID == title && p.Metric.CodeName == metric {
					out = append(out, p)
				}
				return nil
			})
			slices.SortStableFunc(out, func(a, b PeakUsage) int { return cmp.Compare(b.Value, a.Value) })
			if total = len(out); limit > 0 && total > limit {
				out = out[:limit]
			}
			return err
		}
		t := s.dims.titles[title]
		if t == nil {
			return nil
		}
		b, err := s.r.Get(store.UsageSummaryKey(s.rec.Current, title, metric))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var x summary
		if err := json.Unmarshal(b, &x); err != nil {
			return fmt.Errorf("license: corrupt usage summary: %w", err)
		}
		total = x.Systems
		mt := s.metric(metric)
		return s.r.Iterate(store.PeakByTitlePrefix(s.rec.Current, title, metric), func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if limit > 0 && len(out) == limit {
				return store.ErrStop
			}
			var p peak
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("license: corrupt peak: %w", err)
			}
			cs, err := readSystem(s.r, p.System)
			if err != nil {
				return err
			}
			out = append(out, PeakUsage{System: cs, Title: t, Metric: mt, Value: p.Value, Day: p.Day, At: p.At})
			return nil
		})
	})
	return out, total, st, err
}

// rank orders peak values largest first in a key: the IEEE bits made to
// sort as unsigned numbers, then inverted.
func rank(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 == 0 {
		b |= 1 << 63
	} else {
		b = ^b
	}
	return ^b
}

// readSystem reads one computer system by id.
func readSystem(r store.Reader, id uint64) (*ComputerSystem, error) {
	c, err := lookupSystem(r, id)
	if err == nil && c == nil {
		return nil, fmt.Errorf("license: peak of unknown computer system %d", id)
	}
	return c, err
}

// lookupSystem reads one computer system by id, nil when there is none.
func lookupSystem(r store.Reader, id uint64) (*ComputerSystem, error) {
	b, err := r.Get(store.LicenseDimKey(kindSystem, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c ComputerSystem
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("license: corrupt computer system %d: %w", id, err)
	}
	return &c, nil
}

// sortedPeaks lists peaks in key order: computer system, title, metric.
func sortedPeaks(byKey map[peakKey]peakOf) []peak {
	out := make([]peak, 0, len(byKey))
	for k, p := range byKey {
		out = append(out, peak{System: k.system, Title: k.title, Metric: k.metric, Value: p.value, Day: p.day, At: p.at})
	}
	slices.SortFunc(out, func(a, b peak) int {
		return cmp.Or(cmp.Compare(a.System, b.System), cmp.Compare(a.Title, b.Title), cmp.Compare(a.Metric, b.Metric))
	})
	return out
}
