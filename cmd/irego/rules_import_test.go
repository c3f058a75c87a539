package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kioskExport is a small instance export in the Table API's shape: a
// class, its identifier with one good and one broken entry. The parent of
// cmdb_ci_hardware is not exported: the default pack's is used.
var kioskExport = map[string]string{
	"sys_db_object": `{"result":[
	  {"sys_id":"0000000000000000000000000000a001","name":"cmdb_ci_hardware","super_class":"0000000000000000000000000000a000"},
	  {"sys_id":"0000000000000000000000000000a002","name":"u_kiosk",
	   "super_class":{"link":"https://x.service-now.com/api/now/table/sys_db_object/0000000000000000000000000000a001","value":"0000000000000000000000000000a001"}}]}`,
	"cmdb_identifier": `{"result":[
	  {"sys_id":"0000000000000000000000000000b001","name":"Kiosk Rule","applies_to":"u_kiosk","independent":"true","active":"true"}]}`,
	"cmdb_identifier_entry": `{"result":[
	  {"sys_id":"0000000000000000000000000000c001","identifier":"0000000000000000000000000000b001","table":"u_kiosk","attributes":"u_kiosk_id","order":"100","active":"true"},
	  {"sys_id":"0000000000000000000000000000c002","identifier":"0000000000000000000000000000b001","table":"u_kiosk","attributes":"","order":"200","active":"true"}]}`,
}

// irego rules import writes a file rules check accepts and apply --rules
// uses, from a directory or a live instance, naming the records it could
// not translate.
func TestRulesImport(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "export")
	os.Mkdir(export, 0o700)
	for table, body := range kioskExport {
		if err := os.WriteFile(filepath.Join(export, table+".json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "imported.yaml")
	code, stdout, errs := irego("", "rules", "import", "-o", out, export)
	if code != exitOK || stdout != "" {
		t.Fatalf("rules import: %d %q %s", code, stdout, errs)
	}
	for _, want := range []string{
		"cmdb_identifier_entry 0000000000000000000000000000c002: not translated: no criterion attributes\n",
		"wrote " + out + " (extends the default pack): 376 classes, 24 identification rules, 67 relation types",
		"1 records not translated",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("report lacks %q:\n%s", want, errs)
		}
	}
	if code, stdout, errs := irego("", "rules", "check", out); code != exitOK || !strings.Contains(stdout, "ok (376 classes, 24 identification rules") {
		t.Errorf("rules check: %d %q %q", code, stdout, errs)
	}
	payload := filepath.Join(dir, "kiosk.json")
	os.WriteFile(payload, []byte(`{"items":[{"className":"u_kiosk","values":{"u_kiosk_id":"K1"}}]}`), 0o600)
	db := filepath.Join(dir, "db")
	for _, want := range []string{"INSERT", "NO_CHANGE"} {
		if code, stdout, errs := irego("", "apply", "--db", db, "--source", "ServiceNow", "--rules", out, payload); code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("apply with the imported rules: %d %s %s, want %s", code, stdout, errs, want)
		}
	}

	// A live instance with basic auth; the password from the environment.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "importer" || p != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, ok := kioskExport[strings.TrimPrefix(r.URL.Path, "/api/now/table/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if r.URL.Query().Get("sysparm_offset") != "0" {
			body = `{"result":[]}`
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	t.Setenv(instancePasswordEnv, "pw")
	code, stdout, errs = irego("", "rules", "import", "--user", "importer", srv.URL)
	file, _ := os.ReadFile(out)
	if code != exitOK || stdout != string(file) {
		t.Errorf("live import: %d %s\nwant the file import's output:\n%s", code, errs, file)
	}
	t.Setenv(instancePasswordEnv, "wrong")
	if code, _, errs := irego("", "rules", "import", "--user", "importer", srv.URL); code != exitFail || !strings.Contains(errs, "401") {
		t.Errorf("wrong password: %d %s", code, errs)
	}
}
