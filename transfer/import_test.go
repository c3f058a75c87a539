package transfer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"github.com/irego/irego/tableapi"
	"github.com/irego/irego/transfer"
)

func open(t testing.TB, dir string) *engine.Engine {
	t.Helper()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func importDir(t testing.TB, e *engine.Engine, dir string, o transfer.ImportOptions) *transfer.ImportStats {
	t.Helper()
	src, err := tableapi.Open(dir, tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := transfer.Import(context.Background(), e, src, o)
	if err != nil {
		t.Fatalf("import: %v (warnings %q)", err, st.Warnings)
	}
	return st
}

func checkClean(t testing.TB, e *engine.Engine) {
	t.Helper()
	problems, err := e.Check(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %q", err, problems)
	}
}

func apply(t testing.TB, e *engine.Engine, source, body string) *engine.Result {
	t.Helper()
	p, err := payload.DecodeBytes([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), source, p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The done-when: a Table API export of a few hundred CIs across
// ten classes and more, with relations and native keys, imports whole, and
// later payloads for its machines find the imported CIs.
func TestImportedMachinesAreIdentifiedByLaterPayloads(t *testing.T) {
	export := t.TempDir()
	want := writeExport(t, export, genOptions{Machines: 100, PageSize: 25})
	e := open(t, t.TempDir())
	st := importDir(t, e, export, transfer.ImportOptions{})
	if st.CIs+0 < want.CIs || st.Related != want.Related || st.Edges != want.Edges || st.NativeKeys != want.NativeKeys || st.Skipped != 0 {
		t.Fatalf("imported %+v, want %+v and nothing skipped (%q)", st, want, st.Warnings)
	}
	if want.CIs < 300 {
		t.Fatalf("the export holds %d CIs, want a few hundred", want.CIs)
	}
	checkClean(t, e)

	ctx := context.Background()
	ci, err := e.Get(ctx, sid(kMachine, 13))
	if err != nil {
		t.Fatal(err)
	}
	if ci.Class != machineClasses[3] || ci.Values["name"] != "host-13" || ci.Values["location"] != sid(200, 13%7) || ci.Values["os"] != "Linux" {
		t.Fatalf("machine 13 as imported: %+v", ci)
	}
	if _, ok := ci.Values["short_description"]; ok {
		t.Fatalf("an empty field is absent, not a value: %+v", ci.Values)
	}
	classes := map[string]bool{}
	if err := e.Records(ctx, func(rec *store.Record) error { classes[rec.Class] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(classes) < 12 {
		t.Fatalf("%d classes imported: %v", len(classes), classes)
	}

	cases := []struct{ name, body string }{
		{"by serial number", fmt.Sprintf(`{"items":[{"className":%q,"values":{"serial_number":"SN0000013","name":"host-13","ram":16384}}]}`, machineClasses[3])},
		{"by the serial number table", fmt.Sprintf(`{"items":[{"className":%q,"values":{"name":"renamed"},
			"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"SN0000013","serial_number_type":"bios"}}]}]}`, machineClasses[3])},
		// The Hardware Rule's last entry: a network adapter's MAC address
		// and name, searched among the adapters of the computers (the
		// imported adapters are CIs owned by their machine), not by the
		// computer's own name, which the payload changes.
		{"by a network adapter", fmt.Sprintf(`{"items":[{"className":%q,"values":{"name":"renamed-again"},
			"lookup":[{"className":"cmdb_ci_network_adapter","values":{"mac_address":"02:00:00:00:00:0d","name":"eth0"}}]}]}`, machineClasses[3])},
		{"by native key", fmt.Sprintf(`{"items":[{"className":%q,"values":{"os":"Ubuntu"},"sys_object_source_info":{"source_native_key":"sccm-13"}}]}`, machineClasses[3])},
	}
	for _, c := range cases {
		res := apply(t, e, "SCCM", c.body)
		got := res.Items[0]
		if got.SysID != sid(kMachine, 13) || (got.Operation != "NO_CHANGE" && got.Operation != "UPDATE") {
			t.Fatalf("%s: %s %s %+v, want the imported CI %s", c.name, got.Operation, got.SysID, got.Errors, sid(kMachine, 13))
		}
	}
	// A dependent CI is found under its imported host: the adapter and its
	// IP address of machine 20, and the application running on it.
	res := apply(t, e, "SCCM", fmt.Sprintf(`{"items":[
		{"className":%q,"values":{"serial_number":"SN0000020"}},
		{"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:14"}},
		{"className":"cmdb_ci_ip_address","values":{"ip_address":"10.0.0.20"}},
		{"className":"cmdb_ci_appl","values":{"cl_port":"8020","name":"app-20"}}],
	  "relations":[{"type":"Owns::Owned by","parent":0,"child":1},{"type":"Owns::Owned by","parent":1,"child":2},
	               {"type":"Runs on::Runs","parent":3,"child":0}]}`, machineClasses[0]))
	for i, kind := range []int{kMachine, kAdapter, kIP, kApp} {
		if got := res.Items[i]; got.SysID != sid(kind, 20) || got.Operation == "INSERT" {
			t.Fatalf("item %d: %s %s %+v, want %s", i, got.Operation, got.SysID, got.Errors, sid(kind, 20))
		}
	}
	checkClean(t, e)
}

// Two machines with one serial number (a unique identity) load both; the
// older holds the identity, a de-duplication task names the three, and the
// store checks clean.
func TestImportTurnsCollisionsIntoTasks(t *testing.T) {
	export := t.TempDir()
	writeExport(t, export, genOptions{Machines: 12, SameSerial: true})
	e := open(t, t.TempDir())
	st := importDir(t, e, export, transfer.ImportOptions{})
	if len(st.Tasks) != 1 {
		t.Fatalf("tasks %+v", st.Tasks)
	}
	task := st.Tasks[0]
	if strings.Join(task.CIs, ",") != strings.Join([]string{sid(kMachine, 0), sid(kMachine, 1), sid(kMachine, 2)}, ",") || task.State != engine.TaskOpen {
		t.Fatalf("task %+v: want machines 0, 1, 2, oldest first", task)
	}
	checkClean(t, e)
	res := apply(t, e, "SCCM", fmt.Sprintf(`{"items":[{"className":%q,"values":{"serial_number":"SN0000000"}}]}`, machineClasses[0]))
	if got := res.Items[0]; got.SysID != sid(kMachine, 0) || got.Operation == "INSERT" {
		t.Fatalf("the shared serial identifies the oldest machine: %+v", got)
	}
	if _, err := e.MergeDuplicates(context.Background(), task.Number, engine.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	checkClean(t, e)
}

// An import interrupted after a checkpoint goes on from it when run again
// and ends with what an uninterrupted import loads.
func TestImportResumesAfterInterruption(t *testing.T) {
	export := t.TempDir()
	want := writeExport(t, export, genOptions{Machines: 60, PageSize: 20})
	dir := t.TempDir()
	e := open(t, dir)
	src, err := tableapi.Open(export, tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lines := 0
	_, err = transfer.Import(ctx, e, src, transfer.ImportOptions{Every: 10, Progress: writerFunc(func(b []byte) {
		if lines++; strings.Contains(string(b), "cmdb_ci_ip_address: 30 records") {
			cancel() // in the middle of a table, after a checkpoint
		}
	})})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted import: %v", err)
	}
	e.Close()

	e = open(t, dir)
	var log strings.Builder
	st := importDir(t, e, export, transfer.ImportOptions{Every: 10, Progress: writerFunc(func(b []byte) { log.Write(b) })})
	if !st.Resumed || !strings.Contains(log.String(), "cmdb_ci_ip_address: resuming after 30 records") || !strings.Contains(log.String(), "cmdb_ci_appl: loaded before") {
		t.Fatalf("the second run does not resume:\n%s", log.String())
	}
	checkClean(t, e)
	n := map[bool]int{}
	if err := e.Records(context.Background(), func(rec *store.Record) error { n[rec.Related]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n[false] != want.CIs || n[true] != want.Related {
		t.Fatalf("%d CIs and %d related records stored, want %+v", n[false], n[true], want)
	}
	res := apply(t, e, "SCCM", fmt.Sprintf(`{"items":[{"className":%q,"values":{"serial_number":"SN0000041"}}]}`, machineClasses[1]))
	if res.Items[0].SysID != sid(kMachine, 41) {
		t.Fatalf("after the resumed import: %+v", res.Items[0])
	}
}

// Rows that cannot be loaded are skipped, each named with its reason;
// the rest loads and checks clean.
func TestImportSkipsBadRowsNamingThem(t *testing.T) {
	export := t.TempDir()
	write := func(table, body string) {
		if err := os.WriteFile(filepath.Join(export, table+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := sid(kMachine, 1)
	write("cmdb_ci_linux_server", `{"result":[
		{"sys_id":"`+good+`","sys_class_name":"cmdb_ci_linux_server","name":"ok","serial_number":"S1"},
		{"sys_id":"not-a-sys-id","sys_class_name":"cmdb_ci_linux_server","name":"bad"},
		{"sys_id":"`+sid(kMachine, 2)+`","sys_class_name":"u_cmdb_ci_custom","name":"custom"},
		{"sys_id":"`+sid(kMachine, 3)+`","sys_class_name":"u_cmdb_ci_custom","name":"custom 2"}]}`)
	write("cmdb_rel_ci", `{"result":[
		{"sys_id":"`+sid(kOwnsAdapter, 1)+`","parent":"`+good+`","child":"`+sid(kAdapter, 9)+`","type":"Owns::Owned by"},
		{"sys_id":"`+sid(kOwnsAdapter, 2)+`","parent":"`+good+`","child":"`+good+`","type":"`+sid(300, 1)+`"}]}`)
	write("cmdb_serial_number", `{"result":[{"sys_id":"`+sid(kSerial, 1)+`","serial_number":"S1","cmdb_ci":"`+sid(kMachine, 7)+`"}]}`)
	write("sys_object_source", `{"result":[{"sys_id":"`+sid(kSource, 1)+`","name":"SCCM","id":"k","target_sys_id":"`+sid(kMachine, 8)+`"}]}`)
	write("sys_user", `{"result":[{"sys_id":"`+sid(400, 1)+`","user_name":"admin"}]}`)
	e := open(t, t.TempDir())
	st := importDir(t, e, export, transfer.ImportOptions{})
	if st.CIs != 1 || st.Skipped != 7 {
		t.Fatalf("stats %+v", st)
	}
	// Each class the rules do not know is counted with its rows, and each
	// table that is no class with its rows.
	if len(st.SkippedClasses) != 1 || st.SkippedClasses["u_cmdb_ci_custom"] != 2 || len(st.UnreadTables) != 1 || st.UnreadTables["sys_user"] != 1 {
		t.Fatalf("skipped classes %v, tables not read %v; want u_cmdb_ci_custom: 2 and sys_user: 1", st.SkippedClasses, st.UnreadTables)
	}
	all := strings.Join(st.Warnings, "\n")
	for _, want := range []string{`"not-a-sys-id"`, "u_cmdb_ci_custom", sid(kAdapter, 9), sid(300, 1), "cmdb_serial_number " + sid(kSerial, 1), sid(kMachine, 8), "sys_user"} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning names %s:\n%s", want, all)
		}
	}
	checkClean(t, e)
}

type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }

// snapshotOf lists every stored record with its class, scope, values and
// identities, in sys_id order.
func snapshotOf(t *testing.T, e *engine.Engine) []string {
	t.Helper()
	var out []string
	err := e.Records(context.Background(), func(r *store.Record) error {
		b, err := json.Marshal([]any{r.SysID, r.Class, r.Scope, r.Related, r.Values, r.IdentityKeys})
		out = append(out, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
