package main

import (
	"context"
	"sync"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/backend"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTwoServersShareOnePostgreSQL runs two irego serve processes on one
// PostgreSQL database and sends both, concurrently, BYOL chains that share
// accounts and datacenters, each chain to both servers at once. The store
// must end with exactly one CI per identity and every chain in it.
func TestTwoServersShareOnePostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and two server processes")
	}
	dsn := pgtest.DSN(t)
	bin := buildIrego(t)
	var bases []string
	for range 2 {
		cmd, base := startServeProcess(t, bin, dsn)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		bases = append(bases, base)
	}
	const chains = 60 // 6 datacenters, 1 account
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan string, 2*chains)
	sem := make(chan struct{}, 16)
	for k := range chains {
		for _, base := range bases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				for attempt := 0; attempt < 20; attempt++ { // 503s ask to retry
					if _, ok := post(ctx, base, k); ok {
						return
					}
				}
				errs <- base
			}()
		}
	}
	wg.Wait()
	close(errs)
	for base := range errs {
		t.Errorf("a payload to %s never succeeded", base)
	}

	st, err := backend.OpenURL(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open("", engine.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	counts := map[string]int{}
	if err := e.Records(ctx, func(r *store.Record) error { counts[r.Class]++; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"cmdb_ci_computer": chains, "cmdb_ci_vm_instance": chains, "cmdb_ci_cloud_host": chains,
		"cmdb_ci_aws_datacenter": chains / 10, "cmdb_ci_cloud_service_account": 1, "cmdb_sam_sw_install": 2 * chains}
	for class, n := range want {
		if counts[class] != n {
			t.Errorf("%s: %d CIs, want %d", class, counts[class], n)
		}
	}
	if problems, err := e.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", problems, err)
	}
	checkSharedEvents(t, e)
}

// checkSharedEvents checks the change events two processes wrote to one
// store: one gapless sequence, each commit's events together, one insert
// per record, and each record at the version of its last event.
func checkSharedEvents(t *testing.T, e *engine.Engine) {
	t.Helper()
	ctx := context.Background()
	evs, err := e.ReadEvents(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	lastOf, inserts, commits := map[string]uint64{}, map[string]int{}, map[uint64]bool{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d is numbered %d", i+1, ev.Seq)
		}
		if ev.Commit != ev.Seq && (i == 0 || evs[i-1].Commit != ev.Commit) || ev.Commit == ev.Seq && commits[ev.Commit] {
			t.Fatalf("event %d of commit %d is apart from the rest of its commit", ev.Seq, ev.Commit)
		}
		commits[ev.Commit] = true
		lastOf[ev.SysID] = ev.Seq
		if ev.Op == "INSERT" {
			inserts[ev.SysID]++
		}
	}
	n := 0
	if err := e.Records(ctx, func(r *store.Record) error {
		n++
		if inserts[r.SysID] != 1 || r.Version != lastOf[r.SysID] {
			t.Errorf("%s %s: %d inserts, version %d, last event %d", r.Class, r.SysID, inserts[r.SysID], r.Version, lastOf[r.SysID])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events in %d commits for %d records", len(evs), len(commits), n)
}
