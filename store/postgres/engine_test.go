package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/postgres"
)

// Two engines on one database, as two irego processes on two machines
// would be, opened at the same moment on an empty database, take
// concurrent payloads that share an account and a datacenter chain: every
// identity gets exactly one CI, and the store stays consistent.
func TestTwoEnginesShareOneDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	engines := make([]*engine.Engine, 2)
	var wg sync.WaitGroup
	for i := range engines {
		wg.Go(func() {
			st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			e, err := engine.Open("", engine.Options{Store: st})
			if err != nil {
				t.Error(err)
				return
			}
			engines[i] = e
			t.Cleanup(func() { e.Close() })
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	byol, err := os.ReadFile("../../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	opts := engine.ApplyOptions{PartialCommits: true, DeduplicatePayloads: true}
	const writers = 12
	accounts := make([]string, writers)
	for g := range writers {
		wg.Go(func() {
			e := engines[g%2]
			for _, body := range []string{string(byol), fmt.Sprintf(`{"items":[
				{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"dc-%d"}},
				{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"shared"}}],
				"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1}]}`, g%4)} {
				p, err := payload.DecodeBytes([]byte(body))
				if err != nil {
					t.Error(err)
					return
				}
				res, err := e.Apply(context.Background(), "ServiceNow", p, opts)
				if err != nil || res.HasError {
					t.Errorf("writer %d: %v %+v", g, err, res)
					return
				}
				accounts[g] = res.Items[len(res.Items)-1].SysID
			}
		})
	}
	wg.Wait()
	for _, id := range accounts {
		if id != accounts[0] {
			t.Fatalf("the shared account got several sys_ids: %v", accounts)
		}
	}
	n := map[string]int{}
	if err := engines[1].Records(context.Background(), func(r *store.Record) error { n[r.Class]++; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"cmdb_ci_computer": 1, "cmdb_sam_sw_install": 1, "cmdb_ci_vm_instance": 1, "cmdb_ci_cloud_host": 1,
		"cmdb_ci_aws_datacenter": 1 + 4, "cmdb_ci_cloud_service_account": 2}
	if fmt.Sprint(n) != fmt.Sprint(want) {
		t.Errorf("records per class: got %v, want %v", n, want)
	}
	for i, e := range engines {
		problems, err := e.Check(context.Background())
		if err != nil || len(problems) > 0 {
			t.Errorf("engine %d: Check: %v\n%s", i, err, strings.Join(problems, "\n"))
		}
	}
	// The example once more, through each engine: nothing left to do.
	for i, e := range engines {
		p, _ := payload.DecodeBytes(byol)
		res, err := e.Apply(context.Background(), "ServiceNow", p, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if it.Operation != "NO_CHANGE" {
				t.Errorf("engine %d: %s answered %s on the third apply, want NO_CHANGE", i, it.ClassName, it.Operation)
			}
		}
	}
}

// Payloads racing to report one group of duplicates, through two engines
// on one database, open one de-duplication task.
func TestConcurrentDuplicateReportsOpenOneTask(t *testing.T) {
	dsn := pgtest.DSN(t)
	var engines []*engine.Engine
	for range 2 {
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Open("", engine.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		engines = append(engines, e)
	}
	ctx := context.Background()
	for _, serial := range []string{"S1", "S2", "S3"} {
		p, err := payload.DecodeBytes([]byte(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"` + serial + `","name":"localhost"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := engines[0].Apply(ctx, "SCCM", p, engine.DefaultApplyOptions()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			p, err := payload.DecodeBytes([]byte(fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost","ram":%d}}]}`, i)))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := engines[i%2].Apply(ctx, "SCCM", p, engine.DefaultApplyOptions()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tasks, err := engines[1].DuplicateTasks(ctx, "")
	if err != nil || len(tasks) != 1 || len(tasks[0].CIs) != 3 {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
	if problems, err := engines[0].Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check: %q %v", problems, err)
	}
}

// Engines opened at the same moment on an empty database all record the
// rules' fingerprints: a conflicting fingerprint write is retried, not
// reported (it failed about one run in a hundred with SQLSTATE 40001).
func TestConcurrentOpensRetryFingerprintConflicts(t *testing.T) {
	for round := range 4 {
		dsn := pgtest.DSN(t)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
				if err != nil {
					t.Error(err)
					return
				}
				e, err := engine.Open("", engine.Options{Store: st})
				if err != nil {
					t.Errorf("round %d: %v", round, err)
					st.Close()
					return
				}
				e.Close()
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
}

// The read-ahead identifies payloads with sys_ids of its own before the
// real run; those never name a stored CI. They were 1, 2, 3, … as hex, so
// where stored sys_ids are small numbers too (a test's, an import's), a
// new CI of the read-ahead took a stored serial number record's sys_id,
// and identification panicked on the lookup that found that record.
func TestReadAheadSysIDsNameNoStoredCI(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The first payload makes a server, its install and its serial number
	// record, in that order; the record gets sys_id 11 (0…0b), the sys_id
	// the read-ahead's rounds over the second payload reach when they make
	// its new Windows server, before the other server's lookup finds the
	// record. Every other sys_id is 200 and up.
	ids, next := []int{200, 201, 11}, 300
	e, err := engine.Open("", engine.Options{Store: st, NewSysID: func() string {
		n := next
		if len(ids) > 0 {
			n, ids = ids[0], ids[1:]
		} else {
			next++
		}
		return fmt.Sprintf("%032x", n)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	for i, p := range []string{
		`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"","ram":2},
			"related":[{"className":"cmdb_sam_sw_install","values":{"display_name":"Database","publisher":"Oracle","version":"19c"}}],
			"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S1","serial_number_type":"uuid"}}]}]}`,
		`{"items":[{"className":"cmdb_ci_win_server","values":{"name":"","ram":1},
			"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S3","serial_number_type":"system"}}]},
			{"className":"cmdb_ci_win_server","values":{"ram":2,"serial_number":""},
			"related":[{"className":"cmdb_sam_sw_install","values":{"display_name":"Database","publisher":"Oracle","version":"19c"}}],
			"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S1","serial_number_type":"uuid"}}]}]}`,
	} {
		p, err := payload.DecodeBytes([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Apply(ctx, "AWS", p, engine.ApplyOptions{PartialCommits: true, DeduplicatePayloads: true})
		if err != nil || res.HasError {
			t.Fatalf("payload %d: %v %+v", i, err, res)
		}
	}
	problems, err := e.Check(ctx)
	if err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %q", err, problems)
	}
}

// On PostgreSQL too the index serves filters and orders on name, both
// ways, without reading a record beyond the page's.
func TestIndexedSelectionsOnPostgres(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open("", engine.Options{Store: st, MaxScan: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := e.Loader()
	for i := range 20 {
		name := fmt.Sprintf("host-%02d", i)
		if i%2 == 1 {
			name = strings.ToUpper(name)
		}
		if err := l.PutCI(&store.Record{SysID: fmt.Sprintf("%032x", uint64(i+1)*0x9e3779b97f4a7c15), Class: "cmdb_ci_computer", Values: map[string]any{"name": name}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    engine.Selection
		want string
	}{
		{engine.Selection{Class: "cmdb_ci", OrderBy: "name", Desc: true, Offset: 1, Limit: 3}, "host-18 HOST-17 host-16"},
		{engine.Selection{Class: "cmdb_ci_computer", OrderBy: "name", Limit: 3}, "host-00 HOST-01 host-02"},
		{engine.Selection{Class: "cmdb_ci", Filters: []engine.Filter{{Attribute: "name", Values: []string{"host-1"}, Prefix: true}}, OrderBy: "name", Desc: true, Limit: 2}, "HOST-19 host-18"},
		{engine.Selection{Class: "cmdb_ci", Filters: []engine.Filter{{Attribute: "name", Values: []string{"HOST-04", "host-05"}}}, Limit: 5}, "HOST-05 host-04"},
	} {
		pg, err := e.Select(context.Background(), c.s)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range pg.Records {
			got = append(got, payload.Canonical(r.Values["name"]))
		}
		if c.s.OrderBy == "" {
			slices.Sort(got) // in sys_id order
		}
		if strings.Join(got, " ") != c.want || pg.Scanned != 0 || pg.Capped {
			t.Errorf("%+v: %q (scanned %d, capped %v), want %q", c.s, got, pg.Scanned, pg.Capped, c.want)
		}
	}
}
