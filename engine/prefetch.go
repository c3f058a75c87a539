package engine

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// prefetchRounds bounds the read-ahead: each round fetches what the one
// before revealed (an identity key, then the CI it names, then the keys
// scoped under that CI, their CIs, their edges…).
const prefetchRounds = 8

// readAheadID begins the sys_ids the read-ahead makes up for new CIs.
const readAheadID = "readahead"

// runsPerWorker is the fewest payloads a read-ahead round gives a goroutine
// of its own: below it, starting one costs more than it saves.
const runsPerWorker = 8

// prefetch reads ahead, on a store that reads in batches (store.Prefetcher,
// a server store where every Get is a round trip), the keys identifying ps
// will read. It identifies every payload against what was fetched so far,
// taking the rest as absent, fetches every key those runs asked for in one
// call, and repeats; the plans are thrown away. Identification proper then
// reads from memory, and a key it needs that was not fetched is read as
// before: the read-ahead changes no answer, only the number of round trips.
//
// The runs of a round read only what earlier rounds fetched, so they run
// side by side on the machine's cores: while a single caller's batch is
// read ahead, the store server waits for the next round and a core would
// otherwise idle.
func (e *Engine) prefetch(txn store.Txn, ps []*payload.Payload, io identify.Options) error {
	pf, ok := txn.(store.Prefetcher)
	if !ok {
		return nil
	}
	// Neither a clock reading nor a sys_id is taken from the engine: the
	// read-ahead leaves no trace (a test clock advances on every reading).
	io.Now = func() time.Time { return time.Time{} }
	rs := e.ruleSet()
	read := pf.Prefetch
	if hp, ok := pf.(store.HolderPrefetcher); ok {
		read = hp.PrefetchWithHolders // the CIs the guards found name come along
	}
	fetched := map[string][]byte{}                 // by key: its value, nil when absent
	plans := map[*payload.Payload]*identify.Plan{} // each payload's latest read-ahead plan
	// open are the payloads whose last run asked for keys not yet fetched,
	// one of which was found; a run that asked for none, or found none of
	// what it asked for, has read all it will read.
	open := ps
	for range prefetchRounds {
		runs := make([]readAhead, len(open))
		for i, p := range open {
			runs[i].p = p
		}
		e.readAheadRuns.Add(int64(len(runs)))
		workers := min(runtime.GOMAXPROCS(0), len(runs)/runsPerWorker)
		if workers <= 1 {
			identifyAhead(runs, rs, io, fetched, 0)
		} else {
			var wg sync.WaitGroup
			per := (len(runs) + workers - 1) / workers
			for w := range workers {
				share := runs[min(w*per, len(runs)):min((w+1)*per, len(runs))]
				wg.Go(func() { identifyAhead(share, rs, io, fetched, w) })
			}
			wg.Wait()
		}
		for _, r := range runs {
			if r.plan != nil {
				plans[r.p] = r.plan
			}
		}
		var want [][]byte
		asked := map[string]bool{}
		for _, r := range runs {
			for _, k := range r.asked {
				if !asked[k] {
					asked[k] = true
					want = append(want, []byte(k))
				}
			}
		}
		if len(want) == 0 {
			break
		}
		if !slices.ContainsFunc(want, func(k []byte) bool { return !namesKnownCIs(k) }) {
			// Whatever these find reopens no run: they go with what
			// writing the plans reads, in its round trip.
			return readAheadWrites(pf, plans, io.Source, want)
		}
		var followed [][]byte // the keys the chains led to
		readRound := read
		if cp, ok := pf.(store.ChainPrefetcher); ok {
			links := chainLinks(runs, want)
			readRound = func(keys [][]byte) (err error) {
				followed, err = cp.PrefetchChain(keys, links)
				return err
			}
		}
		if err := fetch(readRound, txn, fetched, want); err != nil {
			return err
		}
		followedFound := followedKeys(followed)
		// PrefetchChain read these already: fetch only copies them from the transaction.
		if err := fetch(func([][]byte) error { return nil }, txn, fetched, followedFound); err != nil {
			return err
		}
		// A run all of whose keys turned out absent would read the same
		// again: it took them as absent already. A found edge or source
		// entry names only CIs the run knew (an edge's key holds both its
		// ends), so it leads to no key the run did not ask for: a known
		// chain is not run again for the edges of its last level.
		open = open[:0:0]
		for _, r := range runs {
			for _, k := range r.asked {
				if fetched[k] != nil && !namesKnownCIs([]byte(k)) {
					open = append(open, r.p)
					break
				}
			}
		}
		// The CIs the identity guards name, before the next round (in a
		// round trip of their own unless they came with the guards):
		// without them identification stops at the first item it finds (an
		// index naming a missing CI is an error).
		var cis [][]byte
		for _, k := range append(want, followedFound...) {
			if b := fetched[string(k)]; b != nil && store.IsIdentityKey(k) {
				if n, id, err := store.DecodeIdentityGuard(b); err == nil && n == 1 {
					if _, ok := fetched[string(store.CIKey(id))]; !ok {
						cis = append(cis, store.CIKey(id))
					}
				}
			}
		}
		if err := fetch(pf.Prefetch, txn, fetched, cis); err != nil {
			return err
		}
	}
	return readAheadWrites(pf, plans, io.Source, nil)
}

