package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/postgres"
	"github.com/irego/irego/store/storetest"
)

// roundTrips counts what a pool sends to the server: each query and each
// batch is one round trip. inserts counts the INSERTs sent in batches.
type roundTrips struct{ n, inserts atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	for _, q := range d.Batch.QueuedQueries {
		if strings.HasPrefix(q.SQL, "INSERT") {
			r.inserts.Add(1)
		}
	}
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// counted opens a store on a fresh schema whose round trips rt counts.
func counted(t *testing.T) (*postgres.DB, *roundTrips) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.New(context.Background(), pool, postgres.Options{})
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	return st, rt
}

// Prefetch reads many keys in one round trip; the Gets that follow answer
// from it, the transaction's own writes first, absent keys as absent.
func TestPrefetchReadsInOneRoundTrip(t *testing.T) {
	st, rt := counted(t)
	defer st.Close()
	w := st.NewTxn()
	w.Set([]byte("a"), []byte("1"))
	w.Set([]byte("b"), []byte("2"))
	w.Set([]byte("c"), []byte("old"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	tx := st.NewTxn()
	defer tx.Discard()
	tx.Set([]byte("c"), []byte("mine"))
	before := rt.n.Load()
	if err := tx.(store.Prefetcher).Prefetch([][]byte{[]byte("a"), []byte("b"), []byte("x"), []byte("c"), []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("Prefetch of 4 keys took %d round trips, want 1", n)
	}
	storetest.ExpectReads(t, tx, map[string]string{"a": "1", "b": "2", "c": "mine", "x": ""})
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("the Gets of prefetched keys took %d more round trips, want 0", n-1)
	}
	if _, err := tx.Get([]byte("y")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(y) = %v", err)
	}
	if n := rt.n.Load() - before; n != 2 {
		t.Errorf("a Get of a key not prefetched took %d round trips, want 1", n-1)
	}
}

// A batch of new BYOL chains reads what identifying and writing them needs
// in a few round trips for the whole batch, not one per payload or per key
// (378 and 631 round trips for these 40 payloads before the read-ahead, 85
// and 51 after it, 46 and 51 once keys under the batch's new CIs were no
// longer read, 7 and 12 once the index counts were read at commit and the
// read-ahead also read what writing its plans reads; 9 and 12 since the
// writes under new CIs are sent while the batch goes on; 8 to 10 and 12,
// the sends depending on the server's pace, since the index counts are
// added by the commit without reading them; 7 to 10 and 12 since the event
// counter is read ahead with what writing reads; 7 to 11 and 8 since the
// CIs the guards found name are read along with them; 7 to 11 and 5 since
// the read-ahead follows a guard it finds to the identities under its CI
// in the same round trip, level after level; 7 to 11 and 4 since the
// edges a last round asks for go with what writing reads). The load tool's
// counting wrapper keeps the read-ahead, or `irego bench --store
// postgres://…` measures a round trip per read.
func TestBatchRoundTrips(t *testing.T) {
	for _, c := range []struct {
		name string
		wrap func(store.Store) store.Store
	}{
		{"store", func(st store.Store) store.Store { return st }},
		{"bench counting", func(st store.Store) store.Store { return bench.NewCounting(st) }},
	} {
		t.Run(c.name, func(t *testing.T) { testBatchRoundTrips(t, c.wrap) })
	}
}

func testBatchRoundTrips(t *testing.T, wrap func(store.Store) store.Store) {
	st, rt := counted(t)
	e, err := engine.Open("", engine.Options{Store: wrap(st)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Rounds of the read-ahead (one round trip each), one for what writing
	// reads, the sends of private writes, and the commit's.
	const n, maxTrips, maxKnownTrips = 40, 16, 5
	ps := make([]*payload.Payload, n)
	items := 0
	for i := range ps {
		ps[i] = bench.Chain(i, 0, 3)
		items += bench.Items(ps[i])
	}
	// Without partial payloads: the engine looks for stored ones in a
	// snapshot of its own at most once a second (partialHint), so a run
	// slower than that (under -race, on a busy machine) made two more
	// round trips in either batch.
	o := engine.DefaultApplyOptions()
	o.PartialPayloads = false
	before := rt.n.Load()
	res, err := e.ApplyBatch(context.Background(), "ServiceNow", ps, o)
	if err != nil {
		t.Fatal(err)
	}
	trips := rt.n.Load() - before
	t.Logf("%d payloads, %d items: %d round trips", n, items, trips)
	for i, r := range res {
		for j, it := range r.Items {
			if len(it.Errors) > 0 || it.SysID == "" {
				t.Fatalf("payload %d item %d: %+v", i, j, it)
			}
		}
	}
	if trips > maxTrips {
		t.Errorf("%d round trips for %d payloads, want at most %d", trips, n, maxTrips)
	}
	if problems, err := e.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Errorf("check: %v %v", problems, err)
	}
	// The same payloads again change nothing, and their reads are batched too.
	before = rt.n.Load()
	res, err = e.ApplyBatch(context.Background(), "ServiceNow", ps, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		for j, it := range r.Items {
			if it.Operation != "NO_CHANGE" {
				t.Fatalf("payload %d item %d again: %s, want NO_CHANGE", i, j, it.Operation)
			}
		}
	}
	trips = rt.n.Load() - before
	t.Logf("the same again: %d round trips", trips)
	if trips > maxKnownTrips {
		t.Errorf("repeating them: %d round trips for %d payloads, want at most %d", trips, n, maxKnownTrips)
	}
}

// A key noted absent reads as absent without a round trip, unless the
// transaction wrote it or read it before.
func TestNoteAbsent(t *testing.T) {
	st, rt := counted(t)
	defer st.Close()
	w := st.NewTxn()
	w.Set([]byte("read"), []byte("1"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	tx := st.NewTxn()
	defer tx.Discard()
	if _, err := tx.Get([]byte("read")); err != nil {
		t.Fatal(err)
	}
	tx.Set([]byte("written"), []byte("mine"))
	before := rt.n.Load()
	an := tx.(store.AbsenceNoter)
	for _, k := range []string{"fresh", "read", "written"} {
		an.NoteAbsent([]byte(k))
	}
	storetest.ExpectReads(t, tx, map[string]string{"fresh": "", "read": "1", "written": "mine"})
	if n := rt.n.Load() - before; n != 0 {
		t.Errorf("noting and reading took %d round trips, want 0", n)
	}
	tx.Set([]byte("fresh"), []byte("new"))
	if v, err := tx.Get([]byte("fresh")); err != nil || string(v) != "new" {
		t.Errorf("Get(fresh) after writing it = %q, %v", v, err)
	}
}

// PrefetchWithHolders reads, in the one round trip, the record of the CI
// each identity guard among the keys names as its only holder, and nothing
// for a guard with two holders, an absent guard or a key that is no guard;
// what it read answers Gets as Prefetch's does.
func TestPrefetchWithHoldersReadsTheirRecords(t *testing.T) {
	st, rt := counted(t)
	defer st.Close()
	one, two := store.IdentityKey("rule", "", []string{"one"}, []bool{false}), store.IdentityKey("rule", "", []string{"two"}, []bool{false})
	a, b, c := strings.Repeat("a", 32), strings.Repeat("b", 32), strings.Repeat("c", 32)
	storeGuards(t, st, []holding{{one, a}, {two, b}, {two, c}}, a, b, c)
	tx := st.NewTxn()
	defer tx.Discard()
	absent := store.IdentityKey("rule", "", []string{"none"}, []bool{false})
	before := rt.n.Load()
	if err := tx.(store.HolderPrefetcher).PrefetchWithHolders([][]byte{one, two, absent, []byte("x/plain")}); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("PrefetchWithHolders took %d round trips, want 1", n)
	}
	storetest.ExpectReads(t, tx, map[string]string{string(store.CIKey(a)): "record a", "x/plain": "v", string(absent): ""})
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("reading the only holder's record and the keys took %d more round trips, want 0", n-1)
	}
	storetest.ExpectReads(t, tx, map[string]string{string(store.CIKey(b)): "record b"})
	if n := rt.n.Load() - before; n != 2 {
		t.Errorf("a record of one of two holders: %d round trips in all, want 2 (not read along)", n)
	}
}

// PrefetchChain follows the guards it reads to the identities scoped under
// their only holders, level after level, in the same round trip; what it
// read answers the Gets that follow, keys found absent included.
func TestPrefetchChainFollowsGuards(t *testing.T) {
	st, rt := counted(t)
	defer st.Close()
	key := func(entry, scope, value string) []byte {
		return store.IdentityKey(entry, scope, []string{value}, []bool{false})
	}
	link := func(guard int, entry, value string) store.Link {
		prefix, _, suffix, ok := store.SplitIdentityKey(key(entry, "made-up", value))
		if !ok {
			t.Fatal("not an identity key")
		}
		return store.Link{Guard: guard, Prefix: prefix, Suffix: suffix}
	}
	acct, dc, host, x, y := strings.Repeat("a", 32), strings.Repeat("d", 32), strings.Repeat("h", 32), strings.Repeat("x", 32), strings.Repeat("y", 32)
	storeGuards(t, st, []holding{{key("account", "", "a1"), acct}, {key("dc", acct, "us-east"), dc}, {key("host", dc, "h1"), host},
		{key("shared", "", "s"), x}, {key("shared", "", "s"), y}, {key("dc", x, "us-east"), dc}}, acct, dc, host)

	tx := st.NewTxn()
	defer tx.Discard()
	read := key("read", "", "before")
	if _, err := tx.Get(read); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	keys := [][]byte{key("account", "", "a1"), []byte("x/plain"), key("shared", "", "s"), key("account", "", "none"), read}
	links := []store.Link{
		link(0, "dc", "us-east"), // 5: the account's datacenter
		link(5, "host", "h1"),    // 6: under it, the host
		link(6, "vm", "v1"),      // 7: under the host, a VM never stored
		link(7, "sw", "s1"),      // 8: under that absent VM: not followed
		link(2, "dc", "us-east"), // 9: under a guard two CIs hold: not followed
		link(3, "dc", "us-east"), // 10: under an absent guard: not followed
		link(4, "dc", "us-east"), // 11: under a guard read before: not followed
		link(1, "dc", "us-east"), // 12: under a key that is no guard: not followed
	}
	before := rt.n.Load()
	got, err := tx.(store.ChainPrefetcher).PrefetchChain(keys, links)
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("PrefetchChain took %d round trips, want 1", n)
	}
	want := [][]byte{key("dc", acct, "us-east"), key("host", dc, "h1"), key("vm", host, "v1"), nil, nil, nil, nil, nil}
	for i := range links {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("link %d read %q, want %q", i, got[i], want[i])
		}
	}
	storetest.ExpectReads(t, tx, map[string]string{
		string(store.CIKey(acct)): "record a", string(store.CIKey(dc)): "record d", string(store.CIKey(host)): "record h",
		"x/plain": "v", string(key("vm", host, "v1")): "", string(key("account", "", "none")): ""})
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("reading what the chain read took %d more round trips, want 0", n-1)
	}
	if _, err := tx.Get(key("dc", x, "us-east")); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load() - before; n != 2 {
		t.Errorf("a key under one of two holders: %d round trips in all, want 2 (not read along)", n)
	}
}

// holding is a CI holding an identity.
type holding struct {
	guard []byte
	id    string
}

// storeGuards commits the holdings, a record "record <first letter>" for
// each CI of records, and the key x/plain.
func storeGuards(t *testing.T, st store.Store, holds []holding, records ...string) {
	t.Helper()
	w := st.NewTxn()
	for _, h := range holds {
		if err := store.HoldIdentity(w, h.guard, h.id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range records {
		w.Set(store.CIKey(id), []byte("record "+id[:1]))
	}
	w.Set([]byte("x/plain"), []byte("v"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}
