package ilmt

import (
	"container/heap"
	"slices"
)

// maxLimit is the most rows one page holds: the page size when limit is
// absent, and what a larger limit is served as. A list is built as its rows
// are read, keeping only the best offset + limit of them, so a page costs
// memory for that many rows whatever the estate.
const maxLimit = 10000

// pager filters, counts, orders and pages rows as they come: it keeps the
// matches that can still be on the page (the first offset + limit in the
// query's order) in a heap whose top is the last of them. Rows that
// compare equal keep the order they came in, as a stable sort of them all
// would.
type pager struct {
	q     *query
	t     *table
	total int    // rows matched
	keep  int    // offset + limit: how many matches may be on the page
	seq   int    // rows seen
	top   ranked // the kept matches, a heap: the last in order on top
	names []string
	spare row // the last row added when it was not kept, for next
}

// pager starts a list; countSwitch=2 keeps no rows.
func (q *query) pager(t *table) *pager {
	p := &pager{q: q, t: t, keep: q.offset + q.limit, top: ranked{order: q.order, listed: t.listed}}
	if p.keep < q.offset || q.countSwitch == 2 { // overflow: an offset past any list
		p.keep = 0
	}
	return p
}

// next returns an empty row to fill and add: the last row added when the
// pager did not keep it, so a list of many rows reuses one map for the
// rows that are not on the page.
func (p *pager) next() row {
	if r := p.spare; r != nil {
		p.spare = nil
		clear(r)
		return r
	}
	return make(row, 24)
}

// add takes the next row.
func (p *pager) add(r row) {
	p.seq++
	p.noteDynamic(r)
	if !p.keepRow(r) {
		p.spare = r
	}
}

// keepRow counts r if it matches, and reports whether it is kept.
func (p *pager) keepRow(r row) bool {
	if !p.q.criteria.match(r) {
		return false
	}
	p.total++
	if p.keep == 0 {
		return false
	}
	x := seqRow{r, p.seq}
	if len(p.top.rows) < p.keep {
		heap.Push(&p.top, x)
		return true
	}
	if !p.top.before(x, p.top.rows[0]) {
		return false
	}
	p.spare = p.top.rows[0].r // dropped from the page
	p.top.rows[0] = x
	heap.Fix(&p.top, 0)
	return true
}

// page returns the matches from offset on, at most limit of them.
func (p *pager) page() []row {
	slices.SortFunc(p.top.rows, p.top.compare)
	out := make([]row, 0, max(0, len(p.top.rows)-p.q.offset))
	for i := p.q.offset; i < len(p.top.rows); i++ {
		out = append(out, p.top.rows[i].r)
	}
	return out
}

// noteDynamic notes the dynamic columns (custom fields) a row has, by name:
// every row's, matching or not, for the default columns (see addDynamic).
func (p *pager) noteDynamic(r row) {
	if p.q.explicit || p.t.dynamic == nil {
		return
	}
	for k := range r {
		if slices.Contains(p.names, k) || slices.ContainsFunc(p.t.columns, func(c column) bool { return c.name == k }) {
			continue
		}
		if _, ok := p.t.dynamic(k); ok {
			p.names = append(p.names, k)
		}
	}
}

// addDynamic adds to the default columns the dynamic ones some row had, by
// name.
func (p *pager) addDynamic() {
	slices.Sort(p.names)
	for _, n := range p.names {
		c, _ := p.t.dynamic(n)
		p.q.columns = append(p.q.columns, c)
	}
	p.names = nil
}

// seqRow is a row and its place in the order rows came in.
type seqRow struct {
	r   row
	seq int
}

// ranked is a heap of rows by the query's order, the last on top.
type ranked struct {
	order  []orderBy
	listed func(a, b row) int // see table.listed
	rows   []seqRow
}

// compare orders rows by the query's order, then as they are listed (see
// table.listed), then as they came.
func (h *ranked) compare(a, b seqRow) int {
	for _, o := range h.order {
		n := compareValues(a.r[o.col.name], b.r[o.col.name])
		if o.desc {
			n = -n
		}
		if n != 0 {
			return n
		}
	}
	if h.listed != nil {
		if n := h.listed(a.r, b.r); n != 0 {
			return n
		}
	}
	return a.seq - b.seq
}

func (h *ranked) before(a, b seqRow) bool { return h.compare(a, b) < 0 }

func (h *ranked) Len() int           { return len(h.rows) }
func (h *ranked) Less(i, j int) bool { return h.before(h.rows[j], h.rows[i]) }
func (h *ranked) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *ranked) Push(x any)         { h.rows = append(h.rows, x.(seqRow)) }
func (h *ranked) Pop() any {
	x := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return x
}
