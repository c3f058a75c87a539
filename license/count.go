package license

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Capacity metrics (PVU and RVU, full and sub-capacity) are counted per
// server, as License Metric Tool counts them: the computers on one cloud
// host add up (or, for a per-host rule, share the largest value), and
// sub-capacity never exceeds full capacity on the same server. Every other
// metric is counted per computer system.
const (
	fullCap = "_FULL_CAP"
	subCap  = "_SUB_CAP"
)

// Capacity reports whether a metric is counted per server: a code name
// ending in _FULL_CAP or _SUB_CAP (PVU_FULL_CAP, RVU_SUB_CAP, ...).
func Capacity(code string) bool {
	return strings.HasSuffix(code, fullCap) || strings.HasSuffix(code, subCap)
}

// counted is one quantity as it is counted: a computer system's usage, or
// for a capacity metric the server's, with the systems it covers.
type counted struct {
	usage
	Systems []uint64
}

// count turns one day's usage rows into the quantities counted (see
// Capacity). The rows of a capacity metric become one per server, title
// and metric, with System set to the server; the others stay as they are.
// Both the deprecated per-system peaks and the v2 totals are built from
// this, so they agree.
func count(rows []usage) []counted {
	type key struct {
		server, title uint64
		metric        string
	}
	var out []counted
	byServer := map[key]*counted{}
	for _, u := range rows {
		if !Capacity(u.Metric) {
			out = append(out, counted{usage: u, Systems: []uint64{u.System}})
			continue
		}
		k := key{u.Server, u.Title, u.Metric}
		c := byServer[k]
		if c == nil {
			c = &counted{usage: u}
			c.System, c.Value = u.Server, 0
			byServer[k] = c
		}
		if u.PerHost {
			c.Value = max(c.Value, u.Value)
		} else {
			c.Value += u.Value
		}
		if u.At.Before(c.At) {
			c.At = u.At
		}
		c.Systems = append(c.Systems, u.System)
	}
	// Sub-capacity is capped at the server's full capacity of the title.
	for k, c := range byServer {
		if !strings.HasSuffix(k.metric, subCap) {
			continue
		}
		full := key{k.server, k.title, strings.TrimSuffix(k.metric, subCap) + fullCap}
		if f, ok := byServer[full]; ok && c.Value > f.Value {
			c.Value = f.Value
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(byServer), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.server, b.server), cmp.Compare(a.title, b.title), cmp.Compare(a.metric, b.metric))
	}) {
		c := byServer[k]
		slices.Sort(c.Systems)
		out = append(out, *c)
	}
	return out
}
