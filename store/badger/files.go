package badger

import (
	"fmt"
	"os"
	"path/filepath"
)

// secureFiles keeps the store's files to their owner: it writes the marker
// file, takes group and other access away from every file in dir (Badger
// creates its tables and logs with the process's umask, 0644 under the
// usual 022; irego itself runs with umask 077), and returns a warning when
// the directory itself lets others in.
func secureFiles(dir string) ([]string, error) {
	marker := filepath.Join(dir, markerFile)
	if _, err := os.Stat(marker); os.IsNotExist(err) {
		if err := os.WriteFile(marker, []byte(markerText), 0o600); err != nil {
			return nil, err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 == 0 {
			continue // gone meanwhile (compaction), not a file, or private already
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), fi.Mode().Perm()&0o700); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return []string{fmt.Sprintf("store directory %s is open to other users (mode %04o): its files are private, but run chmod 700 %s", dir, perm, dir)}, nil
	}
	return nil, nil
}
