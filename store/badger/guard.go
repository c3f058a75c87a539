package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"

	"github.com/irego/irego/store"
)

// markerFile marks a directory as an irego store that has been opened, so
// a later open knows it held data even when every Badger file is gone.
const markerFile = "IREGO_STORE"

const markerText = "irego store (Badger): do not delete MANIFEST; restore a damaged store from a backup\n"

// recovery is what every refusal tells the operator to do.
const recovery = "restore the store from a backup into an empty directory (irego restore), see README, Operations"

// checkBeforeOpen refuses a directory Badger would open by throwing data
// away: Badger treats a missing or emptied MANIFEST as a new store and
// deletes every table file it does not list. It also verifies every table
// the MANIFEST lists (all its block checksums), in this goroutine, where a
// panic on a damaged table becomes an error naming the file; Badger opens
// tables in goroutines of its own, where it would kill the process.
func checkBeforeOpen(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var data []string
	marked := false
	for _, e := range entries {
		switch n := e.Name(); {
		case n == markerFile:
			marked = true
		case strings.HasSuffix(n, ".sst"), strings.HasSuffix(n, ".vlog"), strings.HasSuffix(n, ".mem"):
			data = append(data, n)
		}
	}
	tables, err := manifestTables(dir)
	if err != nil {
		if len(data) == 0 && !marked {
			return nil // a new store: Badger writes the MANIFEST
		}
		held := "data files: " + strings.Join(first(data, 5), ", ")
		if len(data) == 0 {
			held = "the " + markerFile + " file, so it held data"
		}
		return fmt.Errorf("%w: %s: %v, yet the directory holds %s; opening it would delete them, so it stays untouched: %s",
			store.ErrDamaged, filepath.Join(dir, "MANIFEST"), err, held, recovery)
	}
	var sst []string
	for _, n := range data {
		if strings.HasSuffix(n, ".sst") {
			sst = append(sst, n)
		}
	}
	if len(tables) == 0 && len(sst) > 0 {
		return fmt.Errorf("%w: %s lists no tables, yet the directory holds %s; opening it would delete them, so it stays untouched: %s",
			store.ErrDamaged, filepath.Join(dir, "MANIFEST"), strings.Join(first(sst, 5), ", "), recovery)
	}
	if err := verifyTables(dir, tables); err != nil {
		return fmt.Errorf("%w: %v: %s", store.ErrDamaged, err, recovery)
	}
	return nil
}

// verifyTables verifies the tables on every core (reading them is most of
// the cost of opening a store) and returns the first damage found.
func verifyTables(dir string, ids []uint64) error {
	next := make(chan uint64)
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ids)) {
		wg.Go(func() {
			for id := range next {
				errs <- verifyTable(table.NewFilename(id, dir))
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// manifestTables returns the ids of the tables the MANIFEST lists, or why
// it cannot be read (missing, empty, bad magic).
func manifestTables(dir string) ([]uint64, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("missing")
		}
		return nil, err
	}
	defer f.Close()
	m, _, err := bdg.ReplayManifestFile(f, 0, bdg.DefaultOptions(dir))
	if err != nil {
		return nil, fmt.Errorf("unreadable (%v)", err)
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// verifyTable opens a table file read-only and checks its index and every
// block's checksum.
func verifyTable(path string) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return err // a missing table: Badger reports it too
	}
	if fi.Size() < 8 {
		return fmt.Errorf("table %s is truncated (%d bytes)", path, fi.Size())
	}
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("table %s: %v", path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table %s is damaged: %v", path, firstLine(r))
		}
	}()
	// Reading a damaged table can fault on the mapping: panic, not crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	t, err := table.OpenTable(mf, table.Options{ChkMode: options.OnTableAndBlockRead, Compression: options.None})
	if err != nil {
		return fmt.Errorf("table %s is damaged: %v", path, err)
	}
	return t.Close(-1)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

func firstLine(v any) string {
	s := strings.TrimSpace(fmt.Sprint(v))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
