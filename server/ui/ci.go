package ui

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
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

// attrRow is one attribute: its value, the source that owns it, when
// that source last reported the CI, and the values lower sources reported
// and could not set.
type attrRow struct {
	Name, Value, Owner, Reported string
	Masked                       []maskedRow
	InLast                       bool // masked in the last report
}

// maskedRow is a value a source reported and could not set.
type maskedRow struct {
	Source, Value, At, Reason string
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

// explainView is the explain section: the last report the engine kept.
type explainView struct {
	Seen      bool
	At        string
	Source    string
	Operation string
	Entry     string
	Attempts  []attemptView
	Masks     []maskView
	Omitted   int
}

type attemptView struct {
	N                          int
	Entry, Attrs, Result, Info string
	Decided                    bool
}

type maskView struct{ Attribute, Value, Reason string }

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
	rep, err := c.cfg.Engine.LastReport(ctx, ci.SysID)
	if err != nil {
		return "", err
	}
	masked := map[string][]maskedRow{}
	for _, m := range ci.Masked {
		if m.Source == ci.Owners[m.Attribute] {
			continue // the source has set the attribute since
		}
		masked[m.Attribute] = append(masked[m.Attribute], maskedRow{m.Source, maskedText(m), when(m.At), m.Reason})
	}
	inLast := map[string]bool{}
	if rep != nil {
		for _, m := range rep.Masked {
			inLast[m.Attribute] = true
		}
	}
	for _, k := range sortedKeys(ci.Values) {
		owner := ci.Owners[k]
		reported := ""
		if t, ok := lastScan[owner]; ok {
			reported = when(t)
		}
		d.Attrs = append(d.Attrs, attrRow{Name: k, Value: text(ci.Values[k]), Owner: owner, Reported: reported, Masked: masked[k], InLast: inLast[k]})
		delete(masked, k)
	}
	for _, k := range sortedKeys(masked) { // refused while the CI has no value: a null that may not clear, say
		d.Attrs = append(d.Attrs, attrRow{Name: k, Masked: masked[k], InLast: inLast[k]})
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
	d.Explain = explain(rep)
	return "ci.html", nil
}

// explain builds the explain section from the last report the engine
// kept of the CI.
func explain(rep *store.LastReport) *explainView {
	ev := &explainView{}
	if rep == nil {
		return ev
	}
	ev.Seen, ev.At, ev.Source, ev.Operation, ev.Entry, ev.Omitted = true, when(rep.At), rep.Source, rep.Operation, rep.Entry, rep.Omitted
	decided := -1
	for i, a := range rep.Attempts {
		if a.Result == identify.Matched {
			decided = i
			break
		}
	}
	for i, a := range rep.Attempts {
		ev.Attempts = append(ev.Attempts, attemptView{N: i + 1, Entry: a.Entry, Attrs: strings.Join(a.Attributes, ", "),
			Result: a.Result, Info: a.Info, Decided: i == decided})
	}
	for _, m := range rep.Masked {
		ev.Masks = append(ev.Masks, maskView{m.Attribute, maskedText(m), m.Reason})
	}
	return ev
}

// maskedText renders a refused value; a refused null says so.
func maskedText(m store.MaskedValue) string {
	if m.Null {
		return "(null: clear the value)"
	}
	return m.Value
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
