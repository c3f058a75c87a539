package engine_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// exampleEngine opens an engine in memory with predictable sys_ids (1, 2,
// … in 32 hex digits) and a clock that moves a minute per reading, so
// that the examples print the same every time.
func exampleEngine(rs *rules.RuleSet) *engine.Engine {
	n := 0
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	e, err := engine.Open("", engine.Options{
		InMemory: true,
		Rules:    rs,
		NewSysID: func() string { n++; return fmt.Sprintf("%032x", n) },
		Now:      func() time.Time { now = now.Add(time.Minute); return now },
	})
	if err != nil {
		panic(err)
	}
	return e
}

func decodeExample(s string) *payload.Payload {
	p, err := payload.DecodeBytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return p
}

// The seeds' bring-your-own-license chain: a computer with SQL Server
// installed, on a VM, on a dedicated cloud host, in a datacenter, under a
// cloud account, applied once and then again.
func Example() {
	e := exampleEngine(nil) // nil: the default rule pack
	defer e.Close()
	body, err := os.ReadFile("../examples/byol-dedicated-vm.json")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for range 2 {
		res, err := e.Apply(ctx, "ServiceNow", decodeExample(string(body)), engine.DefaultApplyOptions())
		if err != nil {
			panic(err)
		}
		for _, it := range res.Items {
			fmt.Println(it.ClassName, it.Operation)
		}
		fmt.Println(len(res.Relations), "relations", res.Relations[0].Operation)
	}
	// Output:
	// cmdb_ci_computer INSERT
	// cmdb_ci_vm_instance INSERT
	// cmdb_ci_cloud_host INSERT
	// cmdb_ci_aws_datacenter INSERT
	// cmdb_ci_cloud_service_account INSERT
	// 4 relations INSERT
	// cmdb_ci_computer NO_CHANGE
	// cmdb_ci_vm_instance NO_CHANGE
	// cmdb_ci_cloud_host NO_CHANGE
	// cmdb_ci_aws_datacenter NO_CHANGE
	// cmdb_ci_cloud_service_account NO_CHANGE
	// 4 relations NO_CHANGE
}

// Identify is a dry run: it answers what Apply would do and writes nothing.
func ExampleEngine_Identify() {
	e := exampleEngine(nil)
	defer e.Close()
	ctx := context.Background()
	p := decodeExample(`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"web01","serial_number":"SN-7"}}]}`)
	res, err := e.Identify(ctx, "SCCM", p, engine.DefaultApplyOptions())
	if err != nil {
		panic(err)
	}
	it := res.Items[0]
	fmt.Println(it.Operation, it.SysID)
	for _, a := range it.IdentificationAttempts {
		if a.AttemptResult != "SKIPPED" { // entries whose values the item lacks
			fmt.Println(a.IdentifierName, a.Attributes, a.AttemptResult)
		}
	}
	n := 0
	e.Records(ctx, func(*store.Record) error { n++; return nil })
	fmt.Println(n, "records stored")
	// Output:
	// INSERT Unknown
	// Hardware Rule [serial_number] NO_MATCH
	// Hardware Rule [name] NO_MATCH
	// 0 records stored
}

// A rule file for a class of your own, loaded from a string: a robot
// identified by its serial number, or by its name within its site.
func ExampleEngine_ownRules() {
	rs, err := rules.Load("robots.yaml", []byte(`
classes:
  - name: cmdb_ci
  - {name: u_robot, extends: cmdb_ci}
identification:
  - name: Robot
    applies_to: u_robot
    entries:
      - {priority: 100, attributes: [serial_number]}
      - {priority: 200, attributes: [site, name]}
`))
	if err != nil {
		panic(err)
	}
	e := exampleEngine(rs)
	defer e.Close()
	ctx := context.Background()
	opts := engine.DefaultApplyOptions()
	first, _ := e.Apply(ctx, "SCCM", decodeExample(`{"items":[{"className":"u_robot","values":{"name":"arm-1","site":"Lyon","serial_number":"R-1"}}]}`), opts)
	// No serial number this time: the site and name find the same robot.
	again, _ := e.Apply(ctx, "SCCM", decodeExample(`{"items":[{"className":"u_robot","values":{"name":"arm-1","site":"Lyon","model":"KR 6"}}]}`), opts)
	fmt.Println(first.Items[0].Operation, again.Items[0].Operation, again.Items[0].SysID == first.Items[0].SysID)
	ci, _ := e.Get(ctx, first.Items[0].SysID)
	fmt.Println(ci.Values["model"], ci.Values["serial_number"])
	// Output:
	// INSERT UPDATE true
	// KR 6 R-1
}

