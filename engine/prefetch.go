package engine

import (
	"bytes"
	"fmt"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// prefetchRounds bounds the read-ahead: each round fetches what the one
// before revealed (an identity key, then the CI it names, then the keys
// scoped under that CI, their CIs, their edges…).
const prefetchRounds = 8

// readAheadID begins the sys_ids the read-ahead makes up for new CIs.
const readAheadID = "readahead"

// prefetch reads ahead, on a store that reads in batches (store.Prefetcher,
// a server store where every Get is a round trip), the keys identifying ps
// will read. It identifies every payload against what was fetched so far,
// taking the rest as absent, fetches every key those runs asked for in one
// call, and repeats; the plans are thrown away. Identification proper then
// reads from memory, and a key it needs that was not fetched is read as
// before: the read-ahead changes no answer, only the number of round trips.
func (e *Engine) prefetch(txn store.Txn, ps []*payload.Payload, io identify.Options) error {
	pf, ok := txn.(store.Prefetcher)
	if !ok {
		return nil
	}
	n := 0
	// Neither a sys_id nor a clock reading is taken from the engine: the
	// read-ahead leaves no trace (a test clock advances on every reading).
	// Its sys_ids are not hex, so none is a stored CI's: identification
	// would take a new CI for the stored one.
	io.NewSysID = func() string { n++; return fmt.Sprintf("%s%023d", readAheadID, n) }
	io.Now = func() time.Time { return time.Time{} }
	pr := &probe{txn: txn, fetched: map[string]bool{}}
	// open are the payloads whose last run asked for keys not yet fetched,
	// one of which was found; a run that asked for none, or found none of
	// what it asked for, has read all it will read.
	open := ps
	for range prefetchRounds {
		pr.want, pr.asked = nil, map[string]int{}
		var again []*payload.Payload
		var missed [][]int // by payload of again, the keys of want its run asked for
		for _, p := range open {
			q, _ := readDiscovery(p)
			pr.mine = nil
			e.readAheadRuns.Add(1)
			identify.Build(pr, e.ruleSet(), q, io) // errors: keys taken as absent; the real run reports
			if len(pr.mine) > 0 {
				again = append(again, p)
				missed = append(missed, pr.mine)
			}
		}
		if len(pr.want) == 0 {
			return nil
		}
		if err := pr.fetch(pf, pr.want); err != nil {
			return err
		}
		// A run all of whose keys turned out absent would read the same
		// again: it took them as absent already.
		open = open[:0:0]
		for i, p := range again {
			if pr.anyFound(missed[i]) {
				open = append(open, p)
			}
		}
		// The CIs the identity guards name, in a round trip of their own,
		// before the next round: without them identification stops at the
		// first item it finds (an index naming a missing CI is an error).
		var cis [][]byte
		for _, k := range pr.want {
			if !store.IsIdentityKey(k) {
				continue
			}
			if b, err := txn.Get(k); err == nil {
				if n, id, err := store.DecodeIdentityGuard(b); err == nil && n == 1 && !pr.fetched[string(store.CIKey(id))] {
					cis = append(cis, store.CIKey(id))
				}
			}
		}
		if err := pr.fetch(pf, cis); err != nil {
			return err
		}
	}
	return nil
}

// fetch prefetches keys and notes them fetched.
func (p *probe) fetch(pf store.Prefetcher, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	if err := pf.Prefetch(keys); err != nil {
		return err
	}
	for _, k := range keys {
		p.fetched[string(k)] = true
	}
	return nil
}

// probe is the reader of a read-ahead run: fetched keys are read from the
// transaction (in memory by then), others are noted and taken as absent.
type probe struct {
	txn     store.Txn
	fetched map[string]bool
	want    [][]byte
	asked   map[string]int // index in want
	mine    []int          // the keys of want the current run asked for
}

// anyFound reports whether the transaction holds any of the keys of want
// at indexes (fetched by then, so read from memory).
func (p *probe) anyFound(indexes []int) bool {
	for _, i := range indexes {
		if _, err := p.txn.Get(p.want[i]); err == nil {
			return true
		}
	}
	return false
}

func (p *probe) Get(key []byte) ([]byte, error) {
	if p.fetched[string(key)] {
		return p.txn.Get(key)
	}
	if store.IsIdentityKey(key) && bytes.HasPrefix(store.IdentityScope(key), []byte(readAheadID)) {
		// Scoped under a CI the read-ahead made up: the real run scopes it
		// under a sys_id of its own, which no stored key holds either.
		return nil, store.ErrNotFound
	}
	i, ok := p.asked[string(key)]
	if !ok {
		i = len(p.want)
		p.asked[string(key)] = i
		p.want = append(p.want, append([]byte(nil), key...))
	}
	p.mine = append(p.mine, i)
	return nil, store.ErrNotFound
}

// Walks are not read ahead: a prefix with more than one identity holder
// is rare.
func (p *probe) Iterate([]byte, func(key, value []byte) error) error { return nil }
func (p *probe) IterateFrom(_, _ []byte, _ func(key, value []byte) error) error {
	return nil
}

// prefetchWrites reads ahead, on a store that reads in batches, the keys
// writing plan will read: the identity guards its CIs will hold, their
// records, source entries and index counts, and the edges of its relations (one round
// trip instead of one per key).
func prefetchWrites(txn store.Txn, plan *identify.Plan, source string) error {
	var fresh map[string]bool
	if et, ok := txn.(*eventTxn); ok {
		txn, fresh = et.Txn, et.fresh
	}
	pf, ok := txn.(store.Prefetcher)
	if !ok {
		return nil
	}
	var keys [][]byte
	// ask reads k ahead, or notes it absent when it lies under a sys_id
	// the transaction made (fresh is set only on a store.AbsenceNoter).
	ask := func(k []byte, under ...string) {
		for _, id := range under {
			if fresh[id] {
				txn.(store.AbsenceNoter).NoteAbsent(k)
				return
			}
		}
		keys = append(keys, k)
	}
	for _, t := range plan.Targets {
		ask(store.CIKey(t.SysID), t.SysID)
		ask(store.SourceKey(t.SysID, source), t.SysID)
		for _, k := range t.IdentityKeys {
			ask(k, store.ScopeOfIdentity(k))
		}
		rec := &store.Record{SysID: t.SysID, Class: t.Class.Name, Values: t.Values}
		for _, k := range indexEntries(t.Class, rec) {
			keys = append(keys, store.IndexCountKeyOf(k, t.SysID))
		}
	}
	for _, r := range plan.Relations {
		if r.Parent != nil && r.Child != nil {
			ask(store.OutKey(r.Parent.SysID, r.Type, r.Child.SysID), r.Parent.SysID, r.Child.SysID)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return pf.Prefetch(keys)
}
