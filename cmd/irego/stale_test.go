package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// irego stale with its default flags deletes nothing a source reported
// minutes ago: retire and delete need --run-start (or --yes), the retention
// defaults to 30 days, and what goes is printed before it goes.
func TestStaleDefaultsKeepRecentCIs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	var out, errb bytes.Buffer
	if code := run([]string{"apply", "--db", db, "--source", "AWS", "../../examples/computer-servicenow.json"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("apply exited %d: %s", code, errb.String())
	}
	var res struct {
		Items []struct {
			SysID string `json:"sysId"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Items) == 0 {
		t.Fatalf("apply printed %s (%v)", out.String(), err)
	}
	id := res.Items[0].SysID
	stale := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"stale", "--db", db, "--source", "AWS"}, args...), nil, &out, &errb)
		return code, out.String(), errb.String()
	}
	exists := func() bool {
		var out, errb bytes.Buffer
		return run([]string{"get", "--db", db, id}, nil, &out, &errb) == exitOK
	}

	for _, action := range []string{"delete", "retire"} {
		code, _, stderr := stale("--action", action)
		if code != exitUsage || !strings.Contains(stderr, "--run-start") {
			t.Errorf("stale --action %s without --run-start exited %d: %s", action, code, stderr)
		}
	}
	if code, out, stderr := stale("--action", "delete", "--yes"); code != exitOK || strings.Contains(out, id) {
		t.Errorf("stale --action delete --yes (retention 30d by default) exited %d, removed %s: %s", code, out, stderr)
	}
	if !exists() {
		t.Fatalf("the CI reported a moment ago was deleted by default flags")
	}

	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	code, listed, stderr := stale("--action", "delete", "--run-start", future, "--retention", "0d")
	if code != exitOK || !strings.Contains(listed, id) {
		t.Fatalf("stale delete with run-start in the future exited %d: %s %s", code, listed, stderr)
	}
	if !strings.Contains(stderr, "will delete") || !strings.Contains(stderr, id) {
		t.Errorf("stale delete did not say what it would delete first: %q", stderr)
	}
	if exists() {
		t.Errorf("stale delete left the CI")
	}
}
