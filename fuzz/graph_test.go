package fuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// node is one CI or related record, stored or predicted; edge is one
// relation between two nodes.
type node struct {
	ID      string // the sys_id, or the model's name for a predicted CI
	Class   string
	Values  map[string]any
	Scope   string // the node the identity lives under, "" when independent
	Related bool
}

type edge struct{ Parent, Type, Child string }

// graph is what a store holds, or what the model says it must hold.
// Graphs are compared by their lines, which name every node by its
// identity path rather than its ID.
type graph struct {
	nodes map[string]*node
	edges map[edge]bool
}

func newGraph() *graph { return &graph{nodes: map[string]*node{}, edges: map[edge]bool{}} }

var defaultRules = rules.Default()

// storedGraph reads every record and edge of e's store in one snapshot.
func storedGraph(t *rapid.T, e *engine.Engine) *graph {
	g := newGraph()
	err := e.Store().View(func(r store.Reader) error {
		if err := r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			g.nodes[rec.SysID] = &node{ID: rec.SysID, Class: rec.Class, Values: rec.Values, Scope: rec.Scope, Related: rec.Related}
			return nil
		}); err != nil {
			return err
		}
		return r.Iterate(store.EdgePrefix(), func(_, v []byte) error {
			ed, err := store.DecodeEdge(v)
			if err != nil {
				return err
			}
			g.edges[edge{ed.Parent, ed.Type, ed.Child}] = true
			return nil
		})
	})
	if err != nil {
		t.Fatalf("reading the store: %v", err)
	}
	return g
}

// identity names a node by its identity path: for each node from the top
// of its scope chain down, the root class of the rule that identifies it
// and the values of the first identifier entry it fills, e.g.
//
//	cmdb_ci_cloud_service_account{account_id="a1"} > cmdb_ci_logical_datacenter{object_id="r1"}
func (g *graph) identity(id string) string {
	var parts []string
	for depth := 0; id != "" && depth < 8; depth++ {
		n := g.nodes[id]
		if n == nil {
			parts = append(parts, "(missing "+id+")")
			break
		}
		parts = append(parts, g.self(n))
		id = n.Scope
	}
	slices.Reverse(parts)
	return strings.Join(parts, " > ")
}

// self is one step of an identity path.
func (g *graph) self(n *node) string {
	root, entries := n.Class, []*rules.Entry(nil)
	c, known := defaultRules.Class(n.Class)
	switch {
	case !known:
	case n.Related:
		if main := g.nodes[n.Scope]; main != nil {
			if mc, ok := defaultRules.Class(main.Class); ok && mc.Rule != nil {
				if re := mc.Rule.RelatedFor(c); re != nil {
					root, entries = re.Class, re.Entries
				}
			}
		}
	case c.Rule != nil:
		root, entries = c.Rule.AppliesTo, c.Rule.Entries
	}
	for _, e := range entries {
		if vals, ok := g.pick(n.Values, e.Attributes); ok {
			return root + "{" + vals + "}"
		}
	}
	return root + "{unidentified}"
}

// pick renders attrs of values, or reports that one is missing.
func (g *graph) pick(values map[string]any, attrs []string) (string, bool) {
	var parts []string
	for _, a := range attrs {
		v := values[a]
		if v == nil {
			return "", false
		}
		parts = append(parts, a+"="+g.value(v))
	}
	return strings.Join(parts, ","), true
}

// value renders one value; a reference to a node (installed_on) is
// rendered as that node's identity.
func (g *graph) value(v any) string {
	s, isString := v.(string)
	switch {
	case isString && g.nodes[s] != nil:
		return "@(" + g.identity(s) + ")"
	case isString:
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%T:%s", v, payload.Canonical(v))
}

// lines renders the graph, one sorted line per node and per edge:
//
//	<identity>  <class> {attr=value ...}
//	<parent identity>  -[type]->  <child identity>
func (g *graph) lines() []string {
	out := []string{}
	for _, n := range g.nodes {
		keys := make([]string, 0, len(n.Values))
		for k := range n.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var vals []string
		for _, k := range keys {
			vals = append(vals, k+"="+g.value(n.Values[k]))
		}
		out = append(out, fmt.Sprintf("%s  %s {%s}", g.identity(n.ID), n.Class, strings.Join(vals, " ")))
	}
	for e := range g.edges {
		out = append(out, fmt.Sprintf("%s  -[%s]->  %s", g.identity(e.Parent), e.Type, g.identity(e.Child)))
	}
	sort.Strings(out)
	return out
}

// byIdentity maps each identity to the IDs of the nodes that have it.
func (g *graph) byIdentity() map[string][]string {
	out := map[string][]string{}
	for id := range g.nodes {
		k := g.identity(id)
		out[k] = append(out[k], id)
	}
	return out
}

// kv is one key and value of a store dump.
type kv struct{ k, v string }

// dump returns every key and value in e's store, in key order, with the
// index count deltas added to their counts: when the engine folds them in
// the background does not change what the store holds.
func dump(t *rapid.T, e *engine.Engine) []kv {
	var out []kv
	deltas := map[string]int64{}
	err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(nil, func(k, v []byte) error {
			if bytes.HasPrefix(k, store.IndexDeltasPrefix()) {
				return store.DecodeIndexDeltas(v, func(ck []byte, d int64) error { deltas[string(ck)] += d; return nil })
			}
			out = append(out, kv{string(k), string(v)})
			return nil
		})
	})
	if err != nil {
		t.Fatalf("dumping the store: %v", err)
	}
	return foldedCounts(out, deltas)
}

