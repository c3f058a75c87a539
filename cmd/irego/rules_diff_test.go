package main

import (
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kioskPack extends the default pack: a new hardware class with its own
// rule, and an asset tag entry added to the Hardware Rule.
const kioskPack = `extends: default
classes:
  - name: u_kiosk
    extends: cmdb_ci_hardware
identification:
  - name: Kiosk Rule
    applies_to: u_kiosk
    entries:
      - {priority: 100, unique: true, attributes: [kiosk_id]}
change:
  identification:
    - name: Hardware Rule
      entries:
        - {priority: 100, search_on_table: cmdb_serial_number, attributes: [serial_number, serial_number_type]}
        - {priority: 200, unique: true, attributes: [serial_number]}
        - {priority: 300, attributes: [name]}
        - {priority: 400, search_on_table: cmdb_ci_network_adapter, attributes: [mac_address, name]}
        - {priority: 500, unique: true, attributes: [asset_tag]}
`

// A composed file checks with the composed counts, works with apply
// --rules, and rules diff --db names the stored CIs it would re-identify
// without changing the store.
func TestRulesComposeAndDiff(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	pack := filepath.Join(dir, "kiosk.yaml")
	if err := os.WriteFile(pack, []byte(kioskPack), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := irego("", "rules", "check", pack)
	if code != exitOK || !strings.Contains(out, ": ok (376 classes, 24 identification rules, 67 relation types)") {
		t.Fatalf("rules check: %d %q %q", code, out, errs)
	}

	apply := func(rulesFile, body string) string {
		t.Helper()
		p := filepath.Join(dir, "payload.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"apply", "--db", db, "--source", "ServiceNow"}
		if rulesFile != "" {
			args = append(args, "--rules", rulesFile)
		}
		args = append(args, p)
		code, out, errs := irego("", args...)
		if code != exitOK {
			t.Fatalf("apply: %d %s %s", code, out, errs)
		}
		return out
	}
	// The default pack does not know u_kiosk.
	p := filepath.Join(dir, "kiosk.json")
	os.WriteFile(p, []byte(`{"items":[{"className":"u_kiosk","values":{"kiosk_id":"K1"}}]}`), 0o600)
	if code, out, _ := irego("", "apply", "--db", filepath.Join(dir, "other"), "--source", "ServiceNow", p); code == exitOK && !strings.Contains(out, "unknown class") {
		t.Fatalf("u_kiosk under the default pack: %s", out)
	}
	apply("", `{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"t1","asset_tag":"A-1"}},{"className":"cmdb_ci_computer","values":{"name":"p1"}}]}`)
	linux := sysIDOf(t, apply("", `{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"t1"}}]}`))

	before := snapshot(t, db)
	code, out, errs = irego("", "rules", "diff", "--db", db, "default", pack)
	if code != exitOK {
		t.Fatalf("rules diff: %d %s %s", code, out, errs)
	}
	for _, want := range []string{
		"--- default\n+++ " + pack + "\n",
		"+ class u_kiosk\n    extends cmdb_ci_hardware\n    rule in force: Kiosk Rule\n",
		"~ rule Hardware Rule\n    + entry priority 500: [asset_tag], unique\n",
		"+ rule Kiosk Rule\n",
		"3 changes; the identification of ",
		": 2 stored records would be re-identified, 1 of them with other identity keys\n",
		"  " + linux + ` cmdb_ci_linux_server "t1": identity keys change` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rules diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "note: the store was last indexed") {
		t.Errorf("the store was indexed with the default pack:\n%s", out)
	}
	if after := snapshot(t, db); !maps.Equal(after, before) {
		t.Error("rules diff --db changed the store's files")
	}

	// The composed file's class is known to apply --rules.
	if out := apply(pack, `{"items":[{"className":"u_kiosk","values":{"kiosk_id":"K1"}}]}`); !strings.Contains(out, `"operation": "INSERT"`) {
		t.Errorf("u_kiosk with --rules: %s", out)
	}
	// Now the store is indexed with the pack: diffing from default says so.
	_, out, _ = irego("", "rules", "diff", "--db", db, "default", pack)
	if !strings.Contains(out, "note: the store was last indexed with other rules than default") {
		t.Errorf("no note about the store's rules:\n%s", out)
	}
	// Unreadable or bad rule sets fail with the file's error.
	if code, _, errs := irego("", "rules", "diff", "default", filepath.Join(dir, "nope.yaml")); code != exitFail || !strings.Contains(errs, "nope.yaml") {
		t.Errorf("missing file: %d %q", code, errs)
	}
	if code, _, errs := irego("extends: default\nremove:\n  classes: [u_nope]\n", "rules", "diff", "default", "-"); code != exitFail || !strings.Contains(errs, `-:3: remove.classes[0]: no class "u_nope" in default.yaml to remove`) {
		t.Errorf("bad composed file: %d %q", code, errs)
	}
}

// sysIDOf is the first sys_id an apply printed.
func sysIDOf(t *testing.T, out string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, `"sysId": "`)
	if !ok {
		t.Fatalf("no sysId in %s", out)
	}
	return rest[:32]
}

// irego serve --rules takes a file extending the default pack.
func TestServeWithComposedRules(t *testing.T) {
	dir := t.TempDir()
	pack := filepath.Join(dir, "kiosk.yaml")
	if err := os.WriteFile(pack, []byte(kioskPack), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IREGO_ADMIN_PASSWORD", "kiosk-test-password")
	base, log, stop := startServe(t, serveConfig{db: filepath.Join(dir, "db"), addr: "127.0.0.1:0", rulesFile: pack, logFormat: "json", maxBody: 1 << 20})
	defer stop()
	req, _ := http.NewRequest("POST", base+"/api/now/identifyreconcile?sysparm_data_source=ServiceNow",
		strings.NewReader(`{"items":[{"className":"u_kiosk","values":{"kiosk_id":"K1"}}]}`))
	req.SetBasicAuth("admin", "kiosk-test-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"operation":"INSERT"`) {
		t.Errorf("u_kiosk through serve --rules: %d %s\n%s", resp.StatusCode, body, log.String())
	}
}
