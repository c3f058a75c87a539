package badger

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irego/irego/store"
)

// The log sync syncs every memtable log, not only the active one (those
// rotated out hold commits until their flush), and before them the value
// log files from the newest one at its last sync on; tables and the rest
// are left.
func TestLogSyncChoosesEveryMemtableAndTheValueLogsSinceLastSync(t *testing.T) {
	dir := t.TempDir()
	touch := func(names ...string) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	touch("00001.mem", "00002.mem", "00003.mem", "000001.vlog", "000002.vlog", "000001.sst", "MANIFEST", "KEYREGISTRY")
	l := newLogSync(dir)
	var synced []string
	l.datasync = func(f *os.File) error {
		synced = append(synced, filepath.Base(f.Name()))
		return nil
	}
	sync := func() []string {
		t.Helper()
		synced = nil
		if err := l.sync(); err != nil {
			t.Fatal(err)
		}
		// A memtable log entry may point into a value log: value logs first.
		if i := slices.IndexFunc(synced, func(n string) bool { return strings.HasSuffix(n, ".mem") }); i >= 0 &&
			slices.ContainsFunc(synced[i:], func(n string) bool { return strings.HasSuffix(n, ".vlog") }) {
			t.Errorf("a value log synced after a memtable log: %v", synced)
		}
		slices.Sort(synced)
		return synced
	}
	if got, want := sync(), []string{"000001.vlog", "000002.vlog", "00001.mem", "00002.mem", "00003.mem"}; !slices.Equal(got, want) {
		t.Errorf("first sync: %v, want %v", got, want)
	}
	// A memtable flushed, a new one and a new value log file.
	if err := os.Remove(filepath.Join(dir, "00001.mem")); err != nil {
		t.Fatal(err)
	}
	touch("00004.mem", "000003.vlog")
	if got, want := sync(), []string{"000002.vlog", "000003.vlog", "00002.mem", "00003.mem", "00004.mem"}; !slices.Equal(got, want) {
		t.Errorf("second sync: %v, want %v", got, want)
	}
	if got, want := sync(), []string{"000003.vlog", "00002.mem", "00003.mem", "00004.mem"}; !slices.Equal(got, want) {
		t.Errorf("third sync: %v, want %v", got, want)
	}
	// Memtables 5 and 6 came and were flushed between two syncs.
	touch("00007.mem")
	if got, want := sync(), []string{"000003.vlog", "00002.mem", "00003.mem", "00004.mem", "00007.mem"}; !slices.Equal(got, want) {
		t.Errorf("sync after a gap: %v, want %v", got, want)
	}
	if !l.listed {
		t.Error("logs with Badger's usual names: every sync reads the directory")
	}
}

// Logs named otherwise than Badger's usual way are found by reading the
// directory at every sync.
func TestLogSyncReadsTheDirectoryForUnusualNames(t *testing.T) {
	dir := t.TempDir()
	touch := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	touch("1.mem")
	l := newLogSync(dir)
	var synced []string
	l.datasync = func(f *os.File) error {
		synced = append(synced, filepath.Base(f.Name()))
		return nil
	}
	for i, want := range [][]string{{"1.mem"}, {"1.mem", "2.mem"}} {
		if i == 1 {
			touch("2.mem")
		}
		synced = nil
		if err := l.sync(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(synced)
		if !slices.Equal(synced, want) {
			t.Errorf("sync %d: %v, want %v", i, synced, want)
		}
	}
}

// On a real durable store whose memtables rotate, every group sync covers
// a memtable log, and every commit comes back after a reopen.
func TestGroupSyncCoversTheMemtableLogs(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, SyncWrites: true, memTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var synced []string
	logs := map[string]bool{}
	db.logs.datasync = func(f *os.File) error {
		synced = append(synced, filepath.Base(f.Name()))
		logs[filepath.Base(f.Name())] = true
		return datasync(f)
	}
	// Values held in the memtables (under valueThreshold), so they rotate.
	value := []byte(strings.Repeat("v", valueThreshold-1))
	for i := range 40 {
		txn := db.NewTxn()
		for j := range 600 {
			if err := txn.Set([]byte(strings.Repeat("k", 8)+string(rune('a'+i%26))+string(rune(i))+string(rune(j))), value); err != nil {
				t.Fatal(err)
			}
		}
		synced = nil
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(synced, func(n string) bool { return strings.HasSuffix(n, ".mem") }) {
			t.Fatalf("commit %d: the sync covered no memtable log: %v", i, synced)
		}
	}
	if len(logs) < 3 {
		t.Fatalf("the syncs covered the logs %v: the memtables did not rotate", logs)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	if err := db.View(func(r store.Reader) error {
		return r.Iterate([]byte("kkkkkkkk"), func(_, _ []byte) error { n++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if n != 40*600 {
		t.Fatalf("%d keys after the reopen, want %d", n, 40*600)
	}
}
