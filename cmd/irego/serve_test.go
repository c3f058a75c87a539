package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
)

// TestServe starts irego serve on a fresh store as a new user would, posts
// the BYOL example, stops it and checks the store was closed cleanly.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IREGO_ADMIN_PASSWORD", "")
	base, stderr, stop := startServe(t, serveConfig{db: dir, addr: "127.0.0.1:0", logFormat: "json", maxBody: 1 << 20})
	// The admin's random password was printed once, before listening.
	m := regexp.MustCompile(`created user "admin" with password (\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no admin password printed: %s", stderr.String())
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	body, err := os.ReadFile("../../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/api/now/identifyreconcile?sysparm_data_source=ServiceNow", bytes.NewReader(body))
	req.SetBasicAuth("admin", m[1])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(reply), `"operation":"INSERT"`) != 10 {
		t.Fatalf("BYOL: %d %s", resp.StatusCode, reply)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "store closed") {
		t.Errorf("no clean stop logged: %s", stderr.String())
	}
	// Closed cleanly: the store opens again and holds what was posted.
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if problems, err := e.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Errorf("Check after stop: %v %v", problems, err)
	}
}

func TestUsersCommand(t *testing.T) {
	dir := t.TempDir()
	users := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"users"}, args...), strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, errs := users("", "list", "--db", dir+"/none"); code != exitFail || !strings.Contains(errs, "no store") {
		t.Errorf("list of a missing store: %d %s", code, errs)
	}
	if code, _, errs := users("sam-password\n", "add", "--db", dir, "--name", "sam", "--roles", "sam_admin,itil"); code != exitOK {
		t.Fatalf("add: %d %s", code, errs)
	}
	if code, _, errs := users("other-password\n", "add", "--db", dir, "--name", "sam", "--roles", "itil"); code != exitFail || !strings.Contains(errs, "--replace") {
		t.Errorf("second add: %d %s", code, errs)
	}
	if code, _, errs := users("other-password\n", "add", "--db", dir, "--name", "sam", "--roles", "itil", "--replace"); code != exitOK {
		t.Errorf("add --replace: %d %s", code, errs)
	}
	if code, _, errs := users("x-password\n", "add", "--db", dir, "--name", "x", "--roles", "wizard"); code != exitFail || !strings.Contains(errs, "unknown role wizard") {
		t.Errorf("unknown role: %d %s", code, errs)
	}
	if code, _, errs := users("short\n", "add", "--db", dir, "--name", "x", "--roles", "itil"); code != exitFail || !strings.Contains(errs, "password must be") {
		t.Errorf("short password: %d %s", code, errs)
	}
	if code, out, _ := users("", "list", "--db", dir); code != exitOK || out != "sam\titil\n" {
		t.Errorf("list: %d %q", code, out)
	}
	if code, _, _ := users("", "add", "--db", dir); code != exitUsage {
		t.Errorf("add without --name: %d", code)
	}
	// While something holds the store (a running server), the command says so.
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := users("", "list", "--db", dir); code != exitFail || !strings.Contains(errs, "/api/irego/users") {
		t.Errorf("list of a store in use: %d %s", code, errs)
	}
	e.Close()
	if code, _, errs := users("", "delete", "--db", dir, "--name", "sam"); code != exitOK {
		t.Errorf("delete: %d %s", code, errs)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"16MiB": 16 << 20, "1048576": 1 << 20, "512 KiB": 512 << 10, "2G": 2 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-1", "16MB", "lots"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) passed", in)
		}
	}
}

// TestFailedFirstStartKeepsAdminPassword: a first start that cannot listen
// creates no admin, so the next start prints the password; a lost password
// is reset with irego users passwd.
func TestFailedFirstStartKeepsAdminPassword(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IREGO_ADMIN_PASSWORD", "")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var failed bytes.Buffer
	if code := serve(context.Background(), serveConfig{db: dir, addr: taken.Addr().String(), logFormat: "text", maxBody: 1 << 20}, &failed, nil); code != exitFail {
		t.Fatalf("serve on a taken port: %d %s", code, failed.String())
	}
	if strings.Contains(failed.String(), "created user") || !strings.Contains(failed.String(), "irego serve: listen tcp") {
		t.Fatalf("the failed start spent the admin password, or did not say why: %s", failed.String())
	}
	_, stderr, stop := startServe(t, serveConfig{db: dir, addr: "127.0.0.1:0", logFormat: "json", maxBody: 1 << 20})
	m := regexp.MustCompile(`created user "admin" with password (\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("the second start printed no password: %s", stderr.String())
	}
	if code := stop(); code != exitOK {
		t.Fatal(code)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"users", "passwd", "--db", dir, "admin"}, strings.NewReader("\n"), &out, &errb); code != exitOK {
		t.Fatalf("passwd: %d %s", code, errb.String())
	}
	pw, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "new password of admin: ")
	if !ok || pw == m[1] {
		t.Fatalf("passwd printed %q", out.String())
	}
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := auth.New(st).Verify("admin", pw); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}