// Reading a CI back with its relations, and walking the graph from it.
func ExampleEngine_Walk() {
	e := exampleEngine(nil)
	defer e.Close()
	ctx := context.Background()
	body, _ := os.ReadFile("../examples/byol-dedicated-vm.json")
	res, _ := e.Apply(ctx, "ServiceNow", decodeExample(string(body)), engine.DefaultApplyOptions())
	computer := res.Items[0].SysID
	ci, err := e.Get(ctx, computer)
	if err != nil {
		panic(err)
	}
	fmt.Println(ci.Class, ci.Values["name"])
	for _, r := range ci.Related {
		fmt.Println("related:", r.Class)
	}
	for _, l := range ci.Outbound {
		fmt.Println("out:", l.Type, l.Other.Class)
	}
	steps, err := e.Walk(ctx, computer, relations.Out, 4)
	if err != nil {
		panic(err)
	}
	for _, s := range steps {
		child, _ := e.Get(ctx, s.Edge.Child)
		fmt.Println(s.Depth, s.Edge.Type, child.Values["name"])
	}
	// Output:
	// cmdb_ci_computer Comp - Dedicated AWS - 1
	// related: cmdb_sam_sw_install
	// out: Virtualized by::Virtualizes cmdb_ci_vm_instance
	// 1 Virtualized by::Virtualizes VM Dedicated AWS - 1
	// 2 Runs on::Runs AWS Dedicated Host - 1
	// 3 Hosted on::Hosts AWS DataCenter - 1
	// 4 Hosted on::Hosts Cloud Service Account AWS - 1
}

// Every write of a CI is in its history; AsOf reads the CI as it was.
func ExampleEngine_History() {
	e := exampleEngine(nil)
	defer e.Close()
	ctx := context.Background()
	opts := engine.DefaultApplyOptions()
	res, _ := e.Apply(ctx, "SCCM", decodeExample(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"SN-1","name":"pc1","ram":4096}}]}`), opts)
	e.Apply(ctx, "SCCM", decodeExample(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"SN-1","name":"pc1","ram":8192}}]}`), opts)
	id := res.Items[0].SysID
	changes, err := e.History(ctx, id)
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		fmt.Println(c.Op, c.Source, c.Attributes["ram"].Before, "→", c.Attributes["ram"].After)
	}
	then, _ := e.AsOf(ctx, id, changes[0].At)
	fmt.Println("as of the first change: ram", then.Values["ram"])
	// Output:
	// INSERT SCCM <nil> → 4096
	// UPDATE SCCM 4096 → 8192
	// as of the first change: ram 4096
}

// A payload whose dependent item arrives without what it depends on is kept
// aside as a partial payload until a later payload completes it.
func ExampleEngine_Partials() {
	e := exampleEngine(nil)
	defer e.Close()
	ctx := context.Background()
	// A VM instance is identified within its cloud host; no host yet.
	res, _ := e.Apply(ctx, "ServiceNow", decodeExample(`{"items":[
		{"className":"cmdb_ci_vm_instance","values":{"object_id":"vm-1","name":"vm 1"}}]}`), engine.DefaultApplyOptions())
	fmt.Println(res.Items[0].Operation)
	waiting, _ := e.Partials()
	fmt.Println(len(waiting), "partial payload waiting")
	// Output:
	// INSERT_AS_PARTIAL
	// 1 partial payload waiting
}

// Two sources report the same computer; the reconciliation rules say
// ServiceNow's discovery owns the hardware's attributes before SCCM, so
// SCCM's cpu_count is masked while the os it alone reports is kept.
func ExampleEngine_Apply_reconciliation() {
	rs, err := rules.LoadFile("../examples/reconciliation-rules.yaml")
	if err != nil {
		panic(err)
	}
	e := exampleEngine(rs)
	defer e.Close()
	ctx := context.Background()
	for _, f := range []struct{ source, file string }{{"ServiceNow", "computer-servicenow.json"}, {"SCCM", "computer-sccm.json"}} {
		body, _ := os.ReadFile("../examples/" + f.file)
		res, err := e.Apply(ctx, f.source, decodeExample(string(body)), engine.DefaultApplyOptions())
		if err != nil {
			panic(err)
		}
		it := res.Items[0]
		fmt.Println(f.source, it.Operation, "masked:", it.MaskedAttributes)
		if f.source == "SCCM" {
			ci, _ := e.Get(ctx, it.SysID)
			keys := make([]string, 0, len(ci.Owners))
			for k := range ci.Owners {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Printf("%s=%v (%s)\n", k, ci.Values[k], ci.Owners[k])
			}
		}
	}
	// Output:
	// ServiceNow INSERT masked: []
	// SCCM UPDATE masked: [cpu_count]
	// cpu_count=2 (ServiceNow)
	// name=Comp - Reconciled - 1 (ServiceNow)
	// os=Windows Server 2022 (SCCM)
	// ram=8192 (ServiceNow)
	// serial_number=SN-0001 (ServiceNow)
}

// Any store.Store can carry the engine: here Badger opened by the caller
// (in memory); store/backend opens PostgreSQL-wire databases the same way.
func ExampleOpenStore() {
	db, err := badger.Open(badger.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	e, err := engine.OpenStore(db, engine.Options{}) // e.Close closes db
	if err != nil {
		panic(err)
	}
	defer e.Close()
	res, err := e.Apply(context.Background(), "SCCM", decodeExample(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"SN-1"}}]}`), engine.DefaultApplyOptions())
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Items[0].Operation)
	// Output:
	// INSERT
}
