package engine_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// For any sequence of reports of one computer, each with or without
// first_discovered and last_discovered, with or without
// skip_updating_source_last_discovered_to_now, at any clock: the record's
// discovery times are the model's (first_discovered: the last one given,
// else the insert's now; last_discovered: the greatest of the values given
// and the nows of reports without one or the option), sys_updated_on moves
// only when cpu_count changes, each report answers NO_CHANGE exactly when
// it does not, and the bookkeeping fields never become values.
func TestPropDiscoveryTimes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := newClock()
		immediate := rapid.Bool().Draw(t, "immediate")
		e, err := engine.Open("", engine.Options{InMemory: true, Now: c.Now, ImmediateLastDiscovered: immediate})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		base := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
		var first, last, updated time.Time
		var sysID string
		cpu := int64(0)
		for k := range rapid.IntRange(1, 8).Draw(t, "reports") {
			c.advance(time.Duration(rapid.IntRange(0, 48).Draw(t, fmt.Sprint("hours", k))) * time.Hour)
			now := c.now
			cpuNow := rapid.Int64Range(1, 2).Draw(t, fmt.Sprint("cpu", k))
			values := map[string]any{"name": "c1", "cpu_count": cpuNow}
			var firstV, lastV time.Time
			if rapid.Bool().Draw(t, fmt.Sprint("hasFirst", k)) {
				firstV = base.Add(time.Duration(rapid.IntRange(0, 24*90).Draw(t, fmt.Sprint("first", k))) * time.Hour)
				values["first_discovered"] = firstV.Format(time.DateTime)
			}
			if rapid.Bool().Draw(t, fmt.Sprint("hasLast", k)) {
				lastV = base.Add(time.Duration(rapid.IntRange(0, 24*90).Draw(t, fmt.Sprint("last", k))) * time.Hour)
				values["last_discovered"] = lastV.Format(time.RFC3339)
			}
			o := engine.DefaultApplyOptions()
			o.SkipUpdatingSourceLastDiscoveredToNow = rapid.Bool().Draw(t, fmt.Sprint("skip", k))
			p := &payload.Payload{Items: []payload.Item{{ClassName: "cmdb_ci_computer", Values: values}}}
			res, err := e.Apply(context.Background(), "ServiceNow", p, o)
			if err != nil {
				t.Fatal(err)
			}
			it := res.Items[0]
			if res.HasError || res.HasWarning {
				t.Fatalf("report %d: %s", k, mustJSON(res))
			}
			wantOp := "NO_CHANGE"
			switch {
			case k == 0:
				wantOp, sysID, first, last, updated = "INSERT", it.SysID, firstV, lastV, now
				if first.IsZero() {
					first = now
				}
				if last.IsZero() {
					last = now
				}
			default:
				if cpuNow != cpu {
					wantOp, updated = "UPDATE", now
				}
				if !firstV.IsZero() {
					first = firstV
				}
				switch {
				case !lastV.IsZero():
					if lastV.After(last) {
						last = lastV
					}
				case !o.SkipUpdatingSourceLastDiscoveredToNow && now.After(last):
					last = now
				}
			}
			cpu = cpuNow
			if it.Operation != wantOp || it.SysID != sysID {
				t.Fatalf("report %d: %s %s, want %s %s", k, it.Operation, it.SysID, wantOp, sysID)
			}
			// Batched moves of last_discovered show once written; until
			// then the stored one may lag behind, never run ahead.
			flushed := immediate || rapid.Bool().Draw(t, fmt.Sprint("flush", k))
			if flushed {
				if err := e.FlushLastDiscovered(); err != nil {
					t.Fatal(err)
				}
			}
			rec, err := e.Record(context.Background(), sysID)
			if err != nil {
				t.Fatal(err)
			}
			lastOK := rec.LastDiscovered.Equal(last) || (!flushed && !rec.LastDiscovered.After(last))
			if !rec.FirstDiscovered.Equal(first) || !lastOK || !rec.Updated.Equal(updated) {
				t.Fatalf("report %d: first %v last %v updated %v; want %v %v %v", k, rec.FirstDiscovered, rec.LastDiscovered, rec.Updated, first, last, updated)
			}
			var keys []string
			for a := range rec.Values {
				keys = append(keys, a)
			}
			sort.Strings(keys)
			if got := strings.Join(keys, " "); got != "cpu_count name" {
				t.Fatalf("report %d: values %s", k, got)
			}
		}
	})
}
