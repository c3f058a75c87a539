package transfer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"time"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// The ServiceNow tables an export writes and an import reads besides the
// CI class tables.
const (
	TableRelation     = "cmdb_rel_ci"
	TableRelationType = "cmdb_rel_type"
	TableSource       = "sys_object_source"
)

// TimeLayout is how the Table API writes date-times (in UTC).
const TimeLayout = "2006-01-02 15:04:05"

// field is one column of a row; rows keep their fields in order so that an
// export is the same bytes every time.
type field struct{ name, value string }

// tableFile is one table's page being written: {"result":[row,...]}.
type tableFile struct {
	f *os.File
	w *bufio.Writer
	n int
}

func (t *tableFile) row(fields []field) error {
	if t.n > 0 {
		t.w.WriteString(",\n")
	}
	t.n++
	t.w.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			t.w.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		v, _ := json.Marshal(f.value)
		t.w.Write(k)
		t.w.WriteByte(':')
		t.w.Write(v)
	}
	_, err := t.w.WriteString("}")
	return err
}

func (t *tableFile) close() error {
	t.w.WriteString("\n]}\n")
	if err := t.w.Flush(); err != nil {
		t.f.Close()
		return err
	}
	return t.f.Close()
}

// tables writes one file per table, opening each on its first row.
type tables struct {
	x     *exporter
	files map[string]*tableFile
}

func (ts *tables) row(table string, fields []field) error {
	t := ts.files[table]
	if t == nil {
		f, err := ts.x.create(table + ".json")
		if err != nil {
			return err
		}
		t = &tableFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		t.w.WriteString("{\"result\":[\n")
		ts.files[table] = t
	}
	return t.row(fields)
}

func (ts *tables) close() error {
	var first error
	for _, t := range ts.files {
		if err := t.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// servicenow writes the Table API export: a file per class table, the
// relations with their types, and the native keys.
func (x *exporter) servicenow(r store.Reader) error {
	ts := &tables{x: x, files: map[string]*tableFile{}}
	err := x.servicenowRows(r, ts)
	if cerr := ts.close(); err == nil {
		err = cerr
	}
	return err
}

func (x *exporter) servicenowRows(r store.Reader, ts *tables) error {
	err := x.records(r, func(rec *store.Record) error {
		x.count(rec)
		fields, err := recordRow(r, x.rs, rec)
		if err != nil {
			return err
		}
		return ts.row(rec.Class, fields)
	})
	if err != nil {
		return err
	}
	types := map[string]bool{}
	var order []string
	err = x.edges(r, func(ed *store.Edge) error {
		x.st.Edges++
		if !types[ed.Type] {
			types[ed.Type] = true
			order = append(order, ed.Type)
		}
		return ts.row(TableRelation, []field{{"sys_id", ed.SysID}, {"parent", ed.Parent}, {"child", ed.Child},
			{"type", RelationTypeID(ed.Type)}, {"sys_created_on", snTime(ed.Created)}, {"discovery_source", ed.Source}})
	})
	if err != nil {
		return err
	}
	for _, name := range order {
		p, c, _ := rules.SplitRelationType(name)
		if err := ts.row(TableRelationType, []field{{"sys_id", RelationTypeID(name)}, {"name", name},
			{"parent_descriptor", p}, {"child_descriptor", c}}); err != nil {
			return err
		}
	}
	return x.sources(r, func(sysID, class string, si *store.SourceInfo) error {
		x.st.NativeKeys++
		return ts.row(TableSource, []field{{"sys_id", RelationTypeID(sysID + "/" + si.Source)}, {"name", nativeName(si)},
			{"id", si.NativeKey}, {"target_sys_id", sysID}, {"target_table", class}, {"last_scan", snTime(si.LastScan)},
			{"discovery_source", si.Source}})
	})
}

// recordRow is a record as the Table API returns it: sys_id, class, the
// system fields, then the attributes by name; a related record also names
// the CI it belongs to in the field its rule references it by.
func recordRow(r store.Reader, rs *rules.RuleSet, rec *store.Record) ([]field, error) {
	fields := []field{{"sys_id", rec.SysID}, {"sys_class_name", rec.Class},
		{"sys_created_on", snTime(rec.Created)}, {"sys_updated_on", snTime(rec.Updated)}}
	if rec.Source != "" {
		fields = append(fields, field{"discovery_source", rec.Source})
	}
	if !rec.FirstDiscovered.IsZero() {
		fields = append(fields, field{"first_discovered", snTime(rec.FirstDiscovered)})
	}
	if !rec.LastDiscovered.IsZero() {
		fields = append(fields, field{"last_discovered", snTime(rec.LastDiscovered)})
	}
	if rec.Related {
		main, err := store.ReadRecord(r, rec.Scope)
		if err != nil {
			return nil, err
		}
		ref := "cmdb_ci"
		if main != nil {
			ref = ReferenceField(rs, main.Class, rec.Class)
		}
		if _, ok := rec.Values[ref]; !ok {
			fields = append(fields, field{ref, rec.Scope})
		}
	}
	for _, k := range sortedKeys(rec.Values) {
		if isSystemField(k) {
			continue
		}
		fields = append(fields, field{k, payload.Canonical(rec.Values[k])})
	}
	return fields, nil
}

// ReferenceField is the field by which a related record of class rel
// names its CI of class main: the referenced field of main's rule's related
// (or lookup) entry for rel; "cmdb_ci" when the rules name none.
func ReferenceField(rs *rules.RuleSet, main, rel string) string {
	mc, ok := rs.Class(main)
	rc, rok := rs.Class(rel)
	if ok && rok && mc.Rule != nil {
		for _, re := range mc.Rule.Related {
			if rc.IsA(re.Class) && re.ReferencedField != "" {
				return re.ReferencedField
			}
		}
	}
	return "cmdb_ci"
}

// systemFields are the fields a row's record holds outside its values.
var systemFields = map[string]bool{"sys_id": true, "sys_class_name": true, "sys_created_on": true, "sys_updated_on": true,
	"discovery_source": true, "first_discovered": true, "last_discovered": true}

func isSystemField(name string) bool { return systemFields[name] }

// RelationTypeID is the sys_id an export gives a relation type (and other
// rows irego keeps no sys_id of): derived from its name, so every export of
// one store names it alike.
func RelationTypeID(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:16])
}

func nativeName(si *store.SourceInfo) string {
	if si.Name != "" {
		return si.Name
	}
	return si.Source
}

func snTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}
