package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// byolChains builds a payload of n BYOL chains (computer with one install,
// VM, dedicated host, datacenter, account), numbered from start. Chains
// share accounts and datacenters ten by ten, as real estates do.
func byolChains(n, start int) *payload.Payload {
	var items, rels []string
	for k := start; k < start+n; k++ {
		base := len(items)
		items = append(items,
			fmt.Sprintf(`{"className":"cmdb_ci_computer","values":{"name":"comp-%d","cpu_count":2,"cpu_core_count":8,"cpu_core_thread":2,"virtual":true},
			  "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"IBM","display_name":"Db2","version":"11.5","cloud_license_type":"BYOL","cloud_license_type_source":"third_party_integration"}}]}`, k),
			fmt.Sprintf(`{"className":"cmdb_ci_vm_instance","values":{"object_id":"i-%d","name":"vm-%d"}}`, k, k),
			fmt.Sprintf(`{"className":"cmdb_ci_cloud_host","values":{"object_id":"h-%d","name":"host-%d","cpu_core_count":32}}`, k, k),
			fmt.Sprintf(`{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"dc-%d","name":"dc"}}`, k/10),
			fmt.Sprintf(`{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"acct-%d"}}`, k/100))
		rels = append(rels,
			fmt.Sprintf(`{"type":"Virtualized by::Virtualizes","parent":%d,"child":%d}`, base, base+1),
			fmt.Sprintf(`{"type":"Runs on::Runs","parent":%d,"child":%d}`, base+1, base+2),
			fmt.Sprintf(`{"type":"Hosted on::Hosts","parent":%d,"child":%d}`, base+2, base+3),
			fmt.Sprintf(`{"type":"Hosted on::Hosts","parent":%d,"child":%d}`, base+3, base+4))
	}
	p, err := payload.DecodeBytes([]byte(`{"items":[` + strings.Join(items, ",") + `],"relations":[` + strings.Join(rels, ",") + `]}`))
	if err != nil {
		panic(err)
	}
	return p
}

// BenchmarkApply measures inserting new BYOL chains, chainsPerPayload per
// payload (one payload is one transaction); items/s counts top-level items
// and related installs.
func BenchmarkApply(b *testing.B) {
	for _, chains := range []int{1, 100} {
		b.Run(fmt.Sprintf("chains=%d", chains), func(b *testing.B) {
			e, err := engine.Open(b.TempDir(), engine.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			payloads := make([]*payload.Payload, b.N)
			for i := range payloads {
				payloads[i] = byolChains(chains, i*chains)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := e.Apply(context.Background(), "ServiceNow", payloads[i], seedOptions)
				if err != nil || res.HasError {
					b.Fatalf("apply: %v", err)
				}
			}
			items := float64(b.N * chains * 6)
			b.ReportMetric(items/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkApplyUnchanged measures re-applying known chains (NO_CHANGE).
func BenchmarkApplyUnchanged(b *testing.B) {
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	p := byolChains(100, 0)
	if _, err := e.Apply(context.Background(), "ServiceNow", p, seedOptions); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Apply(context.Background(), "ServiceNow", p, seedOptions); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*600)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkApplyBatch measures 100 single-chain payloads per transaction
// through ApplyBatch, the batched in-process ingest path.
func BenchmarkApplyBatch(b *testing.B) {
	const batch = 100
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	batches := make([][]*payload.Payload, b.N)
	for i := range batches {
		for k := range batch {
			batches[i] = append(batches[i], byolChains(1, i*batch+k))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := e.ApplyBatch(context.Background(), "ServiceNow", batches[i], seedOptions)
		if err != nil || res[batch-1].HasError {
			b.Fatalf("apply: %v", err)
		}
	}
	b.ReportMetric(float64(b.N*batch*6)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkApplyParallel measures single-chain payloads applied from
// several goroutines at once: concurrent writers of different CIs, the
// case where any key every write transaction shares costs conflicts.
func BenchmarkApplyParallel(b *testing.B) {
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := byolChains(1, int(next.Add(1))*100) // no shared account or datacenter
			res, err := e.Apply(context.Background(), "ServiceNow", p, seedOptions)
			if err != nil || res.HasError {
				b.Errorf("apply: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*6)/b.Elapsed().Seconds(), "items/s")
}
