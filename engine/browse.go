package engine

import (
	"context"
	"strings"

	"github.com/irego/irego/store"
)

// Browse is one page of a class's records for people paging through it.
type Browse struct {
	// Records are fresh copies, class by class in name order, by sys_id
	// within a class.
	Records []*store.Record
	// Next is the cursor of the following page; "" on the last page.
	Next string
	// Total counts the records of the class and its descendants, up to the
	// cap Browse was given; Capped says there are more.
	Total  int
	Capped bool
}

// BrowseClass returns up to limit records of class and every class below
// it that follow the cursor after ("" starts at the beginning; a page's
// Next continues after it), and counts them up to countCap. It reads the
// class membership keys only: a page costs its records plus a few key
// seeks, however large the class, and the count costs at most countCap
// key reads. It returns ErrUnknownClass when the rules declare no such
// class.
func (e *Engine) BrowseClass(ctx context.Context, class, after string, limit, countCap int) (*Browse, error) {
	if _, ok := e.rs.Class(class); !ok {
		return nil, ErrUnknownClass
	}
	afterClass, afterID, _ := strings.Cut(after, "/")
	out := &Browse{Records: []*store.Record{}}
	err := e.st.View(func(r store.Reader) error {
		classes := e.rs.Descendants(class)
		for _, c := range classes {
			if err := countKeys(ctx, r, store.ClassPrefix(c), countCap-out.Total, &out.Total); err != nil {
				return err
			}
			if out.Total >= countCap {
				out.Capped = true
				break
			}
		}
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
// longest shared part to the shortest: at most 15 seeks per character,
// and no key at or before the cursor is read.
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
	for i := len(after) - 1; i >= 0 && !stopped; i-- {
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
