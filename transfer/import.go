package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/tableapi"
)

// ImportOptions tune an import.
type ImportOptions struct {
	// Progress, when not nil, receives a line per table and every Every
	// records.
	Progress io.Writer
	// Every is how many records pass between progress lines and
	// checkpoints; 0 means 10000.
	Every int
	// Now is the clock for rates in progress lines; nil means time.Now.
	Now func() time.Time
}

// ImportStats counts what an import loaded and skipped.
type ImportStats struct {
	CIs, Related, Edges, NativeKeys int
	// Skipped are the records left out, each with a reason in Warnings
	// (the first MaxWarnings of them).
	Skipped  int
	Warnings []string
	// Indexed counts the records given identities; Tasks are the
	// de-duplication tasks opened for CIs that fill a unique identity alike.
	Indexed int
	Tasks   []*engine.DuplicateTask
	// Resumed is set when the import went on from an interrupted one.
	Resumed bool
	// SkippedClasses counts, by class, the CI rows skipped because the
	// rules do not declare their class (or declare it no CI class).
	SkippedClasses map[string]int
	// UnreadTables counts, by table, the rows of an export's tables that
	// are no class of the rules and were not loaded.
	UnreadTables map[string]int
}

// MaxWarnings bounds the warnings an import keeps.
const MaxWarnings = 100

// RelatedTables are the tables of records that hang under a CI, read
// after the CIs; the reference fields that name the CI come from the
// rules (ReferenceField).
var RelatedTables = []string{"cmdb_serial_number", "cmdb_sam_sw_install", "cmdb_software_instance"}

