package engine

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	crand "crypto/rand"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// Options open an Engine. The zero value opens Badger on disk with the
// default rule pack.
type Options struct {
	// Rules is the compiled rule set; nil means rules.Default().
	Rules *rules.RuleSet
	// Store, when not nil, is used instead of opening Badger at the path;
	// the engine closes it on Close.
	Store store.Store
	// InMemory opens Badger in memory (the path is ignored).
	InMemory bool
	// SyncWrites makes every commit wait until it is on stable storage.
	SyncWrites bool
	// ReadOnly opens the engine for reading only (irego check): it writes
	// nothing at open, not even index upkeep, and opens Badger read-only.
	ReadOnly bool
	// NewSysID makes sys_ids; nil means 32 random lowercase hex characters.
	NewSysID func() string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PartialTTL is how long a partial payload waits to be completed; 0
	// means DefaultPartialTTL.
	PartialTTL time.Duration
	// MaxAttempts bounds how often a payload is re-identified after a
	// conflicting concurrent write; 0 means 64.
	MaxAttempts int
	// MaxScan bounds the records one Select reads to filter or order them
	// when no index serves it; 0 means DefaultMaxScan.
	MaxScan int
	// Sources are the data sources payloads may come from, besides those
	// the rule set names; nil means DefaultSources, and "*" accepts any.
	// A payload from another source fails with INVALID_INPUT_DATA.
	Sources []string
	// AdoptStoredRules makes the engine use the rules the store records
	// (ChangeRules) instead of Rules when they differ. Without it, Open
	// refuses a shared store (PostgreSQL) that records other rules with a
	// RulesMismatchError, and on Badger, which belongs to one process,
	// Rules replace the stored rules (reindexing what they change).
	AdoptStoredRules bool
	// RulesPoll is how often an engine on a shared store looks for a rule
	// change made by another process; 0 means DefaultRulesPoll, negative
	// never (writes still find a change when they read the store).
	RulesPoll time.Duration
	// LeaseTTL is the lease time of a reindex this engine runs for a rule
	// change; 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// RulesChanged, when not nil, is told when the engine adopts rules
	// another process changed: the fingerprint it used before, and the
	// new rules. It runs on the engine's goroutine: keep it short.
	RulesChanged func(from string, to StoredRules)
	// EventRetention is how long change events are kept (see Event); 0
	// means DefaultEventRetention, a negative value keeps them forever.
	// Older ones are deleted when the engine opens and by ExpireEvents.
	EventRetention time.Duration
	// EventPoll is how often a follower of Events looks for events other
	// processes committed to a shared store; 0 means one second. Commits
	// of this process wake followers at once.
	EventPoll time.Duration
	// ImmediateLastDiscovered writes the last_discovered of a CI reported
	// unchanged in the payload's own transaction, as ServiceNow does with
	// glide.identification_engine.batch_update_last_discovered=false.
	// By default such moves are batched (see lastseen.go): written within
	// DefaultLastDiscoveredFlush, so that concurrent payloads reporting the same
	// CI do not conflict over it.
	ImmediateLastDiscovered bool
	// LastDiscoveredFlush is how often batched moves are written; 0 means
	// DefaultLastDiscoveredFlush.
	LastDiscoveredFlush time.Duration
	// IndexCountFold is how long after a commit that changed secondary
	// index entries the engine adds the transaction's count deltas to the
	// counts, together with those of the commits meanwhile (counts.go);
	// 0 means DefaultIndexCountFold. Negative: only when the engine opens
	// and closes, so that nothing writes in the background (tests that
	// compare stores key by key). Reads count the deltas either way.
	IndexCountFold time.Duration
}

