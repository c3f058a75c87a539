package transfer

import (
	"bufio"
	"encoding/json"
	"io"
	"maps"
	"slices"

	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
)

// An IRE export is one payload per line, one per independent CI: the CI
// with its lookup and related records, the CIs that depend on it (and
// those depending on them), and every relation whose parent is one of them.
// A relation's other end outside the group comes along as an item too,
// with the CIs it depends on, so that identification finds or creates it.
// Applied in order, the payloads rebuild the graph; each CI's sys_id is
// the engine's to give.

type ireItem struct {
	ClassName  string         `json:"className"`
	Values     map[string]any `json:"values"`
	SourceInfo *ireSource     `json:"sys_object_source_info,omitempty"`
	Lookup     []ireRecord    `json:"lookup,omitempty"`
	Related    []ireRecord    `json:"related,omitempty"`
}

type ireRecord struct {
	ClassName string         `json:"className"`
	Values    map[string]any `json:"values"`
}

type ireSource struct {
	SourceName      string `json:"source_name,omitempty"`
	SourceNativeKey string `json:"source_native_key"`
}

type ireRelation struct {
	Type   string `json:"type"`
	Parent int    `json:"parent"`
	Child  int    `json:"child"`
}

type irePayload struct {
	Items     []ireItem     `json:"items"`
	Relations []ireRelation `json:"relations,omitempty"`
}

