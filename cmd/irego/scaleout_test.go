package main

import (
	"context"
	"sync"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/backend"
	"github.com/irego/irego/store/postgres/pgtest"
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

}
