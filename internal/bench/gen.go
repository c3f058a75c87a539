package bench

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/irego/irego/payload"
)

// ItemsPerChain is how many items and related records one chain carries
// with the default number of installs: computer, VM, cloud host,
// datacenter, account, and the installs.
func ItemsPerChain(installs int) int { return 5 + installs }

// Generator makes BYOL chain payloads: a computer with its software
// installs, virtualized by a VM that runs on a dedicated cloud host in a
// datacenter of a cloud account. Ten chains share a datacenter and a
// hundred an account, as real estates do. Safe for concurrent use.
type Generator struct {
	// UpdateFraction of payloads re-send a known chain with a changed
	// value; RepeatFraction re-send one unchanged.
	UpdateFraction, RepeatFraction float64
	// Installs per computer.
	Installs int
	// NativeKeys gives every item a source native key, as a Service Graph
	// connector's payloads carry (sys_object_source_info).
	NativeKeys bool

	mu   sync.Mutex
	next int // chains made so far
	rng  *rand.Rand
}

// NewGenerator returns a generator numbering chains from start.
func NewGenerator(seed uint64, start int) *Generator {
	return &Generator{Installs: 3, next: start, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Next returns the next payload: one chain, new, updated or repeated.
func (g *Generator) Next() *payload.Payload {
	g.mu.Lock()
	chain, version := g.next, 0
	switch r := g.rng.Float64(); {
	case g.next > 0 && r < g.UpdateFraction:
		chain, version = g.rng.IntN(g.next), 1+g.rng.IntN(1000)
	case g.next > 0 && r < g.UpdateFraction+g.RepeatFraction:
		chain = g.rng.IntN(g.next)
	default:
		g.next++
	}
	g.mu.Unlock()
	p := Chain(chain, version, g.Installs)
	if g.NativeKeys {
		withNativeKeys(p)
	}
	return p
}

// withNativeKeys gives each item of a chain its source native key: its
// class and its name or object id.
func withNativeKeys(p *payload.Payload) {
	for i := range p.Items {
		it := &p.Items[i]
		id := it.Values["object_id"]
		if id == nil {
			id = it.Values["account_id"]
		}
		if id == nil {
			id = it.Values["name"]
		}
		it.SourceInfo = &payload.SourceInfo{SourceNativeKey: fmt.Sprintf("%s/%v", it.ClassName, id)}
	}
}

// Chain builds chain k's payload; version changes the computer's RAM so
// that a later version is an update.
func Chain(k, version, installs int) *payload.Payload {
	related := make([]payload.Related, installs)
	for i := range related {
		related[i] = payload.Related{ClassName: "cmdb_sam_sw_install", Values: map[string]any{
			"publisher": "IBM", "display_name": fmt.Sprintf("Product %d", i), "version": "11.5",
			"cloud_license_type": "BYOL", "cloud_license_type_source": "third_party_integration"}}
	}
	return &payload.Payload{
		Items: []payload.Item{
			{ClassName: "cmdb_ci_computer", Related: related, Values: map[string]any{
				"name": fmt.Sprintf("comp-%d", k), "cpu_count": int64(2), "cpu_core_count": int64(8),
				"cpu_core_thread": int64(2), "virtual": true, "ram": int64(16384 + version)}},
			{ClassName: "cmdb_ci_vm_instance", Values: map[string]any{"object_id": fmt.Sprintf("i-%08x", k), "name": fmt.Sprintf("vm-%d", k)}},
			{ClassName: "cmdb_ci_cloud_host", Values: map[string]any{"object_id": fmt.Sprintf("h-%08x", k), "name": fmt.Sprintf("host-%d", k), "cpu_core_count": int64(32)}},
			{ClassName: "cmdb_ci_aws_datacenter", Values: map[string]any{"object_id": fmt.Sprintf("region-%d", k/10), "name": "datacenter"}},
			{ClassName: "cmdb_ci_cloud_service_account", Values: map[string]any{"account_id": fmt.Sprintf("%012d", k/100), "name": "account"}},
		},
		Relations: []payload.Relation{
			{Type: "Virtualized by::Virtualizes", Parent: 0, Child: 1},
			{Type: "Runs on::Runs", Parent: 1, Child: 2},
			{Type: "Hosted on::Hosts", Parent: 2, Child: 3},
			{Type: "Hosted on::Hosts", Parent: 3, Child: 4},
		},
	}
}

// Items counts a payload's items and related records.
func Items(p *payload.Payload) int {
	n := len(p.Items)
	for _, it := range p.Items {
		n += len(it.Related)
	}
	return n
}
