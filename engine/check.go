package engine

import (
	"bytes"
	"context"
	"errors"
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
// every CI is in its class index, every CI has exactly the secondary index
// entries its values and rules give it, with exact chunk counts (Select
// counts classes from them), and every edge joins two existing CIs and
// is stored at both ends.
func (e *Engine) Check(ctx context.Context) ([]string, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	err := e.st.View(func(r store.Reader) error {
		held := 0    // identity keys the records list, each indexed to its record
		entries := 0 // secondary index entries the records list, each stored
		rs := e.ruleSet()
		// A store an older release wrote may not hold the secondary indexes
		// its rules declare yet: the next read-write open builds them.
		built, err := indexesBuilt(r, rs)
		if err != nil {
			return err
		}
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
			c, _ := rs.Class(rec.Class)
			if want := indexEntries(c, rec); built && !sameKeys(want, rec.IndexKeys) {
				bad("CI %s (%s): lists %d secondary index entries where its values and rules give %d", rec.SysID, rec.Class, len(rec.IndexKeys), len(want))
			}
			for _, key := range rec.IndexKeys {
				if !built {
					break
				}
				if _, err := r.Get(key); err != nil {
					bad("CI %s: secondary index entry %q is missing", rec.SysID, key)
				} else {
					entries++
				}
			}
			for i, key := range rec.IdentityKeys {
				if containsKey(rec.IdentityKeys[:i], key) {
					bad("CI %s: lists identity key %q twice", rec.SysID, key)
				} else if ok, err := holdsIdentity(r, key, rec.SysID); err != nil {
					return err
				} else if !ok {
					bad("CI %s: identity key %q is not indexed to it", rec.SysID, key)
				} else {
					held++
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
		if err := checkIdentityIndex(r, rs, held, bad); err != nil {
			return err
		}
		if built {
			if err := checkSecondaryIndex(r, entries, bad); err != nil {
				return err
			}
		}
		if err := r.Iterate(store.EdgePrefix(), func(k, v []byte) error {
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
		}); err != nil {
			return err
		}
		// An edge's key under its child leads to the edge: it must be there.
		return r.Iterate(store.InEdgePrefix(), func(k, v []byte) error {
			if len(v) > 0 {
				return nil // the whole edge, as older versions stored it
			}
			out, ok := store.OutKeyOfAnyIn(k)
			if !ok {
				bad("%q: not a relation key", k)
				return nil
			}
			if _, err := r.Get(out); errors.Is(err, store.ErrNotFound) {
				bad("relation %q: stored into its child but not out of its parent", k)
			} else if err != nil {
				return err
			}
			return nil
		})
	})
	return problems, err
}

// indexesBuilt reports whether the store's secondary indexes were built
// for the indexes rs declares.
func indexesBuilt(r store.Reader, rs *rules.RuleSet) (bool, error) {
	have, err := r.Get(store.IndexesHashKey())
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return string(have) == indexFingerprint(rs), err
}

// checkSecondaryIndex checks the secondary indexes against the records,
// which listed entries entries, each stored: the store holds no others,
// and every chunk count is the number of its entries. Memory stays flat:
// the entries of one chunk are adjacent, so each count is summed in one
// pass and read once, and a second pass finds counts that count nothing.
func checkSecondaryIndex(r store.Reader, entries int, bad func(string, ...any)) error {
	// A count is its stored value plus the deltas not yet folded.
	pending, err := pendingDeltas(r, store.IndexCountsPrefix())
	if err != nil {
		bad("%v", err)
	}
	stored, chunks := 0, 0
	var key []byte
	var n uint64
	compare := func() {
		if n == 0 {
			return
		}
		chunks++
		have, err := readCount(r, key)
		unfolded := pending[string(key)]
		switch {
		case err != nil:
			bad("index count %q: %v", key, err)
		case uint64(have+unfolded) == n:
		case unfolded != 0:
			bad("index count %q is %d (%d stored, %+d not yet folded in) where %d entries are stored", key, have+unfolded, have, unfolded, n)
		default:
			bad("index count %q is %d where %d entries are stored", key, have, n)
		}
	}
	err = r.Iterate(store.IndexPrefix(), func(k, _ []byte) error {
		stored++
		ck, err := store.IndexCountKeyOfEntry(k)
		if err != nil {
			bad("%v", err)
			return nil
		}
		if bytes.Equal(ck, key) {
			n++
			return nil
		}
		compare()
		key, n = ck, 1
		return nil
	})
	if err != nil {
		return err
	}
	compare()
	if stored != entries {
		bad("the secondary indexes hold %d entries where the records list %d", stored, entries)
	}
	counts := 0
	err = r.Iterate(store.IndexCountsPrefix(), func(k, v []byte) error {
		if n, err := decodeCount(v); err != nil || n+pending[string(k)] > 0 {
			counts++ // a corrupt count was named above
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, d := range pending {
		if _, err := r.Get([]byte(k)); errors.Is(err, store.ErrNotFound) && d > 0 {
			counts++ // counted by its deltas alone
		}
	}
	if counts != chunks {
		bad("the secondary indexes hold %d chunk counts where their entries fill %d chunks", counts, chunks)
	}
	return nil
}

// holdsIdentity says whether the identity index lists sysID as a holder
// of key: its guard names it, or, when there are several, it has a member key.
func holdsIdentity(r store.Reader, key []byte, sysID string) (bool, error) {
	v, err := r.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	n, only, err := store.DecodeIdentityGuard(v)
	if err != nil || n == 1 {
		return err == nil && only == sysID, nil
	}
	if _, err := r.Get(store.IdentityMemberKey(key, sysID)); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// checkIdentityIndex checks the identity index against the records, which
// listed held identity keys, each indexed to its record. Memory stays flat
// however big the store: every guard is read with its own members, and
// the holders and members are counted; only when a count differs are the
// members walked again to name the ones no record lists.
func checkIdentityIndex(r store.Reader, rs *rules.RuleSet, held int, bad func(string, ...any)) error {
	holders, listed := 0, 0 // holders the guards count, members found under them
	err := r.Iterate(store.IdentityPrefix(), func(k, v []byte) error {
		n, _, err := store.DecodeIdentityGuard(v)
		if err != nil {
			bad("identity key %q: %v", k, err)
			return nil
		}
		holders += n
		if n == 1 {
			return nil // no member keys: a stray one is found by the count below
		}
		ids, err := guardMembers(r, k)
		if err != nil {
			return err
		}
		listed += len(ids)
		switch {
		case n != len(ids):
			bad("identity key %q counts %d holders, %d are listed", k, n, len(ids))
		case identify.UniqueIdentity(rs, k):
			bad("CIs %s share the values of a unique identifier entry (identity key %q): duplicates", strings.Join(ids, ", "), k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if holders != held {
		bad("the identity guards count %d holders where the records hold %d identity keys", holders, held)
		if err := checkSingleHolders(r, bad); err != nil {
			return err
		}
	}
	members := 0
	if err := r.Iterate(store.IdentityMembersPrefix(), func(_, _ []byte) error { members++; return nil }); err != nil {
		return err
	}
	if members == listed {
		return nil
	}
	// Some member is listed under no guard of several holders: name it.
	return r.Iterate(store.IdentityMembersPrefix(), func(k, _ []byte) error {
		key, id := store.IdentityOfMemberKey(k)
		v, err := r.Get(key)
		if errors.Is(err, store.ErrNotFound) {
			bad("identity key %q has holders listed but no guard", key)
		} else if err != nil {
			return err
		} else if n, only, err := store.DecodeIdentityGuard(v); err == nil && n == 1 {
			bad("identity key %q names %s as its single holder, but lists %s", key, only, id)
			return nil
		}
		rec, err := getRecord(r, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if rec == nil || !containsKey(rec.IdentityKeys, key) {
			bad("identity key %q lists %s as a holder, which does not hold it", key, id)
		}
		return nil
	})
}

// checkSingleHolders names each guard of a single holder whose record
// does not hold the identity.
func checkSingleHolders(r store.Reader, bad func(string, ...any)) error {
	return r.Iterate(store.IdentityPrefix(), func(k, v []byte) error {
		n, only, err := store.DecodeIdentityGuard(v)
		if err != nil || n != 1 {
			return nil
		}
		rec, err := getRecord(r, only)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if rec == nil || !containsKey(rec.IdentityKeys, k) {
			bad("identity key %q names %s as its holder, which does not hold it", k, only)
		}
		return nil
	})
}

// guardMembers lists the member keys' holders of the identity key k.
func guardMembers(r store.Reader, k []byte) ([]string, error) {
	var ids []string
	prefix := store.IdentityMemberPrefix(k)
	err := r.Iterate(prefix, func(mk, _ []byte) error {
		if len(mk) == len(prefix)+store.SysIDLen { // not a member of a longer key
			ids = append(ids, string(mk[len(prefix):]))
		}
		return nil
	})
	return ids, err
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
