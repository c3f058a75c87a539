package badger

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/irego/irego/store"
)

const fullDiskEnv = "IREGO_TEST_FULL_DISK_DIR"

// On a full disk writes fail with store.ErrNoSpace instead of the process
// dying of SIGBUS; reads go on; once space is freed writes resume; nothing
// acknowledged is lost. It runs on a small tmpfs of its own, so only as
// root (CI runs as root), and in a child process, so a crash is seen as one.
func TestFullDisk(t *testing.T) {
	if dir := os.Getenv(fullDiskEnv); dir != "" {
		fullDiskChild(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (CI runs as root)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=40m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	cmd := exec.Command(os.Args[0], "-test.run=^TestFullDisk$", "-test.v")
	cmd.Env = append(os.Environ(), fullDiskEnv+"="+mnt)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("FULL DISK OK")) {
		t.Fatalf("the store on a full disk: %v\n%s", err, tail(out))
	}
	t.Logf("%s", tail(out))
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func fullDiskChild(t *testing.T, mnt string) {
	dir := filepath.Join(mnt, "db")
	opts := Options{Dir: dir, SyncWrites: true, memTableSize: 2 << 20, vlogFileSize: 1 << 20}
	db, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Another program takes most of the disk.
	filler := filepath.Join(mnt, "filler")
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 1500+i%700) }
	key := func(i int) []byte { return fmt.Appendf(nil, "k%06d", i) }
	acked := 0
	write := func() error {
		txn := db.NewTxn()
		defer txn.Discard()
		for j := range 8 {
			if err := txn.Set(key(acked+j), value(acked+j)); err != nil {
				return err
			}
		}
		if err := txn.Commit(); err != nil {
			return err
		}
		acked += 8
		return nil
	}
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 12<<20))
	f.Close()
	// Write until the disk is full: the store refuses, with ErrNoSpace.
	var werr error
	for range 20000 {
		if werr = write(); werr != nil {
			break
		}
	}
	if !errors.Is(werr, store.ErrNoSpace) {
		t.Fatalf("after %d acknowledged writes: %v, want store.ErrNoSpace", acked, werr)
	}
	t.Logf("refused after %d keys: %v", acked, werr)
	check := func(db *DB, n int) {
		t.Helper()
		for i := range n {
			err := db.View(func(r store.Reader) error {
				v, err := r.Get(key(i))
				if err == nil && !bytes.Equal(v, value(i)) {
					err = fmt.Errorf("wrong value")
				}
				return err
			})
			if err != nil {
				t.Fatalf("key %d of %d acknowledged: %v", i, n, err)
			}
		}
	}
	check(db, acked) // reads go on
	// Writing on: each write is refused or stored (a flush may free a
	// little), never a crash.
	for range 50 {
		if err := write(); err != nil && !errors.Is(err, store.ErrNoSpace) {
			t.Fatalf("a write on the full disk: %v", err)
		}
	}
	check(db, acked)
	// Space is freed: writes go on.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := write(); err != nil {
			t.Fatalf("after freeing space: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	check(db, acked)
	db.Close()
	fmt.Printf("FULL DISK OK: %d keys acknowledged, all read back\n", acked)
}
