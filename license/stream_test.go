package license_test

import (
	"context"
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

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
