package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/rules"
)

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(line + "\n")
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startRulesServer starts irego serve on dsn with the rule file and extra
// flags, and returns its base URL and its log.
func startRulesServer(t *testing.T, bin, dsn, ruleFile string, extra ...string) (string, *lockedBuffer) {
	t.Helper()
	args := append([]string{"serve", "--db", dsn, "--rules", ruleFile, "--addr", "127.0.0.1:0", "--log", "json", "--rules-poll", "100ms"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "IREGO_ADMIN_PASSWORD=crash-test-password")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	log := &lockedBuffer{}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.add(sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return base, log
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start listening:\n%s", log)
	}
	return "", nil
}

// ire sends a one-item payload to path and returns the item's result.
func ire(t *testing.T, base, path, body string) engine.ItemResult {
	t.Helper()
	req, err := http.NewRequest("POST", base+path+"?sysparm_data_source=ServiceNow", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "crash-test-password")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result engine.Result `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Result.Items) != 1 {
		t.Fatalf("%s%s: %d %v %+v", base, path, resp.StatusCode, err, out.Result)
	}
	return out.Result.Items[0]
}

// waitLog waits until the log holds want.
func waitLog(t *testing.T, log *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the server's log never said %q:\n%s", want, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func computerTagged(name, tag string) string {
	return `{"items":[{"className":"cmdb_ci_computer","values":{"name":"` + name + `","asset_tag":"` + tag + `"}}]}`
}

var reindexedBy = regexp.MustCompile(`\(reindex (\d+) of this store, by (\S+)\)`)

// TestRulesApplyReachesTwoServers: two irego serve processes on one
// PostgreSQL database start with rules A; irego rules apply gives the
// store rules B; both then identify with B (an asset tag identifies a
// computer under B, not under A) without a restart, the reindex ran once,
// in the applying process, and irego check is clean. A third server
// started with A refuses, saying why and what to do; with
// --adopt-stored-rules it starts with B.
func TestRulesApplyReachesTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three server processes")
	}
	dsn := pgtest.DSN(t)
	bin := buildIrego(t)
	dir := t.TempDir()
	fileA, fileB := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	srcB := bytes.Replace(rules.DefaultSource(), []byte("        attributes: [serial_number]\n"),
		[]byte("        attributes: [serial_number]\n      - priority: 250\n        attributes: [asset_tag]\n        unique: true\n"), 1)
	if err := os.WriteFile(fileA, rules.DefaultSource(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fileB, srcB, 0o600); err != nil {
		t.Fatal(err)
	}
	rsB, err := rules.Load("b.yaml", srcB)
	if err != nil {
		t.Fatal(err)
	}
	fpA, fpB := engine.Fingerprint(rules.Default()), engine.Fingerprint(rsB)

	base1, log1 := startRulesServer(t, bin, dsn, fileA)
	base2, log2 := startRulesServer(t, bin, dsn, fileA)
	c1 := ire(t, base1, "/api/now/identifyreconcile", computerTagged("c1", "A-1")).SysID
	for _, base := range []string{base1, base2} {
		if got := ire(t, base, "/api/now/identifyreconcile/query", computerTagged("c9", "A-1")); got.Operation != "INSERT" {
			t.Fatalf("%s under rules A: %+v, want INSERT (another name)", base, got)
		}
	}

	out, err := exec.Command(bin, "rules", "apply", "--store", dsn, fileB).CombinedOutput()
	m := reindexedBy.FindStringSubmatch(string(out))
	if err != nil || m == nil || !strings.Contains(string(out), fpB) {
		t.Fatalf("irego rules apply: %v\n%s", err, out)
	}
	// The second server finds the change by polling, before any request.
	waitLog(t, log2, `"msg":"rules changed"`)
	for _, base := range []string{base1, base2} {
		if got := ire(t, base, "/api/now/identifyreconcile/query", computerTagged("c9", "A-1")); got.Operation != "UPDATE" || got.SysID != c1 {
			t.Fatalf("%s under rules B: %s %s, want UPDATE %s", base, got.Operation, got.SysID, c1)
		}
	}
	if got := ire(t, base2, "/api/now/identifyreconcile", computerTagged("c9", "A-1")); got.SysID != c1 {
		t.Fatalf("apply under rules B: %+v", got)
	}
	for i, log := range []*lockedBuffer{log1, log2} {
		if !strings.Contains(log.String(), `"to":"`+fpB+`"`) || !strings.Contains(log.String(), `"reindexedBy":"`+m[2]+`"`) {
			t.Errorf("server %d's log does not tell the change to %s reindexed by %s:\n%s", i+1, fpB, m[2], log)
		}
	}

	status, err := exec.Command(bin, "rules", "status", "--store", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(status), "fingerprint: "+fpB) || !strings.Contains(string(status), "state: active") ||
		!strings.Contains(string(status), "reindexes: "+m[1]+"\n") || !strings.Contains(string(status), "previous: "+fpA) {
		t.Fatalf("irego rules status: %v\n%s", err, status)
	}
	if m[1] != "2" { // the first server's start recorded A, the apply B
		t.Errorf("reindexes: %s, want 2", m[1])
	}
	if out, err := exec.Command(bin, "check", "--db", dsn).CombinedOutput(); err != nil {
		t.Fatalf("irego check: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	third := exec.CommandContext(ctx, bin, "serve", "--db", dsn, "--rules", fileA, "--addr", "127.0.0.1:0")
	third.Env = append(os.Environ(), "IREGO_ADMIN_PASSWORD=crash-test-password")
	out, err = third.CombinedOutput()
	if third.ProcessState == nil || third.ProcessState.ExitCode() != exitFail {
		t.Fatalf("a server started with rules A: %v\n%s", err, out)
	}
	for _, want := range []string{fpA[:12], fpB[:12], "are not the rules every process on the store uses", "--adopt-stored-rules", "irego rules apply --store"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal lacks %q:\n%s", want, out)
		}
	}
	base3, _ := startRulesServer(t, bin, dsn, fileA, "--adopt-stored-rules")
	if got := ire(t, base3, "/api/now/identifyreconcile/query", computerTagged("c9", "A-1")); got.Operation != "NO_CHANGE" || got.SysID != c1 {
		t.Fatalf("a server adopting the stored rules: %+v, want NO_CHANGE %s", got, c1)
	}
}

// On a Badger directory (one process at a time) irego rules apply changes
// the store's rules, and store commands without --rules use them; a rule
// file that does not load changes nothing.
func TestRulesApplyOnBadger(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	fileB := filepath.Join(t.TempDir(), "b.yaml")
	srcB := bytes.Replace(rules.DefaultSource(), []byte("        attributes: [serial_number]\n"),
		[]byte("        attributes: [serial_number]\n      - priority: 250\n        attributes: [asset_tag]\n        unique: true\n"), 1)
	if err := os.WriteFile(fileB, srcB, 0o600); err != nil {
		t.Fatal(err)
	}
	applyOut := func(args ...string) engine.ItemResult {
		t.Helper()
		code, out, errs := irego(computerTagged("c9", "A-1"), append([]string{"apply", "--db", db, "--source", "ServiceNow"}, append(args, "-")...)...)
		var res engine.Result
		if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || len(res.Items) != 1 {
			t.Fatalf("irego apply %v: %d %s %s", args, code, out, errs)
		}
		return res.Items[0]
	}
	code, out, errs := irego(computerTagged("c1", "A-1"), "apply", "--db", db, "--source", "ServiceNow", "-")
	var res engine.Result
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("irego apply: %d %s %s", code, out, errs)
	}
	c1 := res.Items[0].SysID
	if got := applyOut("--dry-run"); got.Operation != "INSERT" {
		t.Fatalf("under the default rules: %+v", got)
	}
	if code, out, errs := irego("", "rules", "apply", "--store", db, fileB); code != exitOK || !strings.Contains(out, "are now the rules of every process") {
		t.Fatalf("irego rules apply: %d %s %s", code, out, errs)
	}
	if code, out, _ := irego("", "rules", "apply", "--store", db, fileB); code != exitOK || !strings.Contains(out, "already the store's rules") {
		t.Fatalf("irego rules apply again: %d %s", code, out)
	}
	if got := applyOut("--dry-run"); got.Operation != "UPDATE" || got.SysID != c1 {
		t.Fatalf("irego apply without --rules uses the store's rules: %+v, want UPDATE %s", got, c1)
	}
	if code, out, errs := irego("", "rules", "apply", "--store", db, "-"); code != exitFail || !strings.Contains(errs, "-:") {
		t.Fatalf("irego rules apply of an empty file: %d %s %s", code, out, errs)
	}
	if code, out, errs := irego("", "rules", "status", "--store", db, "--source"); code != exitOK || out != string(srcB) {
		t.Fatalf("irego rules status --source: %d %s", code, errs)
	}
	if code, out, errs := irego("", "check", "--db", db); code != exitOK {
		t.Fatalf("irego check: %d %s %s", code, out, errs)
	}
}
