package engine

import (
	"encoding/json"
	"errors"
	"maps"
	"sort"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// RulesPreview is what a change of rule set would re-identify in a store:
// the dry run of the reindex that opening the store with the new rules
// runs (reindex.go). It is computed from reads only.
type RulesPreview struct {
	// Classes are the classes whose identity keys depend on something the
	// change touches (their Fingerprints differ), sorted.
	Classes []string
	// Records are the stored records the reindex would visit: CIs of those
	// classes and the related records under them, oldest first.
	Records []PreviewRecord
	// StoreIndexedWithFrom says whether the store was last indexed with the
	// rule set the change starts from; when false, opening it with either
	// rule set reindexes more than this preview lists.
	StoreIndexedWithFrom bool
}

// PreviewRecord is one stored record a rule change would re-identify.
type PreviewRecord struct {
	SysID   string `json:"sys_id"`
	Class   string `json:"class"`
	Name    string `json:"name,omitempty"`
	Related bool   `json:"related,omitempty"`
	// KeysChange says whether the record's identity keys under the new
	// rules differ from those it holds: only then can the change make it
	// match other items than it does now.
	KeysChange bool `json:"keys_change"`
	// Unknown says the new rules lack the record's class.
	Unknown bool `json:"unknown_class,omitempty"`
}

// PreviewRules reports which stored records changing the rules from one
// set to another would re-identify, without writing to st.
func PreviewRules(st store.Store, from, to *rules.RuleSet) (*RulesPreview, error) {
	want, have := fingerprints(to), fingerprints(from)
	changed := changedClasses(want, have)
	p := &RulesPreview{}
	for class := range changed {
		p.Classes = append(p.Classes, class)
	}
	sort.Strings(p.Classes)
	var recs []*store.Record
	err := st.View(func(r store.Reader) error {
		var stored map[string]string
		b, err := r.Get(store.RulesHashKey())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && json.Unmarshal(b, &stored) == nil {
			p.StoreIndexedWithFrom = maps.Equal(stored, have)
		}
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			main, affected, err := affectedBy(r, rec, changed)
			if err != nil {
				return err
			}
			if !affected {
				return nil
			}
			recs = append(recs, rec)
			_, known := to.Class(rec.Class)
			keys := identify.KeysFor(to, rec, main)
			name, _ := rec.Values["name"].(string)
			p.Records = append(p.Records, PreviewRecord{SysID: rec.SysID, Class: rec.Class, Name: name, Related: rec.Related,
				KeysChange: !sameKeys(keys, rec.IdentityKeys), Unknown: !known})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	created := map[string]*store.Record{}
	for _, rec := range recs {
		created[rec.SysID] = rec
	}
	sort.SliceStable(p.Records, func(a, b int) bool {
		ra, rb := created[p.Records[a].SysID], created[p.Records[b].SysID]
		if !ra.Created.Equal(rb.Created) {
			return ra.Created.Before(rb.Created)
		}
		return ra.SysID < rb.SysID
	})
	return p, nil
}
