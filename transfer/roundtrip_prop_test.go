package transfer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"github.com/irego/irego/tableapi"
	"github.com/irego/irego/transfer"
	"pgregory.net/rapid"
)

// Round trips (the part 3): any generated graph exported as
// servicenow and imported into an empty store gives the same CIs,
// relations, native keys and identities; exported as ire and replayed into
// an empty store, the same graph up to sys_ids.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	fewerChecks(t, 30)
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		dir := func(name string) string {
			d, err := os.MkdirTemp(base, name)
			if err != nil {
				rt.Fatal(err)
			}
			rt.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
		// The import's store is on disk; the others in memory, for speed.
		openIn := func(name string) *engine.Engine {
			path, mem := "", name != "imp"
			if !mem {
				path = dir(name)
			}
			e, err := engine.Open(path, engine.Options{InMemory: mem})
			if err != nil {
				rt.Fatal(err)
			}
			rt.Cleanup(func() { e.Close() })
			return e
		}
		ctx := context.Background()
		src := openIn("src")
		for i, p := range genGraph(rt) {
			res, err := src.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions())
			if err != nil {
				rt.Fatal(err)
			}
			if res.HasError {
				b, _ := json.Marshal(res)
				rt.Fatalf("generated payload %d failed: %s", i, b)
			}
		}
		want := snapshot(rt, src)

		// servicenow → import: the same store, sys_ids and all.
		out := dir("sn")
		if _, err := transfer.Export(ctx, src, transfer.ExportOptions{Format: transfer.FormatServiceNow, Dir: out}); err != nil {
			rt.Fatal(err)
		}
		imp := openIn("imp")
		tsrc, err := tableapi.Open(out, tableapi.Options{})
		if err != nil {
			rt.Fatal(err)
		}
		st, err := transfer.Import(ctx, imp, tsrc, transfer.ImportOptions{})
		if err != nil || st.Skipped > 0 || len(st.Tasks) > 0 {
			rt.Fatalf("import: %v %+v", err, st)
		}
		checkCleanT(rt, imp)
		if diff := cmp.Diff(want, snapshot(rt, imp)); diff != "" {
			rt.Fatalf("servicenow export imported (-want +got):\n%s", diff)
		}

		// ire → replay: the same graph, named by content.
		var buf bytes.Buffer
		if _, err := transfer.Export(ctx, src, transfer.ExportOptions{Format: transfer.FormatIRE, W: &buf}); err != nil {
			rt.Fatal(err)
		}
		rep := openIn("rep")
		sc := bufio.NewScanner(&buf)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			p, err := payload.DecodeBytes(sc.Bytes())
			if err != nil {
				rt.Fatalf("exported payload %s: %v", sc.Bytes(), err)
			}
			res, err := rep.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions())
			if err != nil || res.HasError {
				b, _ := json.Marshal(res)
				rt.Fatalf("replaying %s: %v %s", sc.Bytes(), err, b)
			}
		}
		checkCleanT(rt, rep)
		if diff := cmp.Diff(shape(want), shape(snapshot(rt, rep))); diff != "" {
			rt.Fatalf("ire export replayed (-want +got):\n%s", diff)
		}
	})
}

func checkCleanT(t *rapid.T, e *engine.Engine) {
	problems, err := e.Check(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %q", err, problems)
	}
}

