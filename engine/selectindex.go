package engine

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Filter holds when a record's value of Attribute (canonical text, "" when
// it has none) equals one of Values, or with Prefix starts with one of
// them, ignoring case (strings.ToLower), as ServiceNow compares text. On
// an attribute the class's index holds (rules: `indexed`) it is answered
// from the index.
type Filter struct {
	Attribute string
	Values    []string
	Prefix    bool
}

// Match reports whether rec satisfies f.
func (f Filter) Match(rec *store.Record) bool {
	return f.holdsValue(payload.Canonical(rec.Values[f.Attribute]))
}

func (f Filter) holdsValue(v string) bool {
	v = strings.ToLower(v)
	return slices.ContainsFunc(f.Values, func(x string) bool {
		x = strings.ToLower(x)
		if f.Prefix {
			return strings.HasPrefix(v, x)
		}
		return v == x
	})
}

// spans returns the key prefixes of the index entries that may satisfy f,
// disjoint and in key order; holdsValue decides on each entry's value (a
// number's bucket holds every text of it, "1" and "1.0").
func (f Filter) spans(indexClass string) [][]byte {
	var out [][]byte
	numbers := false
	for _, v := range f.Values {
		switch {
		case !f.Prefix:
			out = append(out, store.IndexBucket(indexClass, f.Attribute, v))
		case v == "":
			return store.IndexValuePrefixes(indexClass, f.Attribute)
		default:
			out = append(out, store.IndexTextPrefix(indexClass, f.Attribute, v))
			numbers = numbers || mayStartNumber(v)
		}
	}
	if numbers {
		out = append(out, store.IndexNumbersPrefix(indexClass, f.Attribute))
	}
	slices.SortFunc(out, bytes.Compare)
	// Drop a prefix within the one before it (STARTSWITH a and ab).
	return slices.CompactFunc(out, func(a, b []byte) bool { return bytes.HasPrefix(b, a) })
}

// mayStartNumber reports whether a number's text may start with p: only
// characters strconv.ParseFloat accepts.
func mayStartNumber(p string) bool {
	return strings.Trim(strings.ToLower(p), "0123456789.+-_abcdefinptxy") == ""
}

// indexPlan is how Select answers a selection from the class's index: it
// walks the entries of one attribute (spans of them, or all), keeping
// those of the classes asked for whose value satisfies the filters on that
// attribute, and reads records only to check what the index cannot.
type indexPlan struct {
	s          Selection
	indexClass string
	classes    []string
	in         map[string]bool // own classes kept; nil: every class of the index
	walked     string          // the attribute walked
	spans      [][]byte
	onWalked   []Filter // filters on it, checked on the entries
	onRecords  []Filter // the others, checked on the records
	ordered    bool     // the walk gives the page's order (s.OrderBy)
	records    bool     // each entry kept is read (onRecords, Match, SortKey)
	rev        store.ReverseReader
}

// planIndex returns how the index of cls answers s, or nil when it does
// not: no filter or order is on an indexed attribute, a descending order
// needs a store that walks keys backwards, or the classes asked for are so
// few among the index's that reading them all costs less than the walk.
func planIndex(r store.Reader, cls *rules.Class, classes []string, s Selection, counts func() (sel, all int, err error)) (*indexPlan, error) {
	if cls.IndexClass == "" {
		return nil, nil
	}
	indexed := func(a string) bool { return slices.Contains(cls.Indexed, a) }
	p := &indexPlan{s: s, indexClass: cls.IndexClass, classes: classes}
	if s.OrderBy != "" && indexed(s.OrderBy) {
		p.walked, p.ordered = s.OrderBy, true
		if s.Desc {
			rev, ok := r.(store.ReverseReader)
			if !ok {
				return nil, nil
			}
			p.rev = rev
		}
	}
	// The filter whose spans are walked: on the attribute ordered by, else
	// an equality (a bucket or a few) before a prefix.
	driver := -1
	for i, f := range s.Filters {
		if indexed(f.Attribute) && (p.walked == "" || f.Attribute == p.walked) && (driver < 0 || !f.Prefix && s.Filters[driver].Prefix) {
			driver = i
		}
	}
	if driver < 0 && p.walked == "" {
		return nil, nil
	}
	p.spans = store.IndexValuePrefixes(cls.IndexClass, p.walked)
	if driver >= 0 {
		p.walked = s.Filters[driver].Attribute
		p.spans = s.Filters[driver].spans(cls.IndexClass)
	}
	for _, f := range s.Filters {
		if f.Attribute == p.walked {
			p.onWalked = append(p.onWalked, f)
		} else {
			p.onRecords = append(p.onRecords, f)
		}
	}
	p.records = len(p.onRecords) > 0 || s.Match != nil || !p.ordered && s.SortKey != nil
	if cls.Name != cls.IndexClass || s.Classes != nil {
		p.in = make(map[string]bool, len(classes))
		for _, c := range classes {
			p.in[c] = true
		}
	}
	if p.ordered && len(p.onWalked) == 0 && p.in != nil {
		// An order walk passes over the other classes' entries: when the
		// classes asked for are few, reading their records is cheaper.
		sel, all, err := counts()
		if err != nil {
			return nil, err
		}
		want := max(s.Offset, 0) + max(s.Limit, 1)
		if sel <= s.MaxScan && (sel == 0 || want*all/sel > 10*sel) {
			return nil, nil
		}
	}
	return p, nil
}

// entry reads an index entry and says whether the plan keeps it.
func (p *indexPlan) entry(k []byte) (store.IndexEntry, bool, error) {
	e, err := store.ParseIndexEntry(k)
	if err != nil {
		return e, false, err
	}
	if p.in != nil && !p.in[e.Class] {
		return e, false, nil
	}
	for _, f := range p.onWalked {
		if !f.holdsValue(e.Value) {
			return e, false, nil
		}
	}
	return e, true, nil
}

