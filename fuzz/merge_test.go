package fuzz

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// pc is one generated computer: its serial number names it.
type pc struct {
	serial   string
	name     string
	values   map[string]any // ram, os: optional
	installs []string       // display names of its installs
}

// mergeAttrs are the attributes the merge property compares.
var mergeAttrs = []string{"name", "serial_number", "ram", "os"}

// Property: merging a de-duplication task loses no relation and no related
// record, and the graph afterwards is what a simple model predicts. Two to
// four computers named "dup" with their own serial numbers, and a few
// others, each with installs and random relations, are loaded in one
// payload; a report by name alone finds the dups and opens a task; the
// merge (into the oldest or a drawn one, retiring or deleting the others)
// must leave: the main CI with its own values, gaps filled from the others
// oldest first; every install once per display name under it; every
// relation with the merged CIs' ends moved to it, none twice and none from
// it to itself; the others retired with duplicate_of naming it (or gone);
// Check clean, and no second task for the group.
func TestPropMergeKeepsRelationsAndRelated(t *testing.T) {
	onDisk(t, func(t *rapid.T, e *engine.Engine) {
		ctx := context.Background()
		nDup := rapid.IntRange(2, 4).Draw(t, "dups")
		nOther := rapid.IntRange(0, 3).Draw(t, "others")
		var pcs []pc
		for i := range nDup + nOther {
			p := pc{serial: fmt.Sprintf("S%d", i), name: "dup", values: map[string]any{}}
			if i >= nDup {
				p.name = fmt.Sprintf("other%d", i)
			}
			if v := rapid.SampledFrom([]int{0, 1, 2}).Draw(t, "ram"); v > 0 {
				p.values["ram"] = v
			}
			if v := rapid.SampledFrom([]string{"", "Linux", "Windows"}).Draw(t, "os"); v != "" {
				p.values["os"] = v
			}
			for _, sw := range []string{"Chrome", "Vim", "Go"} {
				if rapid.Bool().Draw(t, "install "+sw) {
					p.installs = append(p.installs, sw)
				}
			}
			pcs = append(pcs, p)
		}
		types := []string{"Depends on::Used by", "Runs on::Runs"}
		type rel struct {
			parent, child int
			typ           string
		}
		var rels []rel
		for range rapid.IntRange(0, 6).Draw(t, "relations") {
			a := rapid.IntRange(0, len(pcs)-1).Draw(t, "parent")
			b := rapid.IntRange(0, len(pcs)-1).Draw(t, "child")
			if a != b {
				rels = append(rels, rel{a, b, rapid.SampledFrom(types).Draw(t, "type")})
			}
		}
		var items, relJSON []string
		for _, p := range pcs {
			v := maps.Clone(p.values)
			v["name"], v["serial_number"] = p.name, p.serial
			var related []string
			for _, sw := range p.installs {
				related = append(related, fmt.Sprintf(`{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":%q,"version":"1"}}`, sw))
			}
			items = append(items, fmt.Sprintf(`{"className":"cmdb_ci_computer","values":%s,"related":[%s]}`, jsonOf(v), strings.Join(related, ",")))
		}
		for _, r := range rels {
			relJSON = append(relJSON, fmt.Sprintf(`{"type":%q,"parent":%d,"child":%d}`, r.typ, r.parent, r.child))
		}
		body := `{"items":[` + strings.Join(items, ",") + `],"relations":[` + strings.Join(relJSON, ",") + `]}`
		t.Logf("payload: %s", body)
		res := applyText(t, e, body)
		bySerial, serialOf := map[string]string{}, map[string]string{}
		for i, it := range res.Items {
			bySerial[pcs[i].serial], serialOf[it.SysID] = it.SysID, pcs[i].serial
		}
		if len(bySerial) != len(pcs) {
			t.Fatalf("%d CIs for %d computers with distinct serials: %s", len(bySerial), len(pcs), jsonOf(res))
		}
		applyText(t, e, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"dup"}}]}`)
		tasks, err := e.DuplicateTasks(ctx, engine.TaskOpen)
		if err != nil || len(tasks) != 1 || len(tasks[0].CIs) != nDup {
			t.Fatalf("tasks after the report by name: %s %v", jsonOf(tasks), err)
		}

		// The model. The task lists the dups oldest first, as identification
		// orders them (created together: by content).
		group := slices.Clone(tasks[0].CIs)
		var o engine.MergeOptions
		if rapid.Bool().Draw(t, "choose main") {
			o.Main = rapid.SampledFrom(group).Draw(t, "main")
		}
		o.Delete = rapid.Bool().Draw(t, "delete")
		main := group[0]
		if o.Main != "" {
			main = o.Main
		}
		order := append([]string{main}, slices.DeleteFunc(slices.Clone(group), func(s string) bool { return s == main })...)
		inGroup := map[string]bool{}
		for _, id := range group {
			inGroup[serialOf[id]] = true
		}
		mainSerial := serialOf[main]
		rename := func(s string) string {
			if inGroup[s] {
				return mainSerial
			}
			return s
		}
		want := mergeModel{cis: map[string]map[string]string{}, installs: map[string]bool{}, edges: map[string]bool{}}
		for _, p := range pcs {
			if inGroup[p.serial] && p.serial != mainSerial {
				if !o.Delete {
					want.cis[p.serial] = canonical(map[string]any{"name": p.name, "serial_number": p.serial, "ram": p.values["ram"], "os": p.values["os"],
						"duplicate_of": main, "install_status": engine.RetiredStatus})
				}
			} else if p.serial != mainSerial {
				want.cis[p.serial] = canonical(map[string]any{"name": p.name, "serial_number": p.serial, "ram": p.values["ram"], "os": p.values["os"]})
			}
			for _, sw := range p.installs {
				want.installs[rename(p.serial)+"/"+sw] = true
			}
		}
		merged := map[string]any{}
		for _, id := range order {
			p := pcs[slices.IndexFunc(pcs, func(p pc) bool { return p.serial == serialOf[id] })]
			v := maps.Clone(p.values)
			v["name"], v["serial_number"] = p.name, p.serial
			for k, x := range v {
				if _, ok := merged[k]; !ok {
					merged[k] = x
				}
			}
		}
		want.cis[mainSerial] = canonical(merged)
		for _, r := range rels {
			a, b := rename(pcs[r.parent].serial), rename(pcs[r.child].serial)
			if a != b {
				want.edges[a+" "+r.typ+" "+b] = true
			}
		}

		mr, err := e.MergeDuplicates(ctx, tasks[0].Number, o)
		if err != nil {
			t.Fatalf("merge %+v: %v", o, err)
		}
		if mr.Main != main {
			t.Fatalf("merged into %s, want %s", mr.Main, main)
		}
		if diff := cmp.Diff(want, storedModel(t, e), cmp.AllowUnexported(mergeModel{})); diff != "" {
			t.Fatalf("after merge %+v (-model +stored):\n%s", o, diff)
		}
		if problems, err := e.Check(ctx); err != nil || len(problems) > 0 {
			t.Fatalf("check after merge: %q %v", problems, err)
		}
		applyText(t, e, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"dup"}}]}`)
		if open, _ := e.DuplicateTasks(ctx, engine.TaskOpen); len(open) != 0 {
			t.Fatalf("open tasks after the merge and another report by name: %s", jsonOf(open))
		}
	})
}

