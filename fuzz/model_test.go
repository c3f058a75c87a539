package fuzz

import (
	"fmt"
	"maps"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// The reference model: the default rule pack's identification semantics
// for the BYOL classes, written out by hand and independent of package
// identify.
//
//   - cmdb_ci_cloud_service_account is identified by account_id;
//   - cmdb_ci_aws_datacenter by object_id within its account: the payload
//     must make it the parent of a "Hosted on::Hosts" relation to exactly
//     one account item;
//   - cmdb_ci_vm_instance by object_id within its datacenter, likewise;
//   - cmdb_ci_computer by serial_number, then name; the generators keep a
//     serial number a function of the name, so the name names the CI;
//   - cmdb_sam_sw_install, a related entry of a computer, by publisher +
//     display_name + version within the computer.
//
// An item fails when its class is unknown, it lacks its identifying
// attribute, a dependent item has no parent or several, or its parent
// fails. A related item fails with its main item or without its
// identifying attributes; a relation fails when its type is not declared
// (the rule pack's relation_types), when it names no item or one item at
// both ends, or when an end fails. Without partial commits one failure
// fails everything. What does not fail is stored: values merge, later
// payloads winning, and each relation is stored once.
type model struct{ g *graph }

func newModel() *model { return &model{g: newGraph()} }

// prediction is what the model expects of one payload. CIs are named by
// the model's node IDs; "" means the item fails.
type prediction struct {
	items    []string
	scope    []string   // the CI each item's identity lives under
	related  [][]string // for items[i].related[j]
	relation []bool     // whether relation k is stored (or found stored)
	failed   bool       // whether anything fails
}

// apply predicts the outcome of p and records what it stores.
func (m *model) apply(t *rapid.T, p *payload.Payload, partialCommits bool) *prediction {
	pr := m.predict(t, p)
	if pr.failed && !partialCommits { // nothing is stored
		for i := range pr.items {
			pr.items[i], pr.scope[i] = "", ""
			clear(pr.related[i])
		}
		clear(pr.relation)
		return pr
	}
	m.store(t, p, pr)
	return pr
}

func notModelled(t *rapid.T, p *payload.Payload, format string, args ...any) {
	t.Fatalf("model: %s is not modelled (a generator bug)\npayload: %s", fmt.Sprintf(format, args...), jsonOf(p))
}

func (m *model) predict(t *rapid.T, p *payload.Payload) *prediction {
	n := len(p.Items)
	pr := &prediction{items: make([]string, n), scope: make([]string, n), related: make([][]string, n), relation: make([]bool, len(p.Relations))}
	relOK := make([]bool, len(p.Relations))
	for k, r := range p.Relations {
		relOK[k] = defaultRules.HasRelationType(r.Type) && r.Parent >= 0 && r.Parent < n && r.Child >= 0 && r.Child < n && r.Parent != r.Child
	}
	// parentOf returns the one item of class that item i is hosted on, or -1.
	parentOf := func(i int, class string) int {
		found := map[int]bool{}
		for k, r := range p.Relations {
			if relOK[k] && r.Type == hostedOn && r.Parent == i && p.Items[r.Child].ClassName == class {
				found[r.Child] = true
			}
		}
		for parent := range found {
			if len(found) == 1 {
				return parent
			}
		}
		return -1
	}
	done := make([]bool, n)
	var identify func(i, depth int) string
	identify = func(i, depth int) string {
		if done[i] {
			return pr.items[i]
		}
		if depth > n {
			notModelled(t, p, "a dependency cycle through item %d", i)
		}
		v := p.Items[i].Values
		id, scope := "", ""
		within := func(parentClass, what string) {
			if parent := parentOf(i, parentClass); parent >= 0 && v["object_id"] != nil {
				if scope = identify(parent, depth+1); scope != "" {
					id = scope + " / " + what + " " + payload.Canonical(v["object_id"])
				}
			}
		}
		switch p.Items[i].ClassName {
		case classAccount:
			if v["account_id"] == nil && v["object_id"] != nil {
				notModelled(t, p, "an account identified by object_id (item %d)", i)
			}
			if v["account_id"] != nil {
				id = "model:account " + payload.Canonical(v["account_id"])
			}
		case classDC:
			within(classAccount, "datacenter")
		case classVM:
			within(classDC, "vm")
		case classComputer:
			name, serial := v["name"], v["serial_number"]
			if serial != nil && (name == nil || payload.Canonical(serial) != serialOf(payload.Canonical(name))) {
				notModelled(t, p, "a serial number that does not follow the name (item %d)", i)
			}
			if name != nil {
				id = "model:computer " + payload.Canonical(name)
			}
		}
		if id == "" {
			scope = ""
		}
		pr.items[i], pr.scope[i], done[i] = id, scope, true
		return id
	}
	for i := range p.Items {
		identify(i, 0)
		pr.failed = pr.failed || pr.items[i] == ""
	}
	for i, it := range p.Items {
		pr.related[i] = make([]string, len(it.Related))
		for j, r := range it.Related {
			v := r.Values
			if pr.items[i] != "" && it.ClassName == classComputer && r.ClassName == classInstall &&
				v["publisher"] != nil && v["display_name"] != nil && v["version"] != nil {
				pr.related[i][j] = fmt.Sprintf("%s / install %s|%s|%s", pr.items[i],
					payload.Canonical(v["publisher"]), payload.Canonical(v["display_name"]), payload.Canonical(v["version"]))
			}
			pr.failed = pr.failed || pr.related[i][j] == ""
		}
	}
	for k, r := range p.Relations {
		pr.relation[k] = relOK[k] && pr.items[r.Parent] != "" && pr.items[r.Child] != "" && pr.items[r.Parent] != pr.items[r.Child]
		pr.failed = pr.failed || !pr.relation[k]
	}
	return pr
}

// store records what pr says p stores.
func (m *model) store(t *rapid.T, p *payload.Payload, pr *prediction) {
	given := map[string]map[string]any{} // the values this payload gives each node
	put := func(id, class, scope string, related bool, values map[string]any) {
		n := m.g.nodes[id]
		if n == nil {
			n = &node{ID: id, Class: class, Values: map[string]any{}, Scope: scope, Related: related}
			m.g.nodes[id] = n
		}
		if n.Class != class {
			notModelled(t, p, "%s reported as %s and %s", id, n.Class, class)
		}
		if given[id] == nil {
			given[id] = map[string]any{}
		}
		for k, v := range values {
			if v == nil {
				continue
			}
			if old, ok := given[id][k]; ok && payload.Canonical(old) != payload.Canonical(v) {
				notModelled(t, p, "items of %s disagreeing on %s", id, k)
			}
			given[id][k], n.Values[k] = v, v
		}
	}
	for i, it := range p.Items {
		if pr.items[i] == "" {
			continue
		}
		put(pr.items[i], it.ClassName, pr.scope[i], false, it.Values)
		for j, r := range it.Related {
			if id := pr.related[i][j]; id != "" {
				values := maps.Clone(r.Values)
				values["installed_on"] = pr.items[i]
				put(id, r.ClassName, pr.items[i], true, values)
			}
		}
	}
	for k, r := range p.Relations {
		if pr.relation[k] {
			m.g.edges[edge{pr.items[r.Parent], r.Type, pr.items[r.Child]}] = true
		}
	}
}

// checkPrediction compares the result of applying p with the model's
// prediction: every item, related item and relation fails exactly when
// the model says so, and every stored one reports the sys_id of the one
// stored CI with the identity the model gives it.
func checkPrediction(t *rapid.T, m *model, p *payload.Payload, pr *prediction, res *engine.Result, stored *graph) {
	ids := stored.byIdentity()
	sysID := func(modelID string) string {
		if got := ids[m.g.identity(modelID)]; len(got) == 1 {
			return got[0]
		}
		return "(not exactly one CI)"
	}
	for i := range p.Items {
		ir := &res.Items[i]
		want := pr.items[i]
		switch {
		case want == "" && !failed(ir):
			t.Fatalf("item %d (%s) must fail, got %s\npayload: %s", i, ir.ClassName, outcome(ir), jsonOf(p))
		case want != "" && failed(ir):
			t.Fatalf("item %d (%s) must be stored as %s, got %s: %s\npayload: %s", i, ir.ClassName, m.g.identity(want), outcome(ir), jsonOf(ir.Errors), jsonOf(p))
		case want != "" && ir.SysID != sysID(want):
			t.Fatalf("item %d (%s) reports sys_id %s, but %s is stored as %s\npayload: %s", i, ir.ClassName, ir.SysID, m.g.identity(want), sysID(want), jsonOf(p))
		}
		for j := range p.Items[i].Related {
			rr := relatedResult(ir, i, j)
			want := pr.related[i][j]
			switch {
			case rr == nil && (want != "" || !failed(ir)):
				t.Fatalf("item %d related %d: no result\npayload: %s", i, j, jsonOf(p))
			case rr == nil: // the item failed before its related items were looked at
			case want == "" && rr.ErrorCount == 0:
				t.Fatalf("item %d related %d must fail, got %s\npayload: %s", i, j, rr.Operation, jsonOf(p))
			case want != "" && rr.ErrorCount > 0:
				t.Fatalf("item %d related %d must be stored as %s, got %s\npayload: %s", i, j, m.g.identity(want), jsonOf(rr.Errors), jsonOf(p))
			case want != "" && rr.SysID != sysID(want):
				t.Fatalf("item %d related %d reports sys_id %s, but %s is stored as %s\npayload: %s", i, j, rr.SysID, m.g.identity(want), sysID(want), jsonOf(p))
			}
		}
	}
	for k := range p.Relations {
		rr := &res.Relations[k]
		if pr.relation[k] == relationFailed(rr) {
			t.Fatalf("relation %d (%s): stored per the model: %v; result: %s %s\npayload: %s", k, rr.Type, pr.relation[k], rr.Operation, jsonOf(rr.Errors), jsonOf(p))
		}
	}
}

// relatedResult finds the result of items[i].related[j] in ir.
func relatedResult(ir *engine.ItemResult, i, j int) *engine.RelatedResult {
	for k := range ir.RelatedItems {
		for _, in := range ir.RelatedItems[k].InputIndices {
			if in.MainIndex == i && in.SubIndex == j {
				return &ir.RelatedItems[k]
			}
		}
	}
	return nil
}
