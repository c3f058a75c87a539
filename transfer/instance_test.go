package transfer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/tableapi"
	"github.com/irego/irego/transfer"
)

// instanceOf serves the export in dir as a ServiceNow instance's Table API
// does: a class's table holds the CIs of its subclasses too, cmdb_ci every
// CI with its base fields only, pages by sysparm_offset in sys_id order,
// basic authentication, and 400 "Invalid table" for tables it lacks.
func instanceOf(t *testing.T, dir string) (*httptest.Server, *[]string) {
	src, err := tableapi.Open(dir, tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := src.Tables()
	rs := rules.Default()
	tables := map[string][]tableapi.Record{}
	var cis []tableapi.Record
	for _, name := range names {
		err := src.Each(context.Background(), name, 0, func(r tableapi.Record) error {
			if c, ok := rs.Class(r["sys_class_name"]); ok && c.IsA("cmdb_ci") && name != "cmdb_ci" {
				cis = append(cis, r)
			} else if name != "cmdb_ci" {
				tables[name] = append(tables[name], r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "importer" || p != "secret" {
			http.Error(w, `{"error":{"message":"User Not Authenticated"}}`, http.StatusUnauthorized)
			return
		}
		table, ok := strings.CutPrefix(r.URL.Path, "/api/now/table/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		asked = append(asked, table)
		mu.Unlock()
		rows, known := tables[table]
		if c, ok := rs.Class(table); ok && c.IsA("cmdb_ci") {
			known, rows = true, nil
			for _, ci := range cis {
				if cc, _ := rs.Class(ci["sys_class_name"]); cc.IsA(table) {
					if table == "cmdb_ci" {
						ci = tableapi.Record{"sys_id": ci["sys_id"], "sys_class_name": ci["sys_class_name"], "name": ci["name"]}
					}
					rows = append(rows, ci)
				}
			}
		}
		if !known {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"message":"Invalid table ` + table + `","detail":null},"status":"failure"}`))
			return
		}
		rows = slices.Clone(rows)
		slices.SortFunc(rows, func(a, b tableapi.Record) int { return strings.Compare(a["sys_id"], b["sys_id"]) })
		offset, _ := strconv.Atoi(r.URL.Query().Get("sysparm_offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("sysparm_limit"))
		page := rows[min(offset, len(rows)):min(offset+limit, len(rows))]
		json.NewEncoder(w).Encode(map[string]any{"result": page})
	}))
	t.Cleanup(srv.Close)
	return srv, &asked
}

// An import from a live instance reads cmdb_ci for the classes, then each
// class's table, page by page, and loads what a directory import loads.
func TestImportFromAnInstance(t *testing.T) {
	export := t.TempDir()
	want := writeExport(t, export, genOptions{Machines: 30})
	srv, asked := instanceOf(t, export)
	src, err := tableapi.Open(srv.URL, tableapi.Options{User: "importer", Password: "secret", PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, t.TempDir())
	st, err := transfer.Import(context.Background(), e, src, transfer.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Related != want.Related || st.Edges != want.Edges || st.NativeKeys != want.NativeKeys || st.Skipped != 0 {
		t.Fatalf("imported %+v, want %+v (%q)", st, want, st.Warnings)
	}
	if (*asked)[0] != "cmdb_ci" || !slices.Contains(*asked, "cmdb_ci_ip_router") || !slices.Contains(*asked, "cmdb_software_instance") {
		t.Fatalf("tables asked for: %v", *asked)
	}
	checkClean(t, e)

	dirImport := open(t, t.TempDir())
	importDir(t, dirImport, export, transfer.ImportOptions{})
	a, b := snapshotOf(t, e), snapshotOf(t, dirImport)
	if len(a) != want.CIs+want.Related || !slices.Equal(a, b) {
		t.Fatalf("the instance import differs from the directory import:\n%q\n%q", a, b)
	}
}
