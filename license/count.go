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
	// What a capacity quantity is made of (see counter.add): the sum of
	// the rows that add up, and the largest of those counted once per
	// host, with whether there were any of each.
	sum, most       float64
	added, someHost bool
}

// counter turns one day's usage rows into the quantities counted (see
// Capacity), one row at a time, for a day too large to hold: the rows of
// metrics counted per computer system are passed on as they come, those of
// capacity metrics (one per server, title and metric, with System set to
// the server) are added up per server and passed on, in server, title and
// metric order, when the day is done. Both the deprecated per-system peaks
// and the v2 totals are built from this, so they agree.
type counter struct {
	byServer map[serverKey]*counted
	systems  bool // fill counted.Systems
	emit     func(*counted)
}

type serverKey struct {
	server, title uint64
	metric        string
}

// newCounter makes a counter that passes each quantity to emit, which
// must not keep it. Without systems, counted.Systems stays empty.
func newCounter(systems bool, emit func(*counted)) *counter {
	return &counter{byServer: map[serverKey]*counted{}, systems: systems, emit: emit}
}

func (c *counter) add(u usage) {
	if !Capacity(u.Metric) {
		x := counted{usage: u}
		if c.systems {
			x.Systems = []uint64{u.System}
		}
		c.emit(&x)
		return
	}
	k := serverKey{u.Server, u.Title, u.Metric}
	x := c.byServer[k]
	if x == nil {
		x = &counted{usage: u}
		x.System, x.Value = u.Server, 0
		c.byServer[k] = x
	}
	// A per-host value stands for the whole host, as the host's own
	// software does: the server counts the larger of the two, whichever
	// row comes first (the order of computer system ids is arbitrary).
	if u.PerHost {
		x.most, x.someHost = max(x.most, u.Value), true
	} else {
		x.sum, x.added = x.sum+u.Value, true
	}
	switch {
	case x.someHost && x.added:
		x.Value = max(x.sum, x.most)
	case x.someHost:
		x.Value = x.most
	default:
		x.Value = x.sum
	}
	if u.At.Before(x.At) {
		x.At = u.At
	}
	if c.systems {
		x.Systems = append(x.Systems, u.System)
	}
}

// done passes on the capacity quantities. Sub-capacity is capped at the
// server's full capacity of the title.
func (c *counter) done() {
	for k, x := range c.byServer {
		if !strings.HasSuffix(k.metric, subCap) {
			continue
		}
		full := serverKey{k.server, k.title, strings.TrimSuffix(k.metric, subCap) + fullCap}
		if f, ok := c.byServer[full]; ok && x.Value > f.Value {
			x.Value = f.Value
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(c.byServer), func(a, b serverKey) int {
		return cmp.Or(cmp.Compare(a.server, b.server), cmp.Compare(a.title, b.title), cmp.Compare(a.metric, b.metric))
	}) {
		x := c.byServer[k]
		slices.Sort(x.Systems)
		c.emit(x)
	}
	clear(c.byServer)
}