// walk calls fn for every entry the plan keeps, in index order (backwards
// by value, forwards by sys_id within a value, when desc), until fn
// returns store.ErrStop.
func (p *indexPlan) walk(ctx context.Context, r store.Reader, desc bool, fn func(store.IndexEntry) error) error {
	stopped := false
	visit := func(k, _ []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, ok, err := p.entry(k)
		if !ok || err != nil {
			return err
		}
		err = fn(e)
		stopped = err == store.ErrStop
		return err
	}
	for i := range p.spans {
		span := p.spans[i]
		if desc {
			span = p.spans[len(p.spans)-1-i]
		}
		if !desc {
			if err := r.Iterate(span, visit); err != nil || stopped {
				return err
			}
			continue
		}
		if err := p.walkBack(r, span, visit); err != nil || stopped {
			return err
		}
	}
	return nil
}

// heldEntries bounds the entries of one value walkBack holds to hand them
// over in sys_id order; a value with more is read again forwards.
const heldEntries = 64

// walkBack calls visit for the entries of span backwards by value and
// forwards by sys_id within a value: one backward walk that holds a
// value's entries until the next value begins, except for values with
// many entries, whose entries are read forwards from their start.
func (p *indexPlan) walkBack(r store.Reader, span []byte, visitor func(k, v []byte) error) error {
	stopped := false
	visit := func(k, v []byte) error {
		err := visitor(k, v)
		stopped = stopped || err == store.ErrStop
		return err
	}
	var before []byte // nil: from the end of span
	for {
		var bucket []byte
		var held [][]byte
		big := false
		handOver := func() error {
			for i := len(held) - 1; i >= 0; i-- {
				if err := visit(held[i], nil); err != nil {
					return err
				}
			}
			held = held[:0]
			return nil
		}
		err := p.rev.IterateReverse(span, before, func(k, _ []byte) error {
			e, err := store.ParseIndexEntry(k)
			if err != nil {
				return err
			}
			if !bytes.Equal(k[:e.Bucket], bucket) {
				if err := handOver(); err != nil {
					return err
				}
				bucket = bytes.Clone(k[:e.Bucket])
			}
			if len(held) == heldEntries {
				big = true
				return store.ErrStop
			}
			held = append(held, bytes.Clone(k))
			return nil
		})
		switch {
		case err != nil || stopped:
			return err
		case !big:
			if err := handOver(); err != nil && !stopped { // the first value of span
				return err
			}
			return nil
		}
		if err := r.Iterate(bucket, visit); err != nil || stopped {
			return err
		}
		before = bucket
	}
}

// page returns the sys_ids of the page and sets out's total.
func (p *indexPlan) page(ctx context.Context, r store.Reader, out *Selected) ([]string, error) {
	s := p.s
	skip, want := max(s.Offset, 0), s.Limit
	// read reads the record of a kept entry when the plan must, and says
	// whether it is a match.
	read := func(e store.IndexEntry) (*store.Record, bool, error) {
		if !p.records {
			return nil, true, nil
		}
		if out.Scanned == s.MaxScan {
			out.Capped = true
			return nil, false, store.ErrStop
		}
		out.Scanned++
		rec, err := getRecord(r, e.SysID)
		if err != nil {
			return nil, false, err
		}
		return rec, s.keeps(rec, p.onRecords), nil
	}
	if !p.ordered {
		// Every match is counted; the page is the best Offset+Limit by
		// sort key, else by sys_id.
		keep := skip + want
		if want < 0 {
			keep = -1
		}
		best := &topK{cmp: s.compare()}
		err := p.walk(ctx, r, false, func(e store.IndexEntry) error {
			rec, ok, err := read(e)
			if !ok {
				return err
			}
			out.Total++
			var key []string
			if s.SortKey != nil {
				key = s.SortKey(rec)
			}
			best.offer(ranked{key: key, sysID: e.SysID}, keep)
			return nil
		})
		if err != nil {
			return nil, err
		}
		ranks := best.sorted()
		ranks = ranks[min(skip, len(ranks)):]
		ids := make([]string, 0, len(ranks))
		for _, x := range ranks {
			ids = append(ids, x.sysID)
		}
		return ids, nil
	}
	// In index order: the page is the matches after the first Offset.
	var ids []string
	counted := p.records || len(p.onWalked) > 0
	if !counted {
		total, err := p.classTotal(r)
		if err != nil {
			return nil, err
		}
		out.Total = total
	}
	err := p.walk(ctx, r, s.Desc, func(e store.IndexEntry) error {
		_, ok, err := read(e)
		if !ok {
			return err
		}
		out.Total += b2i(counted)
		switch {
		case skip > 0:
			skip--
		case want < 0 || len(ids) < want:
			ids = append(ids, e.SysID)
		case !counted:
			return store.ErrStop
		}
		return nil
	})
	return ids, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// classTotal counts the records of the classes asked for from the index's
// class counts.
func (p *indexPlan) classTotal(r store.Reader) (int, error) {
	_, perChunk, err := indexCounts(r, p.indexClass, p.classes)
	n := 0
	for _, c := range perChunk {
		n += c
	}
	return n, err
}

// keeps reports whether rec satisfies filters and Match.
func (s Selection) keeps(rec *store.Record, filters []Filter) bool {
	for _, f := range filters {
		if !f.Match(rec) {
			return false
		}
	}
	return s.Match == nil || s.Match(rec)
}

func (s Selection) compare() func(a, b []string) int {
	if s.Compare != nil {
		return s.Compare
	}
	return func(a, b []string) int { return slices.Compare(a, b) }
}