func (x *exporter) ire(r store.Reader) error {
	return x.stream("payloads.jsonl", func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		enc := json.NewEncoder(bw)
		err := x.records(r, func(rec *store.Record) error {
			x.count(rec)
			if rec.Related || (rec.Scope != "" && exists(r, rec.Scope)) {
				return nil // in its main or host CI's payload
			}
			p, err := x.payloadOf(r, rec)
			if err != nil || p == nil {
				return err
			}
			return enc.Encode(p)
		})
		if err != nil {
			return err
		}
		if err := x.nativePayloads(r, enc); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// nativePayloads writes a payload for every native key the items did not
// carry (one a source stopped sending in its later reports stays in
// force): the CI, with what it depends on, under that key.
func (x *exporter) nativePayloads(r store.Reader, enc *json.Encoder) error {
	return r.Iterate(store.NativeKeysPrefix(), func(k, v []byte) error {
		name, key, ok := store.SplitNativeKey(k)
		if !ok {
			return nil
		}
		rec, err := store.ReadRecord(r, string(v))
		if err != nil || rec == nil || rec.Related {
			return err
		}
		if ok, err := x.keep(r, rec); err != nil || !ok {
			return err
		}
		if b, err := r.Get(store.SourceKey(rec.SysID, name)); err == nil {
			if si, err := store.DecodeSourceInfo(b); err == nil && nativeName(si) == name && si.NativeKey == key {
				return nil // in the CI's own item
			}
		}
		g := &group{idx: map[string]int{}, rel: map[string]bool{}}
		if err := x.withHosts(r, g, rec); err != nil {
			return err
		}
		g.p.Items[g.idx[rec.SysID]].SourceInfo = &ireSource{SourceName: name, SourceNativeKey: key}
		return enc.Encode(&g.p)
	})
}

// group is the payload being built: its items by sys_id.
type group struct {
	p   irePayload
	idx map[string]int
	rel map[string]bool // edges already in, by sys_id
}

// payloadOf builds the payload of the independent CI root.
func (x *exporter) payloadOf(r store.Reader, root *store.Record) (*irePayload, error) {
	g := &group{idx: map[string]int{}, rel: map[string]bool{}}
	if err := x.addItem(r, g, root); err != nil {
		return nil, err
	}
	// The group: root and, transitively, the CIs whose scope is a member.
	members := []string{root.SysID}
	for i := 0; i < len(members); i++ {
		id := members[i]
		err := x.neighbours(r, id, func(ed *store.Edge, other *store.Record) error {
			if other.Scope != id || other.Related || g.has(other.SysID) {
				return nil
			}
			if ok, err := x.keep(r, other); err != nil || !ok {
				return err
			}
			members = append(members, other.SysID)
			return x.addItem(r, g, other)
		})
		if err != nil {
			return nil, err
		}
	}
	// Every relation whose parent is a member, with its other end (and what
	// that end depends on).
	for _, id := range members {
		err := iterEdges(r, store.OutPrefix(id), func(ed *store.Edge) error {
			child, err := store.ReadRecord(r, ed.Child)
			if err != nil || child == nil || child.Related {
				return err
			}
			if ok, err := x.keep(r, child); err != nil || !ok {
				return err
			}
			if err := x.withHosts(r, g, child); err != nil {
				return err
			}
			g.relate(ed)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return &g.p, nil
}

// withHosts adds rec and the chain of CIs it depends on, with the
// relations that make it depend on them.
func (x *exporter) withHosts(r store.Reader, g *group, rec *store.Record) error {
	for rec != nil && !g.has(rec.SysID) {
		if err := x.addItem(r, g, rec); err != nil {
			return err
		}
		if rec.Scope == "" {
			return nil
		}
		host, err := store.ReadRecord(r, rec.Scope)
		if err != nil || host == nil {
			return err
		}
		err = x.neighbours(r, rec.SysID, func(ed *store.Edge, other *store.Record) error {
			if other.SysID == host.SysID {
				if err := x.addItem(r, g, host); err != nil {
					return err
				}
				g.relate(ed)
			}
			return nil
		})
		if err != nil {
			return err
		}
		rec = host
	}
	return nil
}

func (g *group) has(sysID string) bool { _, ok := g.idx[sysID]; return ok }

func (g *group) relate(ed *store.Edge) {
	p, pok := g.idx[ed.Parent]
	c, cok := g.idx[ed.Child]
	if pok && cok && !g.rel[ed.SysID] {
		g.rel[ed.SysID] = true
		g.p.Relations = append(g.p.Relations, ireRelation{Type: ed.Type, Parent: p, Child: c})
	}
}

// addItem adds rec (once) with its native key and its related records.
func (x *exporter) addItem(r store.Reader, g *group, rec *store.Record) error {
	if g.has(rec.SysID) {
		return nil
	}
	it := ireItem{ClassName: rec.Class, Values: maps.Clone(rec.Values)}
	if it.Values == nil {
		it.Values = map[string]any{}
	}
	err := r.Iterate(store.SourcePrefix(rec.SysID), func(_, v []byte) error {
		si, err := store.DecodeSourceInfo(v)
		if err != nil || si.NativeKey == "" || it.SourceInfo != nil {
			return err
		}
		if got, err := r.Get(store.NativeKey(nativeName(si), si.NativeKey)); err == nil && string(got) == rec.SysID {
			it.SourceInfo = &ireSource{SourceName: nativeName(si), SourceNativeKey: si.NativeKey}
		}
		return nil
	})
	if err != nil {
		return err
	}
	mc, _ := x.rs.Class(rec.Class)
	err = r.Iterate(store.SubPrefix(rec.SysID), func(k, _ []byte) error {
		sub, err := store.ReadRecord(r, store.SysIDFromSubKey(k))
		if err != nil || sub == nil {
			return err
		}
		rr := ireRecord{ClassName: sub.Class, Values: maps.Clone(sub.Values)}
		// The field naming this CI is the replaying engine's to fill.
		delete(rr.Values, ReferenceField(x.rs, rec.Class, sub.Class))
		lookup := false
		if sc, ok := x.rs.Class(sub.Class); ok && mc != nil && mc.Rule != nil {
			for _, re := range mc.Rule.Related {
				if sc.IsA(re.Class) {
					lookup = re.Lookup
					break
				}
			}
		}
		if lookup {
			it.Lookup = append(it.Lookup, rr)
		} else {
			it.Related = append(it.Related, rr)
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.idx[rec.SysID] = len(g.p.Items)
	g.p.Items = append(g.p.Items, it)
	return nil
}

// neighbours calls fn for every edge of sysID, with the CI at its other end.
func (x *exporter) neighbours(r store.Reader, sysID string, fn func(*store.Edge, *store.Record) error) error {
	for _, list := range []func(store.Reader, string) ([]*store.Edge, error){relations.Outbound, relations.Inbound} {
		eds, err := list(r, sysID)
		if err != nil {
			return err
		}
		for _, ed := range eds {
			other := ed.Child
			if other == sysID {
				other = ed.Parent
			}
			rec, err := store.ReadRecord(r, other)
			if err != nil {
				return err
			}
			if rec == nil {
				continue
			}
			if err := fn(ed, rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// iterEdges decodes the edges under prefix; the edges are collected first,
// since the callbacks read the store again.
func iterEdges(r store.Reader, prefix []byte, fn func(*store.Edge) error) error {
	var eds []*store.Edge
	err := r.Iterate(prefix, func(_, v []byte) error {
		ed, err := store.DecodeEdge(v)
		if err == nil {
			eds = append(eds, ed)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, ed := range eds {
		if err := fn(ed); err != nil {
			return err
		}
	}
	return nil
}

func exists(r store.Reader, sysID string) bool {
	_, err := r.Get(store.CIKey(sysID))
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
