package license_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// sharedHost is an estate of computers on VMs that share one cloud host,
// computers on shared VMs and bare computers, with core counts that change
// by the day.
type sharedHost struct{ onHost, shared, bare int }

const pvu = 70

func (e sharedHost) n() int { return e.onHost + e.shared + e.bare }

// hostCores and cores are the core counts on day d (0-based); change
// moves computer 0's on the same day.
func (sharedHost) hostCores(d int) int { return []int{16, 24, 20}[d] }
func (sharedHost) cores(i, d int, change bool) int {
	c := 1 + (i*3+d*5)%8
	if change && i == 0 {
		c += 4
	}
	return c
}

// titles of computer i: Db2 everywhere, MQ on odd ones, WebSphere on
// every third (on the host they add up to less than the host's cores).
func (sharedHost) titles(i int) []string {
	out := []string{"Db2"}
	if i%2 == 1 {
		out = append(out, "MQ")
	}
	if i%3 == 0 {
		out = append(out, "WebSphere")
	}
	return out
}

func (e sharedHost) payload(d int, change bool) *payload.Payload {
	type m = map[string]any
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
	host := add("cmdb_ci_cloud_host", m{"object_id": "h-0", "name": "host-0", "cpu_core_count": e.hostCores(d)})
	rel("Hosted on::Hosts", host, dc)
	for i := range e.n() {
		ci := add("cmdb_ci_computer", m{"name": fmt.Sprintf("comp-%d", i), "cpu_count": 1, "cpu_core_count": e.cores(i, d, change), "virtual": true})
		for _, title := range e.titles(i) {
			p.Items[ci].Related = append(p.Items[ci].Related, payload.Related{ClassName: license.InstallClass,
				Values: m{"publisher": "IBM", "display_name": title, "version": "11", "cloud_license_type": "BYOL"}})
		}
		if i >= e.onHost+e.shared {
			continue
		}
		vm := add("cmdb_ci_vm_instance", m{"object_id": fmt.Sprintf("i-%d", i)})
		rel(license.VirtualizedBy, ci, vm)
		if i < e.onHost {
			rel(license.RunsOn, vm, host)
		} else {
			rel("Hosted on::Hosts", vm, dc)
		}
	}
	return p
}

// modelRow is one counted quantity of a day: a computer's, or for
// capacity metrics its server's.
type modelRow struct {
	system, title, metric string
	value                 float64
	at                    time.Time
}

