package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damageStore makes a Badger store holding one CI whose record is large
// enough for Badger's value log, closes it (its tables written) and returns
// the directory and the CI's sys_id.
func damageStore(t *testing.T) (dir, id string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "db")
	p := filepath.Join(t.TempDir(), "big.json")
	body := fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"big","serial_number":"SN-BIG","short_description":%q}}]}`, strings.Repeat("x", 4000))
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"apply", "--db", dir, "--source", "SCCM", p}, nil, &out, &errb); code != exitOK {
		t.Fatalf("apply exited %d: %s", code, errb.String())
	}
	var res struct {
		Items []struct {
			SysID string `json:"sysId"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Items) != 1 {
		t.Fatalf("apply printed %s (%v)", out.String(), err)
	}
	return dir, res.Items[0].SysID
}

// snapshot is every file of dir with a digest of its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return m
}

func onlyFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if len(m) == 0 {
		t.Fatalf("no %s file in %s", suffix, dir)
	}
	return m[0]
}

// cli runs an irego command and returns its exit code and stderr; a Go
// panic reaching the command would fail the test on its own.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// serveDamaged runs irego serve on dir, stopping it at once should it start
// listening, and returns its exit code and log.
func serveDamaged(dir string) (int, string) {
	cfg := serveConfig{db: dir, addr: "127.0.0.1:0", logFormat: "text", maxBody: 1 << 20}
	var log bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := serve(ctx, cfg, &log, func(string) { cancel() })
	return code, log.String()
}

// A store whose MANIFEST is gone or emptied is refused by every command,
// and not one of its files is changed: Badger would take it for a new
// store and delete its tables.
func TestLostManifestIsRefusedAndUntouched(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(manifest string, header []byte) error
	}{
		{"removed", func(m string, _ []byte) error { return os.Remove(m) }},
		{"emptied", func(m string, _ []byte) error { return os.Truncate(m, 0) }},
		{"header only", func(m string, h []byte) error { return os.WriteFile(m, h, 0o600) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, id := damageStore(t)
			manifest := filepath.Join(dir, "MANIFEST")
			b, err := os.ReadFile(manifest)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(manifest, b[:8]); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			for _, args := range [][]string{
				{"check", "--db", dir},
				{"get", "--db", dir, id},
				{"apply", "--db", dir, "--source", "SCCM", "../../examples/computer-servicenow.json"},
			} {
				code, out, stderr := cli(args...)
				if code != exitFail || !strings.Contains(stderr, "MANIFEST") || strings.Contains(out, "ok") {
					t.Errorf("%s exited %d: %s%s", args[0], code, out, stderr)
				}
			}
			if code, log := serveDamaged(dir); code != exitFail || !strings.Contains(log, "MANIFEST") {
				t.Errorf("serve exited %d: %s", code, log)
			}
			if after := snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// irego check never changes the store it checks.
func TestCheckWritesNothing(t *testing.T) {
	dir, _ := damageStore(t)
	before := snapshot(t, dir)
	if code, out, stderr := cli("check", "--db", dir); code != exitOK || !strings.Contains(out, "ok") {
		t.Fatalf("check exited %d: %s%s", code, out, stderr)
	}
	if after := snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("check changed the store:\nbefore %v\nafter  %v", before, after)
	}
}

// Damaged bytes are never served: a changed value in the value log, a
// zeroed table block and a truncated table make check, get and serve fail
// with an error naming the file (not a panic, not a wrong answer).
func TestDamageIsAnErrorNamingTheFile(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		damage     func(t *testing.T, path string)
	}{
		{"value log bytes", ".vlog", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			i := bytes.Index(b, []byte("xxxxxxxx"))
			if i < 0 {
				t.Fatal("the record is not in the value log")
			}
			copy(b[i+100:], "yyyyyyyy")
			os.WriteFile(path, b, 0o600)
		}},
		{"zeroed table block", ".sst", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			clear(b[:len(b)/2])
			os.WriteFile(path, b, 0o600)
		}},
		{"truncated table", ".sst", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			os.Truncate(path, fi.Size()/2)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, id := damageStore(t)
			path := onlyFile(t, dir, tc.file)
			tc.damage(t, path)
			for _, args := range [][]string{{"check", "--db", dir}, {"get", "--db", dir, id}} {
				code, out, stderr := cli(args...)
				if code != exitFail || !strings.Contains(stderr, filepath.Base(path)) || !strings.Contains(stderr, "damaged") {
					t.Errorf("%s exited %d: %s%s", args[0], code, out, stderr)
				}
				if strings.Contains(out, "SN-BIG") {
					t.Errorf("%s served the damaged CI: %s", args[0], out)
				}
			}
			if tc.file == ".sst" {
				if code, log := serveDamaged(dir); code != exitFail || !strings.Contains(log, filepath.Base(path)) {
					t.Errorf("serve exited %d: %s", code, log)
				}
			}
		})
	}
}
