package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The server plans a prepared statement (pgx prepares every one) from the
// table's statistics, and after a few runs keeps a generic plan for the
// connection's life. A plan made while the table was new and nearly empty
// reads `key = ANY($1)` by scanning the table, which was cheapest then, and
// is kept as the table grows until the table is analyzed again: autovacuum
// does so within a minute or more. Meanwhile every read-ahead round of a
// busy store scanned the whole table: runs of `irego bench` on a fresh
// database went at a third of their speed, in two runs of five. So the
// store analyzes the table itself when the rows it has written pass a
// thousand, and again at every fourfold: an analysis renews the statistics
// and makes every connection plan its statements again.
const (
	firstAnalyze   = 1000
	analyzeGrowth  = 4
	analyzeTimeout = 5 * time.Minute
)

// analyzer counts the rows the store's commits wrote and analyzes the table
// when the count passes next.
type analyzer struct {
	written, next atomic.Int64
	ctx           context.Context // canceled by Close
	cancel        context.CancelFunc
	running       sync.WaitGroup
}

func newAnalyzer() *analyzer {
	a := &analyzer{}
	a.next.Store(firstAnalyze)
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a
}

// wrote counts rows a commit wrote, and starts an analysis of the table
// when they pass the next mark.
func (d *DB) wrote(rows int) {
	a := d.analyzer
	n, next := a.written.Add(int64(rows)), a.next.Load()
	if n < next || !a.next.CompareAndSwap(next, max(next, n)*analyzeGrowth) {
		return
	}
	a.running.Go(func() { d.analyzeTable() })
}

// analyzeTable runs ANALYZE on a connection of its own, outside the pool,
// whose connections belong to transactions and snapshots. It is upkeep:
// a failure (a role that does not own the table, a database without
// ANALYZE) only leaves the statistics to autovacuum, and the callers'
// tracer is not told of it.
func (d *DB) analyzeTable() {
	ctx, cancel := context.WithTimeout(d.analyzer.ctx, analyzeTimeout)
	defer cancel()
	cfg := d.pool.Config().ConnConfig.Copy()
	cfg.Tracer = nil
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	conn.Exec(ctx, "ANALYZE "+d.sql.table)
}

// stop cancels an analysis under way and waits for it to end.
func (a *analyzer) stop() {
	a.cancel()
	a.running.Wait()
}
