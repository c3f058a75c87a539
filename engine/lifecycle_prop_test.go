package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// Properties of reconciliation and the payload lifecycle, against the
// default rule pack (ServiceNow 100, SCCM 200, any other source 1000 for
// every hardware attribute).

var sourcePriority = map[string]int{"ServiceNow": 100, "SCCM": 200, "X": 1000, "Y": 1000}

func openMem(t *rapid.T, now func() time.Time) *engine.Engine {
	// X and Y stand for feeds of the user's own, declared beside the
	// discovery sources ServiceNow knows.
	e, err := engine.Open("", engine.Options{InMemory: true, Now: now, Sources: append(engine.DefaultSources, "X", "Y")})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// For any interleaving of reports (within the refresh period), each
// attribute ends with the last value reported by the highest-priority
// source that reported it.
func TestPropHighestSourceWins(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := newClock()
		e := openMem(t, c.Now)
		defer e.Close()
		type report struct {
			source string
			attrs  map[string]int64
		}
		var reports []report
		n := rapid.IntRange(1, 12).Draw(t, "reports")
		for k := range n {
			r := report{source: rapid.SampledFrom([]string{"ServiceNow", "SCCM", "X", "Y"}).Draw(t, fmt.Sprint("source", k)), attrs: map[string]int64{}}
			for _, a := range []string{"cpu_count", "ram", "disk"} {
				if rapid.Bool().Draw(t, fmt.Sprint("has", k, a)) {
					r.attrs[a] = rapid.Int64Range(1, 3).Draw(t, fmt.Sprint("v", k, a))
				}
			}
			reports = append(reports, r)
		}
		var sysID string
		for _, r := range reports {
			c.advance(time.Hour)
			values := map[string]any{"name": "c1"}
			for a, v := range r.attrs {
				values[a] = v
			}
			p := &payload.Payload{Items: []payload.Item{{ClassName: "cmdb_ci_computer", Values: values}}}
			res, err := e.Apply(context.Background(), r.source, p, engine.DefaultApplyOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.HasError {
				t.Fatalf("unexpected error: %+v", res.Items[0].Errors)
			}
			sysID = res.Items[0].SysID
		}
		rec, err := e.Record(context.Background(), sysID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"cpu_count", "ram", "disk"} {
			best, want, reported := 1<<30, int64(0), false
			for _, r := range reports {
				v, ok := r.attrs[a]
				if !ok {
					continue
				}
				if p := sourcePriority[r.source]; p < best {
					best, want, reported = p, v, true
				} else if p == best {
					want = v
				}
			}
			got, has := rec.Values[a]
			if !reported {
				if has {
					t.Fatalf("%s = %v though no source reported it", a, got)
				}
				continue
			}
			if got != want {
				t.Fatalf("%s = %v, want %d (the last value of the highest-priority source)", a, got, want)
			}
		}
	})
}

// Applying a partial payload and then the payload that completes it gives
// the same graph as applying their union once.
func TestPropPartialThenCompletionEqualsMerged(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		region := rapid.SampledFrom([]string{"us-east-1", "eu-west-1"}).Draw(t, "region")
		dcName := rapid.SampledFrom([]string{"", "East", "West"}).Draw(t, "dcName")
		vms := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"i-1", "i-2", "i-3"}), 0, 3, rapid.ID).Draw(t, "vms")
		first, second, whole := partialScenario(region, dcName, vms)

		ctx := context.Background()
		split := openMem(t, nil)
		defer split.Close()
		for _, p := range []*payload.Payload{first, second} {
			if _, err := split.Apply(ctx, "AWS", p, engine.DefaultApplyOptions()); err != nil {
				t.Fatal(err)
			}
		}
		once := openMem(t, nil)
		defer once.Close()
		res, err := once.Apply(ctx, "AWS", whole, engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.HasError || res.HasWarning {
			t.Fatalf("the merged payload must apply cleanly: %+v", res)
		}
		a, b := graphOf(t, split), graphOf(t, once)
		if a != b {
			t.Fatalf("partial then completion:\n%s\nmerged once:\n%s", a, b)
		}
		if parts, _ := split.Partials(); len(parts) != 0 {
			t.Fatalf("partials left after completion: %d", len(parts))
		}
	})
}