// counted is what License Metric Tool counts on day d when the import at
// time at saw the values (change: computer 0's moved) and an earlier
// import of the day, at earlier (zero: none), saw them unchanged: virtual
// cores per computer; PVU per server, full capacity the host's cores once,
// sub-capacity the computers' cores capped at the host's. A row keeps the
// earlier time when its value is what the earlier import found.
func (e sharedHost) counted(d int, at, earlier time.Time, change bool) []modelRow {
	rowAt := func(now, before float64) time.Time {
		if !earlier.IsZero() && now == before {
			return earlier
		}
		return at
	}
	var out []modelRow
	type key struct{ title, metric string }
	onHost := map[key]*modelRow{}
	for i := range e.n() {
		name := fmt.Sprintf("comp-%d", i)
		cores, before := float64(e.cores(i, d, change)), float64(e.cores(i, d, false))
		for _, t := range e.titles(i) {
			out = append(out, modelRow{name, t, "VIRTUAL_PROCESSOR_CORE", cores, rowAt(cores, before)})
			if i >= e.onHost {
				out = append(out, modelRow{name, t, "PVU_FULL_CAP", cores * pvu, rowAt(cores, before)},
					modelRow{name, t, "PVU_SUB_CAP", cores * pvu, rowAt(cores, before)})
				continue
			}
			for _, metric := range []string{"PVU_FULL_CAP", "PVU_SUB_CAP"} {
				k := key{t, metric}
				if onHost[k] == nil {
					onHost[k] = &modelRow{system: "host-0", title: t, metric: metric, at: at}
				}
				r := onHost[k]
				if metric == "PVU_FULL_CAP" {
					r.value = float64(e.hostCores(d) * pvu)
					r.at = minTime(r.at, rowAt(0, 0)) // the host's value is the same all day
				} else {
					r.value += cores * pvu
					r.at = minTime(r.at, rowAt(cores, before))
				}
			}
		}
	}
	for k, r := range onHost {
		if k.metric == "PVU_SUB_CAP" {
			r.value = min(r.value, float64(e.hostCores(d)*pvu))
		}
		out = append(out, *r)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// TestImportSharedHost: the VMs of ten computers share one host, and the
// installs are listed in an order that moves from computer to computer and
// back, read four at a time. Three days of imports (two on the second,
// with a value changed in between) give the peaks, per-server usage and
// compliance that the counting rules give, computed here from the estate.
func TestImportSharedHost(t *testing.T) {
	defer license.SetInstallPage(4)()
	est := sharedHost{onHost: 10, shared: 2, bare: 3}
	seq := 0
	e, err := engine.Open(t.TempDir(), engine.Options{NewSysID: func() string {
		seq++ // fixed sys_ids in a scrambled order: the listing order is the same every run
		return fmt.Sprintf("%x", md5.Sum([]byte(fmt.Sprint(seq))))
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	c := &clock{}
	m := license.New(e, license.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
	var peaks, counted []modelRow
	var served []modelRow // counted rows of the last day
	daily := map[[2]string]float64{}
	type hw struct {
		q   float64
		day string
	}
	high := map[[2]string]hw{}
	run := func(d int, at time.Time, change bool, earlier time.Time) {
		t.Helper()
		applyPayload(t, e, est.payload(d, change))
		c.set(at)
		st, err := m.Import(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.WarningCount != 0 || st.Usages == 0 {
			t.Fatalf("day %d: %d warnings %v, %d usage rows", d+1, st.WarningCount, st.Warnings, st.Usages)
		}
		counted = est.counted(d, at, earlier, change)
		served = counted
	}
	note := func(d int) {
		day := day1.AddDate(0, 0, d).Format(time.DateOnly)
		clear(daily)
		for _, r := range counted {
			i := slices.IndexFunc(peaks, func(p modelRow) bool { return p.system == r.system && p.title == r.title && p.metric == r.metric })
			if i < 0 {
				peaks = append(peaks, r)
			} else if r.value > peaks[i].value {
				peaks[i] = r
			}
			daily[[2]string{r.title, r.metric}] += r.value
		}
		for k, q := range daily {
			if h, ok := high[k]; !ok || q > h.q {
				high[k] = hw{q, day}
			}
		}
	}
	run(0, day1, false, time.Time{})
	note(0)
	first := day1.AddDate(0, 0, 1)
	run(1, first, false, time.Time{})
	run(1, first.Add(5*time.Hour), true, first)
	note(1)
	run(2, day1.AddDate(0, 0, 2), false, time.Time{})
	note(2)

	checkInterleaved(t, e)

	var want, got []string
	for _, p := range peaks {
		want = append(want, fmt.Sprintf("%s %s %s %g %s", p.system, p.title, p.metric, p.value, p.at.Format(time.RFC3339)))
	}
	all, _, err := m.Peaks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		got = append(got, fmt.Sprintf("%s %s %s %g %s", p.System.Name, p.Title.Product, p.Metric.CodeName, p.Value, p.At.Format(time.RFC3339)))
		if p.Day != p.At.Format(time.DateOnly) {
			t.Errorf("peak %s: day %s, reached at %s", got[len(got)-1], p.Day, p.At)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("peaks (-want +got):\n%s", d)
	}

	want, got = nil, nil
	for _, r := range served {
		want = append(want, fmt.Sprintf("%s %s %s %g", r.system, r.title, r.metric, r.value))
	}
	servers, err := m.ServerUsage(ctx, license.AllComputers, day1.AddDate(0, 0, 2).Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		got = append(got, fmt.Sprintf("%s %s %s %g", s.Server.Name, s.Title.Product, s.Metric.CodeName, s.Quantity))
	}
	want = perServer(want, est)
	slices.Sort(want)
	slices.Sort(got)
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("usage per server on day 3 (-want +got):\n%s", d)
	}

	want, got = nil, nil
	for k, h := range high {
		want = append(want, fmt.Sprintf("%s %s %g@%s", k[0], k[1], h.q, h.day))
	}
	rows, _, err := m.Compliance(ctx, license.AllComputers)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %g@%s", r.Title.Product, r.Metric.CodeName, r.Peak, r.PeakDay))
	}
	slices.Sort(want)
	slices.Sort(got)
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("compliance (-want +got):\n%s", d)
	}
	checkPeaksOf(t, m)
}

// perServer turns the model's counted rows ("system title metric value")
// into usage per server: the virtual cores of the computers on the host
// add up on it.
func perServer(rows []string, est sharedHost) []string {
	sum := map[string]float64{}
	var order []string
	for _, r := range rows {
		var system, title, metric string
		var v float64
		fmt.Sscanf(r, "%s %s %s %g", &system, &title, &metric, &v)
		var i int
		if n, _ := fmt.Sscanf(system, "comp-%d", &i); n == 1 && i < est.onHost {
			system = "host-0"
		}
		k := system + " " + title + " " + metric
		if _, ok := sum[k]; !ok {
			order = append(order, k)
		}
		sum[k] += v
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s %g", k, sum[k]))
	}
	return out
}

// checkInterleaved fails unless the installs, in the order they are
// listed, leave some computer and come back to it: the order the import
// reads them in does not group them by computer.
func checkInterleaved(t *testing.T, e *engine.Engine) {
	t.Helper()
	var order []string
	err := e.List(context.Background(), license.InstallClass, func(r *store.Record) error {
		order = append(order, r.Scope)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for i := 1; i < len(order); i++ {
		if order[i] != order[i-1] {
			left[order[i-1]] = true
			if left[order[i]] {
				return
			}
		}
	}
	t.Fatalf("the installs are listed computer by computer: %v", order)
}
