package engine

import (
	"fmt"
	"sort"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// Text that becomes part of a key (an identifying or indexed value, a
// source name, a native key) is bounded by store.MaxKeyText: a key holds
// several such texts, and a store refuses keys past its own limit. A
// payload that carries a longer one is refused before identification, every
// item answering INVALID_INPUT_DATA and the offending ones naming the
// attribute and the limit.

// keyAttributes returns the attributes whose values go into keys under the
// engine's rules: identifier entries' and related entries' criteria, and
// indexed attributes.
func (e *Engine) keyAttributes() map[string]bool {
	out := map[string]bool{}
	for _, r := range e.ruleSet().Rules() {
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
	for _, name := range e.ruleSet().Classes() {
		if c, ok := e.ruleSet().Class(name); ok {
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
	out := map[int]string{}
	if len(source) > store.MaxKeyText {
		for i := range p.Items {
			out[i] = fmt.Sprintf("the data source name is %d bytes long, over the limit of %d bytes", len(source), store.MaxKeyText)
		}
		return out
	}
	attrs := e.keyAttributes()
	check := func(values map[string]any, si *payload.SourceInfo, where string) string {
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !attrs[k] || values[k] == nil {
				continue
			}
			if n := len(payload.Canonical(values[k])); n > store.MaxKeyText {
				return fmt.Sprintf("%sattribute %s is %d bytes long, over the limit of %d bytes for an identifying or indexed value", where, k, n, store.MaxKeyText)
			}
		}
		if si != nil {
			for _, f := range []struct{ name, v string }{{"source_name", si.SourceName}, {"source_native_key", si.SourceNativeKey}} {
				if len(f.v) > store.MaxKeyText {
					return fmt.Sprintf("%ssys_object_source_info.%s is %d bytes long, over the limit of %d bytes", where, f.name, len(f.v), store.MaxKeyText)
				}
			}
		}
		return ""
	}
	for i, it := range p.Items {
		if why := check(it.Values, it.SourceInfo, ""); why != "" {
			out[i] = why
			continue
		}
		for j, r := range it.Related {
			if why := check(r.Values, r.SourceInfo, fmt.Sprintf("related[%d] (%s): ", j, r.ClassName)); why != "" {
				out[i] = why
				break
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
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
