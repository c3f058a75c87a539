package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// serveLog is irego serve's stderr, in a file: the server's goroutines
// write it while the test reads it.
type serveLog struct{ *os.File }

func (l serveLog) String() string {
	b, _ := os.ReadFile(l.Name())
	return string(b)
}

// startServe runs serve with cfg until stop (or the test's end), which
// returns serve's exit code.
func startServe(t *testing.T, cfg serveConfig) (base string, log serveLog, stop func() int) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	log = serveLog{f}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan string, 1), make(chan int, 1)
	go func() { done <- serve(ctx, cfg, log, func(a string) { addr <- a }) }()
	var once sync.Once
	code := exitOK
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	select {
	case a := <-addr:
		return "http://" + a, log, stop
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, log.String())
	}
	return "", log, stop
}

// TestServeLicenseUsage runs irego serve with --set as a new user would:
// ingest the IBM BYOL example, take a token, run an import, read the
// deprecated usage API the setting turned on.
func TestServeLicenseUsage(t *testing.T) {
	t.Setenv("IREGO_ADMIN_PASSWORD", "admin-password")
	var cfg serveConfig
	fs := settingFlag{&cfg.settings}
	if err := fs.Set("expose_deprecated_api=true"); err != nil {
		t.Fatal(err)
	}
	if err := fs.Set("colour=red"); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("--set colour=red: %v", err)
	}
	cfg.db, cfg.addr, cfg.logFormat, cfg.maxBody = t.TempDir(), "127.0.0.1:0", "json", 1<<20
	base, log, stop := startServe(t, cfg)
	call := func(method, path, body string, set func(*http.Request)) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if set != nil {
			set(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	payload, err := os.ReadFile("../../examples/byol-ibm-three-vms.json")
	if err != nil {
		t.Fatal(err)
	}
	call("POST", "/api/now/identifyreconcile?sysparm_data_source=AWS", string(payload), func(r *http.Request) { r.SetBasicAuth("admin", "admin-password") })
	var tok struct{ Token string }
	json.Unmarshal(call("POST", "/api/get_token", `{"user": "admin", "password": "admin-password"}`, nil), &tok)
	withToken := func(r *http.Request) { r.Header.Set("Token", tok.Token) }
	call("GET", "/api/import_status.json?run=complete&wait=true", "", withToken)
	var rows []map[string]any
	json.Unmarshal(call("GET", "/api/sam/license_usages?criteria="+`%7B%22and%22%3A%5B%5B%22metric_name%22%2C%22%3D%22%2C%22PVU_FULL_CAP%22%5D%5D%7D`, "", withToken), &rows)
	// The dedicated host once, the shared VM on itself.
	if len(rows) != 2 {
		t.Errorf("PVU full capacity rows: %v", rows)
	}
	if code := stop(); code != exitOK || !strings.Contains(log.String(), "license import done") {
		t.Errorf("serve exited %d: %s", code, log.String())
	}
}
