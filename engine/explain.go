package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
)

// explain renders, for people, how one item was identified and reconciled:
// each entry tried with its values and what it found, why the winner won,
// what was refused and why.
func explain(ip *identify.ItemPlan, it *payload.Item, ir *ItemResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "item %d (%s):\n", ip.Index, it.ClassName)
	winner := -1
	for k, a := range ip.Attempts {
		fmt.Fprintf(&b, "  %d. %s, entry [%s]", k+1, a.IdentifierName, strings.Join(a.Attributes, ", "))
		if len(a.Values) > 0 {
			fmt.Fprintf(&b, " with %s", renderValues(a.Values))
		}
		switch a.AttemptResult {
		case identify.Skipped:
			fmt.Fprintf(&b, ": skipped (%s)", a.Info)
		case identify.NoMatch:
			b.WriteString(": 0 candidates")
		case identify.Matched:
			fmt.Fprintf(&b, ": 1 candidate, CI %s", a.Candidate)
			if a.Info != "" {
				fmt.Fprintf(&b, " (%s)", a.Info)
			}
			winner = k
		default:
			fmt.Fprintf(&b, ": %s %s", a.AttemptResult, a.Info)
		}
		b.WriteString("\n")
	}
	switch {
	case winner >= 0:
		fmt.Fprintf(&b, "  → attempt %d decides: entries are tried in priority order and the first that matches wins; CI %s\n", winner+1, ir.SysID)
	case len(ip.Attempts) > 0 && !ip.Failed():
		b.WriteString("  → no entry matched a stored CI: a new CI\n")
	}
	fmt.Fprintf(&b, "  operation %s", ir.Operation)
	if ir.SysID != Unknown {
		fmt.Fprintf(&b, ", sys_id %s", ir.SysID)
	}
	b.WriteString("\n")
	if t := ip.Target; t != nil {
		for _, m := range t.Masks {
			fmt.Fprintf(&b, "  masked %s: %s\n", m.Attribute, m.Reason)
		}
	}
	for _, in := range ir.Info {
		fmt.Fprintf(&b, "  info %s: %s\n", in.Code, in.Message)
	}
	for _, is := range ir.Errors {
		fmt.Fprintf(&b, "  error %s: %s\n", is.Code, is.Message)
	}
	for _, is := range ir.Warnings {
		fmt.Fprintf(&b, "  warning %s: %s\n", is.Code, is.Message)
	}
	return b.String()
}

func renderValues(v map[string]any) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		if v[k] == nil {
			parts[i] = k + "=null"
		} else {
			parts[i] = fmt.Sprintf("%s=%q", k, payload.Canonical(v[k]))
		}
	}
	return strings.Join(parts, ", ")
}
