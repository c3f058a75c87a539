package license_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/settings"
	"github.com/irego/irego/store"
)

// estate is n computers (numbered from first), a quarter of them on VMs on dedicated hosts (two
// computers a host), a quarter on shared VMs, the rest bare, each with one
// to three IBM titles. Core counts change with the day, so peaks fall on
// different days.
func estate(first, n, day int) *payload.Payload {
	type m = map[string]any
	r := rand.New(rand.NewPCG(uint64(day), uint64(first)))
	p := &payload.Payload{}
	add := func(class string, values m) int {
		p.Items = append(p.Items, payload.Item{ClassName: class, Values: values})
		return len(p.Items) - 1
	}
	rel := func(typ string, parent, child int) {
		p.Relations = append(p.Relations, payload.Relation{Type: typ, Parent: parent, Child: child})
	}
	account := add("cmdb_ci_cloud_service_account", m{"account_id": "111122223333"})
	dc := add("cmdb_ci_aws_datacenter", m{"object_id": "eu-west-1"})
	rel("Hosted on::Hosts", dc, account)
	host := -1
	for i := first; i < first+n; i++ {
		ci := add("cmdb_ci_computer", m{"name": fmt.Sprintf("comp-%d", i), "cpu_count": 1, "cpu_core_count": 1 + r.IntN(8), "cpu_core_thread": 2, "virtual": true})
		for _, title := range []string{"Db2", "MQ", "WebSphere"}[:1+i%3] {
			p.Items[ci].Related = append(p.Items[ci].Related, payload.Related{ClassName: license.InstallClass,
				Values: m{"publisher": "IBM", "display_name": title, "version": "11", "cloud_license_type": "BYOL", "cloud_license_type_source": "third_party_integration"}})
		}
		switch i % 4 {
		case 0, 1:
			vm := add("cmdb_ci_vm_instance", m{"object_id": fmt.Sprintf("i-%d", i)})
			rel(license.VirtualizedBy, ci, vm)
			if i%4 == 0 {
				host = add("cmdb_ci_cloud_host", m{"object_id": fmt.Sprintf("h-%d", i), "name": fmt.Sprintf("host-%d", i), "cpu_core_count": 8 + r.IntN(8)})
				rel("Hosted on::Hosts", host, dc)
				rel(license.RunsOn, vm, host)
			} else {
				rel("Hosted on::Hosts", vm, dc)
			}
		}
	}
	return p
}

func applyPayload(tb testing.TB, e *engine.Engine, p *payload.Payload) {
	tb.Helper()
	res, err := e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil || res.HasError {
		tb.Fatalf("apply: %v", err)
	}
}

// product renders a row of Compliance or ProductUsage for comparison.
func product(titleID uint64, metric string, q float64, d string) string {
	return fmt.Sprintf("%d %s %g@%s", titleID, metric, q, d)
}

// fromSnapshots is what the usage snapshots give for All Computers over
// the window: ProductUsage, which never reads the summaries.
func fromSnapshots(t *testing.T, m *license.Manager) []string {
	t.Helper()
	st, err := m.State()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := m.ProductUsage(context.Background(), license.AllComputers, st.PeriodStart(), st.Day)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, product(r.Title.ID, r.Metric.CodeName, r.Quantity, r.Day))
	}
	return out
}

func compliance(t *testing.T, m *license.Manager) []string {
	t.Helper()
	rows, _, err := m.Compliance(context.Background(), license.AllComputers)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, product(r.Title.ID, r.Metric.CodeName, r.Peak, r.PeakDay))
	}
	return out
}

// checkPeaksOf compares PeaksOf, for every title and metric, with Peaks
// filtered and ordered largest first (then by computer system id), whole
// and cut to one row.
func checkPeaksOf(t *testing.T, m *license.Manager) {
	t.Helper()
	ctx := context.Background()
	all, _, err := m.Peaks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	render := func(p license.PeakUsage) string {
		return fmt.Sprintf("%d %s %d %s %g@%s %s", p.System.ID, p.System.SysID, p.Title.ID, p.Metric.CodeName, p.Value, p.Day, p.At)
	}
	type key struct {
		title  uint64
		metric string
	}
	want := map[key][]license.PeakUsage{}
	for _, p := range all { // in computer system order
		k := key{p.Title.ID, p.Metric.CodeName}
		want[k] = append(want[k], p)
	}
	for k, rows := range want {
		slices.SortStableFunc(rows, func(a, b license.PeakUsage) int { return cmp.Compare(b.Value, a.Value) })
		var w []string
		for _, p := range rows {
			w = append(w, render(p))
		}
		for _, limit := range []int{0, 1} {
			got, total, _, err := m.PeaksOf(ctx, k.title, k.metric, limit)
			if err != nil {
				t.Fatal(err)
			}
			var have []string
			for _, p := range got {
				have = append(have, render(p))
			}
			if limit > 0 {
				w = w[:limit]
			}
			if d := gocmp.Diff(w, have); d != "" || total != len(rows) {
				t.Errorf("PeaksOf(%d, %s, %d): %d systems, want %d (-Peaks +PeaksOf):\n%s", k.title, k.metric, limit, total, len(rows), d)
			}
		}
	}
	if got, n, _, err := m.PeaksOf(ctx, 999999, "PVU_FULL_CAP", 0); err != nil || len(got) != 0 || n != 0 {
		t.Errorf("PeaksOf an unknown title: %v, %d, %v", got, n, err)
	}
}

