package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// Whatever order the loader indexes them in, the oldest of the CIs that
// share a unique identity holds it, and one task names them oldest first.
func TestLoaderGivesASharedUniqueIdentityToTheOldest(t *testing.T) {
	ctx := context.Background()
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	young, mid, old := strings.Repeat("a", 32), strings.Repeat("b", 32), strings.Repeat("c", 32)
	l := e.Loader()
	for i, id := range []string{young, mid, old} {
		rec := &store.Record{SysID: id, Class: "cmdb_ci_linux_server", Values: map[string]any{"serial_number": "SER", "name": "n" + id[:1]},
			Created: day.AddDate(0, 0, -i), Updated: day}
		if err := l.PutCI(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.PutEdge(&store.Edge{SysID: strings.Repeat("d", 32), Type: "Depends on::Used by", Parent: young, Child: strings.Repeat("e", 32)}); !errors.Is(err, engine.ErrNoCI) {
		t.Fatalf("an edge to a CI not loaded: %v", err)
	}
	st, err := l.Index(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 3 || len(st.Tasks) != 1 || strings.Join(st.Tasks[0].CIs, ",") != old+","+mid+","+young {
		t.Fatalf("index: %+v", st)
	}
	if problems, err := e.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check: %q %v", problems, err)
	}
	res, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_linux_server","values":{"serial_number":"SER"}}]}`), engine.DefaultApplyOptions())
	if err != nil || res.Items[0].SysID != old {
		t.Fatalf("the serial identifies the oldest: %+v %v", res.Items[0], err)
	}
	// Dismissed, the task no longer accounts for the younger CIs.
	if _, err := e.DismissDuplicates(ctx, st.Tasks[0].Number, "checked"); err != nil {
		t.Fatal(err)
	}
	if problems, _ := e.Check(ctx); len(problems) != 2 {
		t.Fatalf("check after dismissing: %q", problems)
	}
}

// Index stops when its context is cancelled, also within a run of sys_ids,
// and a second Index finishes the work.
func TestLoaderIndexStopsWhenCancelled(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := e.Loader()
	const n = 10001 // progress is reported every 10000 records
	for i := range n {
		rec := &store.Record{SysID: fmt.Sprintf("aa%030x", i), Class: "cmdb_ci_linux_server", Values: map[string]any{"serial_number": fmt.Sprint(i)}}
		if err := l.PutCI(rec); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := l.Index(ctx, func(done int) { cancel() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled index: %v", err)
	}
	// What the last, uncommitted batch indexed is left for the next Index.
	if problems, _ := e.Check(context.Background()); len(problems) == 0 || len(problems) > 1000 {
		t.Fatalf("%d CIs left without their identities, want the last batch's", len(problems))
	}
	if _, err := e.Loader().Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if problems, err := e.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %q %v", problems, err)
	}
}