// namesKnownCIs reports whether k, when found, names no CI but those the
// read that asked for it knew: an edge or a source entry.
func namesKnownCIs(k []byte) bool { return store.IsOutKey(k) || store.IsSourceKey(k) }

// readAheadWrites reads, in one round trip, keys and what writing the plans
// the read-ahead ended with will read of stored CIs (see prefetchWrites): the
// writing of each payload then finds it read, unless the payloads before
// it in the batch changed its plan. On a store that does not number
// commits itself it reads the event counter too, which the commit reads
// (the transaction's snapshot answers the same then as now).
func readAheadWrites(pf store.Prefetcher, plans map[*payload.Payload]*identify.Plan, source string, keys [][]byte) error {
	for _, plan := range plans {
		writeReads(plan, source, func(k []byte, under ...string) {
			for _, id := range under {
				if strings.HasPrefix(id, readAheadID) {
					return // under a CI the read-ahead made up: absent
				}
			}
			keys = append(keys, k)
		})
	}
	if len(keys) == 0 {
		return nil
	}
	if _, numbered := pf.(store.NumberedTxn); !numbered {
		keys = append(keys, store.EventSeqKey())
	}
	return pf.Prefetch(keys)
}

// readAhead is one payload's run in a round: the keys it asked for that
// no earlier round fetched, and the plan it made.
type readAhead struct {
	p      *payload.Payload
	asked  []string
	scoped [][]byte // identity keys under CIs the run made up
	plan   *identify.Plan
}

// chainLinks links each identity key a run met under a CI it made up to
// the guards that CI's identities would find it by (store.Link), when
// those are among want or are links themselves: if the CI is stored after
// all, the store reads the key under it, and the level below, in the
// round trip that finds the CI, instead of a round of its own per level.
// (A known BYOL chain is a level per round: the account, then the
// datacenter under it, the host under that, the VM.)
func chainLinks(runs []readAhead, want [][]byte) []store.Link {
	node := make(map[string]int, len(want))
	for i, k := range want {
		node[string(k)] = i
	}
	var links []store.Link
	type link struct {
		guard          int
		prefix, suffix string
	}
	linked := map[link]int{} // → its node
	for _, r := range runs {
		if len(r.scoped) == 0 || r.plan == nil {
			continue
		}
		madeUp := map[string]*identify.Target{}
		for _, t := range r.plan.Targets {
			if strings.HasPrefix(t.SysID, readAheadID) {
				madeUp[t.SysID] = t
			}
		}
		var nodesOf func(k []byte, depth int) []int
		nodesOf = func(k []byte, depth int) []int {
			prefix, scope, suffix, ok := store.SplitIdentityKey(k)
			if !ok || !bytes.HasPrefix(scope, []byte(readAheadID)) {
				if n, ok := node[string(k)]; ok {
					return []int{n}
				}
				return nil
			}
			t := madeUp[string(scope)]
			if t == nil || depth > prefetchRounds {
				return nil
			}
			var out []int
			for _, g := range t.IdentityKeys {
				for _, from := range nodesOf(g, depth+1) {
					id := link{from, string(prefix), string(suffix)}
					n, ok := linked[id]
					if !ok {
						n = len(want) + len(links)
						linked[id] = n
						links = append(links, store.Link{Guard: from, Prefix: prefix, Suffix: suffix})
					}
					out = append(out, n)
				}
			}
			return out
		}
		for _, k := range r.scoped {
			nodesOf(k, 0)
		}
	}
	return links
}

