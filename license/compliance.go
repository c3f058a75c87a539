package license

import (
	"cmp"
	"context"
	"slices"
)

// Compliance sets what contracts entitle against the peak use of one
// title's metric in one computer group.
type Compliance struct {
	Title  *Title
	Metric Metric
	// Entitled sums the active purchase orders of the group's contracts
	// that cover the title with the metric; Unlimited when one is.
	Entitled int
	// Peak is the high-water mark over the Window days up to the last
	// successful import, first reached on PeakDay ("" without use).
	Peak    float64
	PeakDay string
	// Contracts are the ids of the contracts counted.
	Contracts []string
}

// Difference is Entitled less Peak; false when the entitlement is
// unlimited.
func (c *Compliance) Difference() (float64, bool) {
	if c.Entitled == Unlimited {
		return 0, false
	}
	return float64(c.Entitled) - c.Peak, true
}

// Compliance returns, for group, every title and metric that is used or
// covered by a contract of the group, with the entitlement on the day of
// the last successful import (today when there was none) and the peak.
// For All Computers it reads the import's summaries when it stored them
// (one small row per title and metric); otherwise, and for other groups,
// it computes the peaks from the usage snapshots of the window.
func (m *Manager) Compliance(ctx context.Context, group int) ([]Compliance, *State, error) {
	var out []Compliance
	var st *State
	err := m.readTitles(func(s *snapshot) error {
		st = m.public(s.rec)
		d := s.rec.Day
		if d == "" {
			d = day(m.now())
		}
		var used []ProductUsage
		var err error
		if s.summarized(group) {
			used, err = s.summaries(ctx)
		} else {
			s.lazy = true
			used, err = s.productUsage(ctx, group, addDays(d, 1-Window), d)
		}
		if err != nil {
			return err
		}
		type key struct {
			title  uint64
			metric int
		}
		rows := map[key]*Compliance{}
		for _, u := range used {
			rows[key{u.Title.ID, u.Metric.ID}] = &Compliance{Title: u.Title, Metric: u.Metric, Peak: u.Quantity, PeakDay: u.Day}
		}
		contracts, err := readContracts(s.r)
		if err != nil {
			return err
		}
		for _, c := range contracts {
			if c.Group != group || c.Metric == nil {
				continue
			}
			mt, ok := s.cat.byID(*c.Metric)
			if !ok {
				continue
			}
			qty := 0
			for _, po := range c.PurchaseOrders {
				if po.Active(d) {
					qty = addQuantity(qty, po.Quantity)
				}
			}
			for _, t := range s.dims.titles {
				if !slices.ContainsFunc(c.Products, func(p Product) bool { return p.covers(t) }) {
					continue
				}
				k := key{t.ID, mt.ID}
				r := rows[k]
				if r == nil {
					r = &Compliance{Title: t, Metric: mt}
					rows[k] = r
				}
				r.Entitled = addQuantity(r.Entitled, qty)
				r.Contracts = append(r.Contracts, c.ID)
			}
		}
		for _, r := range rows {
			slices.Sort(r.Contracts)
			out = append(out, *r)
		}
		slices.SortFunc(out, func(a, b Compliance) int {
			return cmp.Or(cmp.Compare(a.Title.ID, b.Title.ID), cmp.Compare(a.Metric.CodeName, b.Metric.CodeName))
		})
		return nil
	})
	return out, st, err
}

// addQuantity adds purchase quantities, Unlimited absorbing everything.
func addQuantity(a, b int) int {
	if a == Unlimited || b == Unlimited {
		return Unlimited
	}
	return a + b
}
