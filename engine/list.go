package engine

import (
	"context"
	"errors"

	"github.com/irego/irego/store"
)

// ErrUnknownClass: the rule set declares no class of the given name.
var ErrUnknownClass = errors.New("engine: unknown class")

// List calls fn for every stored record of class and of every class below
// it, all read from one consistent view: class by class in name order, by
// sys_id within a class. It returns ErrUnknownClass when the rules declare
// no such class. The records are fresh copies fn may keep.
func (e *Engine) List(ctx context.Context, class string, fn func(*store.Record) error) error {
	if _, ok := e.ruleSet().Class(class); !ok {
		return ErrUnknownClass
	}
	return e.st.View(func(r store.Reader) error {
		for _, c := range e.ruleSet().Descendants(class) {
			err := r.Iterate(store.ClassPrefix(c), func(k, _ []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				rec, err := getRecord(r, store.SysIDFromClassKey(k))
				if err != nil {
					return err
				}
				return fn(rec)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
