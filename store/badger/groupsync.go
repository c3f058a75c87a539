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

func newGroupSync(syncLog func() error) *groupSync {
	g := &groupSync{syncLog: syncLog}
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
		covers, before := g.requested, g.synced
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
