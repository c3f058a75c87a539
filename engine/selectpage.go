package engine

import (
	"bytes"
	"container/heap"
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// DefaultMaxScan is how many records one Select may read to filter or
// order them when Options.MaxScan is 0.
const DefaultMaxScan = 20000

// Selection asks for one page of the records of a class and of every class
// below it: those Match keeps, in the order SortKey and Compare give (ties,
// and every record without SortKey, by sys_id), skipping Offset, at most
// Limit.
type Selection struct {
	Class string
	// Classes, when not nil, keeps only the records whose own class is one
	// of them (compared ignoring case, as ServiceNow compares table names):
	// a filter on sys_class_name that narrows the classes read instead of
	// reading records.
	Classes []string
	// Match keeps a record; nil keeps every record. With neither Match nor
	// SortKey, the total costs a count per class and sys_id chunk when the
	// class has an index (rules: `indexed`), else a membership key per
	// record, and the page costs its own keys and records.
	Match func(*store.Record) bool
	// Filters are ANDed with Match. Those on one attribute the class's
	// index holds (OrderBy's, else one with an equality before a prefix)
	// are answered from it: the total counts index entries and the page
	// reads only its own records, plus, under MaxScan, those whose
	// records Match or the filters on other attributes must check.
	Filters []Filter
	// OrderBy, when it names an attribute the class's index holds, orders
	// the page from the index, by store.CompareIndexed (Desc: reversed),
	// ties by sys_id; memory stays that of the page, whatever Offset. On
	// another attribute (or with a store that cannot walk keys backwards,
	// for Desc) SortKey and Compare order instead, and should agree.
	OrderBy string
	Desc    bool
	// SortKey returns what a record is ordered by; Compare orders two such
	// keys (nil: as strings, element by element).
	SortKey func(*store.Record) []string
	Compare func(a, b []string) int
	// Offset skips that many records; Limit bounds the page (negative: no
	// bound, so the page holds every record).
	Offset, Limit int
	// MaxScan bounds the records read when Match or SortKey need them; 0
	// means the engine's (Options.MaxScan).
	MaxScan int
}

// Selected is one page of a Selection.
type Selected struct {
	// Records are fresh copies the caller may keep.
	Records []*store.Record
	// Total counts the records the selection matches; when Capped, those
	// among the records read.
	Total int
	// Scanned counts the records read to filter or order; 0 when neither
	// was asked for.
	Scanned int
	// Capped says the reading stopped at MaxScan records, class by class
	// in name order and by sys_id within a class (in the index's order
	// when an index served the selection), before the class was read
	// whole: Total and the page are then those of the records read.
	Capped bool
}

// Select answers s from one consistent view and never holds the class.
// Without Match and SortKey it counts the records (from the class counts
// of the class's index when it has one, else key by key), and merges the
// classes' membership keys in sys_id order to the page, holding a batch
// of at most 1024 keys per class that has records; with Filters or an
// OrderBy on an attribute the class's index holds it walks that
// attribute's index entries (planIndex); otherwise it reads records, at
// most MaxScan, keeping the best Offset+Limit sort keys in a bounded
// heap. It returns
// ErrUnknownClass when the rules declare no such class.
func (e *Engine) Select(ctx context.Context, s Selection) (*Selected, error) {
	cls, ok := e.ruleSet().Class(s.Class)
	if !ok {
		return nil, ErrUnknownClass
	}
	if s.MaxScan <= 0 {
		s.MaxScan = e.maxScan()
	}
	out := &Selected{Records: []*store.Record{}}
	classes := e.ruleSet().Descendants(s.Class)
	if s.Classes != nil {
		classes = slices.DeleteFunc(classes, func(c string) bool {
			return !slices.ContainsFunc(s.Classes, func(x string) bool { return strings.EqualFold(x, c) })
		})
	}
	err := e.st.View(func(r store.Reader) error {
		counts := func() (sel, all int, err error) { return classCounts(r, cls.IndexClass, classes) }
		plan, err := planIndex(r, cls, classes, s, counts)
		if err != nil {
			return err
		}
		var ids []string
		switch {
		case plan != nil:
			ids, err = plan.page(ctx, r, out)
		case s.Match == nil && s.SortKey == nil && len(s.Filters) == 0:
			ids, err = keysPage(ctx, r, cls.IndexClass, classes, s, out)
		default:
			ids, err = scanPage(ctx, r, classes, s, out)
		}
		if err != nil {
			return err
		}
		for _, id := range ids {
			rec, err := getRecord(r, id)
			if err != nil {
				return err
			}
			out.Records = append(out.Records, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Engine) maxScan() int {
	if e.opts.MaxScan > 0 {
		return e.opts.MaxScan
	}
	return DefaultMaxScan
}

// keysPage counts the records of classes into out.Total and returns the
// sys_ids of the page: the classes' membership keys merged in sys_id
// order, a batch per class at a time. When the classes share an index
// (indexClass; rules: `indexed`), the count and the chunk the offset falls
// in come from the index's class counts; otherwise every membership key
// is counted.
func keysPage(ctx context.Context, r store.Reader, indexClass string, classes []string, s Selection, out *Selected) ([]string, error) {
	var held []*classCursor
	var skip int
	var err error
	if indexClass != "" {
		held, skip, err = countFromIndex(r, indexClass, classes, max(s.Offset, 0), out)
	} else {
		held, err = countMembers(ctx, r, classes, out)
		skip = max(s.Offset, 0)
	}
	if err != nil {
		return nil, err
	}
	want := s.Limit
	if want < 0 {
		want = out.Total
	}
	batch := min(max(skip+want, 16), 1024) // an offset is skipped in large batches too
	h := cursorHeap{}
	for _, c := range held {
		if err := c.fill(r, batch); err != nil {
			return nil, err
		}
		if len(c.buf) > 0 {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	var ids []string
	for len(h) > 0 && len(ids) < want {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := h[0]
		id := c.buf[0]
		c.buf = c.buf[1:]
		if skip > 0 {
			skip--
		} else {
			ids = append(ids, id)
		}
		if len(c.buf) == 0 {
			if err := c.fill(r, batch); err != nil {
				return nil, err
			}
		}
		if len(c.buf) == 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	return ids, nil
}

// countMembers counts the membership keys of classes into out.Total and
// returns a cursor per class that has records.
func countMembers(ctx context.Context, r store.Reader, classes []string, out *Selected) ([]*classCursor, error) {
	var held []*classCursor
	counts := map[string]int{}
	err := classKeys(ctx, r, classes, func(class string, _ []byte) error {
		if counts[class]++; counts[class] == 1 {
			held = append(held, &classCursor{prefix: store.ClassPrefix(class)})
		}
		out.Total++
		return nil
	})
	return held, err
}

// countFromIndex counts the records of classes into out.Total from the
// class counts of the index they share (indexCounts). It returns a cursor
// per class that has records, placed at the chunk offset falls in, and
// how many records of that chunk precede the offset; no cursor when the
// offset is past the last record.
func countFromIndex(r store.Reader, indexClass string, classes []string, offset int, out *Selected) ([]*classCursor, int, error) {
	populated, perChunk, err := indexCounts(r, indexClass, classes)
	if err != nil {
		return nil, 0, err
	}
	for _, n := range perChunk {
		out.Total += n
	}
	for _, chunk := range slices.Sorted(maps.Keys(perChunk)) {
		if offset >= perChunk[chunk] {
			offset -= perChunk[chunk]
			continue
		}
		held := make([]*classCursor, 0, len(populated))
		for _, class := range populated {
			p := store.ClassPrefix(class)
			held = append(held, &classCursor{prefix: p, from: append(slices.Clip(p), chunk...)})
		}
		return held, offset, nil
	}
	return nil, 0, nil
}

// indexCounts reads, from the class counts of the index classes share
// (rules: `indexed`), which of them hold records and how many records
// they hold together in each sys_id chunk (store.IndexChunk): one count
// per class and chunk instead of a key per record.
func indexCounts(r store.Reader, indexClass string, classes []string) (populated []string, perChunk map[string]int, err error) {
	in := make(map[string]string, len(classes)) // the class names of the keys, lower case
	for _, c := range classes {
		in[strings.ToLower(c)] = c
	}
	perChunk = map[string]int{}
	prefix := store.IndexAttributeCountsPrefix(indexClass, rules.IndexedClassAttribute)
	err = countsUnder(r, prefix, func(k []byte, n int64) error {
		lower, chunk, ok := store.SplitIndexCountKey(prefix, k)
		class, found := in[lower]
		if !ok || !found {
			return nil
		}
		if len(populated) == 0 || populated[len(populated)-1] != class { // a class's counts are adjacent keys
			populated = append(populated, class)
		}
		perChunk[chunk] += int(n)
		return nil
	})
	return populated, perChunk, err
}

// classCounts counts, from the class counts of the index classes share,
// their records (sel) and those of every class of the index (all).
func classCounts(r store.Reader, indexClass string, classes []string) (sel, all int, err error) {
	in := make(map[string]bool, len(classes))
	for _, c := range classes {
		in[strings.ToLower(c)] = true
	}
	prefix := store.IndexAttributeCountsPrefix(indexClass, rules.IndexedClassAttribute)
	err = countsUnder(r, prefix, func(k []byte, n int64) error {
		class, _, ok := store.SplitIndexCountKey(prefix, k)
		if !ok {
			return nil
		}
		all += int(n)
		if in[class] {
			sel += int(n)
		}
		return nil
	})
	return sel, all, err
}

// manyClasses: a selection over more classes than this reads the
// membership keys of every class in one pass, skipping the others' keys,
// rather than opening an iterator per class (most classes of a wide tree
// are empty, and an iterator costs far more than a key).
const manyClasses = 8

// classKeys calls fn for the membership keys of classes (sorted, as
// Descendants returns them), class by class in name order and by sys_id
// within a class, until fn returns store.ErrStop.
func classKeys(ctx context.Context, r store.Reader, classes []string, fn func(class string, k []byte) error) error {
	visit := func(k []byte, class string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(class, k)
	}
	if len(classes) <= manyClasses {
		for _, c := range classes {
			stopped := false
			err := r.Iterate(store.ClassPrefix(c), func(k, _ []byte) error {
				err := visit(k, c)
				stopped = err == store.ErrStop
				return err
			})
			if err != nil || stopped {
				return err
			}
		}
		return nil
	}
	in := make(map[string]bool, len(classes))
	for _, c := range classes {
		in[c] = true
	}
	prefix := store.ClassKeysPrefix()
	var last []byte // the class of the key before, and whether it is one of classes
	var lastName string
	lastIn := false
	return r.Iterate(prefix, func(k, _ []byte) error {
		if c := k[len(prefix):bytes.LastIndexByte(k, 0)]; !bytes.Equal(c, last) {
			last, lastName = bytes.Clone(c), string(c)
			lastIn = in[lastName]
		}
		if !lastIn {
			return nil
		}
		return visit(k, lastName)
	})
}

// classCursor reads one class's membership keys a batch at a time.
type classCursor struct {
	prefix []byte
	from   []byte // the key to resume at; nil before the first batch
	buf    []string
	done   bool
}

// fill reads the next batch of up to n sys_ids.
func (c *classCursor) fill(r store.Reader, n int) error {
	c.buf = c.buf[:0]
	if c.done {
		return nil
	}
	start := c.from
	if start == nil {
		start = c.prefix
	}
	c.from = nil
	err := r.IterateFrom(c.prefix, start, func(k, _ []byte) error {
		if len(c.buf) == n {
			c.from = bytes.Clone(k) // the next batch starts here
			return store.ErrStop
		}
		c.buf = append(c.buf, string(k[len(c.prefix):]))
		return nil
	})
	c.done = c.from == nil
	return err
}

// cursorHeap orders cursors by their next sys_id.
type cursorHeap []*classCursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].buf[0] < h[j].buf[0] }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*classCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// scanPage reads the records of classes, at most s.MaxScan, counts those
// s.Match keeps and returns the sys_ids of the page, keeping only the best
// Offset+Limit in a heap.
func scanPage(ctx context.Context, r store.Reader, classes []string, s Selection, out *Selected) ([]string, error) {
	compare := s.compare()
	keep := max(s.Offset, 0) + s.Limit
	if s.Limit < 0 {
		keep = -1
	}
	best := &topK{cmp: compare}
	err := classKeys(ctx, r, classes, func(_ string, k []byte) error {
		if out.Scanned == s.MaxScan {
			out.Capped = true
			return store.ErrStop
		}
		out.Scanned++
		rec, err := getRecord(r, store.SysIDFromClassKey(k))
		if err != nil {
			return err
		}
		if !s.keeps(rec, s.Filters) {
			return nil
		}
		out.Total++
		var key []string
		if s.SortKey != nil {
			key = s.SortKey(rec)
		}
		best.offer(ranked{key: key, sysID: rec.SysID}, keep)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ranks := best.sorted()
	ranks = ranks[min(max(s.Offset, 0), len(ranks)):]
	ids := make([]string, 0, len(ranks))
	for _, x := range ranks {
		ids = append(ids, x.sysID)
	}
	return ids, nil
}

// ranked is a record's place in an order: its sort key, then its sys_id.
type ranked struct {
	key   []string
	sysID string
}

// topK keeps the first n of the ranks offered, as a heap whose root is the
// last of them.
type topK struct {
	cmp   func(a, b []string) int
	ranks []ranked
}

func (t *topK) compare(a, b ranked) int {
	if n := t.cmp(a.key, b.key); n != 0 {
		return n
	}
	return strings.Compare(a.sysID, b.sysID)
}

func (t *topK) Len() int           { return len(t.ranks) }
func (t *topK) Less(i, j int) bool { return t.compare(t.ranks[i], t.ranks[j]) > 0 }
func (t *topK) Swap(i, j int)      { t.ranks[i], t.ranks[j] = t.ranks[j], t.ranks[i] }
func (t *topK) Push(x any)         { t.ranks = append(t.ranks, x.(ranked)) }
func (t *topK) Pop() any {
	x := t.ranks[len(t.ranks)-1]
	t.ranks = t.ranks[:len(t.ranks)-1]
	return x
}

// offer keeps x when it is among the first n (n < 0: no bound).
func (t *topK) offer(x ranked, n int) {
	switch {
	case n == 0:
	case n < 0 || len(t.ranks) < n:
		heap.Push(t, x)
	case t.compare(x, t.ranks[0]) < 0:
		t.ranks[0] = x
		heap.Fix(t, 0)
	}
}

// sorted returns the ranks kept, first first.
func (t *topK) sorted() []ranked {
	slices.SortFunc(t.ranks, t.compare)
	return t.ranks
}
