package bench

import (
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/irego/irego/store"
)

// Counting wraps a store and counts the keys its committed transactions
// wrote (set or deleted, each key once per transaction) and their bytes
// (keys and values), for the report's keys_per_item and bytes_per_item.
type Counting struct {
	store.Store
	keys, bytes atomic.Int64
	// seed hashes the keys a transaction wrote; lastKeys sizes the next
	// transaction's set, so counting costs the measured run little.
	seed     maphash.Seed
	lastKeys atomic.Int64

	// SampleShapes, set before the run, keeps a sample of the committed
	// writes for Shapes (the writes baseline); without it counting does no
	// more than count.
	SampleShapes bool

	mu      sync.Mutex
	shapes  []shape // a uniform sample of the committed writes
	sampled int64   // committed writes the sample was drawn from
	rng     *rand.Rand
}

// Write is the shape of a key a committed transaction wrote: its first
// bytes, its length and its value's (0 for a deletion).
type Write struct {
	Prefix     string
	Key, Value int
}

// shape is a Write as a transaction notes it, without allocating.
type shape struct {
	prefix     [prefixLen]byte
	prefixLen  uint8
	key, value int32
}

// shapeSamples bounds the sample of committed writes Shapes returns.
const shapeSamples = 4096

// prefixLen is how much of a written key a Write keeps: enough for the
// key's kind (v1/ci/, v1/id/…), not its random part.
const prefixLen = 6

// NewCounting wraps st.
func NewCounting(st store.Store) *Counting {
	return &Counting{Store: st, seed: maphash.MakeSeed(), rng: rand.New(rand.NewPCG(1, 2))}
}

// Written returns the keys and bytes committed so far.
func (c *Counting) Written() (keys, bytes int64) { return c.keys.Load(), c.bytes.Load() }

// Shapes returns a sample, drawn uniformly (reservoir sampling), of the
// writes committed so far: what the writes baseline writes (Baseline).
func (c *Counting) Shapes() []Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Write, len(c.shapes))
	for i, s := range c.shapes {
		out[i] = Write{Prefix: string(s.prefix[:s.prefixLen]), Key: int(s.key), Value: int(s.value)}
	}
	return out
}

// ForgetShapes starts the sample Shapes returns afresh: a run samples
// its own writes, not those of the preload before it.
func (c *Counting) ForgetShapes() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shapes, c.sampled = nil, 0
}

// sample adds a committed transaction's writes to the sample.
func (c *Counting) sample(written map[uint64]shape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range written {
		c.sampled++
		if len(c.shapes) < shapeSamples {
			c.shapes = append(c.shapes, w)
		} else if j := c.rng.Int64N(c.sampled); j < shapeSamples {
			c.shapes[j] = w
		}
	}
}

// NewTxn starts a transaction whose writes count once it commits. It keeps
// what the engine looks for in the wrapped store's transactions: the
// commit-time event numbering of Badger (store.NumberedTxn) and the
// read-ahead of PostgreSQL (store.Prefetcher; without it every read there
// was a round trip of its own, and the bench measured a slower store than
// the engine's users get) with its store.CountAdder, and
// store.AbsenceNoter of both. No store offers
// both of the first kinds.
func (c *Counting) NewTxn() store.Txn {
	t := &countingTxn{Txn: c.Store.NewTxn(), c: c}
	switch t.Txn.(type) {
	case store.NumberedTxn:
		return countingNumberedTxn{t}
	case interface {
		store.Prefetcher
		store.CountAdder
	}:
		return countingAdderTxn{countingPrefetchTxn{t}}
	case store.Prefetcher:
		return countingPrefetchTxn{t}
	}
	return t
}

// Shared says what the wrapped store says.
func (c *Counting) Shared() bool { return store.IsShared(c.Store) }

type countingTxn struct {
	store.Txn
	c *Counting
	// written holds each key the transaction set or deleted, by its
	// 64-bit hash (a collision, at odds of 2^-64 per pair, would count two
	// keys as one), with the shape of its last write: a key written twice
	// is counted once.
	written map[uint64]shape
}

// note records a write of key k with a value of n bytes.
func (t *countingTxn) note(k []byte, n int) {
	if t.written == nil {
		t.written = make(map[uint64]shape, t.c.lastKeys.Load())
	}
	w := shape{key: int32(len(k)), value: int32(n)}
	w.prefixLen = uint8(copy(w.prefix[:], k))
	t.written[maphash.Bytes(t.c.seed, k)] = w
}

