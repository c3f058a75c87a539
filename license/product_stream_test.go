package license_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
)

// hostInstallRules is the default pack with installs identified on cloud
// hosts too (a host's own software counts on it, beside its VMs'); with
// fractions, metric values are not whole numbers, so that adding them up
// in another order could change the last bit.
func hostInstallRules(tb testing.TB, fractions bool) *rules.RuleSet {
	tb.Helper()
	text := string(rules.DefaultSource())
	changes := []struct{ old, new string }{
		{"    applies_to: cmdb_ci_cloud_host\n    entries:\n      - priority: 100\n        unique: true\n        attributes: [object_id]\n",
			"    applies_to: cmdb_ci_cloud_host\n    entries:\n      - priority: 100\n        unique: true\n        attributes: [object_id]\n" +
				"    related:\n      - class: cmdb_sam_sw_install\n        referenced_field: installed_on\n        entries:\n" +
				"          - priority: 100\n            attributes: [publisher, display_name, version]\n"},
	}
	if fractions {
		changes = append(changes, []struct{ old, new string }{
			{"pvu_per_core: 70 ", "pvu_per_core: 0.7 "},
			{"      value: computer.cpu_core_count\n", "      value: computer.cpu_core_count * 0.1\n"},
		}...)
	}
	for _, r := range changes {
		if strings.Count(text, r.old) != 1 {
			tb.Fatalf("the default pack has %d of %q", strings.Count(text, r.old), r.old)
		}
		text = strings.Replace(text, r.old, r.new, 1)
	}
	rs, err := rules.Load("host-installs.yaml", []byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// hostEstate is a generated estate over several days: cloud hosts, some
// with software of their own, and computers each on a VM that runs on
// one of the hosts, on a shared VM, or on no VM; the cores of every host
// and computer change from day to day.
type hostEstate struct {
	hostTitles [][]string // per host, its own titles (often none)
	computers  []computer // the cores of which are unused: see cores
	cores      [][]int    // per day: the hosts' cores, then the computers'
	sysIDs     uint64     // seeds the sys_ids, and so the order of the ids
	groupMin   int        // the second group holds systems of at least this many cores
	periods    [][2]int   // periods asked for, as indexes of days
}

func genHostEstate(t *rapid.T) hostEstate {
	var e hostEstate
	nh := rapid.IntRange(0, 3).Draw(t, "hosts")
	for i := range nh {
		e.hostTitles = append(e.hostTitles, rapid.SliceOfNDistinct(rapid.SampledFrom(titles), 0, 2, rapid.ID).Draw(t, fmt.Sprintf("hostTitles%d", i)))
	}
	n := rapid.IntRange(1, 6).Draw(t, "computers")
	for i := range n {
		c := computer{host: rapid.IntRange(-2, nh-1).Draw(t, fmt.Sprintf("host%d", i))}
		c.titles = rapid.SliceOfNDistinct(rapid.SampledFrom(titles), 1, 2, rapid.ID).Draw(t, fmt.Sprintf("titles%d", i))
		e.computers = append(e.computers, c)
	}
	days := rapid.IntRange(1, 3).Draw(t, "days")
	for d := range days {
		e.cores = append(e.cores, rapid.SliceOfN(rapid.IntRange(1, 12), nh+n, nh+n).Draw(t, fmt.Sprintf("cores%d", d)))
	}
	e.sysIDs = rapid.Uint64().Draw(t, "sysIDs")
	e.groupMin = rapid.IntRange(1, 12).Draw(t, "groupMin")
	for i := range 2 {
		from := rapid.IntRange(0, days-1).Draw(t, fmt.Sprintf("from%d", i))
		e.periods = append(e.periods, [2]int{from, rapid.IntRange(from, days-1).Draw(t, fmt.Sprintf("to%d", i))})
	}
	return e
}

// payload renders the estate as it is on day d: the graph of that day's
// cores.
func (e hostEstate) payload(d int) *payload.Payload {
	nh := len(e.hostTitles)
	g := graph{hostCores: e.cores[d][:nh], hostTitles: e.hostTitles}
	for i, c := range e.computers {
		c.cores = e.cores[d][nh+i]
		g.computers = append(g.computers, c)
	}
	return g.payload()
}

// seededSysIDs makes sys_ids from a seed: the order of the ids a license
// import gives computer systems (by sys_id) then varies with the seed.
func seededSysIDs(seed uint64) func() string {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, 17))
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
	}
}

// TestProductUsageStreamed: over generated estates, ProductUsage, which
// reads a day a computer system at a time, equals the model that lists
// each day's server totals whole over every computer system loaded (the
// implementation before), to the last bit, in All Computers and in a
// group that keeps some systems out, over several periods; so do
// Compliance in that group (computed from the snapshots) and ServerUsage.
func TestProductUsageStreamed(t *testing.T) {
	rs := hostInstallRules(t, true)
	rapid.Check(t, func(rt *rapid.T) {
		est := genHostEstate(rt)
		dir, err := os.MkdirTemp("", "irego-license-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		e, err := engine.Open(dir, engine.Options{Rules: rs, NewSysID: seededSysIDs(est.sysIDs)})
		if err != nil {
			rt.Fatal(err)
		}
		defer e.Close()
		ctx := context.Background()
		c := &clock{t: day1}
		m := license.New(e, license.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
		name, cond := "Large", fmt.Sprintf("cpu_core_count >= %d", est.groupMin)
		gs, err := m.PutGroups([]license.GroupChange{{Name: &name, Condition: &cond}})
		if err != nil {
			rt.Fatal(err)
		}
		groups := []int{license.AllComputers, gs[len(gs)-1].ID}
		var days []string
		for d := range est.cores {
			if res, err := e.Apply(ctx, "AWS", est.payload(d), engine.DefaultApplyOptions()); err != nil || res.HasError {
				rt.Fatalf("apply day %d: %v %+v", d, err, res)
			}
			c.set(day1.AddDate(0, 0, d))
			st, err := m.Import(ctx)
			if err != nil {
				rt.Fatal(err)
			}
			days = append(days, st.Day)
		}
		for _, g := range groups {
			for _, p := range append(est.periods, [2]int{0, len(days) - 1}) {
				from, to := days[p[0]], days[p[1]]
				want, err := license.ProductUsageFromDims(m, ctx, g, from, to)
				if err != nil {
					rt.Fatal(err)
				}
				got, err := m.ProductUsage(ctx, g, from, to)
				if err != nil {
					rt.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					rt.Errorf("group %d, %s..%s: product usage (-model +streamed):\n%s", g, from, to, diff)
				}
			}
			for _, d := range days {
				want, err := license.ServerUsageFromDims(m, ctx, g, d)
				if err != nil {
					rt.Fatal(err)
				}
				got, err := m.ServerUsage(ctx, g, d)
				if err != nil {
					rt.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					rt.Errorf("group %d, %s: server usage (-model +streamed):\n%s", g, d, diff)
				}
			}
		}
		// Compliance outside All Computers adds up the window's snapshots.
		want, err := license.ProductUsageFromDims(m, ctx, groups[1], "0000-01-01", days[len(days)-1])
		if err != nil {
			rt.Fatal(err)
		}
		rows, _, err := m.Compliance(ctx, groups[1])
		if err != nil {
			rt.Fatal(err)
		}
		got := []license.ProductUsage{}
		for _, r := range rows {
			if r.PeakDay != "" {
				got = append(got, license.ProductUsage{Title: r.Title, Metric: r.Metric, Quantity: r.Peak, Day: r.PeakDay})
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			rt.Errorf("compliance of group %d (-model +streamed):\n%s", groups[1], diff)
		}
	})
}
