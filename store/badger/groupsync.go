package badger

import (
	"sync"
	"sync/atomic"
	"time"
)

// groupSync makes commits durable in groups: Badger's own SyncWrites syncs
// the log once per transaction, so concurrent committers queue behind one
// fsync each. Instead every committer, once its transaction is in the log,
// waits for one sync that started after it; a sync covers everyone who
// committed before it began, so N concurrent commits cost about one fsync.
type groupSync struct {
	syncLog func() error
	// pause waits before a sync while other writers are open (commitDelay);
	// time.Sleep but in tests.
	pause func(time.Duration)

	// writers counts the write transactions open: written to, not yet
	// committed or discarded.
	writers atomic.Int64

	mu        sync.Mutex
	cond      *sync.Cond
	requested uint64 // committers that asked for durability
	synced    uint64 // committers covered by the last finished sync
	running   bool
	err       error

	// observe, when set, learns every sync: how many commits it covered
	// and how long it took.
	observe atomic.Pointer[func(commits int, took time.Duration)]
}

// A sync starts commitDelay late when at least commitSiblings write
// transactions are open, so that their commits, due any moment, share it
// (PostgreSQL's commit_delay and commit_siblings). An fsync of Badger's
// memory-mapped logs costs the whole process more than its own time: at
// 64 clients, syncing as soon as a commit asked made about 3 commits per
// fsync and ran at 0.66–0.71 of the unsynced throughput; waiting 1 ms made
// about 10 and 0.77–0.82 (README, Performance). With fewer writers open
// the wait would only add latency: a single client would run at half
// speed.
const (
	commitDelay    = time.Millisecond
	commitSiblings = 4
)

func newGroupSync(syncLog func() error) *groupSync {
	g := &groupSync{syncLog: syncLog, pause: time.Sleep}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait returns once everything committed before the call is on stable
// storage, or the error of the sync that should have put it there.
func (g *groupSync) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requested++
	me := g.requested
	for g.synced < me {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		before := g.synced
		if g.writers.Load() >= commitSiblings {
			g.mu.Unlock()
			g.pause(commitDelay)
			g.mu.Lock()
		}
		covers := g.requested // every one of them committed before asking
		g.mu.Unlock()
		start := time.Now()
		err := g.syncLog()
		if fn := g.observe.Load(); fn != nil {
			(*fn)(int(covers-before), time.Since(start))
		}
		g.mu.Lock()
		g.running, g.synced, g.err = false, covers, err
		g.cond.Broadcast()
	}
	return g.err
}

// opened counts a write transaction from its first write; closed, once it
// committed or was discarded.
func (g *groupSync) opened() { g.writers.Add(1) }
func (g *groupSync) closed() { g.writers.Add(-1) }
