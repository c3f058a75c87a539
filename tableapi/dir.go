package tableapi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// dir is an export on disk.
type dir struct{ path string }

func openDir(path string) (Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory (want an export directory or an instance URL)", path)
	}
	return dir{path}, nil
}

func (d dir) String() string { return d.path }

// page is one file of a table, numbered when the table has several.
type page struct {
	table string
	num   int
	path  string
}

// pages lists every page file in the directory, by table then number.
func (d dir) pages() ([]page, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	var out []page
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			sub, err := os.ReadDir(filepath.Join(d.path, name))
			if err != nil {
				return nil, err
			}
			for i, s := range sortedJSON(sub) {
				out = append(out, page{name, i, filepath.Join(d.path, name, s)})
			}
			continue
		}
		base, ok := strings.CutSuffix(name, ".json")
		if !ok {
			continue
		}
		table, num := splitPage(base)
		out = append(out, page{table, num, filepath.Join(d.path, name)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].table != out[j].table {
			return out[i].table < out[j].table
		}
		if out[i].num != out[j].num {
			return out[i].num < out[j].num
		}
		return out[i].path < out[j].path
	})
	return out, nil
}

// splitPage parses "cmdb_ci_2" (or "cmdb_ci-2", "cmdb_ci.2") as page 2 of
// cmdb_ci; a name without a numeric suffix is the whole table (page 0),
// so cmdb_ci_ip_address stays a table of its own.
func splitPage(base string) (string, int) {
	i := strings.LastIndexAny(base, "_-.")
	if i > 0 {
		if n, err := strconv.Atoi(base[i+1:]); err == nil && n >= 0 {
			return base[:i], n
		}
	}
	return base, 0
}

// sortedJSON names the .json files of a table's folder in page order:
// by the number in the name where there is one, else by name.
func sortedJSON(entries []os.DirEntry) []string {
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	num := func(s string) int {
		_, n := splitPage(strings.TrimSuffix(s, ".json"))
		if n == 0 {
			n, _ = strconv.Atoi(strings.TrimSuffix(s, ".json"))
		}
		return n
	}
	sort.SliceStable(names, func(i, j int) bool {
		if a, b := num(names[i]), num(names[j]); a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	return names
}

func (d dir) Tables() ([]string, error) {
	ps, err := d.pages()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		if len(out) == 0 || out[len(out)-1] != p.table {
			out = append(out, p.table)
		}
	}
	return out, nil
}

func (d dir) Each(ctx context.Context, table string, skip int, fn func(Record) error) error {
	ps, err := d.pages()
	if err != nil {
		return err
	}
	found := false
	for _, p := range ps {
		if p.table != table {
			continue
		}
		found = true
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := readFile(p.path, &skip, fn); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: %s: %w", d.path, table, ErrNoTable)
	}
	return nil
}

func readFile(path string, skip *int, fn func(Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = readPage(f, path, skip, fn)
	return err
}