// Engine identifies and reconciles payloads into a store. It is safe for
// concurrent use; concurrent payloads that describe the same new CI create
// it once.
type Engine struct {
	cur   atomic.Pointer[activeRules] // the rules in force (rulesfollow.go)
	st    store.Store
	opts  Options
	close sync.Once
	// shared: other processes may use the store (rulesfollow.go).
	shared bool
	holder string // this engine's name in a rule change's lease
	follow follower
	// notices are what Open had to tell, e.g. identities lost to a rule change.
	notices  []string
	partials partialHint
	// backingUp is set while a backup runs: one at a time (backup.go).
	backingUp atomic.Bool
	observer  observerRef // see Observe
	events    *broadcast  // wakes followers of Events
	retries   sync.Mutex  // taken by writes that changed CIs and lost a race (serializer)
	live      sync.RWMutex
	closed    bool         // set by Close under live, once every Hold is released
	seen      *lastSeen    // batched last_discovered moves; nil when immediate or read-only
	counts    *countFolder // folds index count deltas; nil when read-only, shared, or folding only at open and close
	intents   *intents     // identity guards being changed (intents.go)
	// readAheadRuns counts the identifications the read-ahead ran (prefetch.go), for tests.
	readAheadRuns atomic.Int64
}

// Notices returns what Open found worth telling: CIs that lost an identity
// to an older CI when the identity index was rebuilt for changed rules.
func (e *Engine) Notices() []string { return append([]string(nil), e.notices...) }

// Sentinel errors.
var (
	// ErrNotFound: no CI has the given sys_id.
	ErrNotFound = errors.New("engine: not found")
	// ErrTooManyConflicts: the payload kept colliding with concurrent writes.
	ErrTooManyConflicts = errors.New("engine: gave up after repeated write conflicts")
)

