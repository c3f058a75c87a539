package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Check verifies the store's invariants and returns every violation found
// (nil when consistent): every identity index entry points at a CI that owns
// it, every CI's identity keys are indexed to it and no two CIs share one,
// every CI holds exactly the identity keys its values and rules give it
// (none once merged into another; a CI an open de-duplication task names
// may lack a unique identity another CI of the task holds, as a bulk load
// leaves them), duplicate_of names another CI that is
// no duplicate itself,
// every CI is in its class index, and every edge joins two existing CIs and
// is stored at both ends.
func (e *Engine) Check(ctx context.Context) ([]string, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	err := e.st.View(func(r store.Reader) error {
		holds := map[string][]string{} // identity key → the CIs whose records list it
		rs := e.ruleSet()
		tasked, err := openGroups(r)
		if err != nil {
			return err
		}
		if err := r.Iterate(store.CIPrefix(), func(k, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				bad("%s: %v", k, err)
				return nil
			}
			if rec.SysID != store.SysIDFromCIKey(k) {
				bad("CI %s: record holds sys_id %s", store.SysIDFromCIKey(k), rec.SysID)
			}
			if _, err := r.Get(store.ClassKey(rec.Class, rec.SysID)); err != nil {
				bad("CI %s: missing from the index of class %s", rec.SysID, rec.Class)
			}
			for _, key := range rec.IdentityKeys {
				holds[string(key)] = append(holds[string(key)], rec.SysID)
				if _, err := r.Get(store.IdentityMemberKey(key, rec.SysID)); err != nil {
					bad("CI %s: identity key %q is not indexed to it", rec.SysID, key)
				}
			}
			if of := rec.Values[identify.DuplicateOf]; !identify.Blank(of) {
				checkDuplicateOf(r, rec, payload.Canonical(of), bad)
			}
			var main *store.Record
			if rec.Scope != "" {
				if main, err = getRecord(r, rec.Scope); err != nil {
					bad("CI %s: depends on missing CI %s", rec.SysID, rec.Scope)
				}
			}
			if main != nil || !rec.Related {
				if want := identify.KeysFor(rs, rec, main); !sameKeys(want, rec.IdentityKeys) && !awaitsMerge(r, rs, rec, want, tasked) {
					bad("CI %s (%s): holds %d identity keys where its values and rules give %d (a duplicate of another CI, e.g. after a rule change?)", rec.SysID, rec.Class, len(rec.IdentityKeys), len(want))
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for key, ids := range holds {
			if len(ids) > 1 && identify.UniqueIdentity(e.ruleSet(), []byte(key)) {
				bad("CIs %s share the values of a unique identifier entry (identity key %q): duplicates", strings.Join(ids, ", "), key)
			}
		}
		members := map[string][]string{}
		if err := r.Iterate(store.IdentityMembersPrefix(), func(k, _ []byte) error {
			key, id := store.IdentityOfMemberKey(k)
			members[string(key)] = append(members[string(key)], id)
			if !slices.Contains(holds[string(key)], id) {
				bad("identity key %q lists %s as a holder, which does not hold it", key, id)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := r.Iterate(store.IdentityPrefix(), func(k, v []byte) error {
			n, only, err := store.DecodeIdentityGuard(v)
			ids := members[string(k)]
			switch {
			case err != nil:
				bad("identity key %q: %v", k, err)
			case n != len(ids):
				bad("identity key %q counts %d holders, %d are listed", k, n, len(ids))
			case n == 1 && only != ids[0]:
				bad("identity key %q names %s as its holder, but %s is listed", k, only, ids[0])
			}
			delete(members, string(k))
			return nil
		}); err != nil {
			return err
		}
		for key := range members {
			bad("identity key %q has holders listed but no guard", key)
		}
		return r.Iterate(store.EdgePrefix(), func(k, v []byte) error {
			ed, err := store.DecodeEdge(v)
			if err != nil {
				bad("%s: %v", k, err)
				return nil
			}
			for _, end := range []string{ed.Parent, ed.Child} {
				if _, err := r.Get(store.CIKey(end)); err != nil {
					bad("edge %s (%s): end %s does not exist", ed.SysID, ed.Type, end)
				}
			}
			if _, err := r.Get(store.InKey(ed.Child, ed.Type, ed.Parent)); err != nil {
				bad("edge %s (%s): stored out of %s but not into %s", ed.SysID, ed.Type, ed.Parent, ed.Child)
			}
			return nil
		})
	})
	return problems, err
}

// checkDuplicateOf holds ServiceNow's invariants of duplicate_of: it names
// another existing CI, which is no duplicate itself (no chains).
func checkDuplicateOf(r store.Reader, rec *store.Record, of string, bad func(string, ...any)) {
	if of == rec.SysID {
		bad("CI %s: duplicate_of names itself", rec.SysID)
		return
	}
	if _, err := r.Get(store.DuplicateOfKey(of, rec.SysID)); err != nil {
		bad("CI %s: duplicate_of %s is not indexed", rec.SysID, of)
	}
	main, err := getRecord(r, of)
	if err != nil {
		bad("CI %s: duplicate_of names %s, which does not exist", rec.SysID, of)
		return
	}
	if next := main.Values[identify.DuplicateOf]; !identify.Blank(next) {
		bad("CI %s: duplicate_of names %s, itself a duplicate of %v (a chain)", rec.SysID, of, next)
	}
}

func sameKeys(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !containsKey(b, k) {
			return false
		}
	}
	return true
}

// openGroups maps every CI an open de-duplication task names to the other
// CIs of its open tasks.
func openGroups(r store.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	err := r.Iterate(store.DuplicateTaskPrefix(), func(_, v []byte) error {
		t, err := decodeTask(v)
		if err != nil || t.State != TaskOpen {
			return err
		}
		for _, id := range t.CIs {
			out[id] = append(out[id], t.CIs...)
		}
		return nil
	})
	return out, err
}

// awaitsMerge reports whether rec lacks identity keys only because each is
// a unique identity held by another CI that an open de-duplication task
// names with rec (as a bulk load leaves CIs that fill a unique entry
// alike): the store is consistent, the duplicates are known.
func awaitsMerge(r store.Reader, rs *rules.RuleSet, rec *store.Record, want [][]byte, tasked map[string][]string) bool {
	group := tasked[rec.SysID]
	if len(group) == 0 {
		return false
	}
	for _, k := range rec.IdentityKeys {
		if !containsKey(want, k) {
			return false
		}
	}
	for _, k := range want {
		if containsKey(rec.IdentityKeys, k) {
			continue
		}
		if !identify.UniqueIdentity(rs, k) {
			return false
		}
		holders, err := store.IdentityHolders(r, k)
		if err != nil || len(holders) != 1 || !slices.Contains(group, holders[0]) {
			return false
		}
	}
	return true
}