// partialScenario returns a datacenter (with VMs) sent before its account,
// the payload that completes it, and the union of the two.
func partialScenario(region, dcName string, vms []string) (first, second, whole *payload.Payload) {
	dc := map[string]any{"object_id": region}
	if dcName != "" {
		dc["name"] = dcName
	}
	first = &payload.Payload{Items: []payload.Item{{ClassName: "cmdb_ci_aws_datacenter", Values: dc}}}
	for _, vm := range vms {
		first.Items = append(first.Items, payload.Item{ClassName: "cmdb_ci_vm_instance", Values: map[string]any{"object_id": vm}})
		first.Relations = append(first.Relations, payload.Relation{Type: "Hosted on::Hosts", Parent: len(first.Items) - 1, Child: 0})
	}
	second = &payload.Payload{
		Items: []payload.Item{
			{ClassName: "cmdb_ci_cloud_service_account", Values: map[string]any{"account_id": "a1"}},
			{ClassName: "cmdb_ci_aws_datacenter", Values: map[string]any{"object_id": region}},
		},
		Relations: []payload.Relation{{Type: "Hosted on::Hosts", Parent: 1, Child: 0}},
	}
	whole = first.Clone()
	whole.Items = append(whole.Items, second.Items[0])
	whole.Relations = append(whole.Relations, payload.Relation{Type: "Hosted on::Hosts", Parent: 0, Child: len(whole.Items) - 1})
	return first, second, whole
}

// graphOf renders the stored CIs and relations without sys_ids: each CI by
// its class and values, each edge by its ends' renderings.
func graphOf(t *rapid.T, e *engine.Engine) string {
	ctx := context.Background()
	name := map[string]string{}
	var ids []string
	if err := e.Records(ctx, func(r *store.Record) error {
		keys := make([]string, 0, len(r.Values))
		for k := range r.Values {
			if k != "installed_on" {
				keys = append(keys, fmt.Sprintf("%s=%s", k, payload.Canonical(r.Values[k])))
			}
		}
		sort.Strings(keys)
		name[r.SysID] = r.Class + "{" + strings.Join(keys, ",") + "}"
		ids = append(ids, r.SysID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, id := range ids {
		ci, err := e.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, name[id])
		for _, l := range ci.Outbound {
			lines = append(lines, name[id]+" -"+l.Type+"-> "+name[l.Other.SysID])
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// With partial_commits off, a payload with one bad item changes nothing.
func TestPropStrictPayloadWithBadItemChangesNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := openMem(t, nil)
		defer e.Close()
		ctx := context.Background()
		region := rapid.SampledFrom([]string{"us-east-1", "eu-west-1"}).Draw(t, "region")
		_, seed, _ := partialScenario(region, "", nil)
		if _, err := e.Apply(ctx, "AWS", seed, engine.DefaultApplyOptions()); err != nil {
			t.Fatal(err)
		}
		// The insert's index count deltas are folded now, not by the
		// engine's folder between the two dumps (every 50 ms).
		if err := engine.FoldCounts(e); err != nil {
			t.Fatal(err)
		}
		before := dump(t, e)
		_, _, p := partialScenario(rapid.SampledFrom([]string{"us-east-1", "ap-south-1"}).Draw(t, "region2"), "New name", []string{"i-9"})
		bad := rapid.SampledFrom([]payload.Item{
			{ClassName: "no_such_class", Values: map[string]any{"name": "x"}},
			{ClassName: "cmdb_ci_computer", Values: map[string]any{"cpu_count": int64(1)}},
			{ClassName: "cmdb_ci_vm_instance", Values: map[string]any{"object_id": "orphan"}},
		}).Draw(t, "bad")
		at := rapid.IntRange(0, len(p.Items)).Draw(t, "at")
		p.Items = append(p.Items[:at], append([]payload.Item{bad}, p.Items[at:]...)...)
		for k := range p.Relations {
			for _, end := range []*int{&p.Relations[k].Parent, &p.Relations[k].Child} {
				if *end >= at {
					*end++
				}
			}
		}
		res, err := e.Apply(ctx, "AWS", p, engine.StrictApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if !res.HasError {
			t.Fatalf("a bad item must fail the strict payload: %+v", res)
		}
		if after := dump(t, e); !bytes.Equal(before, after) {
			t.Fatalf("the store changed although the payload failed")
		}
	})
}

// dump returns every key and value in the store.
func dump(t *rapid.T, e *engine.Engine) []byte {
	var b bytes.Buffer
	err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(nil, func(k, v []byte) error {
			b.Write(k)
			b.WriteByte(0)
			b.Write(v)
			b.WriteByte(0)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