// mergeModel is the store as the merge property sees it: each computer's
// compared values by serial number, installs as serial/display name, and
// relations as "parent serial, type, child serial".
type mergeModel struct {
	cis      map[string]map[string]string
	installs map[string]bool
	edges    map[string]bool
}

func canonical(v map[string]any) map[string]string {
	out := map[string]string{}
	for k, x := range v {
		if x != nil {
			out[k] = payload.Canonical(x)
		}
	}
	return out
}

func storedModel(t *rapid.T, e *engine.Engine) mergeModel {
	m := mergeModel{cis: map[string]map[string]string{}, installs: map[string]bool{}, edges: map[string]bool{}}
	recs := map[string]*store.Record{}
	if err := e.Records(context.Background(), func(r *store.Record) error { recs[r.SysID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	serial := func(id string) string {
		if r := recs[id]; r != nil {
			return payload.Canonical(r.Values["serial_number"])
		}
		return "(missing " + id + ")"
	}
	for _, r := range recs {
		if r.Related {
			m.installs[serial(r.Scope)+"/"+payload.Canonical(r.Values["display_name"])] = true
			continue
		}
		v := map[string]any{}
		for _, a := range append(slices.Clone(mergeAttrs), "duplicate_of", "install_status") {
			if x, ok := r.Values[a]; ok {
				v[a] = x
			}
		}
		m.cis[serial(r.SysID)] = canonical(v)
	}
	err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.EdgePrefix(), func(_, v []byte) error {
			ed, err := store.DecodeEdge(v)
			if err != nil {
				return err
			}
			m.edges[serial(ed.Parent)+" "+ed.Type+" "+serial(ed.Child)] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func applyText(t *rapid.T, e *engine.Engine, body string) *engine.Result {
	p, err := payload.DecodeBytes([]byte(body))
	if err != nil {
		t.Fatalf("payload: %v\n%s", err, body)
	}
	res, err := e.Apply(context.Background(), source, p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.HasError {
		t.Fatalf("apply: %s", jsonOf(res))
	}
	return res
}