// TestSummaryAgreesWithSnapshots: over days of changing usage, with a
// retention shorter than the window, Compliance (from the summaries) and
// PeaksOf give what the snapshots give.
func TestSummaryAgreesWithSnapshots(t *testing.T) {
	e, m, c := setup(t, "", nil)
	if err := m.Settings().Set(map[string]string{settings.UsageRetention: "72h"}); err != nil {
		t.Fatal(err)
	}
	for d := range 5 {
		applyPayload(t, e, estate(0, 24, d))
		c.set(day1.AddDate(0, 0, d))
		importNow(t, m)
		want := fromSnapshots(t, m)
		if len(want) == 0 {
			t.Fatal("no usage")
		}
		if diff := gocmp.Diff(want, compliance(t, m)); diff != "" {
			t.Errorf("day %d: compliance (-snapshots +summary):\n%s", d, diff)
		}
		checkPeaksOf(t, m)
	}
	// Peaks fall on more than one day, or the test shows little.
	days := map[string]bool{}
	rows, _, _ := m.Compliance(context.Background(), license.AllComputers)
	for _, r := range rows {
		days[r.PeakDay] = true
	}
	if len(days) < 2 {
		t.Errorf("every peak on one day: %v", days)
	}
}

// TestComplianceReadsSummary: with summaries stored, Compliance for All
// Computers does not read the usage snapshots (removed here); other
// groups still compute from them.
func TestComplianceReadsSummary(t *testing.T) {
	e, m, _ := setup(t, "", nil)
	applyPayload(t, e, estate(0, 8, 0))
	st := importNow(t, m)
	want := compliance(t, m)
	deleteUnder(t, e.Store(), store.SnapshotDayPrefix(st.Day))
	if diff := gocmp.Diff(want, compliance(t, m)); diff != "" {
		t.Errorf("compliance without the snapshots (-before +after):\n%s", diff)
	}
	if got := fromSnapshots(t, m); len(got) != 0 {
		t.Errorf("usage from removed snapshots: %v", got)
	}
}

// TestStoreWithoutSummary: an import made before summaries existed (none
// stored, none named in the state) is still served, computed from the
// snapshots, and the next import writes summaries and removes the
// replaced ones.
func TestStoreWithoutSummary(t *testing.T) {
	e, m, c := setup(t, "", nil)
	applyPayload(t, e, estate(0, 12, 0))
	importNow(t, m)
	want := compliance(t, m)
	first := stateField(t, e.Store(), "current")
	if first == 0 || stateField(t, e.Store(), "summary") != first {
		t.Fatalf("state names import %d, summary of %d", first, stateField(t, e.Store(), "summary"))
	}
	// Make it the store an older release left.
	deleteUnder(t, e.Store(), store.UsageSummaryPrefix(first))
	deleteUnder(t, e.Store(), store.PeakByTitleImportPrefix(first))
	setStateField(t, e.Store(), "summary", 0)
	if diff := gocmp.Diff(want, compliance(t, m)); diff != "" {
		t.Errorf("compliance without summaries (-with +without):\n%s", diff)
	}
	checkPeaksOf(t, m)

	applyPayload(t, e, estate(0, 12, 1))
	c.set(day1.AddDate(0, 0, 1))
	importNow(t, m)
	second := stateField(t, e.Store(), "current")
	if stateField(t, e.Store(), "summary") != second || keysUnder(t, e.Store(), store.UsageSummaryPrefix(second)) == 0 {
		t.Fatalf("import %d stored no summary", second)
	}
	if diff := gocmp.Diff(fromSnapshots(t, m), compliance(t, m)); diff != "" {
		t.Errorf("compliance (-snapshots +summary):\n%s", diff)
	}
	checkPeaksOf(t, m)
	// A third import replaces the second's summaries: they are removed.
	c.set(day1.AddDate(0, 0, 2))
	importNow(t, m)
	for _, p := range [][]byte{store.UsageSummaryPrefix(second), store.PeakByTitleImportPrefix(second)} {
		if n := keysUnder(t, e.Store(), p); n != 0 {
			t.Errorf("%d keys left under %q", n, p)
		}
	}
}

func keysUnder(t testing.TB, st store.Store, prefix []byte) int {
	t.Helper()
	n := 0
	err := st.View(func(r store.Reader) error {
		return r.Iterate(prefix, func(_, _ []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func deleteUnder(t testing.TB, st store.Store, prefix []byte) {
	t.Helper()
	var keys [][]byte
	err := st.View(func(r store.Reader) error {
		return r.Iterate(prefix, func(k, _ []byte) error { keys = append(keys, slices.Clone(k)); return nil })
	})
	if err != nil || len(keys) == 0 {
		t.Fatalf("nothing under %q: %v", prefix, err)
	}
	update(t, st, func(txn store.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func update(t testing.TB, st store.Store, fn func(store.Txn) error) {
	t.Helper()
	txn := st.NewTxn()
	defer txn.Discard()
	if err := fn(txn); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
}

// stateField reads a number of the stored import state.
func stateField(t testing.TB, st store.Store, name string) uint64 {
	t.Helper()
	var rec map[string]any
	err := st.View(func(r store.Reader) error {
		b, err := r.Get(store.LicenseStateKey())
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := rec[name].(float64)
	return uint64(f)
}

// setStateField sets (or, with 0, removes) a number of the stored state.
func setStateField(t testing.TB, st store.Store, name string, v uint64) {
	t.Helper()
	update(t, st, func(txn store.Txn) error {
		b, err := txn.Get(store.LicenseStateKey())
		if err != nil {
			return err
		}
		var rec map[string]any
		if err := json.Unmarshal(b, &rec); err != nil {
			return err
		}
		delete(rec, name)
		if v != 0 {
			rec[name] = v
		}
		b, err = json.Marshal(rec)
		if err != nil {
			return err
		}
		return txn.Set(store.LicenseStateKey(), b)
	})
}
