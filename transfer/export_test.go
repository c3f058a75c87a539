package transfer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/transfer"
)

// loaded is a store holding a generated export of machines machines.
func loaded(t *testing.T, machines int) (*engine.Engine, genCounts) {
	t.Helper()
	export := t.TempDir()
	c := writeExport(t, export, genOptions{Machines: machines})
	e := open(t, t.TempDir())
	importDir(t, e, export, transfer.ImportOptions{})
	return e, c
}

func exportTo(t *testing.T, e *engine.Engine, o transfer.ExportOptions) *transfer.ExportStats {
	t.Helper()
	st, err := transfer.Export(context.Background(), e, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// GraphML as its schema has it: keys declared before the graph, each data
// element naming a declared key of its domain, unique node and edge ids,
// every edge between declared nodes. NetworkX reads it too, when present.
func TestGraphMLIsValid(t *testing.T) {
	e, c := loaded(t, 20)
	var buf bytes.Buffer
	st := exportTo(t, e, transfer.ExportOptions{Format: transfer.FormatGraphML, W: &buf})
	if st.CIs != c.CIs || st.Edges != c.Edges {
		t.Fatalf("exported %+v, want %d CIs and %d edges", st, c.CIs, c.Edges)
	}
	type data struct {
		Key   string `xml:"key,attr"`
		Value string `xml:",chardata"`
	}
	var doc struct {
		XMLName xml.Name
		Keys    []struct {
			ID   string `xml:"id,attr"`
			For  string `xml:"for,attr"`
			Name string `xml:"attr.name,attr"`
			Type string `xml:"attr.type,attr"`
		} `xml:"key"`
		Graph struct {
			ID          string `xml:"id,attr"`
			EdgeDefault string `xml:"edgedefault,attr"`
			Nodes       []struct {
				ID   string `xml:"id,attr"`
				Data []data `xml:"data"`
			} `xml:"node"`
			Edges []struct {
				ID     string `xml:"id,attr"`
				Source string `xml:"source,attr"`
				Target string `xml:"target,attr"`
				Data   []data `xml:"data"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Space != "http://graphml.graphdrawing.org/xmlns" || doc.XMLName.Local != "graphml" || doc.Graph.EdgeDefault != "directed" {
		t.Fatalf("root %v, edgedefault %q", doc.XMLName, doc.Graph.EdgeDefault)
	}
	if i, j := strings.Index(buf.String(), "<key "), strings.Index(buf.String(), "<graph "); i < 0 || j < i || strings.LastIndex(buf.String(), "<key ") > j {
		t.Fatal("keys must come before the graph")
	}
	domain := map[string]string{}
	for _, k := range doc.Keys {
		if domain[k.ID] != "" || (k.For != "node" && k.For != "edge") || k.Type != "string" || k.Name == "" {
			t.Fatalf("key %+v: a duplicate id or a bad domain or type", k)
		}
		domain[k.ID] = k.For
	}
	nodes := map[string]bool{}
	for _, n := range doc.Graph.Nodes {
		if nodes[n.ID] {
			t.Fatalf("node %s twice", n.ID)
		}
		nodes[n.ID] = true
		for _, d := range n.Data {
			if domain[d.Key] != "node" {
				t.Fatalf("node %s: data key %q is no node key", n.ID, d.Key)
			}
		}
	}
	edges := map[string]bool{}
	for _, ed := range doc.Graph.Edges {
		if edges[ed.ID] || !nodes[ed.Source] || !nodes[ed.Target] {
			t.Fatalf("edge %+v: a duplicate id or an end that is no node", ed)
		}
		edges[ed.ID] = true
		if len(ed.Data) != 1 || domain[ed.Data[0].Key] != "edge" || !strings.Contains(ed.Data[0].Value, "::") {
			t.Fatalf("edge %s data %+v", ed.ID, ed.Data)
		}
	}
	if len(nodes) != c.CIs || len(edges) != c.Edges {
		t.Fatalf("%d nodes and %d edges, want %d and %d", len(nodes), len(edges), c.CIs, c.Edges)
	}

	if _, err := exec.LookPath("python3"); err != nil {
		return
	}
	file := filepath.Join(t.TempDir(), "g.graphml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-c", `import sys
try:
    import networkx
except ImportError:
    print("skip"); sys.exit(0)
g = networkx.read_graphml(sys.argv[1])
print(g.number_of_nodes(), g.number_of_edges(), g.nodes["`+sid(kMachine, 3)+`"]["sys_class_name"])`, file).CombinedOutput()
	if err != nil {
		t.Fatalf("networkx: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "skip" && got != strings.Join([]string{itoa(c.CIs), itoa(c.Edges), machineClasses[3]}, " ") {
		t.Fatalf("networkx reads %q", got)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// CSV: a file per class, a header naming every column the class's rows
// fill, one row per record.
func TestCSVHasAFilePerClass(t *testing.T) {
	e, c := loaded(t, 20)
	dir := t.TempDir()
	st := exportTo(t, e, transfer.ExportOptions{Format: transfer.FormatCSV, Dir: dir})
	rows := 0
	for _, name := range st.Files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		all, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if all[0][0] != "sys_id" || all[0][1] != "sys_class_name" {
			t.Fatalf("%s header %q", name, all[0])
		}
		for _, r := range all[1:] {
			if r[1]+".csv" != name {
				t.Fatalf("%s holds a %s", name, r[1])
			}
		}
		rows += len(all) - 1
	}
	if len(st.Files) != 13+2 || rows != c.CIs+c.Related {
		t.Fatalf("%d files %v and %d rows, want 15 files and %d", len(st.Files), st.Files, rows, c.CIs+c.Related)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "cmdb_ci_ip_address.csv"))
	if !strings.Contains(string(data), "ip_address") || !strings.Contains(string(data), "10.0.0.7") {
		t.Fatalf("cmdb_ci_ip_address.csv:\n%s", data)
	}
}

// JSON lines: every CI and related record, then every relation.
func TestJSONLinesHoldCIsThenEdges(t *testing.T) {
	e, c := loaded(t, 10)
	var buf bytes.Buffer
	exportTo(t, e, transfer.ExportOptions{Format: transfer.FormatJSONL, W: &buf})
	kinds := map[string]int{}
	last := ""
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		kind := raw["kind"].(string)
		if last == "edge" && kind != "edge" {
			t.Fatal("a CI after the edges")
		}
		last = kind
		kinds[kind]++
	}
	if kinds["ci"] != c.CIs+c.Related || kinds["edge"] != c.Edges {
		t.Fatalf("lines %v, want %+v", kinds, c)
	}
}

// --class keeps a class and its subclasses with the records under them
// and the relations among them; --since keeps what changed since.
func TestExportFilters(t *testing.T) {
	e, _ := loaded(t, 20)
	var buf bytes.Buffer
	exportTo(t, e, transfer.ExportOptions{Format: transfer.FormatJSONL, W: &buf, Class: "cmdb_ci_server"})
	servers := map[string]bool{}
	var related []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l struct {
			Kind    string `json:"kind"`
			Class   string `json:"class"`
			Scope   string `json:"scope"`
			SysID   string `json:"sys_id"`
			Related bool   `json:"related"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		switch {
		case l.Kind == "ci" && !l.Related:
			if c, _ := e.Rules().Class(l.Class); c == nil || !c.IsA("cmdb_ci_server") {
				t.Fatalf("not a server: %s", line)
			}
			servers[l.SysID] = true
		case l.Kind == "ci":
			related = append(related, l.Scope)
		case l.Kind == "edge":
			t.Fatalf("no relation joins two servers: %s", line)
		}
	}
	for _, main := range related {
		if !servers[main] {
			t.Fatalf("a related record of %s, no server", main)
		}
	}
	if len(related) != 2*len(servers) {
		t.Fatalf("%d related records of %d servers", len(related), len(servers))
	}
	// linux, win, aix, solaris, hpux and esx servers of 20 machines
	if len(servers) != 12 {
		t.Fatalf("%d servers: %v", len(servers), servers)
	}
	buf.Reset()
	since, _ := time.Parse(transfer.TimeLayout, "2024-01-01 00:00:15")
	st := exportTo(t, e, transfer.ExportOptions{Format: transfer.FormatJSONL, W: &buf, Since: since})
	// machines 15 to 19, each with adapter, address, serial and install, apps 16 and 18
	if st.CIs != 5*3+2 || st.Related != 5*2 || st.Edges != 5*2+2*2 {
		t.Fatalf("since %v: %+v", since, st)
	}
}

func TestExportRefusesBadOptions(t *testing.T) {
	e, _ := loaded(t, 1)
	ctx := context.Background()
	if _, err := transfer.Export(ctx, e, transfer.ExportOptions{Format: "xml", W: &bytes.Buffer{}}); !errors.Is(err, transfer.ErrFormat) {
		t.Fatalf("format xml: %v", err)
	}
	if _, err := transfer.Export(ctx, e, transfer.ExportOptions{Format: transfer.FormatCSV, W: &bytes.Buffer{}}); !errors.Is(err, transfer.ErrFormat) {
		t.Fatalf("csv to a stream: %v", err)
	}
	if _, err := transfer.Export(ctx, e, transfer.ExportOptions{Format: transfer.FormatJSONL, W: &bytes.Buffer{}, Class: "cmdb_ci_nothing"}); !errors.Is(err, engine.ErrUnknownClass) {
		t.Fatalf("unknown class: %v", err)
	}
}
