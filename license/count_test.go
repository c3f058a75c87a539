package license_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
)

// graph is a generated estate: cloud hosts, some with software of their
// own, and computers each on a VM that runs on one of the hosts, on a
// shared VM, or on no VM at all.
type graph struct {
	hostCores  []int
	hostTitles [][]string
	computers  []computer
}

type computer struct {
	cores  int
	host   int // index into hostCores; -1: a shared VM; -2: no VM
	titles []string
}

var titles = []string{"Db2", "MQ"}

func genGraph(t *rapid.T) graph {
	g := graph{hostCores: rapid.SliceOfN(rapid.IntRange(1, 16), 0, 3).Draw(t, "hosts")}
	for i := range g.hostCores {
		g.hostTitles = append(g.hostTitles, rapid.SliceOfNDistinct(rapid.SampledFrom(titles), 0, 2, rapid.ID).Draw(t, fmt.Sprintf("hostTitles%d", i)))
	}
	n := rapid.IntRange(1, 6).Draw(t, "computers")
	for i := range n {
		c := computer{cores: rapid.IntRange(1, 12).Draw(t, fmt.Sprintf("cores%d", i)), host: rapid.IntRange(-2, len(g.hostCores)-1).Draw(t, fmt.Sprintf("host%d", i))}
		c.titles = rapid.SliceOfNDistinct(rapid.SampledFrom(titles), 1, 2, rapid.ID).Draw(t, fmt.Sprintf("titles%d", i))
		g.computers = append(g.computers, c)
	}
	return g
}

// payload renders the estate as one payload.
func (g graph) payload() *payload.Payload {
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
	hosts := make([]int, len(g.hostCores))
	for i, cores := range g.hostCores {
		hosts[i] = add("cmdb_ci_cloud_host", m{"object_id": fmt.Sprintf("h-%d", i), "name": fmt.Sprintf("host-%d", i), "cpu_core_count": cores})
		rel("Hosted on::Hosts", hosts[i], dc)
		for _, title := range g.hostTitles[i] {
			p.Items[hosts[i]].Related = append(p.Items[hosts[i]].Related, payload.Related{ClassName: license.InstallClass,
				Values: m{"publisher": "IBM", "display_name": title, "version": "11", "cloud_license_type": "BYOL", "cloud_license_type_source": "third_party_integration"}})
		}
	}
	for i, c := range g.computers {
		ci := add("cmdb_ci_computer", m{"name": fmt.Sprintf("comp-%d", i), "cpu_count": 1, "cpu_core_count": c.cores, "cpu_core_thread": 2, "virtual": true})
		for _, title := range c.titles {
			p.Items[ci].Related = append(p.Items[ci].Related, payload.Related{ClassName: license.InstallClass,
				Values: m{"publisher": "IBM", "display_name": title, "version": "11", "cloud_license_type": "BYOL", "cloud_license_type_source": "third_party_integration"}})
		}
		if c.host == -2 {
			continue
		}
		vm := add("cmdb_ci_vm_instance", m{"object_id": fmt.Sprintf("i-%d", i)})
		rel(license.VirtualizedBy, ci, vm)
		if c.host >= 0 {
			rel(license.RunsOn, vm, hosts[c.host])
		} else {
			rel("Hosted on::Hosts", vm, dc)
		}
	}
	return p
}

// want is what License Metric Tool counts, per "title metric": full
// capacity once per host (or the computer's own cores without one),
// sub-capacity the computers' cores capped at their host's, and virtual
// processor cores per computer. Software on a host itself uses all its
// cores: the host's full capacity, once, and its cores in sub-capacity
// and virtual processor cores.
func (g graph) want() map[string]float64 {
	const pvu = 70
	out := map[string]float64{}
	for _, title := range titles {
		sub := make([]float64, len(g.hostCores))
		used := make([]bool, len(g.hostCores))
		for _, c := range g.computers {
			if !contains(c.titles, title) {
				continue
			}
			out[title+" 11 VIRTUAL_PROCESSOR_CORE"] += float64(c.cores)
			if c.host < 0 {
				out[title+" 11 PVU_FULL_CAP"] += float64(c.cores * pvu)
				out[title+" 11 PVU_SUB_CAP"] += float64(c.cores * pvu)
				continue
			}
			used[c.host] = true
			sub[c.host] += float64(c.cores * pvu)
		}
		for h, cores := range g.hostCores {
			if contains(g.hostTitles[h], title) {
				used[h] = true
				sub[h] += float64(cores * pvu)
				out[title+" 11 VIRTUAL_PROCESSOR_CORE"] += float64(cores)
			}
			if used[h] {
				out[title+" 11 PVU_FULL_CAP"] += float64(cores * pvu)
				out[title+" 11 PVU_SUB_CAP"] += min(sub[h], float64(cores*pvu))
			}
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestV1AndV2Agree: over generated estates, the deprecated per-system
// peaks add up to the v2 totals, both equal what the estate should count,
// and no server's sub-capacity exceeds its full capacity.
func TestV1AndV2Agree(t *testing.T) {
	rs := hostInstallRules(t, false)
	rapid.Check(t, func(rt *rapid.T) {
		g := genGraph(rt)
		dir, err := os.MkdirTemp("", "irego-license-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		e, err := engine.Open(dir, engine.Options{Rules: rs})
		if err != nil {
			rt.Fatal(err)
		}
		defer e.Close()
		ctx := context.Background()
		if res, err := e.Apply(ctx, "AWS", g.payload(), engine.DefaultApplyOptions()); err != nil || res.HasError {
			b, _ := json.Marshal(res)
			rt.Fatalf("apply: %v %s", err, b)
		}
		c := &clock{t: day1}
		m := license.New(e, license.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
		if _, err := m.Import(ctx); err != nil {
			rt.Fatal(err)
		}
		v1 := map[string]float64{}
		peaks, _, err := m.Peaks(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		for _, p := range peaks {
			v1[p.Title.Name()+" "+p.Metric.CodeName] += p.Value
		}
		v2 := map[string]float64{}
		products, err := m.ProductUsage(ctx, license.AllComputers, "2026-01-01", "2026-12-31")
		if err != nil {
			rt.Fatal(err)
		}
		for _, p := range products {
			v2[p.Title.Name()+" "+p.Metric.CodeName] += p.Quantity
		}
		want := g.want()
		if diff := cmp.Diff(want, v1); diff != "" {
			rt.Errorf("v1 totals (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, v2); diff != "" {
			rt.Errorf("v2 totals (-want +got):\n%s", diff)
		}
		servers, err := m.ServerUsage(ctx, license.AllComputers, "2026-03-02")
		if err != nil {
			rt.Fatal(err)
		}
		full := map[string]float64{}
		for _, s := range servers {
			if s.Metric.CodeName == "PVU_FULL_CAP" {
				full[fmt.Sprint(s.Server.ID, s.Title.ID)] = s.Quantity
			}
		}
		for _, s := range servers {
			if s.Metric.CodeName == "PVU_SUB_CAP" && s.Quantity > full[fmt.Sprint(s.Server.ID, s.Title.ID)] {
				rt.Errorf("server %s: sub-capacity %g over full capacity %g", s.Server.Name, s.Quantity, full[fmt.Sprint(s.Server.ID, s.Title.ID)])
			}
		}
	})
}
