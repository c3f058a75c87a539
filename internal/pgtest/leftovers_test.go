package pgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The directories of test processes that are gone are removed; those of
// live ones, and fresh ones without an owner yet, stay.
func TestRemoveLeftovers(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	mkdir := func(name, owner string, age time.Duration) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(dir, at, at); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dead := mkdir("irego-pg-dead", strconv.Itoa(gone.Process.Pid), 0)
	mine := mkdir("irego-pg-mine", strconv.Itoa(os.Getpid()), 0)
	fresh := mkdir("irego-pg-fresh", "", time.Minute)
	old := mkdir("irego-pg-old", "", 2*time.Hour)
	other := mkdir("something-else", strconv.Itoa(gone.Process.Pid), 0)
	removeLeftovers()
	for dir, want := range map[string]bool{dead: false, mine: true, fresh: true, old: false, other: true} {
		_, err := os.Stat(dir)
		if got := err == nil; got != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(dir), got, want)
		}
	}
}