// foldedCounts adds deltas to the counts among kvs (8 bytes, big-endian),
// as the engine's folding would.
func foldedCounts(kvs []kv, deltas map[string]int64) []kv {
	if len(deltas) == 0 {
		return kvs
	}
	counts := map[string]int64{}
	for _, x := range kvs {
		if strings.HasPrefix(x.k, string(store.IndexCountsPrefix())) && len(x.v) == 8 {
			counts[x.k] = int64(binary.BigEndian.Uint64([]byte(x.v)))
		}
	}
	out := slices.DeleteFunc(kvs, func(x kv) bool { _, ok := deltas[x.k]; return ok })
	for k, d := range deltas {
		if n := counts[k] + d; n > 0 {
			out = append(out, kv{k, string(binary.BigEndian.AppendUint64(nil, uint64(n)))})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	return out
}

// sourcePrefix starts the keys that say when each source last reported
// each CI (store.SourceKey).
var sourcePrefix = strings.TrimSuffix(string(store.SourcePrefix("")), "/")

// ciPrefix starts the keys of the CI records (store.CIKey).
var ciPrefix = strings.TrimSuffix(string(store.CIPrefix()), "/")

// lastReportPrefix starts the keys holding each CI's last report
// (store.LastReportKey).
var lastReportPrefix = strings.TrimSuffix(string(store.LastReportKey("")), "/")

// storeChanges describes how after differs from before, "" when it does
// not. With reported set, a source's last report of a CI (its LastScan
// and the report kept with it, replaced by a later one, and nothing else
// of it), the CI's last_discovered (and nothing else of the record) and
// the CI's last report as older versions kept it may move forward: a CI reported again is exactly what the engine
// records there, by design (irego stale; ServiceNow moves
// last_discovered on every report; the console explains the last report).
func storeChanges(before, after []kv, reported bool) string {
	var diffs []string
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case j == len(after) || (i < len(before) && before[i].k < after[j].k):
			diffs = append(diffs, fmt.Sprintf("deleted %q", before[i].k))
			i++
		case i == len(before) || after[j].k < before[i].k:
			diffs = append(diffs, fmt.Sprintf("added %q = %s", after[j].k, after[j].v))
			j++
		default:
			if before[i].v != after[j].v && !(reported && strings.HasPrefix(before[i].k, sourcePrefix) && sameButLater(before[i].v, after[j].v)) &&
				!(reported && strings.HasPrefix(before[i].k, ciPrefix) && sameButDiscoveredLater(before[i].v, after[j].v)) &&
				!(reported && strings.HasPrefix(before[i].k, lastReportPrefix) && laterReport(before[i].v, after[j].v)) {
				diffs = append(diffs, fmt.Sprintf("changed %q\n    from %s\n    to   %s", before[i].k, before[i].v, after[j].v))
			}
			i, j = i+1, j+1
		}
	}
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("... and %d more", len(diffs)-10))
	}
	return strings.Join(diffs, "\n  ")
}

// sameButLater reports whether two SourceInfo encodings differ only in a
// later LastScan and a later report kept with it.
func sameButLater(a, b string) bool {
	x, err1 := store.DecodeSourceInfo([]byte(a))
	y, err2 := store.DecodeSourceInfo([]byte(b))
	if err1 != nil || err2 != nil || y.LastScan.Before(x.LastScan) {
		return false
	}
	switch {
	case y.Report == nil && x.Report != nil:
		return false
	case y.Report != nil && x.Report != nil && !y.Report.At.After(x.Report.At):
		return false
	}
	x.LastScan, x.Report, y.Report = y.LastScan, nil, nil
	return *x == *y
}

// laterReport reports whether b is a last report made after a.
func laterReport(a, b string) bool {
	x, err1 := store.DecodeLastReport([]byte(a))
	y, err2 := store.DecodeLastReport([]byte(b))
	return err1 == nil && err2 == nil && y.At.After(x.At)
}

// sameButDiscoveredLater reports whether two record encodings differ only
// in a later LastDiscovered.
func sameButDiscoveredLater(a, b string) bool {
	x, err1 := store.DecodeRecord([]byte(a))
	y, err2 := store.DecodeRecord([]byte(b))
	if err1 != nil || err2 != nil || y.LastDiscovered.Before(x.LastDiscovered) {
		return false
	}
	x.LastDiscovered = y.LastDiscovered
	return cmp.Equal(x, y)
}
