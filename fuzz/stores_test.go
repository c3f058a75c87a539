package fuzz

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
	"github.com/irego/irego/store/postgres"
	"pgregory.net/rapid"
)

// Differential property 2: Badger and PostgreSQL agree. The same feed
// sequence (of at most two steps: every read is a round trip to the
// server), with the same clock and sys_id counter, applied to an engine
// on Badger on disk and one on PostgreSQL gives the same results and the
// same stores: every key and value, engine.Get of every CI and record
// (values, relations both ways, related records, sources) and every
// history. It runs where the store/postgres tests run (a server named by
// $IREGO_TEST_POSTGRES, or PostgreSQL's binaries installed) and is
// skipped, with the reason, elsewhere.
func TestPropBadgerAndPostgresAgree(t *testing.T) {
	t.Parallel()
	pg, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("badger.Open: %v", err)
	}
	a, b := openShared(t, db), openShared(t, pg)
	rapid.Check(t, func(t *rapid.T) {
		if v := checkSameStores(t, a.fresh(t), b.fresh(t)); v != "" {
			t.Fatal(v)
		}
	})
}

// checkSameStores feeds one sequence to a and b and returns the first
// difference between them ("" when there is none).
func checkSameStores(t *rapid.T, a, b *feedEngine) string {
	for k, s := range feedSteps(t, 2) {
		ra, rb := applyStep(t, a.Engine, s), applyStep(t, b.Engine, s)
		if diff := cmp.Diff(decoded(t, jsonOf(ra)), decoded(t, jsonOf(rb))); diff != "" {
			return fmt.Sprintf("step %d (%s): results differ (-a +b):\n%s\npayload: %s", k, s.source, diff, jsonOf(s.p))
		}
	}
	if diff := cmp.Diff(withoutSeq(dump(t, a.Engine)), withoutSeq(dump(t, b.Engine)), cmp.AllowUnexported(kv{})); diff != "" {
		return fmt.Sprintf("the stores' keys and values differ (-a +b):\n%s", diff)
	}
	ids := sysIDsOf(t, a.Engine)
	if diff := cmp.Diff(ids, sysIDsOf(t, b.Engine)); diff != "" {
		return fmt.Sprintf("the stores hold other records (-a +b):\n%s", diff)
	}
	ctx := context.Background()
	for _, id := range ids {
		ca, errA := a.Get(ctx, id)
		cb, errB := b.Get(ctx, id)
		if errA != nil || errB != nil {
			t.Fatalf("Get(%s): %v, %v", id, errA, errB)
		}
		if diff := cmp.Diff(jsonOf(ca), jsonOf(cb)); diff != "" {
			return fmt.Sprintf("Get(%s) differs (-a +b):\n%s", id, diff)
		}
		ha, errA := a.History(ctx, id)
		hb, errB := b.History(ctx, id)
		if errA != nil || errB != nil {
			t.Fatalf("History(%s): %v, %v", id, errA, errB)
		}
		if diff := cmp.Diff(jsonOf(ha), jsonOf(hb)); diff != "" {
			return fmt.Sprintf("History(%s) differs (-a +b):\n%s", id, diff)
		}
	}
	checkStore(t, a.Engine)
	checkStore(t, b.Engine)
	return ""
}

// historyPrefix starts every history key.
var historyPrefix = strings.TrimSuffix(string(store.HistoryPrefix("")), "/")

// reindexedBy is the process a stored rule set names as having indexed it.
var reindexedBy = regexp.MustCompile(`"reindexedBy":"[^"]*"`)

// withoutSeq drops from each history key its sequence number, which
// rises within a process (store.HistoryKey): two engines in one test
// number their changes apart. It also drops the process a rule set names.
func withoutSeq(kvs []kv) []kv {
	for i := range kvs {
		if strings.HasPrefix(kvs[i].k, historyPrefix) && len(kvs[i].k) >= 8 {
			kvs[i].k = kvs[i].k[:len(kvs[i].k)-8] + "#seq"
		}
		if kvs[i].k == "meta/ruleset" { // names the process that indexed the rules
			kvs[i].v = reindexedBy.ReplaceAllString(kvs[i].v, `"reindexedBy":"#process"`)
		}
	}
	return kvs
}

// A store that loses the history of updates is caught. It runs on two
// Badger stores, one of them broken, so that it also runs where
// PostgreSQL is not installed.
func TestStoresCatchAStoreLosingHistory(t *testing.T) {
	t.Parallel()
	db, err := badger.Open(badger.Options{InMemory: true})
	if err != nil {
		t.Fatalf("badger.Open in memory: %v", err)
	}
	a, b := openShared(t, nil), openShared(t, dropping{db, []byte(historyPrefix)})
	catches(t, func(t *rapid.T) string {
		return checkSameStores(t, a.fresh(t), b.fresh(t))
	})
}

// dropping is a broken store: it silently drops every write of a key
// under prefix.
type dropping struct {
	store.Store
	prefix []byte
}

func (d dropping) NewTxn() store.Txn { return droppingTxn{d.Store.NewTxn(), d.prefix} }

type droppingTxn struct {
	store.Txn
	prefix []byte
}

func (d droppingTxn) Set(k, v []byte) error {
	if bytes.HasPrefix(k, d.prefix) {
		return nil
	}
	return d.Txn.Set(k, v)
}
