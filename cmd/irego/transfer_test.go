package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// irego import servicenow loads an export directory, prints progress and
// a summary and ends with check; irego export writes it out again.
func TestImportAndExportCommands(t *testing.T) {
	export, db := t.TempDir(), t.TempDir()
	host, nic := strings.Repeat("a", 32), strings.Repeat("b", 32)
	files := map[string]string{
		"cmdb_ci_linux_server.json": `{"result":[{"sys_id":"` + host + `","sys_class_name":"cmdb_ci_linux_server","name":"web1","serial_number":"S1",
			"sys_created_on":"2024-01-02 03:04:05","location":{"link":"https://x.service-now.com/api/now/table/cmn_location/1","value":"` + strings.Repeat("c", 32) + `"}},
			{"sys_id":"` + strings.Repeat("9", 32) + `","sys_class_name":"u_cmdb_ci_gadget","name":"g1"}]}`,
		"sys_user.json":                `{"result":[{"sys_id":"` + strings.Repeat("8", 32) + `","user_name":"admin"},{"sys_id":"` + strings.Repeat("7", 32) + `","user_name":"bob"}]}`,
		"cmdb_ci_network_adapter.json": `{"result":[{"sys_id":"` + nic + `","sys_class_name":"cmdb_ci_network_adapter","name":"eth0","mac_address":"02:00:00:00:00:01","cmdb_ci":"` + host + `"}]}`,
		"cmdb_rel_type.json":           `{"result":[{"sys_id":"` + strings.Repeat("d", 32) + `","name":"Owns::Owned by"}]}`,
		"cmdb_rel_ci.json":             `{"result":[{"sys_id":"` + strings.Repeat("e", 32) + `","parent":"` + host + `","child":"` + nic + `","type":"` + strings.Repeat("d", 32) + `"}]}`,
		"sys_object_source.json":       `{"result":[{"sys_id":"` + strings.Repeat("f", 32) + `","name":"SCCM","id":"sccm-1","target_sys_id":"` + host + `"}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(export, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := irego("", "import", "servicenow", "--db", db, export)
	if code != exitOK || !strings.Contains(out, "imported 2 CIs, 0 related records, 1 relations, 1 native keys") || !strings.Contains(out, "check: ok") ||
		!strings.Contains(out, "cmdb_rel_ci: 1 records") || !strings.Contains(out, "skipped class u_cmdb_ci_gadget: 1 rows") ||
		!strings.Contains(out, "table not read sys_user: 2 rows") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = irego(`{"items":[{"className":"cmdb_ci_linux_server","values":{"serial_number":"S1"}}]}`, "apply", "--db", db, "--source", "SCCM", "-")
	if code != exitOK || !strings.Contains(out, host) || strings.Contains(out, `"INSERT"`) {
		t.Fatalf("a payload for the imported machine: %d\n%s", code, out)
	}

	code, out, errs = irego("", "export", "--db", db, "--format", "graphml", "--out", "-")
	if code != exitOK || !strings.Contains(out, `<node id="`+host+`">`) || !strings.Contains(out, `source="`+host+`" target="`+nic+`"`) {
		t.Fatalf("export graphml: %d\n%s\n%s", code, out, errs)
	}
	dir := t.TempDir()
	code, out, errs = irego("", "export", "--db", db, "--format", "servicenow", "--out", dir)
	if code != exitOK || !strings.Contains(out, "exported 2 CIs, 0 related records, 1 relations, 1 native keys to 5 files") {
		t.Fatalf("export servicenow: %d\n%s\n%s", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cmdb_ci_linux_server.json")); err != nil || !strings.Contains(string(b), `"sys_created_on":"2024-01-02 03:04:05"`) {
		t.Fatalf("exported linux servers: %s %v", b, err)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "--db", db, export}, exitUsage, "irego import: need the kind of CMDB"},
		{[]string{"import", "servicenow", "--db", db}, exitUsage, "irego import servicenow: need --db DIR and one EXPORT_DIR|URL"},
		{[]string{"import", "servicenow", "--db", db, filepath.Join(export, "nothing")}, exitFail, "irego import servicenow:"},
		{[]string{"export", "--db", db, "--format", "xml", "--out", "-"}, exitFail, `irego export: transfer: bad export format "xml"`},
		{[]string{"export", "--db", db, "--format", "csv", "--out", "-"}, exitFail, "give a directory"},
		{[]string{"export", "--db", db, "--format", "jsonl"}, exitUsage, "need --out"},
		{[]string{"export", "--db", db, "--format", "jsonl", "--since", "yesterday", "--out", "-"}, exitUsage, `--since "yesterday"`},
	} {
		code, _, errs := irego("", c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("irego %s: %d %q, want %d and %q", strings.Join(c.args, " "), code, errs, c.code, c.want)
		}
	}
}