// genGraph makes payloads that build a graph of machines with network
// adapters, IP addresses, applications, serial numbers, installs, native
// keys and relations between machines.
func genGraph(t *rapid.T) []*payload.Payload {
	n := rapid.IntRange(1, 6).Draw(t, "machines")
	var out []*payload.Payload
	machine := func(i int) payload.Item {
		return payload.Item{ClassName: machineClasses[i%len(machineClasses)], Values: map[string]any{"serial_number": fmt.Sprintf("SN%d", i)}}
	}
	for i := 0; i < n; i++ {
		m := machine(i)
		m.ClassName = rapid.SampledFrom(machineClasses).Draw(t, "class")
		m.Values["name"] = rapid.SampledFrom([]string{"localhost", "web", "db"}).Draw(t, "name")
		if rapid.Bool().Draw(t, "ram") {
			m.Values["ram"] = int64(rapid.IntRange(1, 64).Draw(t, "gb") * 1024)
		}
		if rapid.Bool().Draw(t, "native") {
			m.SourceInfo = &payload.SourceInfo{SourceNativeKey: fmt.Sprintf("k%d", i)}
		}
		if rapid.Bool().Draw(t, "serial record") {
			m.Lookup = []payload.Related{{ClassName: "cmdb_serial_number", Values: map[string]any{"serial_number": fmt.Sprintf("SN%d", i), "serial_number_type": "bios"}}}
		}
		for j := range rapid.IntRange(0, 2).Draw(t, "installs") {
			m.Related = append(m.Related, payload.Related{ClassName: "cmdb_sam_sw_install",
				Values: map[string]any{"publisher": "P", "display_name": fmt.Sprintf("sw%d", j), "version": "1"}})
		}
		p := &payload.Payload{Items: []payload.Item{m}}
		if rapid.Bool().Draw(t, "adapter") {
			p.Items = append(p.Items, payload.Item{ClassName: "cmdb_ci_network_adapter", Values: map[string]any{"name": "eth0", "mac_address": fmt.Sprintf("02:00:00:00:00:%02x", i)}})
			p.Relations = append(p.Relations, payload.Relation{Type: "Owns::Owned by", Parent: 0, Child: len(p.Items) - 1})
			if rapid.Bool().Draw(t, "ip") {
				p.Items = append(p.Items, payload.Item{ClassName: "cmdb_ci_ip_address", Values: map[string]any{"ip_address": fmt.Sprintf("10.0.0.%d", i)}})
				p.Relations = append(p.Relations, payload.Relation{Type: "Owns::Owned by", Parent: len(p.Items) - 2, Child: len(p.Items) - 1})
			}
		}
		if rapid.Bool().Draw(t, "app") {
			p.Items = append(p.Items, payload.Item{ClassName: "cmdb_ci_appl", Values: map[string]any{"name": "app", "cl_port": fmt.Sprint(8000 + i)}})
			p.Relations = append(p.Relations, payload.Relation{Type: "Runs on::Runs", Parent: len(p.Items) - 1, Child: 0})
		}
		out = append(out, p)
	}
	// Relations between machines, by their serial numbers.
	links := rapid.SliceOfNDistinct(rapid.IntRange(0, n*n-1), 0, 4, rapid.ID[int]).Draw(t, "links")
	for _, l := range links {
		a, b := l/n, l%n
		if a == b {
			continue
		}
		out = append(out, &payload.Payload{Items: []payload.Item{machine(a), machine(b)},
			Relations: []payload.Relation{{Type: rapid.SampledFrom([]string{"Depends on::Used by", "Connects to::Connected by"}).Draw(t, "type"), Parent: 0, Child: 1}}})
	}
	return out
}

// graph is what a store holds, for comparing stores.
type graph struct {
	Records map[string]rec // by sys_id
	Edges   []string       // sys_id type parent child
	Native  []string       // source name, key → sys_id
}

type rec struct {
	Class, Scope string
	Related      bool
	Values       map[string]string
	Identities   []string
}

func snapshot(t *rapid.T, e *engine.Engine) graph {
	g := graph{Records: map[string]rec{}}
	err := e.Store().View(func(r store.Reader) error {
		err := r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			x, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			vals := map[string]string{}
			for k, v := range x.Values {
				vals[k] = payload.Canonical(v)
			}
			var ids []string
			for _, k := range x.IdentityKeys {
				ids = append(ids, string(k))
			}
			sort.Strings(ids)
			g.Records[x.SysID] = rec{Class: x.Class, Scope: x.Scope, Related: x.Related, Values: vals, Identities: ids}
			return nil
		})
		if err != nil {
			return err
		}
		err = r.Iterate(store.EdgePrefix(), func(_, v []byte) error {
			ed, err := store.DecodeEdge(v)
			g.Edges = append(g.Edges, fmt.Sprintf("%s %s %s %s", ed.SysID, ed.Type, ed.Parent, ed.Child))
			return err
		})
		if err != nil {
			return err
		}
		return r.Iterate(store.NativeKeysPrefix(), func(k, v []byte) error {
			name, key, _ := store.SplitNativeKey(k)
			g.Native = append(g.Native, fmt.Sprintf("%s/%s → %s", name, key, v))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(g.Edges)
	sort.Strings(g.Native)
	return g
}

// shape is a graph without sys_ids: each record named by its class, values
// and the name of the record it lives under.
func shape(g graph) []string {
	var name func(id string) string
	name = func(id string) string {
		r, ok := g.Records[id]
		if !ok {
			return "?" + id
		}
		var vals []string
		for _, k := range slices.Sorted(mapsKeys(r.Values)) {
			v := r.Values[k]
			if v == r.Scope {
				v = "<scope>" // a related record's reference to its CI
			}
			vals = append(vals, k+"="+v)
		}
		s := r.Class + "{" + strings.Join(vals, ",") + "}"
		if r.Scope != "" {
			s = name(r.Scope) + "/" + s
		}
		return s
	}
	var out []string
	for id := range g.Records {
		out = append(out, "record "+name(id))
	}
	for _, e := range g.Edges {
		f := strings.SplitN(e, " ", 2)
		rest := f[1]
		i := strings.LastIndexByte(rest, ' ')
		j := strings.LastIndexByte(rest[:i], ' ')
		out = append(out, fmt.Sprintf("edge %s %s → %s", rest[:j], name(rest[j+1:i]), name(rest[i+1:])))
	}
	for _, n := range g.Native {
		k, id, _ := strings.Cut(n, " → ")
		out = append(out, "native "+k+" "+name(id))
	}
	sort.Strings(out)
	return out
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// fewerChecks makes rapid run n checks unless -rapid.checks was given:
// each check here opens three stores and exports twice.
func fewerChecks(t *testing.T, n int) {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.checks" })
	if given {
		return
	}
	f := flag.Lookup("rapid.checks")
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}
