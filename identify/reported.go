package identify

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// report is one source's last report of one attribute.
type report struct {
	source string // "" for a stored value no source's report accounts for
	value  any
	at     time.Time
}

// choose sets attribute a under a multi-source policy (largest, smallest,
// most reported): this source's report v joins every other source's last
// report of a, and the policy picks among them; ties go to the value
// reported last. The reported value, when it loses, is masked.
func (pl *planner) choose(t *Target, rule *rules.ReconciliationRule, a string, v any, values map[string]any, owners map[string]string) error {
	all, err := pl.reported(t)
	if err != nil {
		return err
	}
	source := pl.opts.Source
	if t.Reports == nil {
		t.Reports = &store.Reports{Values: map[string]store.Report{}}
		if r := all[source]; r != nil {
			for k, x := range r.Values {
				t.Reports.Values[k] = x
			}
		}
		all[source] = t.Reports
	}
	t.Reports.Values[a] = store.Report{Value: v, At: pl.opts.Now().UTC()}

	var cands []report
	for s, r := range all {
		if x, ok := r.Values[a]; ok {
			cands = append(cands, report{s, x.Value, x.At})
		}
	}
	cur, has := values[a]
	if len(cands) == 1 && has && owners[a] != source {
		// Stored before any other source's report was kept: it still counts.
		cands = append(cands, report{owners[a], cur, t.Existing.Updated})
	}
	sort.Slice(cands, func(i, j int) bool { return later(cands[i], cands[j], source) })
	win := winner(rule.Policy, cands)
	if !has || payload.Canonical(cur) != payload.Canonical(win.value) {
		values[a] = win.value
		if win.source != "" {
			owners[a] = win.source
		}
	}
	if payload.Canonical(win.value) != payload.Canonical(v) {
		by := win.source
		if by == "" {
			by = "an earlier report"
		}
		t.Masks = append(t.Masks, Mask{Attribute: a, Value: v, Reason: fmt.Sprintf(
			"kept %q over %q: the dynamic reconciliation rule on %s (line %d) keeps the %s reported value, reported by %s",
			payload.Canonical(win.value), payload.Canonical(v), rule.AppliesTo, rule.Line, strings.ReplaceAll(string(rule.Policy), "_", " "), by)})
	}
	return nil
}

// later orders reports latest first; this payload's source is the latest
// of equal times, then source names decide.
func later(x, y report, source string) bool {
	if !x.at.Equal(y.at) {
		return x.at.After(y.at)
	}
	if (x.source == source) != (y.source == source) {
		return x.source == source
	}
	return x.source < y.source
}

// winner applies policy to reports ordered latest first.
func winner(policy rules.Policy, cands []report) report {
	if policy == rules.MostReported {
		count, first := map[string]int{}, map[string]int{}
		for i, c := range cands {
			k := payload.Canonical(c.value)
			if _, ok := first[k]; !ok {
				first[k] = i
			}
			count[k]++
		}
		best := cands[0]
		for _, c := range cands {
			k, b := payload.Canonical(c.value), payload.Canonical(best.value)
			if count[k] > count[b] || (count[k] == count[b] && first[k] < first[b]) {
				best = cands[first[k]]
			}
		}
		return best
	}
	best := cands[0]
	for _, c := range cands[1:] {
		d := compareValues(c.value, best.value)
		if (policy == rules.Largest && d > 0) || (policy == rules.Smallest && d < 0) {
			best = c
		}
	}
	return best
}

// compareValues orders two values as numbers when both are numbers (or
// numeric text), else as text.
func compareValues(a, b any) int {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return cmp.Compare(x, y)
		}
	}
	return strings.Compare(payload.Canonical(a), payload.Canonical(b))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// reported returns every source's kept reports of t, loaded once.
func (pl *planner) reported(t *Target) (map[string]*store.Reports, error) {
	if t.reports != nil {
		return t.reports, nil
	}
	t.reports = map[string]*store.Reports{}
	if t.Existing == nil {
		return t.reports, nil
	}
	err := pl.r.Iterate(store.ReportPrefix(t.SysID), func(k, v []byte) error {
		r, err := store.DecodeReports(v)
		if err != nil {
			return err
		}
		t.reports[store.SourceFromReportKey(k)] = r
		return nil
	})
	return t.reports, err
}
