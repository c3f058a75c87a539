package engine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Query selects stored records of a class and its descendants by attribute
// values, a page at a time.
type Query struct {
	Class string
	// Where holds conditions that must all hold.
	Where []Condition
	// Offset skips that many matches. Limit bounds the page: 0 returns no
	// records (only the total), a negative Limit every match.
	Offset, Limit int
	// Keep, when not nil, is a last check of each record the conditions
	// select (on what no attribute holds, say); the total and the page
	// count only those it keeps. Each record it is asked about is read,
	// and counts against the scan limit.
	Keep func(*store.Record) (bool, error)
}

// Condition holds when the attribute's value, as canonical text, is one of
// Values, compared ignoring case (strings.ToLower), as the secondary
// indexes and ServiceNow compare text. The attribute "sys_id" selects
// records by sys_id, "sys_class_name" by their own class.
type Condition struct {
	Attribute string
	Values    []string
}

// Page is one page of a Query's matches.
type Page struct {
	// Records are fresh copies the caller may keep, in the order of the
	// index (by the first condition's value, then by sys_id), or by class
	// and sys_id when no index serves the query.
	Records []*store.Record
	// Total counts every match.
	Total int
	// Scanned says that no index served the query and every record of the
	// class was read: the class declares no index, or no condition is on an
	// indexed attribute and the class is not the one the index belongs to.
	Scanned bool
	// Capped says that Find read its scan limit of records (Options.MaxScan)
	// to check conditions before it had seen every candidate: Total and the
	// page cover the candidates read, in the order Find reads them.
	Capped bool
	// Reads counts the records read to check conditions on them.
	Reads int
}

// Find answers q from one consistent view. With the class's index (rules:
// `indexed`), a query with at most one condition on an indexed attribute
// costs a page: the total comes from the index's chunk counts and the page
// is found by skipping whole chunks. With several indexed conditions the
// smallest matching set is walked, chunk by chunk, and the others are
// checked against their entries of the same chunk (chunks one of them lacks
// are skipped): the cost grows with the smallest set. Conditions on other
// attributes are checked on the records. Find returns ErrUnknownClass when
// the rules declare no such class.
func (e *Engine) Find(ctx context.Context, q Query) (*Page, error) {
	c, ok := e.ruleSet().Class(q.Class)
	if !ok {
		return nil, ErrUnknownClass
	}
	var page *Page
	err := e.st.View(func(r store.Reader) (err error) {
		f := &finder{ctx: ctx, r: r, rs: e.ruleSet(), c: c, q: q, page: &Page{Records: []*store.Record{}}, maxScan: e.maxScan()}
		err = f.run()
		page = f.page
		return err
	})
	return page, err
}

// finder holds one Find call.
type finder struct {
	ctx  context.Context
	r    store.Reader
	rs   *rules.RuleSet
	c    *rules.Class
	q    Query
	page *Page
	// reads counts the records read to check them, up to maxScan.
	reads, maxScan int
}

// read reads the record of a candidate to check it; ok is false, and the
// page Capped, once the scan limit is reached.
func (f *finder) read(id string) (rec *store.Record, ok bool, err error) {
	if f.reads == f.maxScan {
		f.page.Capped = true
		return nil, false, nil
	}
	f.reads++
	f.page.Reads = f.reads
	rec, err = getRecord(f.r, id)
	return rec, err == nil, err
}

func (f *finder) run() error {
	var byID *Condition
	var indexed, checked []Condition
	for _, cond := range f.q.Where {
		switch {
		case cond.Attribute == "sys_id":
			if byID == nil {
				byID = &cond
				continue
			}
			checked = append(checked, cond)
		case f.c.IndexClass != "" && (cond.Attribute == rules.IndexedClassAttribute || slices.Contains(f.c.Indexed, cond.Attribute)):
			indexed = append(indexed, cond)
			if slices.ContainsFunc(cond.Values, isNumber) {
				// A number's bucket holds every text of it ("1", "1.0"):
				// the records tell which.
				checked = append(checked, cond)
			}
		default:
			checked = append(checked, cond)
		}
	}
	switch {
	case byID != nil:
		return f.bySysID(byID.Values, append(indexed, checked...))
	case f.c.IndexClass == "":
		return f.scan(append(indexed, checked...))
	}
	if f.c.Name != f.c.IndexClass || len(indexed) == 0 {
		// The index spans the class that declares it and all below it.
		indexed = append(indexed, Condition{Attribute: rules.IndexedClassAttribute, Values: f.rs.Descendants(f.c.Name)})
	}
	buckets := make([][]bucket, len(indexed))
	best := 0
	for i, cond := range indexed {
		bs, err := f.buckets(cond)
		if err != nil {
			return err
		}
		buckets[i] = bs
		if total(bs) < total(buckets[best]) {
			best = i
		}
	}
	if len(indexed) == 1 && len(checked) == 0 && f.q.Keep == nil {
		return f.pageOf(buckets[0])
	}
	if len(indexed) == 1 && indexed[0].Attribute == rules.IndexedClassAttribute {
		f.page.Scanned = true // only the class narrows it down: every record of it is read
	}
	var others []other
	for i, cond := range indexed {
		if i != best {
			o := other{cond: cond, buckets: buckets[i], counts: map[string]int{}}
			for _, b := range buckets[i] {
				for _, c := range b.chunks {
					o.counts[c.chunk] += c.n
				}
			}
			others = append(others, o)
		}
	}
	return f.walk(buckets[best], others, checked)
}

