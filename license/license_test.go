package license_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var day1 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// setup opens an engine on disk with rs (nil: the default pack), applies
// the example payloads and returns a manager on a settable clock.
func setup(t *testing.T, dir string, rs *rules.RuleSet, examples ...string) (*engine.Engine, *license.Manager, *clock) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e, err := engine.Open(dir, engine.Options{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	for _, ex := range examples {
		apply(t, e, ex)
	}
	c := &clock{t: day1}
	return e, license.New(e, license.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler)}), c
}

func apply(t *testing.T, e *engine.Engine, file string) {
	t.Helper()
	b, err := os.ReadFile("../examples/" + file)
	if err != nil {
		t.Fatal(err)
	}
	applyText(t, e, string(b))
}

func applyText(t *testing.T, e *engine.Engine, text string) {
	t.Helper()
	p, err := payload.DecodeBytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
}

func importNow(t *testing.T, m *license.Manager) *license.State {
	t.Helper()
	st, err := m.Import(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// peaks renders the peaks as "computer title metric=value@day".
func peaks(t *testing.T, m *license.Manager) []string {
	t.Helper()
	rows, _, err := m.Peaks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range rows {
		out = append(out, fmt.Sprintf("%s %s %s=%g@%s", p.System.Name, p.Title.Name(), p.Metric.CodeName, p.Value, p.Day))
	}
	sort.Strings(out)
	return out
}

// TestImportSeedGraph computes usage over the seed's BYOL graph: two BYOL
// VMs on one dedicated host, a BYOL VM on shared tenancy, a License
// Included VM, and the seed's own dedicated VM with SQL Server.
func TestImportSeedGraph(t *testing.T) {
	_, m, _ := setup(t, "", nil, "byol-ibm-three-vms.json", "byol-dedicated-vm.json")
	if st, _ := m.State(); st.Mode != license.ModeNone {
		t.Errorf("mode before any import: %q", st.Mode)
	}
	st := importNow(t, m)
	if st.Mode != license.ModeIdle || st.LastStatus != license.StatusSuccessful || st.Installs != 5 || st.Counted != 4 || st.Usages != 12 || st.WarningCount != 0 {
		t.Errorf("state: %+v", st)
	}
	const was, sql = "WebSphere Application Server 9.0", "SQL Server 2017"
	// PVU is reported on the host, once (the seed's host has 32 cores);
	// other metrics on each computer.
	want := []string{
		"AWS Dedicated Host - 1 " + sql + " PVU_FULL_CAP=2240@2026-03-02",
		"AWS Dedicated Host - 1 " + sql + " PVU_SUB_CAP=280@2026-03-02",
		"AWS Dedicated Host IBM " + was + " PVU_FULL_CAP=2240@2026-03-02",
		"AWS Dedicated Host IBM " + was + " PVU_SUB_CAP=420@2026-03-02",
		"Comp - Dedicated AWS - 1 " + sql + " VIRTUAL_PROCESSOR_CORE=4@2026-03-02",
		"ibm-dedicated-1 " + was + " VIRTUAL_PROCESSOR_CORE=4@2026-03-02",
		"ibm-dedicated-2 " + was + " VIRTUAL_PROCESSOR_CORE=2@2026-03-02",
		"ibm-shared-1 " + was + " PVU_FULL_CAP=560@2026-03-02", // no host: equal to sub-capacity
		"ibm-shared-1 " + was + " PVU_SUB_CAP=560@2026-03-02",
		"ibm-shared-1 " + was + " VIRTUAL_PROCESSOR_CORE=8@2026-03-02",
	}
	if diff := cmp.Diff(want, peaks(t, m)); diff != "" {
		t.Errorf("peaks (-want +got):\n%s", diff)
	}
	// Per product, the host counts once for full capacity.
	products, err := m.ProductUsage(context.Background(), license.AllComputers, "2026-01-01", "2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range products {
		got[p.Title.Name()+" "+p.Metric.CodeName] = p.Quantity
	}
	wantProducts := map[string]float64{
		was + " PVU_FULL_CAP": 2240 + 560, was + " PVU_SUB_CAP": 980, was + " VIRTUAL_PROCESSOR_CORE": 14,
		sql + " PVU_FULL_CAP": 2240, sql + " PVU_SUB_CAP": 280, sql + " VIRTUAL_PROCESSOR_CORE": 4,
	}
	if diff := cmp.Diff(wantProducts, got); diff != "" {
		t.Errorf("product usage (-want +got):\n%s", diff)
	}
	servers, err := m.ServerUsage(context.Background(), license.AllComputers, "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range servers {
		if s.Title.Name() == was && s.Metric.CodeName == "PVU_FULL_CAP" {
			lines = append(lines, fmt.Sprintf("%s cores=%g %g systems=%d", s.Server.Name, s.Server.Cores(), s.Quantity, len(s.Systems)))
		}
	}
	sort.Strings(lines)
	if diff := cmp.Diff([]string{"AWS Dedicated Host IBM cores=32 2240 systems=2", "ibm-shared-1 cores=8 560 systems=1"}, lines); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
}

// TestPeaksOverDays keeps one snapshot a day and the first time a peak was
// reached; days older than the window fall out of the peaks.
func TestPeaksOverDays(t *testing.T) {
	e, m, c := setup(t, "", nil, "byol-ibm-three-vms.json")
	importNow(t, m)
	first, _ := m.State()
	c.set(day1.Add(2 * time.Hour)) // same day, same values: the first time stays
	importNow(t, m)
	rows, _, _ := m.Peaks(context.Background())
	for _, p := range rows {
		if !p.At.Equal(first.LastSuccess) {
			t.Fatalf("peak %s %s first reached at %v, want the first import's %v", p.System.Name, p.Metric.CodeName, p.At, first.LastSuccess)
		}
	}
	// The shared VM grows on day 2 and shrinks on day 3.
	resize := func(cores int) {
		applyText(t, e, strings.ReplaceAll(`{"items": [{"className": "cmdb_ci_computer", "values": {"name": "ibm-shared-1", "cpu_core_count": CORES}}]}`, "CORES", fmt.Sprint(cores)))
	}
	resize(12)
	c.set(day1.AddDate(0, 0, 1))
	importNow(t, m)
	resize(6)
	c.set(day1.AddDate(0, 0, 2))
	importNow(t, m)
	has := func(want string) {
		t.Helper()
		for _, p := range peaks(t, m) {
			if p == want {
				return
			}
		}
		t.Errorf("no peak %q in %v", want, peaks(t, m))
	}
	has("ibm-shared-1 WebSphere Application Server 9.0 VIRTUAL_PROCESSOR_CORE=12@2026-03-03")
	has("ibm-dedicated-1 WebSphere Application Server 9.0 VIRTUAL_PROCESSOR_CORE=4@2026-03-02")
	// 90 days on, the 12-core day is out of the window.
	c.set(day1.AddDate(0, 0, 1+license.Window))
	st := importNow(t, m)
	has("ibm-shared-1 WebSphere Application Server 9.0 VIRTUAL_PROCESSOR_CORE=6@2026-03-04")
	if st.PeriodStart() != "2026-03-04" || st.Day != "2026-06-01" {
		t.Errorf("period %s..%s", st.PeriodStart(), st.Day)
	}
	// The daily snapshots stay for v2's periods.
	products, _ := m.ProductUsage(context.Background(), license.AllComputers, "2026-03-03", "2026-03-03")
	for _, p := range products {
		if p.Metric.CodeName == "VIRTUAL_PROCESSOR_CORE" && p.Quantity != 4+2+12 {
			t.Errorf("VPC on 2026-03-03: %g", p.Quantity)
		}
	}
}

// TestFailedImport leaves the previous results served.
func TestFailedImport(t *testing.T) {
	_, m, c := setup(t, "", nil, "byol-ibm-three-vms.json")
	importNow(t, m)
	before := peaks(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.set(day1.AddDate(0, 0, 1))
	st, err := m.Import(ctx)
	if err == nil || st.LastStatus != license.StatusFailed || !strings.Contains(st.LastError, "canceled") || st.Day != "2026-03-02" {
		t.Fatalf("cancelled import: %v %+v", err, st)
	}
	if diff := cmp.Diff(before, peaks(t, m)); diff != "" {
		t.Errorf("peaks after a failed import (-before +after):\n%s", diff)
	}
	if !st.LastSuccess.Equal(day1) {
		t.Errorf("last success %v", st.LastSuccess)
	}
}

// TestPendingAfterRuleChange: rules changed since the last import make the
// mode pending until the next import.
func TestPendingAfterRuleChange(t *testing.T) {
	dir := t.TempDir()
	e, m, _ := setup(t, dir, nil, "byol-ibm-three-vms.json")
	importNow(t, m)
	e.Close()
	text := strings.Replace(string(rules.DefaultSource()), "pvu_per_core: 70 ", "pvu_per_core: 100 ", 1)
	rs, err := rules.Load("mine.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ = setup(t, dir, rs)
	if st, _ := m.State(); st.Mode != license.ModePending || st.LastStatus != license.StatusSuccessful {
		t.Errorf("after a rule change: %+v", st)
	}
	if st := importNow(t, m); st.Mode != license.ModeIdle {
		t.Errorf("after the next import: %q", st.Mode)
	}
	for _, p := range peaks(t, m) {
		if strings.HasPrefix(p, "ibm-dedicated-1 ") && strings.Contains(p, "PVU_SUB_CAP") && !strings.Contains(p, "=400@") {
			t.Errorf("sub-capacity at 100 PVU a core: %s", p)
		}
	}
}

// TestConcurrentImport: one import at a time, and ingestion goes on while
// one runs.
func TestConcurrentImport(t *testing.T) {
	e, m, _ := setup(t, "", nil, "byol-ibm-three-vms.json")
	if !m.Start(context.Background()) {
		t.Fatal("Start refused with no import running")
	}
	if _, err := m.Import(context.Background()); err != license.ErrRunning && err != nil {
		t.Errorf("second import: %v", err)
	}
	apply(t, e, "byol-dedicated-vm.json")
	if err := m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.State(); st.Mode != license.ModeIdle || st.LastStatus != license.StatusSuccessful {
		t.Errorf("after the background import: %+v", st)
	}
}
