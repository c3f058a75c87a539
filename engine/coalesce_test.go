package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
)

// Three items of one computer, each with part of its identity: {serial},
// {name}, {name, serial}. Whatever the order, identification used to give
// the {name} item a CI of its own when it came before the item that joins
// name and serial, and the same payload applied again then found two CIs
// named c1. They are one computer, in every order, and a second apply
// changes nothing.
func TestItemsThatLaterItemsJoinAreOneCI(t *testing.T) {
	items := []string{
		`{"className":"cmdb_ci_computer","values":{"serial_number":"s1","cpu_count":2}}`,
		`{"className":"cmdb_ci_computer","values":{"name":"c1","cpu_count":2}}`,
		`{"className":"cmdb_ci_computer","values":{"name":"c1","serial_number":"s1"}}`,
	}
	for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			e := openDisk(t)
			var list []string
			for _, k := range order {
				list = append(list, items[k])
			}
			p := mustDecode(t, `{"items":[`+strings.Join(list, ",")+`]}`)
			first, err := e.Apply(context.Background(), "SCCM", p, engine.DefaultApplyOptions())
			if err != nil {
				t.Fatal(err)
			}
			id := first.Items[0].SysID
			for i, it := range first.Items {
				if it.Operation != "INSERT" || it.SysID != id {
					t.Fatalf("item %d: %s %s, want INSERT %s (one computer)\n%s", i, it.Operation, it.SysID, id, it.Explanation)
				}
			}
			again, err := e.Apply(context.Background(), "SCCM", p, engine.DefaultApplyOptions())
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range again.Items {
				if it.Operation != "NO_CHANGE" || it.SysID != id {
					t.Fatalf("applied again, item %d: %s %s, want NO_CHANGE %s", i, it.Operation, it.SysID, id)
				}
			}
			if n := countClass(t, e, "cmdb_ci_computer"); n != 1 {
				t.Fatalf("%d computers stored, want 1", n)
			}
		})
	}
}

// A {name} item that matches nothing stored joins the stored computer that
// another item of the payload renames to that name: otherwise the next
// report finds two computers by that name.
func TestANewNameJoinsTheStoredCIAnotherItemRenames(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	stored, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"old","serial_number":"s1"}}]}`), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"name":"c1","cpu_count":4}},
		{"className":"cmdb_ci_computer","values":{"name":"c1","serial_number":"s1"}}]}`)
	for round := range 2 {
		res, err := e.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range res.Items {
			if it.SysID != stored.Items[0].SysID || (round == 1 && it.Operation != "NO_CHANGE") {
				t.Fatalf("round %d item %d: %s %s, want the stored computer %s\n%s", round, i, it.Operation, it.SysID, stored.Items[0].SysID, it.Explanation)
			}
		}
	}
	if n := countClass(t, e, "cmdb_ci_computer"); n != 1 {
		t.Fatalf("%d computers stored, want 1", n)
	}
}

// Items whose values contradict a unique identifier stay apart: two
// computers named c1 with different serial numbers are two computers.
func TestItemsWithOtherSerialsStayApart(t *testing.T) {
	e := openDisk(t)
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"name":"c1","serial_number":"s1"}},
		{"className":"cmdb_ci_computer","values":{"name":"c1","serial_number":"s2"}}]}`)
	res, err := e.Apply(context.Background(), "SCCM", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Items[0].SysID == res.Items[1].SysID || res.HasError {
		t.Fatalf("want two computers: %s %s / %s %s", res.Items[0].Operation, res.Items[0].SysID, res.Items[1].Operation, res.Items[1].SysID)
	}
}

// A payload that makes two computers named c1 (their serial numbers
// differ) and reports a third item by that name alone opens the
// de-duplication task at once: applied again, it finds both, and nothing
// new is to be recorded.
func TestDuplicatesAPayloadMakesAreTaskedAtOnce(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"name":"c1"}},
		{"className":"cmdb_ci_computer","values":{"name":"c1","serial_number":"s1"}},
		{"className":"cmdb_ci_computer","values":{"name":"c1","serial_number":"s2"}}]}`)
	for round := range 2 {
		if _, err := e.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions()); err != nil {
			t.Fatal(err)
		}
		tasks, err := e.DuplicateTasks(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) != 1 || len(tasks[0].CIs) != 2 {
			t.Fatalf("round %d: %d de-duplication tasks (%+v), want one naming both computers", round, len(tasks), tasks)
		}
	}
}

// Two items found to be one server by their adapter's MAC address, one
// with an empty name: the empty name is no name, whichever item comes
// first, so it cannot disagree with the other's.
func TestAnEmptyNameDoesNotDisagree(t *testing.T) {
	for _, names := range [][2]string{{"", "web01"}, {"web01", ""}} {
		e := openDisk(t)
		p := mustDecode(t, `{"items":[
			{"className":"cmdb_ci_linux_server","values":{"name":"`+names[0]+`","serial_number":"VMW-42"},"lookup":[{"className":"cmdb_ci_network_adapter","values":{"mac_address":"00:50:56:aa:bb:cc","name":"eth0"}}]},
			{"className":"cmdb_ci_linux_server","values":{"name":"`+names[1]+`"},"lookup":[{"className":"cmdb_ci_network_adapter","values":{"mac_address":"00:50:56:aa:bb:cc","name":"eth0"}}]}],
			"relations":[]}`)
		res, err := e.Apply(context.Background(), "ServiceNow", p, engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.HasError || res.Items[0].SysID != res.Items[1].SysID {
			t.Fatalf("names %q: %+v", names, res.Items)
		}
		rec, err := e.Get(context.Background(), res.Items[0].SysID)
		if err != nil || rec.Values["name"] != "web01" {
			t.Fatalf("names %q: stored name %v (%v), want web01", names, rec.Values["name"], err)
		}
	}
}
