package engine

import (
	"fmt"
	"slices"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Text that becomes part of a key (an identifying or indexed value, a
// source name, a native key) is bounded by store.MaxKeyText: a key holds
// several such texts, and a store refuses keys past its own limit. A
// payload that carries a longer one is refused before identification, every
// item answering INVALID_INPUT_DATA and the offending ones naming the
// attribute and the limit.

// keyAttributes returns the attributes whose values go into keys under
// rs: identifier entries' and related entries' criteria, and indexed
// attributes. It walks every class, so the engine computes it once per rule
// set (activeRules), not per payload.
func keyAttributes(rs *rules.RuleSet) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs.Rules() {
		for _, en := range r.Entries {
			for _, a := range en.Attributes {
				out[a] = true
			}
		}
		for _, re := range r.Related {
			for _, en := range re.Entries {
				for _, a := range en.Attributes {
					out[a] = true
				}
			}
		}
	}
	for _, name := range rs.Classes() {
		if c, ok := rs.Class(name); ok {
			for _, a := range c.Indexed {
				out[a] = true
			}
		}
	}
	return out
}

// tooLong returns, per item index, why the item's key texts are over the
// limit; nil when none is.
func (e *Engine) tooLong(source string, p *payload.Payload) map[int]string {
	if len(source) > store.MaxKeyText {
		out := map[int]string{}
		for i := range p.Items {
			out[i] = fmt.Sprintf("the data source name is %d bytes long, over the limit of %d bytes", len(source), store.MaxKeyText)
		}
		return out
	}
	attrs := e.cur.Load().keyAttrs
	var out map[int]string
	refuse := func(i int, why string) {
		if out == nil {
			out = map[int]string{}
		}
		out[i] = why
	}
	for i, it := range p.Items {
		if why := overLimit(attrs, it.Values, it.SourceInfo); why != "" {
			refuse(i, why)
			continue
		}
		for j, r := range it.Related {
			if why := overLimit(attrs, r.Values, r.SourceInfo); why != "" {
				refuse(i, fmt.Sprintf("related[%d] (%s): %s", j, r.ClassName, why))
				break
			}
		}
	}
	return out
}

// overLimit says why values or si hold a key text over the limit, naming the
// first such attribute in name order; "" when none does.
func overLimit(attrs map[string]bool, values map[string]any, si *payload.SourceInfo) string {
	var over []string
	for k, v := range values {
		if attrs[k] && v != nil && len(payload.Canonical(v)) > store.MaxKeyText {
			over = append(over, k)
		}
	}
	if len(over) > 0 {
		k := slices.Min(over)
		return fmt.Sprintf("attribute %s is %d bytes long, over the limit of %d bytes for an identifying or indexed value", k, len(payload.Canonical(values[k])), store.MaxKeyText)
	}
	if si != nil {
		for _, f := range []struct{ name, v string }{{"source_name", si.SourceName}, {"source_native_key", si.SourceNativeKey}} {
			if len(f.v) > store.MaxKeyText {
				return fmt.Sprintf("sys_object_source_info.%s is %d bytes long, over the limit of %d bytes", f.name, len(f.v), store.MaxKeyText)
			}
		}
	}
	return ""
}

// refuseTooLong is the result of a payload tooLong refused: nothing is
// identified or written.
func refuseTooLong(p *payload.Payload, why map[int]string) *Result {
	first := -1
	for i := range p.Items {
		if _, ok := why[i]; ok && (first < 0 || i < first) {
			first = i
		}
	}
	return failAll(p, func(i int) string {
		if w, ok := why[i]; ok {
			return fmt.Sprintf("item %d (%s): %s", i, p.Items[i].ClassName, w)
		}
		return fmt.Sprintf("item %d (%s): not processed: item %d of the payload holds a value too long to identify by", i, p.Items[i].ClassName, first)
	})
}