// Open opens the engine on the Badger store at path (created if missing).
func Open(path string, opts Options) (*Engine, error) {
	if opts.Rules == nil {
		opts.Rules = rules.Default()
	}
	if opts.NewSysID == nil {
		opts.NewSysID = NewSysID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PartialTTL <= 0 {
		opts.PartialTTL = DefaultPartialTTL
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 64
	}
	if opts.EventRetention == 0 {
		opts.EventRetention = DefaultEventRetention
	}
	if opts.EventPoll <= 0 {
		opts.EventPoll = time.Second
	}
	if opts.LastDiscoveredFlush <= 0 {
		opts.LastDiscoveredFlush = DefaultLastDiscoveredFlush
	}
	st := opts.Store
	if st == nil {
		if path == "" && !opts.InMemory {
			return nil, errors.New("engine: no store path given")
		}
		db, err := badger.Open(badger.Options{Dir: path, InMemory: opts.InMemory, SyncWrites: opts.SyncWrites, ReadOnly: opts.ReadOnly})
		if err != nil {
			return nil, fmt.Errorf("engine: open store %s: %w", path, err)
		}
		st = db
	}
	e := &Engine{st: st, opts: opts, shared: store.IsShared(st), holder: newHolder(), events: newBroadcast(), intents: newIntents()}
	e.cur.Store(e.newActive(opts.Rules))
	if opts.ReadOnly {
		if err := store.ReadSchema(st); err != nil {
			st.Close()
			return nil, err
		}
		if err := e.adoptForReading(); err != nil {
			st.Close()
			return nil, err
		}
		return e, nil
	}
	if err := store.CheckSchema(st); err != nil {
		st.Close()
		return nil, err
	}
	if n, err := migrateRecords(st); err != nil {
		st.Close()
		return nil, err
	} else if n > 0 {
		e.notices = append(e.notices, fmt.Sprintf("converted %d CI records from JSON to the %s format", n, store.RecordFormat))
	}
	indexed, err := e.settleRules()
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := e.upkeep(indexed); err != nil {
		st.Close()
		return nil, err
	}
	if e.shared {
		e.startFollowing()
	}
	if opts.IndexCountFold >= 0 && !e.shared { // see addCount
		e.counts = newCountFolder()
		go e.runCountFolder(e.counts, cmp.Or(opts.IndexCountFold, DefaultIndexCountFold))
	}
	if !opts.ImmediateLastDiscovered {
		e.seen = newLastSeen()
		go e.runLastSeen(opts.LastDiscoveredFlush)
	}
	return e, nil
}

// OpenStore opens the engine on st: any store.Store, such as a Badger
// database opened with options of your own, a PostgreSQL-wire database
// from store/backend, or an implementation of your own that passes
// store/storetest. The engine closes st on Close.
func OpenStore(st store.Store, opts Options) (*Engine, error) {
	if st == nil {
		return nil, errors.New("engine: OpenStore needs a store")
	}
	opts.Store = st
	return Open("", opts)
}

// upkeep brings the store's indexes in line with the rules (unless indexed
// says settleRules just did), drops what has expired and folds the index
// count deltas a process left (counts.go), again from the
// start when another engine opening the same store at the same moment
// wrote the same keys.
func (e *Engine) upkeep(indexed bool) error {
	for attempt := 1; ; attempt++ {
		var err error
		if !indexed {
			rs := e.ruleSet()
			var notices []string
			notices, _, err = reindexIfRulesChanged(e.st, rs)
			e.notices = append(e.notices, notices...) // kept when a later step conflicts
			if err == nil {
				err = indexIfRulesChanged(e.st, rs)
			}
		}
		if err == nil {
			_, _, err = e.Expire()
		}
		if err == nil {
			_, err = e.ExpireEvents()
		}
		if err == nil {
			err = foldCounts(e.st) // left by a process that stopped before folding them
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= e.opts.MaxAttempts {
			return err
		}
		backoff(attempt)
	}
}

// NewSysID returns 32 random lowercase hex characters.
func NewSysID() string {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Rules returns the engine's rule set: the one in force now, which on a
// shared store changes when another process changes the store's rules.
func (e *Engine) Rules() *rules.RuleSet { return e.ruleSet() }

// Store returns the underlying store (for backup and checks).
func (e *Engine) Store() store.Store { return e.st }

// Close closes the store. It is safe to call more than once.
func (e *Engine) Close() error {
	var err error
	e.close.Do(func() {
		e.stopFollowing()
		if e.seen != nil {
			close(e.seen.stop)
			<-e.seen.stopped // writes what is pending
		}
		if e.counts != nil {
			close(e.counts.stop)
			<-e.counts.stopped // folds what is pending
		} else if !e.opts.ReadOnly {
			foldCounts(e.st) // its error is the store's: the deltas stay, and count
		}
		close(e.events.closed)
		e.live.Lock() // waits for the holders (Hold)
		e.closed = true
		e.live.Unlock()
		err = e.st.Close()
	})
	return err
}

// Apply identifies every item of p, reconciles it and writes the outcome in
// one transaction. p is not modified or retained. The error is non-nil only
// when the store fails; faults in the payload are reported in the Result.
func (e *Engine) Apply(ctx context.Context, source string, p *payload.Payload, o ApplyOptions) (*Result, error) {
	return e.run(ctx, source, p, o, true)
}

// Identify does everything Apply does except writing: the result says what
// Apply would do now. New CIs are reported with the sys_id "Unknown".
func (e *Engine) Identify(ctx context.Context, source string, p *payload.Payload, o ApplyOptions) (*Result, error) {
	return e.run(ctx, source, p, o, false)
}

func (e *Engine) run(ctx context.Context, source string, p *payload.Payload, o ApplyOptions, commit bool) (*Result, error) {
	if why := e.tooLong(source, p); why != nil {
		return refuseTooLong(p, why), nil
	}
	if why := e.cur.Load().sources.fault(source); why != "" {
		return invalidSource(p, why), nil
	}
	res, err := e.retry(ctx, []*payload.Payload{p}, source, o, commit)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// ApplyBatch applies several payloads from one source in a single
// transaction, one after the other, each seeing what the previous ones
// wrote: the results are those of applying them in order, at the cost of
// one commit. A store error fails the whole batch and writes nothing.
func (e *Engine) ApplyBatch(ctx context.Context, source string, ps []*payload.Payload, o ApplyOptions) ([]*Result, error) {
	if why := e.cur.Load().sources.fault(source); why != "" {
		out := make([]*Result, len(ps))
		for i, p := range ps {
			out[i] = invalidSource(p, why)
		}
		return out, nil
	}
	return e.retry(ctx, ps, source, o, true)
}

// retry runs the payloads in one transaction, again from the start when a
// concurrent write conflicts with what they read.
func (e *Engine) retry(ctx context.Context, ps []*payload.Payload, source string, o ApplyOptions, commit bool) ([]*Result, error) {
	o = o.effective()
	io := identify.Options{Source: source, Deduplicate: o.DeduplicatePayloads, PartialCommits: o.PartialCommits, NewSysID: e.opts.NewSysID, Now: e.opts.Now}
	var s serializer
	defer s.done()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, eventful, err := e.once(ps, io, o, commit, s.done)
		if errors.Is(err, errRulesMoved) {
			if err := e.syncRules(); err != nil {
				return nil, err
			}
			continue
		}
		var busy errIdentityBusy
		if errors.As(err, &busy) && attempt < e.opts.MaxAttempts {
			// Another write is changing an identity this one needs: wait
			// for it and start again, no serializer needed (intents.go).
			e.observed().Retried()
			if err := busy.waitFor(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if errors.Is(err, store.ErrConflict) {
			if attempt >= e.opts.MaxAttempts {
				return nil, ErrTooManyConflicts
			}
			s.lost(e, eventful)
			e.observed().Retried()
			backoff(attempt)
			continue
		}
		if errors.Is(err, store.ErrTxnTooBig) {
			return nil, fmt.Errorf("engine: %d payloads are too large for one transaction; split them: %w", len(ps), err)
		}
		if err == nil {
			e.observed().Applied(commit, res)
		}
		return res, err
	}
}

// once identifies and (when commit) writes in one transaction, so the reads
// that decided the plans are checked for conflicts when it commits.
// It also reports whether the transaction changed a CI (see serializer).
// visible runs once the commit is visible, before the store syncs it
// (store.OnVisible), so other writes go on during the sync.
func (e *Engine) once(ps []*payload.Payload, io identify.Options, o ApplyOptions, commit bool, visible func()) ([]*Result, bool, error) {
	letGo := visible
	if commit && e.seen != nil {
		e.seen.writing.RLock() // a batch of last_discovered moves waits (lastseen.go)
		letGo = sync.OnceFunc(func() { e.seen.writing.RUnlock(); visible() })
		defer letGo()
	}
	cur := e.cur.Load()
	txn := e.newTxn(io.Source)
	defer txn.Discard()
	txn.dry = !commit
	io.NewSysID = txn.noteFresh(io.NewSysID)
	txn.whenVisible(letGo)
	if err := e.checkRules(txn, cur); err != nil {
		return nil, false, err
	}
	if err := checkVersions(txn, o.IfVersions); err != nil {
		return nil, false, err
	}
	if err := e.prefetch(txn.Txn, ps, io); err != nil {
		return nil, false, err
	}
	out := make([]*Result, len(ps))
	total := 0
	for i, p := range ps {
		res, n, err := e.stage(txn, p, io, o, commit)
		if err != nil {
			return nil, txn.eventful(), err
		}
		out[i], total = res, total+n
	}
	if e.cur.Load() != cur {
		return nil, txn.eventful(), store.ErrConflict // the rules were swapped meanwhile: identify again
	}
	if total > 0 {
		if err := txn.Commit(); err != nil {
			return nil, txn.eventful(), err
		}
		e.observed().Committed(len(ps), total)
	}
	if e.seen != nil {
		e.seen.add(txn.lastSeen)
	}
	return out, txn.eventful(), nil
}

// stage identifies p against txn and, when commit, writes the outcome into
// txn without committing it. It returns how many keys it wrote.
func (e *Engine) stage(txn store.Txn, p *payload.Payload, io identify.Options, o ApplyOptions, commit bool) (*Result, int, error) {
	now := e.opts.Now().UTC()
	m := &merged{p: p, n: len(p.Items), nRel: len(p.Relations)}
	var expired []*PartialPayload
	if o.PartialPayloads && !e.partials.skip() {
		// Looked up in a snapshot of their own: iterating inside a write
		// transaction would sort all its pending writes each time. Two
		// payloads racing for one partial both carry it; identification
		// still gives its items one CI each.
		var live, exp []*PartialPayload
		err := e.st.View(func(r store.Reader) (err error) {
			live, exp, err = findPartials(r, e.ruleSet(), p, io.Source, now, e.opts.PartialTTL, &e.partials)
			return err
		})
		if err != nil {
			return nil, 0, err
		}
		if m, err = mergePartials(e.ruleSet(), p, io.Source, live); err != nil {
			return nil, 0, err
		}
		expired = exp
	}
	q, din := readDiscovery(m.p)
	plan, err := identify.Build(txn, e.ruleSet(), q, io)
	if err != nil {
		return nil, 0, err
	}
	var kept []bool
	var pp *PartialPayload
	if o.PartialPayloads {
		kept = keptItems(e.ruleSet(), m.p, plan, io.Source)
		for _, k := range kept {
			if k {
				id := Unknown // a dry run names what it would keep as Apply names what it would create
				if commit {
					id = e.opts.NewSysID()
				}
				if pp, err = newPartial(e.ruleSet(), m.p, plan, kept, id, io.Source, now); err != nil {
					return nil, 0, err
				}
				break
			}
		}
	}
	n := 0
	var incomplete map[int]string
	if commit {
		if err := prefetchWrites(txn, plan, io.Source); err != nil {
			return nil, 0, err
		}
		st := din.stamps(plan, o, now)
		if n, incomplete, err = e.writeAll(txn, m, plan, kept, pp, expired, io.Source, now, st); err != nil {
			return nil, 0, err
		}
	} else if kept != nil {
		incomplete = wouldRecordIncomplete(plan, kept)
	}
	res := buildResult(plan, m.p, commit)
	din.warn(res)
	res.foldPartials(m, kept, pp)
	res.foldIncomplete(kept, incomplete)
	if o.Explain {
		for i := range res.Items {
			res.Items[i].Explanation = explain(plan.Items[i], &m.p.Items[i], &res.Items[i])
		}
	}
	if o.GenerateSummary {
		res.Summary = summarize(res)
	}
	if !commit {
		res.forget(madeUp(plan))
	}
	return res, n, nil
}

// writeAll writes the plan and the partial payload bookkeeping.
// It returns how many keys it wrote and the ids of the incomplete items it
// recorded, by item index.
func (e *Engine) writeAll(txn store.Txn, m *merged, plan *identify.Plan, kept []bool, pp *PartialPayload, expired []*PartialPayload, source string, now time.Time, st *stamps) (int, map[int]string, error) {
	n, err := e.write(txn, m.p, plan, source, now, st)
	if err != nil {
		return 0, nil, err
	}
	var incomplete map[int]string
	if kept != nil {
		for _, old := range append(m.consumed, expired...) {
			if err := deletePartial(txn, old); err != nil {
				return 0, nil, err
			}
			n++
		}
		if pp != nil {
			if err := putPartial(txn, pp); err != nil {
				return 0, nil, err
			}
			e.partials.stored()
			n++
		}
		if incomplete, err = recordIncomplete(txn, m.p, plan, kept, source, now, e.opts.NewSysID); err != nil {
			return 0, nil, err
		}
		n += len(incomplete)
	}
	return n, incomplete, nil
}

// backoff sleeps a little, more after each conflict, with jitter so that
// colliding writers spread out.
func backoff(attempt int) {
	d := time.Duration(min(attempt, 10)) * 200 * time.Microsecond
	time.Sleep(d + time.Duration(rand.Int64N(int64(d)+1)))
}

// invalidSource fails every item of p for the reason why.
func invalidSource(p *payload.Payload, why string) *Result {
	return failAll(p, func(i int) string { return fmt.Sprintf("item %d (%s): %s", i, p.Items[i].ClassName, why) })
}

// failAll is the result of a payload refused whole: every item answers
// INVALID_INPUT_DATA with the message msg gives it.
func failAll(p *payload.Payload, msg func(i int) string) *Result {
	res := buildResult(&identify.Plan{}, p, false)
	for i := range p.Items {
		is := Issue{Code: identify.InvalidInputData, Message: msg(i)}
		res.Items = append(res.Items, ItemResult{ClassName: p.Items[i].ClassName, Operation: identify.OpNoChange, SysID: Unknown,
			IdentifierEntrySysID: Unknown, IdentificationAttempts: []Attempt{}, Errors: []Issue{is}, ErrorCount: 1,
			Warnings: []Issue{}, Info: []Info{}, InputIndices: []int{i}, DuplicateIndices: []int{}, MaskedAttributes: []string{},
			RelatedItems: []RelatedResult{}, RelatedSysIDs: make([]*string, len(p.Items[i].Lookup)), // none known
			MergedPayloadIDs: []string{}, PartialSysIDs: []string{}, IncompleteSysIDs: []string{}, Markers: []string{}})
	}
	res.HasError = len(p.Items) > 0
	return res
}