func (t *countingTxn) Set(k, v []byte) error {
	t.note(k, len(v))
	return t.Txn.Set(k, v)
}

func (t *countingTxn) Delete(k []byte) error {
	t.note(k, 0)
	return t.Txn.Delete(k)
}

func (t *countingTxn) Commit() error { return t.counted(t.Txn.Commit()) }

// counted adds the transaction's writes to the totals once it committed.
func (t *countingTxn) counted(err error) error {
	if err != nil {
		return err
	}
	bytes := 0
	for _, w := range t.written {
		bytes += int(w.key + w.value)
	}
	t.c.keys.Add(int64(len(t.written)))
	t.c.lastKeys.Store(int64(len(t.written)))
	t.c.bytes.Add(int64(bytes))
	if t.c.SampleShapes {
		t.c.sample(t.written)
	}
	t.written = nil
	return nil
}

// OnVisible passes fn on to the wrapped transaction, when it takes one.
func (t *countingTxn) OnVisible(fn func()) { store.OnVisible(t.Txn, fn) }

// countingNumberedTxn is a countingTxn over a store.NumberedTxn.
type countingNumberedTxn struct{ *countingTxn }

func (t countingNumberedTxn) CommitNumbered(n uint64, fill func(first uint64) error) error {
	return t.counted(t.Txn.(store.NumberedTxn).CommitNumbered(n, fill))
}

// countingPrefetchTxn is a countingTxn over a store.Prefetcher.
type countingPrefetchTxn struct{ *countingTxn }

func (t countingPrefetchTxn) Prefetch(keys [][]byte) error {
	return t.Txn.(store.Prefetcher).Prefetch(keys)
}

// PrefetchWithHolders passes the read on when the wrapped transaction
// reads guards' holders along (store.HolderPrefetcher), or prefetches.
func (t countingPrefetchTxn) PrefetchWithHolders(keys [][]byte) error {
	if hp, ok := t.Txn.(store.HolderPrefetcher); ok {
		return hp.PrefetchWithHolders(keys)
	}
	return t.Txn.(store.Prefetcher).Prefetch(keys)
}

// PrefetchChain passes the read on when the wrapped transaction follows
// links (store.ChainPrefetcher), or reads the keys with holders and
// follows none.
func (t countingPrefetchTxn) PrefetchChain(keys [][]byte, links []store.Link) ([][]byte, error) {
	if cp, ok := t.Txn.(store.ChainPrefetcher); ok {
		return cp.PrefetchChain(keys, links)
	}
	return make([][]byte, len(links)), t.PrefetchWithHolders(keys)
}

// SetPrivate passes the write on as one no other transaction can make,
// when the wrapped transaction takes such writes (store.PrivateWriter).
func (t countingPrefetchTxn) SetPrivate(k, v []byte) error {
	t.note(k, len(v))
	if pw, ok := t.Txn.(store.PrivateWriter); ok {
		return pw.SetPrivate(k, v)
	}
	return t.Txn.Set(k, v)
}

// SetNew passes the write on as one of a key held to be absent, when the
// wrapped transaction takes such writes (store.NewWriter).
func (t countingPrefetchTxn) SetNew(k, v []byte) error {
	t.note(k, len(v))
	if nw, ok := t.Txn.(store.NewWriter); ok {
		return nw.SetNew(k, v)
	}
	return t.Txn.Set(k, v)
}

// NoteAbsent passes key on when the wrapped transaction takes it
// (store.AbsenceNoter); otherwise reading key reads the store, as before.
func (t *countingTxn) NoteAbsent(key []byte) {
	if an, ok := t.Txn.(store.AbsenceNoter); ok {
		an.NoteAbsent(key)
	}
}

// countingAdderTxn is a countingPrefetchTxn over a store.CountAdder; a
// count added is counted as a key written with its eight bytes.
type countingAdderTxn struct{ countingPrefetchTxn }

func (t countingAdderTxn) AddCounts(keys [][]byte, deltas []int64) error {
	for _, k := range keys {
		t.note(k, 8)
	}
	return t.Txn.(store.CountAdder).AddCounts(keys, deltas)
}
