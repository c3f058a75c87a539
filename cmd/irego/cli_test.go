package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// irego runs the command line in process and returns its exit code,
// stdout and stderr.
func irego(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestEveryCommandHasHelp: irego help CMD and irego CMD -h print the
// command's usage, its arguments and its flags as --name, and exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	for path := range help {
		args := strings.Fields(path)
		code, out, errs := irego("", append([]string{"help"}, args...)...)
		if code != exitOK || !strings.HasPrefix(out, "Usage: irego "+args[0]) || errs != "" {
			t.Errorf("irego help %s: %d %q %q", path, code, out, errs)
			continue
		}
		if code, out2, _ := irego("", append(args, "-h")...); code != exitOK || out2 != out {
			t.Errorf("irego %s -h: %d %q, want what irego help %s prints", path, code, out2, path)
		}
	}
	_, out, _ := irego("", "help", "apply")
	for _, want := range []string{"FILE|-", "Arguments:", "--db STORE", "--server URL", "--source NAME", "--dry-run"} {
		if !strings.Contains(out, want) {
			t.Errorf("irego help apply lacks %q:\n%s", want, out)
		}
	}
	if _, out, _ := irego("", "help", "get"); !strings.Contains(out, "SYS_ID") || !strings.Contains(out, "--server URL") {
		t.Errorf("irego help get:\n%s", out)
	}
}

// TestErrorsNameTheCommand: every error starts with irego COMMAND:.
func TestErrorsNameTheCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"apply", "--bogus"},
		{"apply", "--db", dir, "x.json"},
		{"apply", "--db", dir, "--source", "S", "no-such-file.json"},
		{"get", "--db", dir},
		{"get", "--db", dir, "--server", "http://127.0.0.1:1", "x"},
		{"get", "--db", dir, "0123456789abcdef0123456789abcdef"},
		{"check", "--server", "not a url"},
		{"history", "--db", dir, "--as-of", "yesterday", "x"},
		{"partials", "--nope"},
		{"stale", "--db", dir, "--action", "burn", "--source", "S"},
		{"backup", "--db", dir},
		{"restore", "--db", dir},
		{"rules", "check", "no-such-rules.yaml"},
		{"rules", "check"},
		{"serve", "--log", "xml"},
		{"serve", "--max-body", "lots"},
		{"users", "add", "--db", dir},
		{"bench", "--mode", "x", "extra"},
	} {
		code, _, errs := irego("", args...)
		name := args[0]
		if name == "rules" {
			name = "rules check"
		}
		if code == exitOK || !strings.HasPrefix(errs, "irego "+name) {
			t.Errorf("irego %s: %d %q, want an error starting with irego %s:", strings.Join(args, " "), code, errs, name)
		}
	}
}

// TestServerMode: the read commands and apply work against a running
// server, with the credentials of IREGO_USER and IREGO_PASSWORD, and print
// what they print on the stopped server's store; while the server holds
// the store, opening it says so and suggests --server.
func TestServerMode(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IREGO_ADMIN_PASSWORD", "admin-password")
	base, _, stop := startServe(t, serveConfig{db: dir, addr: "127.0.0.1:0", logFormat: "json", maxBody: 1 << 20})
	t.Setenv("IREGO_USER", "admin")
	t.Setenv("IREGO_PASSWORD", "wrong")
	if code, _, errs := irego("", "partials", "--server", base); code != exitFail || !strings.Contains(errs, "401") {
		t.Errorf("a wrong password: %d %s", code, errs)
	}
	t.Setenv("IREGO_PASSWORD", "admin-password")
	code, out, errs := irego("", "apply", "--server", base, "--source", "ServiceNow", "../../examples/byol-dedicated-vm.json")
	if code != exitOK || strings.Count(out, `"operation": "INSERT"`) != 10 {
		t.Fatalf("apply --server: %d %s %s", code, out, errs)
	}
	var res struct {
		Items []struct {
			SysID string `json:"sysId"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Items) == 0 {
		t.Fatalf("apply --server output: %v", err)
	}
	id := res.Items[0].SysID
	if code, out, errs := irego("", "apply", "--server", base, "--source", "ServiceNow", "--dry-run", "../../examples/byol-dedicated-vm.json"); code != exitOK || strings.Contains(out, `"INSERT"`) {
		t.Errorf("apply --server --dry-run of the same payload: %d %s %s", code, out, errs)
	}
	remote := map[string]string{}
	for _, args := range [][]string{{"get", id}, {"history", id}, {"partials"}, {"check"}} {
		code, out, errs := irego("", append([]string{args[0], "--server", base}, args[1:]...)...)
		if code != exitOK {
			t.Fatalf("%s --server: %d %s", args[0], code, errs)
		}
		remote[args[0]] = out
	}
	if code, _, errs := irego("", "get", "--server", base, "0123456789abcdef0123456789abcdef"); code != exitFail || !strings.HasPrefix(errs, "irego get: no CI with sys_id") {
		t.Errorf("get --server of an unknown CI: %d %s", code, errs)
	}
	code, _, errs = irego("", "get", "--db", dir, id)
	if code != exitFail || !strings.Contains(errs, "in use") || !strings.Contains(errs, "irego get --server") {
		t.Errorf("get on the server's store: %d %s", code, errs)
	}
	if code := stop(); code != exitOK {
		t.Fatal(code)
	}
	for _, args := range [][]string{{"get", id}, {"history", id}, {"partials"}, {"check"}} {
		code, out, errs := irego("", append([]string{args[0], "--db", dir}, args[1:]...)...)
		if code != exitOK || out != remote[args[0]] {
			t.Errorf("%s --db after the server stopped: %d %s\n%s\nwant what --server printed:\n%s", args[0], code, errs, out, remote[args[0]])
		}
	}
}

// TestServeSharesOneThrottle: failed sign-ins at /api/get_token count
// against HTTP Basic too, and --lockout-after applies to both.
func TestServeSharesOneThrottle(t *testing.T) {
	t.Setenv("IREGO_ADMIN_PASSWORD", "admin-password")
	base, _, _ := startServe(t, serveConfig{db: t.TempDir(), addr: "127.0.0.1:0", logFormat: "json", maxBody: 1 << 20, lockoutAfter: 2, lockout: time.Hour})
	for range 2 {
		resp, err := http.Post(base+"/api/get_token", "application/json", strings.NewReader(`{"user": "admin", "password": "wrong"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", base+"/api/irego/users", nil)
	req.SetBasicAuth("admin", "admin-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("Basic auth after two failed get_token calls with --lockout-after 2: %d", resp.StatusCode)
	}
}
