package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// For any sequence of reports from several sources, in any order, the
// dynamic policies decide from each source's last report only: ram is the
// largest of them, disk the smallest, and os a value reported by the most
// sources, the one reported last among equally many. Inserting, updating
// and the order of the sources never change the outcome.
func TestPropDynamicPolicies(t *testing.T) {
	rs := loadRules(t, dynamicRules)
	rapid.Check(t, func(t *rapid.T) {
		c := newClock()
		e, err := engine.Open("", engine.Options{InMemory: true, Now: c.Now, Rules: rs})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		type last struct {
			ram, disk int64
			os        string
			at        int
		}
		lastOf := map[string]last{}
		n := rapid.IntRange(1, 10).Draw(t, "reports")
		var sysID string
		for k := range n {
			src := rapid.SampledFrom([]string{"A", "B", "C", "D"}).Draw(t, fmt.Sprint("source", k))
			r := last{
				ram:  rapid.Int64Range(1, 64).Draw(t, fmt.Sprint("ram", k)),
				disk: rapid.Int64Range(1, 64).Draw(t, fmt.Sprint("disk", k)),
				os:   rapid.SampledFrom([]string{"linux", "windows", "aix"}).Draw(t, fmt.Sprint("os", k)),
				at:   k,
			}
			lastOf[src] = r
			c.advance(time.Minute)
			body := fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","ram":%d,"disk":%d,"os":%q}}]}`, r.ram, r.disk, r.os)
			p, err := payload.DecodeBytes([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Apply(context.Background(), src, p, engine.DefaultApplyOptions())
			if err != nil || res.HasError {
				t.Fatalf("apply: %v %+v", err, res)
			}
			sysID = res.Items[0].SysID
		}
		var maxRAM, minDisk int64 = 0, 1 << 62
		count, latest := map[string]int{}, map[string]int{}
		for _, r := range lastOf {
			maxRAM, minDisk = max(maxRAM, r.ram), min(minDisk, r.disk)
			count[r.os]++
			latest[r.os] = max(latest[r.os], r.at)
		}
		wantOS := ""
		for os := range count {
			if wantOS == "" || count[os] > count[wantOS] || (count[os] == count[wantOS] && latest[os] > latest[wantOS]) {
				wantOS = os
			}
		}
		ci, err := e.Get(context.Background(), sysID)
		if err != nil {
			t.Fatal(err)
		}
		if ci.Values["ram"] != maxRAM || ci.Values["disk"] != minDisk || ci.Values["os"] != wantOS {
			t.Fatalf("stored ram %v disk %v os %v; want %d %d %s (last reports %v)", ci.Values["ram"], ci.Values["disk"], ci.Values["os"], maxRAM, minDisk, wantOS, lastOf)
		}
	})
}
