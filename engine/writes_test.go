package engine_test

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// keyLog wraps a store and records the keys its committed transactions
// wrote.
type keyLog struct {
	store.Store
	mu   sync.Mutex
	keys []string
}

func (l *keyLog) NewTxn() store.Txn { return &keyLogTxn{Txn: l.Store.NewTxn(), l: l} }

func (l *keyLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys
	l.keys = nil
	return k
}

type keyLogTxn struct {
	store.Txn
	l    *keyLog
	keys []string
}

func (t *keyLogTxn) Set(k, v []byte) error {
	t.keys = append(t.keys, string(k))
	return t.Txn.Set(k, v)
}
func (t *keyLogTxn) Delete(k []byte) error {
	t.keys = append(t.keys, string(k))
	return t.Txn.Delete(k)
}
func (t *keyLogTxn) Commit() error {
	if err := t.Txn.Commit(); err != nil {
		return err
	}
	t.l.mu.Lock()
	t.l.keys = append(t.l.keys, t.keys...)
	t.l.mu.Unlock()
	t.keys = nil
	return nil
}

// openLogged opens an engine on a Badger store whose committed keys are
// logged. Batched last_discovered moves wait for Close: written by the
// engine every second, they would land in whichever payload's log a slow
// run had open.
func openLogged(t *testing.T) (*engine.Engine, *keyLog) {
	t.Helper()
	st, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log := &keyLog{Store: st}
	e, err := engine.OpenStore(log, engine.Options{LastDiscoveredFlush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, log
}

// countByPrefix counts keys by their first two path parts (v1/ci, v1/cls, …).
func countByPrefix(keys []string) map[string]int {
	out := map[string]int{}
	for _, k := range keys {
		parts := strings.SplitN(k, "/", 3)
		out[strings.Join(parts[:min(2, len(parts))], "/")]++
	}
	return out
}

// TestUnchangedKeysAreNotWritten: an update writes the CI's class key only
// when its class changes, and a repeated payload writes, per item, its
// source's entry; nothing else (the records' last_discovered moves wait for
// their batch).
func TestUnchangedKeysAreNotWritten(t *testing.T) {
	e, log := openLogged(t)
	ctx := context.Background()
	send := func(version int) {
		t.Helper()
		res, err := e.Apply(ctx, "ServiceNow", bench.Chain(7, version, 2), engine.DefaultApplyOptions())
		if err != nil || res.HasError {
			t.Fatalf("apply: %v %+v", err, res)
		}
	}
	send(0)
	// The insert's index count deltas are folded now, not while a later
	// payload's writes are being logged.
	if err := engine.FoldCounts(e); err != nil {
		t.Fatal(err)
	}
	if n := countByPrefix(log.take())["v1/cls"]; n != 7 {
		t.Fatalf("insert wrote %d class keys, want 7 (5 CIs, 2 installs)", n)
	}
	send(1) // the computer's RAM changes
	got := countByPrefix(log.take())
	if got["v1/cls"] != 0 {
		t.Fatalf("an update that keeps the class wrote %d class keys", got["v1/cls"])
	}
	if got["v1/hist"] != 1 {
		t.Fatalf("update: %d history entries, want 1: %v", got["v1/hist"], got)
	}
	send(1) // a repeat
	got = countByPrefix(log.take())
	// the source entries of the 5 items (each with its last report); the
	// records' last_discovered moves wait for their batch
	if want := map[string]int{"v1/src": 5}; !maps.Equal(got, want) {
		t.Fatalf("a repeated payload wrote %v, want %v", got, want)
	}
	checkClean(t, e)
}

// A connector sends its native key with every item; the key is written
// when it comes to name the CI, not again on every report.
func TestNativeKeyWrittenOncePerCI(t *testing.T) {
	e, log := openLogged(t)
	send := func(name, nativeKey string, cpus int) {
		t.Helper()
		body := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"` + name + `","cpu_count":` + strconv.Itoa(cpus) +
			`},"sys_object_source_info":{"source_native_key":"` + nativeKey + `"}}]}`
		res, err := e.Apply(context.Background(), "SCCM", mustDecode(t, body), engine.DefaultApplyOptions())
		if err != nil || res.HasError {
			t.Fatalf("apply: %v %+v", err, res)
		}
	}
	for _, step := range []struct {
		name, nativeKey string
		cpus, want      int
	}{
		{"c1", "sccm-1", 2, 1}, // the insert names it
		{"c1", "sccm-1", 2, 0}, // unchanged
		{"c1", "sccm-1", 4, 0}, // an update of the CI
		{"c1", "sccm-2", 4, 1}, // the source's key for the CI changed
		{"c2", "sccm-3", 2, 1}, // another CI
		{"c2", "sccm-3", 2, 0},
	} {
		if got := countByPrefix(log.take())["v1/nk"]; got != 0 {
			t.Fatalf("before %+v: %d native keys written outside a report", step, got)
		}
		send(step.name, step.nativeKey, step.cpus)
		if got := countByPrefix(log.take())["v1/nk"]; got != step.want {
			t.Errorf("%+v: %d native keys written, want %d", step, got, step.want)
		}
	}
	checkClean(t, e)
}
