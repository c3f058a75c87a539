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
		e, err := engine.Open("", engine.Options{InMemory: true, Now: c.Now, Rules: rs, Sources: []string{"*"}})
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

// For any sequence of reports with values and nulls, a null clears an
// attribute only where update_with_null lists it and the source may change
// it (a listed source at least as good as the owner); elsewhere a null
// never clears. Checked against a model of the static rule.
func TestPropUpdateWithNull(t *testing.T) {
	rs := loadRules(t, computerRule+`
reconciliation:
  - applies_to: cmdb_ci_computer
    attributes: [location, ram]
    sources: [{name: A, priority: 1}, {name: B, priority: 2}]
    update_with_null: [location]
`)
	prio := map[string]int{"A": 1, "B": 2, "C": 1 << 30}
	rapid.Check(t, func(t *rapid.T) {
		c := newClock()
		e, err := engine.Open("", engine.Options{InMemory: true, Now: c.Now, Rules: rs, Sources: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		type attr struct {
			value any // nil: absent
			owner string
		}
		model := map[string]*attr{"location": {}, "ram": {}, "comments": {}}
		choices := map[string][]any{"location": {"L1", "L2"}, "ram": {int64(1), int64(2)}, "comments": {"x", "y"}}
		var sysID string
		for k := range rapid.IntRange(1, 12).Draw(t, "reports") {
			src := rapid.SampledFrom([]string{"A", "B", "C"}).Draw(t, fmt.Sprint("source", k))
			values := map[string]any{"name": "c1"}
			for _, a := range []string{"location", "ram", "comments"} {
				switch rapid.IntRange(0, 2).Draw(t, fmt.Sprint(a, k)) {
				case 0: // absent
				case 1:
					values[a] = nil
				case 2:
					values[a] = rapid.SampledFrom(choices[a]).Draw(t, fmt.Sprint(a, "v", k))
				}
			}
			c.advance(time.Minute)
			p := &payload.Payload{Items: []payload.Item{{ClassName: "cmdb_ci_computer", Values: values}}}
			res, err := e.Apply(context.Background(), src, p, engine.DefaultApplyOptions())
			if err != nil || res.HasError {
				t.Fatalf("apply: %v %+v", err, res)
			}
			sysID = res.Items[0].SysID
			for a, m := range model {
				v, reported := values[a]
				ruled := a != "comments"
				switch {
				case !reported:
				case v != nil && m.value == v:
					if ruled && m.owner != "" && prio[src] < prio[m.owner] {
						m.owner = src // a better source takes over a value it agrees with
					}
				case v != nil:
					if !ruled || m.value == nil || m.owner == "" || prio[src] <= prio[m.owner] {
						m.value, m.owner = v, src
					}
				case a == "location" && m.value != nil && src != "C" && (m.owner == "" || prio[src] <= prio[m.owner]):
					m.value, m.owner = nil, ""
				}
			}
		}
		ci, err := e.Get(context.Background(), sysID)
		if err != nil {
			t.Fatal(err)
		}
		for a, m := range model {
			if got := ci.Values[a]; got != m.value {
				t.Fatalf("%s = %v, want %v (owner %q)", a, got, m.value, m.owner)
			}
		}
	})
}
