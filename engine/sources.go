package engine

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultSources are the data sources a payload may come from when
// Options.Sources is nil: the choices of ServiceNow's cmdb_ci.discovery_source
// field, and the sources irego's own APIs write as (SAM for software usage,
// TMF637 and ProductInventory for product inventory). The rule set adds the
// sources it names (rules.RuleSet.Sources).
var DefaultSources = []string{
	"Altiris", "EventManagement", "ImportSet", "LANDesk", "ManualEntry", "OpenView", "Other",
	"SCCM", "ServiceNow", "ServiceWatch",
	"SAM", "TMF637", "ProductInventory",
}

// AnySource in Options.Sources accepts payloads from every source.
const AnySource = "*"

// sourceList is the set of accepted data sources.
type sourceList struct {
	any   bool
	names map[string]bool
}

func newSourceList(configured, declared []string) sourceList {
	if configured == nil {
		configured = DefaultSources
	}
	l := sourceList{names: map[string]bool{}}
	for _, s := range append(append([]string(nil), configured...), declared...) {
		if s == AnySource {
			l.any = true
		}
		l.names[s] = true
	}
	return l
}

// fault says why a payload from source is refused, "" when it is accepted.
func (l sourceList) fault(source string) string {
	switch {
	case strings.TrimSpace(source) == "":
		return "no data source given; name the source of the payload (one of " + l.String() + ")"
	case l.any || l.names[source]:
		return ""
	}
	return fmt.Sprintf("invalid data source %q: not one of the discovery sources %s (declare it in the rule file's sources list)", source, l.String())
}

// String lists the accepted sources, sorted.
func (l sourceList) String() string {
	if l.any {
		return "any source"
	}
	out := make([]string, 0, len(l.names))
	for s := range l.names {
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Sources returns the data sources the engine accepts payloads from,
// sorted; ["*"] when it accepts any.
func (e *Engine) Sources() []string {
	l := e.cur.Load().sources
	if l.any {
		return []string{AnySource}
	}
	out := make([]string, 0, len(l.names))
	for s := range l.names {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