// bucket is the index entries of one attribute value: its entry prefix
// and its chunk counts in entry order.
type bucket struct {
	prefix []byte
	chunks []chunkCount
}

type chunkCount struct {
	chunk string
	n     int
}

func total(bs []bucket) int {
	n := 0
	for _, b := range bs {
		for _, c := range b.chunks {
			n += c.n
		}
	}
	return n
}

func isNumber(v string) bool {
	_, ok := store.IndexNumber(v)
	return ok
}

// buckets reads the chunk counts of every value of cond, a bucket once
// (values that differ only in case share one).
func (f *finder) buckets(cond Condition) ([]bucket, error) {
	var prefixes [][]byte
	for _, v := range cond.Values {
		prefixes = append(prefixes, store.IndexBucket(f.c.IndexClass, cond.Attribute, v))
	}
	slices.SortFunc(prefixes, bytes.Compare)
	prefixes = slices.CompactFunc(prefixes, bytes.Equal)
	out := make([]bucket, 0, len(prefixes))
	for _, p := range prefixes {
		b := bucket{prefix: p}
		cp := append(slices.Clip(store.IndexCountsPrefix()), p[len(store.IndexPrefix()):]...)
		err := countsUnder(f.r, cp, func(k []byte, n int64) error {
			b.chunks = append(b.chunks, chunkCount{chunk: string(k[len(cp):]), n: int(n)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// pageOf serves the page straight from the buckets: chunks wholly before
// the offset are skipped by their counts.
func (f *finder) pageOf(bs []bucket) error {
	f.page.Total = total(bs)
	skip, want := max(f.q.Offset, 0), f.want()
	var ids []string
	for _, b := range bs {
		for _, c := range b.chunks {
			if want == 0 {
				return f.load(ids)
			}
			if skip >= c.n {
				skip -= c.n
				continue
			}
			p := append(slices.Clip(b.prefix), c.chunk...)
			err := f.r.Iterate(p, func(k, _ []byte) error {
				if skip > 0 {
					skip--
					return nil
				}
				ids = append(ids, entrySysID(k, len(b.prefix)))
				if want--; want == 0 {
					return store.ErrStop
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return f.load(ids)
}

// want is how many records the page may hold; -1 for no bound.
func (f *finder) want() int {
	if f.q.Limit < 0 {
		return -1
	}
	return f.q.Limit
}

// other is an indexed condition checked for each entry walk visits: its
// buckets and its entries per chunk.
type other struct {
	cond    Condition
	buckets []bucket
	counts  map[string]int
}

// mergeFactor: a condition's entries in a chunk are read as a set when
// there are at most this many times the walked entries, since reading an
// entry costs far less than looking one up.
const mergeFactor = 8

// walk visits every entry of bs, chunk by chunk, keeps those in the index
// of every other condition and whose records satisfy checked, and pages
// over them. A chunk some other condition has no entry in is skipped.
func (f *finder) walk(bs []bucket, others []other, checked []Condition) error {
	var ids []string
	for _, b := range bs {
	chunks:
		for _, c := range b.chunks {
			sets := make([]map[string]bool, len(others))
			for i, o := range others {
				n := o.counts[c.chunk]
				if n == 0 {
					continue chunks
				}
				if n <= mergeFactor*c.n {
					set, err := f.chunkSet(o.buckets, c.chunk)
					if err != nil {
						return err
					}
					sets[i] = set
				}
			}
			p := append(slices.Clip(b.prefix), c.chunk...)
			err := f.r.Iterate(p, func(k, _ []byte) error {
				if err := f.ctx.Err(); err != nil {
					return err
				}
				id := entrySysID(k, len(b.prefix))
				for i, o := range others {
					in := sets[i][id]
					if sets[i] == nil {
						var err error
						if in, err = f.inIndex(o.cond, id); err != nil {
							return err
						}
					}
					if !in {
						return nil
					}
				}
				if len(checked) > 0 || f.q.Keep != nil {
					rec, ok, err := f.read(id)
					if !ok {
						return cmp.Or(err, store.ErrStop)
					}
					if keep, err := f.keeps(rec, checked); !keep {
						return err
					}
				}
				if f.inPage() {
					ids = append(ids, id)
				}
				f.page.Total++
				return nil
			})
			if err != nil {
				return err
			}
			if f.page.Capped {
				return f.load(ids)
			}
		}
	}
	return f.load(ids)
}

// keeps reports whether rec satisfies checked and Keep.
func (f *finder) keeps(rec *store.Record, checked []Condition) (bool, error) {
	if !holds(rec, checked) {
		return false, nil
	}
	if f.q.Keep == nil {
		return true, nil
	}
	return f.q.Keep(rec)
}

// chunkSet reads the sys_ids of one chunk of buckets.
func (f *finder) chunkSet(bs []bucket, chunk string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, b := range bs {
		err := f.r.Iterate(append(slices.Clip(b.prefix), chunk...), func(k, _ []byte) error {
			set[entrySysID(k, len(b.prefix))] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return set, nil
}

// inPage says whether the next match (number page.Total) is on the page.
func (f *finder) inPage() bool {
	n := f.page.Total - max(f.q.Offset, 0)
	return n >= 0 && (f.q.Limit < 0 || n < f.q.Limit)
}

// entrySysID returns the sys_id of an index entry whose bucket is n bytes
// long.
func entrySysID(k []byte, n int) string {
	rest := k[n:]
	if i := bytes.IndexByte(rest, 0); i >= 0 {
		rest = rest[:i]
	}
	return string(rest)
}

// inIndex reports whether sysID has an entry for one of cond's values.
func (f *finder) inIndex(cond Condition, sysID string) (bool, error) {
	for _, v := range cond.Values {
		found := false
		err := f.r.Iterate(append(append(store.IndexBucket(f.c.IndexClass, cond.Attribute, v), sysID...), 0), func(_, _ []byte) error {
			found = true
			return store.ErrStop
		})
		if found || err != nil {
			return found, err
		}
	}
	return false, nil
}

// bySysID answers a query naming its records.
func (f *finder) bySysID(ids []string, checked []Condition) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		rec, err := getRecord(f.r, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := f.match(rec, checked); err != nil {
			return err
		}
	}
	return nil
}

// scan reads every record of the class and its descendants.
func (f *finder) scan(checked []Condition) error {
	f.page.Scanned = true
	for _, class := range f.rs.Descendants(f.c.Name) {
		err := f.r.Iterate(store.ClassPrefix(class), func(k, _ []byte) error {
			if err := f.ctx.Err(); err != nil {
				return err
			}
			rec, ok, err := f.read(store.SysIDFromClassKey(k))
			if !ok {
				return cmp.Or(err, store.ErrStop)
			}
			return f.match(rec, checked)
		})
		if err != nil || f.page.Capped {
			return err
		}
	}
	return nil
}

// match counts rec when it is of the class and satisfies checked, and keeps
// it when it falls on the page.
func (f *finder) match(rec *store.Record, checked []Condition) error {
	if c, ok := f.rs.Class(rec.Class); !ok || !c.IsA(f.c.Name) {
		return nil
	}
	if keep, err := f.keeps(rec, checked); !keep {
		return err
	}
	if f.inPage() {
		f.page.Records = append(f.page.Records, rec)
	}
	f.page.Total++
	return nil
}

func (f *finder) load(ids []string) error {
	for _, id := range ids {
		rec, err := getRecord(f.r, id)
		if err != nil {
			return err
		}
		f.page.Records = append(f.page.Records, rec)
	}
	return nil
}

// holds reports whether rec satisfies every condition.
func holds(rec *store.Record, conds []Condition) bool {
	for _, cond := range conds {
		var v string
		switch cond.Attribute {
		case "sys_id":
			v = rec.SysID
		case rules.IndexedClassAttribute:
			v = rec.Class
		default:
			v = payload.Canonical(rec.Values[cond.Attribute])
		}
		//lint:ignore SA6005 the index folds with ToLower, which EqualFold does not match for every rune
		if !slices.ContainsFunc(cond.Values, func(x string) bool { return strings.ToLower(x) == strings.ToLower(v) }) {
			return false
		}
	}
	return true
}