// Import loads the ServiceNow CMDB src holds into e's store: the CI
// tables (cmdb_ci and its subclass tables; from an instance, cmdb_ci
// first and then the table of every class it lists), the relation types
// and relations, the related tables, and the native keys
// (sys_object_source); then it builds the identity index with e's rules.
// An interrupted import, run again with the same source, goes on from its
// last checkpoint. Records that cannot be loaded (a malformed sys_id, an
// unknown class, a relation to a CI the export lacks) are skipped with a
// warning, never half loaded.
func Import(ctx context.Context, e *engine.Engine, src tableapi.Source, o ImportOptions) (*ImportStats, error) {
	if o.Every <= 0 {
		o.Every = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	im := &importer{ctx: ctx, rs: e.Rules(), l: e.Loader(), src: src, o: o, st: &ImportStats{SkippedClasses: map[string]int{}, UnreadTables: map[string]int{}}}
	defer im.l.Discard()
	tables, err := im.ciTables()
	if err != nil {
		return im.st, err
	}
	for _, t := range tables {
		if err := im.table(t, im.ci); err != nil {
			return im.st, err
		}
	}
	types, err := im.relationTypes()
	if err != nil {
		return im.st, err
	}
	if err := im.table(TableRelation, func(row tableapi.Record) error { return im.edge(row, types) }); err != nil {
		return im.st, err
	}
	for _, t := range im.relatedTables(tables) {
		if err := im.table(t, func(row tableapi.Record) error { return im.related(t, row) }); err != nil {
			return im.st, err
		}
	}
	if err := im.table(TableSource, im.native); err != nil {
		return im.st, err
	}
	started := o.Now()
	ist, err := im.l.Index(ctx, func(n int) {
		im.say("identities: %d records indexed%s", n, rate(n, started, o.Now()))
	})
	if ist != nil {
		im.st.Indexed, im.st.Tasks = ist.Records, ist.Tasks
		if ist.Orphans > 0 {
			im.warn("%d related records name no CI of the export; they hold no identity", ist.Orphans)
		}
	}
	if err != nil {
		return im.st, err
	}
	return im.st, im.l.ClearProgress()
}

type importer struct {
	ctx context.Context
	rs  *rules.RuleSet
	l   *engine.Loader
	src tableapi.Source
	o   ImportOptions
	st  *ImportStats
}

// checkpoint is how far the import got in one table.
type checkpoint struct {
	Rows int  `json:"rows"`
	Done bool `json:"done,omitempty"`
	// Classes are the classes an instance's cmdb_ci table listed.
	Classes []string `json:"classes,omitempty"`
}

// ciTables names the CI tables to read: a directory's tables that are
// classes of the rules (less the related ones), cmdb_ci first; from an
// instance, cmdb_ci and then the classes its records name.
func (im *importer) ciTables() ([]string, error) {
	listed, err := im.src.Tables()
	if err != nil {
		return nil, err
	}
	if listed != nil {
		var out []string
		for _, t := range listed {
			switch {
			case t == TableRelation || t == TableRelationType || t == TableSource || slices.Contains(RelatedTables, t):
			case !im.isClass(t):
				n, err := im.count(t)
				if err != nil {
					return nil, err
				}
				im.st.UnreadTables[t] = n
				im.warn("table %s: not a class of the rules; its %d rows are not loaded", t, n)
			case t == "cmdb_ci":
				out = append([]string{t}, out...)
			default:
				out = append(out, t)
			}
		}
		return out, nil
	}
	// An instance: cmdb_ci lists every CI with its class; each class's
	// own table holds its attributes.
	var cp checkpoint
	if _, err := im.l.Progress("classes", &cp); err != nil {
		return nil, err
	}
	if !cp.Done {
		seen := map[string]bool{}
		err := im.src.Each(im.ctx, "cmdb_ci", 0, func(row tableapi.Record) error {
			if c := row["sys_class_name"]; c != "" && c != "cmdb_ci" {
				seen[c] = true
			}
			return im.ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("transfer: reading cmdb_ci from %s: %w", im.src, err)
		}
		cp = checkpoint{Done: true, Classes: sortedKeys(seen)}
		if err := im.l.SetProgress("classes", cp); err != nil {
			return nil, err
		}
	}
	out := []string{"cmdb_ci"}
	for _, c := range cp.Classes {
		if im.isClass(c) && !slices.Contains(RelatedTables, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// count counts the rows of a table that is not loaded.
func (im *importer) count(table string) (int, error) {
	n := 0
	err := im.src.Each(im.ctx, table, 0, func(tableapi.Record) error {
		n++
		return im.ctx.Err()
	})
	if err != nil {
		return n, fmt.Errorf("transfer: table %s: %w", table, err)
	}
	return n, nil
}

// relatedTables are RelatedTables plus the tables of the rules' related
// classes that a directory holds.
func (im *importer) relatedTables(ciTables []string) []string {
	out := slices.Clone(RelatedTables)
	listed, _ := im.src.Tables()
	for _, t := range listed {
		if !slices.Contains(out, t) && !slices.Contains(ciTables, t) && im.isRelatedClass(t) {
			out = append(out, t)
		}
	}
	return out
}

func (im *importer) isClass(name string) bool {
	_, ok := im.rs.Class(name)
	return ok && !im.isRelatedClass(name)
}

// isRelatedClass says whether the rules only ever hold name's records
// under a CI: a related entry's class that is no CI class.
func (im *importer) isRelatedClass(name string) bool {
	c, ok := im.rs.Class(name)
	if !ok || c.IsA("cmdb_ci") {
		return false
	}
	for _, r := range im.rs.Rules() {
		for _, re := range r.Related {
			if c.IsA(re.Class) {
				return true
			}
		}
	}
	return false
}

// table streams one table into load from its checkpoint on, checkpointing
// every o.Every records; a table the source lacks is skipped.
func (im *importer) table(name string, load func(tableapi.Record) error) error {
	var cp checkpoint
	found, err := im.l.Progress("table/"+name, &cp)
	if err != nil {
		return err
	}
	if cp.Done {
		im.say("%s: loaded before", name)
		return nil
	}
	if found {
		im.st.Resumed = true
		im.say("%s: resuming after %d records", name, cp.Rows)
	}
	started, n := im.o.Now(), 0
	err = im.src.Each(im.ctx, name, cp.Rows, func(row tableapi.Record) error {
		if err := im.ctx.Err(); err != nil {
			return err
		}
		if err := load(row); err != nil {
			return err
		}
		n++
		if n%im.o.Every == 0 {
			im.say("%s: %d records%s", name, cp.Rows+n, rate(n, started, im.o.Now()))
			if err := im.l.SetProgress("table/"+name, checkpoint{Rows: cp.Rows + n}); err != nil {
				return err
			}
			return im.l.Flush() // the checkpoint, with every record before it
		}
		return nil
	})
	absent := errors.Is(err, tableapi.ErrNoTable)
	if err != nil && !absent {
		return fmt.Errorf("transfer: table %s: %w", name, err)
	}
	if err := im.l.SetProgress("table/"+name, checkpoint{Rows: cp.Rows + n, Done: true}); err != nil {
		return err
	}
	if err := im.l.Flush(); err != nil {
		return err
	}
	if absent {
		im.say("%s: not in the export", name)
	} else {
		im.say("%s: %d records%s", name, cp.Rows+n, rate(n, started, im.o.Now()))
	}
	return nil
}

// ci loads a row of a CI table.
func (im *importer) ci(row tableapi.Record) error {
	rec, why := im.record(row, "")
	if why != "" {
		return im.skip("%s", why)
	}
	if _, ok := im.rs.Class(rec.Class); !ok || im.isRelatedClass(rec.Class) {
		im.st.SkippedClasses[rec.Class]++
		return im.skip("CI %s: class %s is not a CI class of the rules", rec.SysID, rec.Class)
	}
	im.st.CIs++
	return im.l.PutCI(rec)
}

// related loads a row of a related table under the CI its reference field
// names.
func (im *importer) related(table string, row tableapi.Record) error {
	rec, why := im.record(row, table)
	if why != "" {
		return im.skip("%s", why)
	}
	for _, f := range im.referenceFields(rec.Class) {
		main := strings.ToLower(row[f])
		if main == "" {
			continue
		}
		err := im.l.PutRelated(rec, main)
		if errors.Is(err, engine.ErrNoCI) {
			continue
		}
		if err == nil {
			im.st.Related++
		}
		return err
	}
	return im.skip("%s %s: no reference field (%s) names a CI of the export", table, rec.SysID, strings.Join(im.referenceFields(rec.Class), ", "))
}

// referenceFields are the fields by which the rules' related entries for
// class name their CI, then cmdb_ci.
func (im *importer) referenceFields(class string) []string {
	var out []string
	c, ok := im.rs.Class(class)
	for _, r := range im.rs.Rules() {
		for _, re := range r.Related {
			if ok && c.IsA(re.Class) && re.ReferencedField != "" && !slices.Contains(out, re.ReferencedField) {
				out = append(out, re.ReferencedField)
			}
		}
	}
	if !slices.Contains(out, "cmdb_ci") {
		out = append(out, "cmdb_ci")
	}
	return out
}

// relationTypes reads cmdb_rel_type: sys_id → name.
func (im *importer) relationTypes() (map[string]string, error) {
	out := map[string]string{}
	err := im.src.Each(im.ctx, TableRelationType, 0, func(row tableapi.Record) error {
		if row["sys_id"] != "" && row["name"] != "" {
			out[row["sys_id"]] = row["name"]
		}
		return nil
	})
	if errors.Is(err, tableapi.ErrNoTable) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("transfer: table %s: %w", TableRelationType, err)
	}
	return out, nil
}

// edge loads a row of cmdb_rel_ci.
func (im *importer) edge(row tableapi.Record, types map[string]string) error {
	id := strings.ToLower(row["sys_id"])
	if !isSysID(id) {
		return im.skip("%s: sys_id %q is not 32 hexadecimal characters", TableRelation, row["sys_id"])
	}
	name := types[row["type"]]
	if name == "" && strings.Contains(row["type"], "::") {
		name = row["type"] // the type given by name
	}
	if name == "" {
		return im.skip("%s %s: type %q is not in %s", TableRelation, id, row["type"], TableRelationType)
	}
	ed := &store.Edge{SysID: id, Type: name, Parent: strings.ToLower(row["parent"]), Child: strings.ToLower(row["child"]),
		Source: row["discovery_source"], Created: parseTime(row["sys_created_on"])}
	err := im.l.PutEdge(ed)
	if errors.Is(err, engine.ErrNoCI) {
		return im.skip("%s %s (%s): %v", TableRelation, id, name, err)
	}
	if err == nil {
		im.st.Edges++
	}
	return err
}

// native loads a row of sys_object_source: a source's key for a CI.
func (im *importer) native(row tableapi.Record) error {
	target := strings.ToLower(row["target_sys_id"])
	name, key := row["name"], row["id"]
	if name == "" || key == "" {
		return im.skip("%s %s: no name or id", TableSource, row["sys_id"])
	}
	if len(name) > store.MaxKeyText || len(key) > store.MaxKeyText {
		return im.skip("%s %s: name or id longer than %d bytes", TableSource, row["sys_id"], store.MaxKeyText)
	}
	source := row["discovery_source"]
	if source == "" {
		source = name
	}
	err := im.l.PutNativeKey(target, store.SourceInfo{Source: source, Name: name, NativeKey: key, LastScan: parseTime(row["last_scan"])})
	if errors.Is(err, engine.ErrNoCI) {
		return im.skip("%s %s: target_sys_id %q names no CI of the export", TableSource, row["sys_id"], row["target_sys_id"])
	}
	if err == nil {
		im.st.NativeKeys++
	}
	return err
}

// record makes a store record of a row: sys_id, class (sys_class_name, else
// the table's), the times and discovery source, and every other non-empty
// field as a text value. why says why the row cannot be loaded.
func (im *importer) record(row tableapi.Record, table string) (*store.Record, string) {
	id := strings.ToLower(row["sys_id"])
	if !isSysID(id) {
		return nil, fmt.Sprintf("record with sys_id %q: not 32 hexadecimal characters", row["sys_id"])
	}
	class := row["sys_class_name"]
	if class == "" {
		class = table
	}
	if class == "" {
		return nil, fmt.Sprintf("record %s: no sys_class_name", id)
	}
	rec := &store.Record{SysID: id, Class: class, Values: map[string]any{}, Source: row["discovery_source"],
		Created: parseTime(row["sys_created_on"]), Updated: parseTime(row["sys_updated_on"]),
		FirstDiscovered: parseTime(row["first_discovered"]), LastDiscovered: parseTime(row["last_discovered"])}
	for k, v := range row {
		if isSystemField(k) || strings.TrimSpace(v) == "" {
			continue
		}
		rec.Values[k] = v
	}
	if rec.Updated.IsZero() {
		rec.Updated = rec.Created
	}
	return rec, ""
}

func (im *importer) skip(format string, args ...any) error {
	im.st.Skipped++
	im.warn(format, args...)
	return nil
}

func (im *importer) warn(format string, args ...any) {
	if len(im.st.Warnings) < MaxWarnings {
		im.st.Warnings = append(im.st.Warnings, fmt.Sprintf(format, args...))
	}
}

func (im *importer) say(format string, args ...any) {
	if im.o.Progress != nil {
		fmt.Fprintf(im.o.Progress, format+"\n", args...)
	}
}

func rate(n int, from, to time.Time) string {
	d := to.Sub(from).Seconds()
	if n == 0 || d <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%.0f/s)", float64(n)/d)
}

func isSysID(s string) bool {
	if len(s) != store.SysIDLen {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseTime reads a Table API date-time (UTC); zero when blank or not one.
func parseTime(s string) time.Time {
	for _, layout := range []string{TimeLayout, time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}
