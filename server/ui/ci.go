package ui

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// maxNamed bounds how many related records and relations a CI page reads
// the names of; beyond it they are listed by class and sys_id.
const maxNamed = 300

type ciData struct {
	CI        *engine.CI
	Name      string
	Attrs     []attrRow
	Sources   []store.SourceInfo
	Related   []row
	Relations []relGroup
	History   []changeView
	Explain   *explainView
	Hidden    int // relations and related records not named
}

// attrRow is one attribute: its value, the source that owns it and when
// that source last reported the CI.
type attrRow struct {
	Name, Value, Owner, Reported string
	Masked                       bool
}

// relGroup is the relations of one type, both ways.
type relGroup struct {
	Type string
	Out  []linkRow // this CI is the parent
	In   []linkRow // this CI is the child
}

type linkRow struct {
	SysID, Class, Name string
}

type changeView struct {
	At, Source, Op, Class, ClassBefore string
	Merged                             []string
	Attrs                              []valueChange
}

type valueChange struct{ Name, Before, After string }

// explainView is the explain section: the last report that reached this
// server, if one did, and why each masked attribute kept its value.
type explainView struct {
	Seen      bool
	At        string
	Source    string
	Operation string
	Entry     string
	Attempts  []attemptView
	Masks     []maskView
}

type attemptView struct {
	N                          int
	Entry, Attrs, Result, Info string
	Decided                    bool
}

type maskView struct{ Attribute, Reason string }

func (c *Console) ci(r *http.Request, v *view) (string, error) {
	ctx := r.Context()
	ci, err := c.cfg.Engine.Get(ctx, r.PathValue("sys_id"))
	if err != nil {
		return "", err
	}
	d := &ciData{CI: ci, Name: text(ci.Values["name"]), Sources: ci.Sources}
	v.Title, v.Data = ciTitle(ci.Class, d.Name, ci.SysID), d
	lastScan := map[string]time.Time{}
	for _, s := range ci.Sources {
		lastScan[s.Source] = s.LastScan
	}
	rep := c.reports.get(ci.SysID)
	var masked []string
	if rep != nil {
		masked = rep.Masked
	}
	for _, k := range sortedKeys(ci.Values) {
		owner := ci.Owners[k]
		reported := ""
		if t, ok := lastScan[owner]; ok {
			reported = when(t)
		}
		d.Attrs = append(d.Attrs, attrRow{Name: k, Value: text(ci.Values[k]), Owner: owner, Reported: reported, Masked: slices.Contains(masked, k)})
	}
	named := 0
	name := func(id string) string {
		if named++; named > maxNamed {
			d.Hidden++
			return ""
		}
		rec, err := c.cfg.Engine.Record(ctx, id)
		if err != nil {
			return ""
		}
		return text(rec.Values["name"])
	}
	for _, ref := range ci.Related {
		d.Related = append(d.Related, row{SysID: ref.SysID, Class: ref.Class, Name: name(ref.SysID)})
	}
	groups := map[string]*relGroup{}
	group := func(t string) *relGroup {
		if groups[t] == nil {
			groups[t] = &relGroup{Type: t}
		}
		return groups[t]
	}
	for _, l := range ci.Outbound {
		g := group(l.Type)
		g.Out = append(g.Out, linkRow{l.Other.SysID, l.Other.Class, name(l.Other.SysID)})
	}
	for _, l := range ci.Inbound {
		g := group(l.Type)
		g.In = append(g.In, linkRow{l.Other.SysID, l.Other.Class, name(l.Other.SysID)})
	}
	for _, t := range sortedKeys(groups) {
		d.Relations = append(d.Relations, *groups[t])
	}
	changes, err := c.cfg.Engine.History(ctx, ci.SysID)
	if err != nil {
		return "", err
	}
	for i := len(changes) - 1; i >= 0; i-- { // newest first
		ch := changes[i]
		cv := changeView{At: when(ch.At), Source: ch.Source, Op: ch.Op, Class: ch.Class, ClassBefore: ch.ClassBefore, Merged: ch.Merged}
		for _, k := range sortedKeys(ch.Attributes) {
			vc := ch.Attributes[k]
			cv.Attrs = append(cv.Attrs, valueChange{k, textOrAbsent(vc.Before), textOrAbsent(vc.After)})
		}
		d.History = append(d.History, cv)
	}
	d.Explain = c.explain(ctx, ci, rep)
	return "ci.html", nil
}

// explain builds the explain section from the last report this server saw
// (the engine keeps no identification attempts), naming its source by the
// source information the write left, and the reason each masked attribute
// kept its value from the class's reconciliation rules.
func (c *Console) explain(_ context.Context, ci *engine.CI, rep *report) *explainView {
	ev := &explainView{}
	if rep == nil {
		return ev
	}
	ev.Seen, ev.At, ev.Operation, ev.Entry = true, when(rep.At), rep.Operation, rep.Entry
	var last time.Time
	for _, s := range ci.Sources { // the write stamped its source's last scan just before the report was seen
		if !s.LastScan.After(rep.At) && s.LastScan.After(last) {
			last, ev.Source = s.LastScan, s.Source
		}
	}
	decided := -1
	for i, a := range rep.Attempts {
		if a.AttemptResult == identify.Matched {
			decided = i
			break
		}
	}
	for i, a := range rep.Attempts {
		ev.Attempts = append(ev.Attempts, attemptView{N: i + 1, Entry: a.IdentifierName, Attrs: strings.Join(a.Attributes, ", "),
			Result: a.AttemptResult, Info: a.Info, Decided: i == decided})
	}
	cls, _ := c.cfg.Engine.Rules().Class(ci.Class)
	for _, a := range rep.Masked {
		ev.Masks = append(ev.Masks, maskView{a, maskReason(cls, a, ev.Source, ci)})
	}
	return ev
}

// maskReason says why source could not change attribute a, from the rule
// that decides a, the way the engine decided it.
func maskReason(cls *rules.Class, a, source string, ci *engine.CI) string {
	cur := text(ci.Values[a])
	var rule *rules.ReconciliationRule
	if cls != nil {
		rule = cls.ReconciliationFor(a)
	}
	owner := ci.Owners[a]
	switch {
	case rule == nil:
		return fmt.Sprintf("kept %q; no reconciliation rule of %s decides %s any more (the rules changed since)", cur, ci.Class, a)
	case rule.Prefer != nil:
		return fmt.Sprintf("kept %q: the reconciliation rule on %s (line %d) prefers the value for which %s holds", cur, rule.AppliesTo, rule.Line, rule.Prefer.Source)
	case rule.Policy != "":
		return fmt.Sprintf("kept %q: the reconciliation rule on %s (line %d) chooses by its %s policy among every source's last report", cur, rule.AppliesTo, rule.Line, rule.Policy)
	case source == "":
		return fmt.Sprintf("kept %q, owned by %s, under the reconciliation rule on %s (line %d)", cur, owner, rule.AppliesTo, rule.Line)
	}
	return fmt.Sprintf("%s reported another value; kept %q: owned by %s (priority %s), which outranks %s (priority %s) under the reconciliation rule on %s (line %d)",
		source, cur, owner, priority(rule.Priority(owner)), source, priority(rule.Priority(source)), rule.AppliesTo, rule.Line)
}

func priority(p int) string {
	if p == math.MaxInt {
		return "unlisted"
	}
	return fmt.Sprint(p)
}

func ciTitle(class, name, id string) string {
	if name != "" {
		return name + " (" + class + ")"
	}
	return class + " " + id
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
