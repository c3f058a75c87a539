package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irego/irego/rules"
)

func mustIrego(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := irego(stdin, args...)
	if code != exitOK {
		t.Fatalf("irego %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// The scenario as a user runs it: three computers sharing a serial
// number, loaded under rules that let them (serial numbers not yet
// identifying alone), restored from a backup into a store with the default
// rules; scan gives one task and merge leaves one computer with every
// relation and install.
func TestDuplicatesScanAndMergeCommands(t *testing.T) {
	dir := t.TempDir()
	src := string(rules.DefaultSource())
	const serial = "        unique: true\n        attributes: [serial_number]\n"
	if !strings.Contains(src, serial) {
		t.Fatal("the default rules have no unique serial number entry to make old rules from")
	}
	oldRules := filepath.Join(dir, "old.yaml")
	if err := os.WriteFile(oldRules, []byte(strings.Replace(src, serial, "        attributes: [serial_number, name]\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	oldDB, newDB, backup := filepath.Join(dir, "old"), filepath.Join(dir, "new"), filepath.Join(dir, "backup")
	out := mustIrego(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER","name":"pc-a"},
		 "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Chrome","version":"1"}}]},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER","name":"pc-b"},
		 "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Chrome","version":"1"}},
		            {"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Vim","version":"9"}}]},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER","name":"pc-c"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SW1","name":"switch"}}],
	  "relations":[{"type":"Depends on::Used by","parent":0,"child":3},{"type":"Depends on::Used by","parent":1,"child":3},
	               {"type":"Runs on::Runs","parent":3,"child":2}]}`,
		"apply", "--db", oldDB, "--rules", oldRules, "--source", "SCCM", "-")
	var res struct {
		Items []struct{ SysID string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Items) != 4 {
		t.Fatalf("apply: %v %s", err, out)
	}
	mustIrego(t, "", "backup", "--db", oldDB, "-o", backup)
	mustIrego(t, "", "restore", "--db", newDB, backup)

	if out := mustIrego(t, "", "duplicates", "list", "--db", newDB); out != "" {
		t.Fatalf("tasks before the scan: %s", out)
	}
	out = mustIrego(t, "", "duplicates", "scan", "--db", newDB)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "DUP0000001  3 CIs  serial_number=SER") {
		t.Fatalf("scan: %q", out)
	}
	if out := mustIrego(t, "", "duplicates", "scan", "--db", newDB); out != "" {
		t.Fatalf("a second scan opened %q", out)
	}
	if out := mustIrego(t, "", "duplicates", "list", "--db", newDB); !strings.Contains(out, "DUP0000001  open") {
		t.Fatalf("list: %q", out)
	}
	if code, _, errOut := irego("", "duplicates", "merge", "--db", newDB, "DUP0000009"); code != exitFail || !strings.Contains(errOut, "no such de-duplication task") {
		t.Fatalf("merge of an unknown task: %d %s", code, errOut)
	}
	out = mustIrego(t, "", "duplicates", "merge", "--db", newDB, "DUP0000001")
	var mr struct {
		Main   string
		Merged []string
	}
	if err := json.Unmarshal([]byte(out), &mr); err != nil || len(mr.Merged) != 2 {
		t.Fatalf("merge: %v %s", err, out)
	}
	out = mustIrego(t, "", "get", "--db", newDB, mr.Main)
	var ci struct {
		Related  []struct{ SysID string }
		Outbound []struct{ Type string }
		Inbound  []struct{ Type string }
	}
	if err := json.Unmarshal([]byte(out), &ci); err != nil {
		t.Fatal(err)
	}
	if len(ci.Related) != 2 || len(ci.Outbound) != 1 || len(ci.Inbound) != 1 {
		t.Fatalf("merged computer: 2 installs (Chrome once, Vim), depends on the switch once, runs the switch: %s", out)
	}
	mustIrego(t, "", "check", "--db", newDB)
	if out := mustIrego(t, "", "duplicates", "list", "--db", newDB, "--state", "merged"); !strings.Contains(out, "DUP0000001  merged") {
		t.Fatalf("merged tasks: %q", out)
	}
	if out := mustIrego(t, "", "history", "--db", newDB, mr.Main); !strings.Contains(out, `"operation": "MERGE"`) {
		t.Fatalf("history of the main CI: %s", out)
	}
}

// The README's walk-through of duplicates, with its example files.
func TestDuplicatesReadmeExample(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dupdemo")
	type item struct {
		Operation              string
		SysID                  string
		IdentificationAttempts []struct{ AttemptResult, Info string }
	}
	var first, second struct{ Items []item }
	out := mustIrego(t, "", "apply", "--db", db, "--source", "SCCM", "../../examples/duplicates-two-localhosts.json")
	if err := json.Unmarshal([]byte(out), &first); err != nil || len(first.Items) != 3 {
		t.Fatalf("apply: %v %s", err, out)
	}
	for _, it := range first.Items {
		if it.Operation != "INSERT" {
			t.Fatalf("two localhosts with different serials and nas01: %s", out)
		}
	}
	out = mustIrego(t, "", "apply", "--db", db, "--source", "SCCM", "../../examples/duplicates-by-name.json")
	if err := json.Unmarshal([]byte(out), &second); err != nil || len(second.Items) != 1 {
		t.Fatalf("apply by name: %v %s", err, out)
	}
	by := second.Items[0]
	last := by.IdentificationAttempts[len(by.IdentificationAttempts)-1]
	if by.Operation != "UPDATE" || by.SysID != first.Items[0].SysID || last.AttemptResult != "MULTI_MATCH" {
		t.Fatalf("by name: the oldest localhost (the first, SN-1001, by content) is updated, MULTI_MATCH: %s", out)
	}
	want := "DUP0000001  open       2 CIs  name=localhost  " + first.Items[0].SysID + " " + first.Items[1].SysID + "\n"
	if out := mustIrego(t, "", "duplicates", "list", "--db", db); out != want {
		t.Fatalf("list: %q, want %q", out, want)
	}
	mustIrego(t, "", "duplicates", "show", "--db", db, "DUP0000001")
	mustIrego(t, "", "duplicates", "merge", "--db", db, "DUP0000001")
	var ci struct {
		Values   map[string]any
		Related  []struct{ SysID string }
		Outbound []struct{ Type string }
	}
	if err := json.Unmarshal([]byte(mustIrego(t, "", "get", "--db", db, first.Items[0].SysID)), &ci); err != nil {
		t.Fatal(err)
	}
	if len(ci.Related) != 2 || len(ci.Outbound) != 1 || ci.Values["ram"] != float64(16384) || ci.Values["os"] != "Linux" || ci.Values["cpu_count"] != float64(4) {
		t.Fatalf("merged localhost: Firefox and Vim, one relation to nas01, os, ram and cpu_count: %+v", ci)
	}
	var dup struct{ Values map[string]any }
	if err := json.Unmarshal([]byte(mustIrego(t, "", "get", "--db", db, first.Items[1].SysID)), &dup); err != nil {
		t.Fatal(err)
	}
	if dup.Values["duplicate_of"] != first.Items[0].SysID || dup.Values["install_status"] != "7" {
		t.Fatalf("the other localhost: %+v", dup)
	}
	if out := mustIrego(t, "", "check", "--db", db); out != "ok\n" {
		t.Fatalf("check: %q", out)
	}
}
