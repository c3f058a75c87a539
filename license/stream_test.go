package license_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
)

// TestStreamedReadsAgree: EachServerUsage and EachPeak, which read a row
// at a time without loading the computer systems, give what the reads
// over every computer system loaded give, in All Computers and in a group
// whose condition keeps some computers out, and stop at fn's error.
func TestStreamedReadsAgree(t *testing.T) {
	e, m, c := setup(t, "", nil)
	ctx := context.Background()
	name, cond := "Even", `cpu_core_count in [2, 4, 6, 8]`
	gs, err := m.PutGroups([]license.GroupChange{{Name: &name, Condition: &cond}})
	if err != nil {
		t.Fatal(err)
	}
	group := gs[len(gs)-1].ID
	for d := range 2 {
		applyPayload(t, e, estate(0, 40, d))
		c.set(day1.AddDate(0, 0, d))
		st := importNow(t, m)
		for _, g := range []int{license.AllComputers, group} {
			want, err := license.ServerUsageFromDims(m, ctx, g, st.Day)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.ServerUsage(ctx, g, st.Day)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatalf("group %d: no usage", g)
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("day %d, group %d: server usage (-all systems loaded +streamed):\n%s", d, g, diff)
			}
			if g == group && len(got) >= len(serverUsage(t, m, st.Day)) {
				t.Errorf("group %d keeps no computer out: %d rows", g, len(got))
			}
		}
		want, err := license.PeaksFromDims(m, ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := m.Peaks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, got); diff != "" || len(got) == 0 {
			t.Errorf("day %d: %d peaks (-all systems loaded +streamed):\n%s", d, len(got), diff)
		}
	}
	stop := fmt.Errorf("enough")
	n := 0
	if _, err := m.EachPeak(ctx, func(*license.State, license.PeakUsage) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachPeak after fn's error: %v, %d calls", err, n)
	}
	n = 0
	if err := m.EachServerUsage(ctx, license.AllComputers, day1.AddDate(0, 0, 1).Format("2006-01-02"), func(license.ServerUsage) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachServerUsage after fn's error: %v, %d calls", err, n)
	}
}

func serverUsage(t *testing.T, m *license.Manager, d string) []license.ServerUsage {
	t.Helper()
	out, err := m.ServerUsage(context.Background(), license.AllComputers, d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServerUsageOfHostWithOwnUsage: a cloud host whose own installs
// count, with VMs on it that run the same title, is one server: its own
// rows and its VMs' add up on it, full capacity once, whether the host's
// id comes before its VMs' or after; and EachServerUsage gives what the
// model over every computer system loaded gives.
func TestServerUsageOfHostWithOwnUsage(t *testing.T) {
	hostFirst := map[int]bool{}         // by step: whether the host's id is lower than its VMs'
	for _, step := range []int{1, -1} { // sys_ids, and so ids, in the order CIs are created, or the reverse
		t.Run(fmt.Sprint("step", step), func(t *testing.T) {
			n := 1000
			newID := func() string { n += step; return fmt.Sprintf("%032x", n) }
			e, err := engine.Open(t.TempDir(), engine.Options{Rules: hostInstallRules(t, false), NewSysID: newID})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			est := hostEstate{
				hostTitles: [][]string{{"Db2", "MQ"}},
				computers:  []computer{{host: 0, titles: []string{"Db2"}}, {host: 0, titles: []string{"Db2"}}, {host: -1, titles: []string{"Db2"}}},
				cores:      [][]int{{16, 4, 2, 8}},
			}
			applyPayload(t, e, est.payload(0))
			m := license.New(e, license.Options{Now: func() time.Time { return day1 }, Logger: slog.New(slog.DiscardHandler)})
			ctx := context.Background()
			st := importNow(t, m)
			var got []license.ServerUsage
			err = m.EachServerUsage(ctx, license.AllComputers, st.Day, func(u license.ServerUsage) error {
				got = append(got, u)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b license.ServerUsage) int {
				return cmp.Or(cmp.Compare(a.Title.ID, b.Title.ID), cmp.Compare(a.Metric.CodeName, b.Metric.CodeName), cmp.Compare(a.Server.ID, b.Server.ID))
			})
			want, err := license.ServerUsageFromDims(m, ctx, license.AllComputers, st.Day)
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("server usage (-all systems loaded +streamed):\n%s", diff)
			}
			var lines []string
			for _, u := range got {
				lines = append(lines, fmt.Sprintf("%s %s %s=%g on %d systems", u.Server.Name, u.Title.Product, u.Metric.CodeName, u.Quantity, len(u.Systems)))
			}
			slices.Sort(lines)
			wantLines := []string{
				"comp-2 Db2 PVU_FULL_CAP=560 on 1 systems",
				"comp-2 Db2 PVU_SUB_CAP=560 on 1 systems",
				"comp-2 Db2 VIRTUAL_PROCESSOR_CORE=8 on 1 systems",
				"host-0 Db2 PVU_FULL_CAP=1120 on 3 systems",
				"host-0 Db2 PVU_SUB_CAP=1120 on 3 systems", // 1120 + 280 + 140, at most full capacity
				"host-0 Db2 VIRTUAL_PROCESSOR_CORE=22 on 3 systems",
				"host-0 MQ PVU_FULL_CAP=1120 on 1 systems",
				"host-0 MQ PVU_SUB_CAP=1120 on 1 systems",
				"host-0 MQ VIRTUAL_PROCESSOR_CORE=16 on 1 systems",
			}
			if diff := gocmp.Diff(wantLines, lines); diff != "" {
				t.Errorf("server usage (-want +got):\n%s", diff)
			}
			for _, u := range got {
				if u.Server.Name == "host-0" && u.Title.Product == "Db2" && u.Metric.CodeName == "PVU_FULL_CAP" {
					hostFirst[step] = u.Server.ID == slices.Min(u.Systems)
				}
			}
		})
	}
	if hostFirst[1] == hostFirst[-1] {
		t.Errorf("the host's id came before its VMs' in both runs or in neither: %v", hostFirst)
	}
}