// followedKeys returns the keys of ks that are not nil.
func followedKeys(ks [][]byte) [][]byte {
	var out [][]byte
	for _, k := range ks {
		if k != nil {
			out = append(out, k)
		}
	}
	return out
}

// identifyAhead identifies the payloads of runs against fetched, which it
// only reads: worker w of a round makes up sys_ids of its own.
func identifyAhead(runs []readAhead, rs *rules.RuleSet, io identify.Options, fetched map[string][]byte, w int) {
	n := 0
	// Its sys_ids are not hex, so none is a stored CI's: identification
	// would take a new CI for the stored one.
	io.NewSysID = func() string { n++; return fmt.Sprintf("%s%02d%021d", readAheadID, w, n) }
	pr := &probe{fetched: fetched}
	// Identification does not read an identity under a CI it made: should
	// the CI turn out to be stored, the store may follow it there at once
	// (chainLinks).
	io.OnKeyUnderNewCI = func(k []byte) { pr.scoped = append(pr.scoped, bytes.Clone(k)) }
	for i := range runs {
		q, _ := readDiscovery(runs[i].p)
		pr.mine, pr.scoped = nil, nil
		runs[i].plan, _ = identify.Build(pr, rs, q, io) // errors: keys taken as absent; the real run reports
		runs[i].asked, runs[i].scoped = pr.mine, pr.scoped
	}
}

// fetch prefetches keys with read and keeps what it read in fetched.
func fetch(read func([][]byte) error, txn store.Txn, fetched map[string][]byte, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	if err := read(keys); err != nil {
		return err
	}
	for _, k := range keys {
		v, err := txn.Get(k) // in memory now, unless the transaction holds too many reads
		switch {
		case err == nil:
			fetched[string(k)] = v
		case errors.Is(err, store.ErrNotFound):
			fetched[string(k)] = nil
		default:
			return err
		}
	}
	return nil
}

// probe is the reader of a read-ahead run: fetched keys are read from
// fetched, others are noted and taken as absent.
type probe struct {
	fetched map[string][]byte
	mine    []string // the keys the current run asked for
	scoped  [][]byte // the identity keys it did not read, under CIs it made up
}

func (p *probe) Get(key []byte) ([]byte, error) {
	if v, ok := p.fetched[string(key)]; ok {
		if v == nil {
			return nil, store.ErrNotFound
		}
		return bytes.Clone(v), nil // the caller's to keep, and other runs read v
	}
	if store.IsIdentityKey(key) && bytes.HasPrefix(store.IdentityScope(key), []byte(readAheadID)) {
		// Scoped under a CI the read-ahead made up: the real run scopes it
		// under a sys_id of its own, which no stored key holds either.
		return nil, store.ErrNotFound
	}
	p.mine = append(p.mine, string(key))
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
// records and source entries, and the edges of its relations (one round
// trip instead of one per key). Index counts are added when the
// transaction commits (addCountsNow), all at once.
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
	writeReads(plan, source, ask)
	if len(keys) == 0 {
		return nil
	}
	return pf.Prefetch(keys)
}

// writeReads gives ask each key writing plan will read, with the sys_ids
// of the CIs it lies under.
func writeReads(plan *identify.Plan, source string, ask func(k []byte, under ...string)) {
	for _, t := range plan.Targets {
		ask(store.CIKey(t.SysID), t.SysID)
		ask(store.SourceKey(t.SysID, source), t.SysID)
		for _, k := range t.IdentityKeys {
			ask(k, store.ScopeOfIdentity(k))
		}
	}
	for _, r := range plan.Relations {
		if r.Parent != nil && r.Child != nil {
			ask(store.OutKey(r.Parent.SysID, r.Type, r.Child.SysID), r.Parent.SysID, r.Child.SysID)
		}
	}
}
