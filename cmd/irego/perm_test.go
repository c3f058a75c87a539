package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every file of a store is its owner's alone, also when --db is an existing
// directory others may read; irego says so about the directory.
func TestStoreFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	code, _, stderr := cli("apply", "--db", dir, "--source", "SCCM", "../../examples/computer-servicenow.json")
	if code != exitOK {
		t.Fatalf("apply exited %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "chmod 700") {
		t.Errorf("no warning about the directory's mode: %q", stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatal(entries, err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
}
