package engine

import (
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
	io.NewSysID = func() string { n++; return fmt.Sprintf("readahead%023d", n) }
	io.Now = func() time.Time { return time.Time{} }
	pr := &probe{txn: txn, fetched: map[string]bool{}}
	// open are the payloads whose last run asked for keys not yet fetched;
	// a run that asked for none has read all it will read.
	open := ps
	for range prefetchRounds {
		pr.want, pr.asked = nil, map[string]bool{}
		var again []*payload.Payload
		for _, p := range open {
			q, _ := readDiscovery(p)
			n := pr.misses
			identify.Build(pr, e.ruleSet(), q, io) // errors: keys taken as absent; the real run reports
			if pr.misses > n {
				again = append(again, p)
			}
		}
		open = again
		if len(pr.want) == 0 {
			return nil
		}
		if err := pr.fetch(pf, pr.want); err != nil {
			return err
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
	asked   map[string]bool
	misses  int // Gets of keys not fetched
}

func (p *probe) Get(key []byte) ([]byte, error) {
	if p.fetched[string(key)] {
		return p.txn.Get(key)
	}
	p.misses++
	if !p.asked[string(key)] {
		p.asked[string(key)] = true
		p.want = append(p.want, append([]byte(nil), key...))
	}
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
	if et, ok := txn.(*eventTxn); ok {
		txn = et.Txn
	}
	pf, ok := txn.(store.Prefetcher)
	if !ok {
		return nil
	}
	var keys [][]byte
	for _, t := range plan.Targets {
		keys = append(keys, store.CIKey(t.SysID), store.SourceKey(t.SysID, source))
		keys = append(keys, t.IdentityKeys...)
		rec := &store.Record{SysID: t.SysID, Class: t.Class.Name, Values: t.Values}
		for _, k := range indexEntries(t.Class, rec) {
			keys = append(keys, store.IndexCountKeyOf(k, t.SysID))
		}
	}
	for _, r := range plan.Relations {
		if r.Parent != nil && r.Child != nil {
			keys = append(keys, store.OutKey(r.Parent.SysID, r.Type, r.Child.SysID))
		}
	}
	return pf.Prefetch(keys)
}
