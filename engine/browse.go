package engine

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// Browse is one page of a class's records for people paging through it.
type Browse struct {
	// Records are fresh copies, class by class in name order, by sys_id
	// within a class.
	Records []*store.Record
	// Next is the cursor of the following page; "" on the last page.
	Next string
	// Total counts the records of the class and its descendants, exactly
	// when the class has an index, else up to the cap Browse was given;
	// Capped says there are more.
	Total  int
	Capped bool
}

// BrowseClass returns up to limit records of class and every class below
// it that follow the cursor after ("" starts at the beginning; a page's
// Next continues after it), and counts them: exactly from the class
// counts of the class's index when it has one (rules: `indexed`), else
// up to countCap. It reads the class membership keys only: a page costs
// its records plus a few key seeks, however large the class, and the
// count costs a count per class and sys_id chunk, or at most countCap key
// reads. It returns ErrUnknownClass when the rules declare no such
// class.
func (e *Engine) BrowseClass(ctx context.Context, class, after string, limit, countCap int) (*Browse, error) {
	cls, ok := e.ruleSet().Class(class)
	if !ok {
		return nil, ErrUnknownClass
	}
	afterClass, afterID, _ := strings.Cut(after, "/")
	out := &Browse{Records: []*store.Record{}}
	err := e.st.View(func(r store.Reader) error {
		classes := e.ruleSet().Descendants(class)
		// Count first, and page only through the classes that hold records:
		// each class costs an iterator, and most classes of a wide tree are
		// empty.
		var held []string
		if cls.IndexClass != "" { // exact, from the index's class counts
			populated, perChunk, err := indexCounts(r, cls.IndexClass, classes)
			if err != nil {
				return err
			}
			for _, n := range perChunk {
				out.Total += n
			}
			held = slices.Sorted(slices.Values(populated))
			classes = nil
		}
		for i, c := range classes {
			before := out.Total
			if err := countKeys(ctx, r, store.ClassPrefix(c), countCap-out.Total, &out.Total); err != nil {
				return err
			}
			if out.Total > before {
				held = append(held, c)
			}
			if out.Total >= countCap {
				out.Capped = true
				held = append(held, classes[i+1:]...) // not counted: may hold records
				break
			}
		}
		classes = held
		full := func() bool { return len(out.Records) > limit }
		add := func(k, _ []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := getRecord(r, store.SysIDFromClassKey(k))
			if err != nil {
				return err
			}
			out.Records = append(out.Records, rec)
			if full() {
				return store.ErrStop
			}
			return nil
		}
		for _, c := range classes {
			if after != "" && c < afterClass {
				continue
			}
			var err error
			if c == afterClass {
				err = iterateAfter(r, store.ClassPrefix(c), afterID, add)
			} else {
				err = r.Iterate(store.ClassPrefix(c), add)
			}
			if err != nil {
				return err
			}
			if full() {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out.Records) > limit {
		out.Records = out.Records[:limit]
		last := out.Records[limit-1]
		out.Next = last.Class + "/" + last.SysID
	}
	return out, nil
}

// countKeys adds to n the keys under prefix, reading at most max of them.
func countKeys(ctx context.Context, r store.Reader, prefix []byte, max int, n *int) error {
	seen := 0
	return r.Iterate(prefix, func(_, _ []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		*n++
		if seen++; seen >= max {
			return store.ErrStop
		}
		return nil
	})
}

// iterateAfter calls fn, in key order, for the keys under prefix whose
// rest is greater than the sys_id after. The store iterates by prefix
// only, so the keys after a sys_id are walked as the prefixes that share
// its first i characters and continue with a greater hex digit, from the
// longest shared part to the shortest: one walk over the keys sharing the
// first three characters, then at most 15 seeks per shorter prefix.
func iterateAfter(r store.Reader, prefix []byte, after string, fn func(k, v []byte) error) error {
	const digits = "0123456789abcdef"
	stopped := false
	visit := func(k, v []byte) error {
		err := fn(k, v)
		if err == store.ErrStop {
			stopped = true
		}
		return err
	}
	// The keys sharing the cursor's first few characters are few (a
	// 4096th of the class for three), so one walk over them, skipping
	// those up to the cursor, saves the seeks of the deeper characters.
	shared := min(3, len(after))
	from := append(append([]byte{}, prefix...), after...)
	err := r.Iterate(append(append([]byte{}, prefix...), after[:shared]...), func(k, v []byte) error {
		if bytes.Compare(k, from) <= 0 {
			return nil
		}
		return visit(k, v)
	})
	if err != nil {
		return err
	}
	for i := shared - 1; i >= 0 && !stopped; i-- {
		next := strings.IndexByte(digits, after[i]) + 1
		if next == 0 {
			next = strings.IndexFunc(digits, func(d rune) bool { return byte(d) > after[i] })
			if next < 0 {
				continue
			}
		}
		for _, d := range digits[next:] {
			p := append(append([]byte{}, prefix...), after[:i]+string(d)...)
			if err := r.Iterate(p, visit); err != nil {
				return err
			}
			if stopped {
				break
			}
		}
	}
	return nil
}

// FindByIdentity answers "attribute equals value" for class and the
// classes below it from the identity index, when that index holds the
// answer: every class below class that holds records has an independent
// identification rule with an unconditional entry on exactly that
// attribute (as the default rules have on name for hardware). The cost is
// then one key seek per class and the matches, not the class. ok is false
// when the index cannot answer (the caller falls back to Find); CIs merged
// into another (duplicate_of set) hold no identity and are not found.
func (e *Engine) FindByIdentity(ctx context.Context, class, attribute, value string, offset, limit int) (page *Page, ok bool, err error) {
	if _, known := e.ruleSet().Class(class); !known {
		return nil, false, ErrUnknownClass
	}
	if strings.TrimSpace(value) == "" {
		return nil, false, nil
	}
	classes := e.ruleSet().Descendants(class)
	page = &Page{Records: []*store.Record{}}
	err = e.st.View(func(r store.Reader) error {
		entries := map[string]bool{}
		for _, name := range classes {
			has := false
			if err := r.Iterate(store.ClassPrefix(name), func(_, _ []byte) error { has = true; return store.ErrStop }); err != nil {
				return err
			}
			if !has {
				continue
			}
			id := e.identityEntry(name, attribute)
			if id == "" {
				return nil // ok stays false
			}
			entries[id] = true
		}
		in := map[string]bool{}
		for _, c := range classes {
			in[c] = true
		}
		seen := map[string]bool{}
		for id := range entries {
			key := store.IdentityKey(id, store.NoScope, []string{payload.Canonical(value)}, []bool{false})
			holders, err := store.IdentityHolders(r, key)
			if err != nil {
				return err
			}
			for _, sysID := range holders {
				if err := ctx.Err(); err != nil {
					return err
				}
				if seen[sysID] {
					continue
				}
				seen[sysID] = true
				rec, err := getRecord(r, sysID)
				if err != nil {
					return err
				}
				if !in[rec.Class] {
					continue
				}
				if page.Total >= offset && len(page.Records) < limit {
					page.Records = append(page.Records, rec)
				}
				page.Total++
			}
		}
		ok = true
		return nil
	})
	if err != nil || !ok {
		return nil, false, err
	}
	return page, true, nil
}

// identityEntry returns the ID of the unconditional entry on exactly
// attribute in the independent rule of class, or "".
func (e *Engine) identityEntry(class, attribute string) string {
	c, ok := e.ruleSet().Class(class)
	if !ok || c.Rule == nil || !c.Rule.Independent() {
		return ""
	}
	for _, en := range c.Rule.Entries {
		if !en.IsLookup() && en.When == nil && len(en.Attributes) == 1 && en.Attributes[0] == attribute {
			return en.ID
		}
	}
	return ""
}
