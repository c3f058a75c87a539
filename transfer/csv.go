package transfer

import (
	"bufio"
	"encoding/csv"
	"os"

	"github.com/irego/irego/store"
)

// csv writes one file per class, <class>.csv, with the columns of the
// Table API export: a first pass finds each class's columns (bounded by
// the class model, not by the CIs), a second writes the rows.
func (x *exporter) csv(r store.Reader) error {
	fixed := 4 // sys_id, sys_class_name, sys_created_on, sys_updated_on
	cols := map[string]map[string]bool{}
	err := x.records(r, func(rec *store.Record) error {
		fields, err := recordRow(r, x.rs, rec)
		if err != nil {
			return err
		}
		set := cols[rec.Class]
		if set == nil {
			set = map[string]bool{}
			cols[rec.Class] = set
		}
		for _, f := range fields[fixed:] {
			set[f.name] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	type out struct {
		f      *os.File
		b      *bufio.Writer
		w      *csv.Writer
		header []string
		at     map[string]int
	}
	files := map[string]*out{}
	defer func() {
		for _, o := range files {
			o.f.Close()
		}
	}()
	err = x.records(r, func(rec *store.Record) error {
		x.count(rec)
		o := files[rec.Class]
		if o == nil {
			f, err := x.create(rec.Class + ".csv")
			if err != nil {
				return err
			}
			o = &out{f: f, b: bufio.NewWriterSize(f, 64<<10), header: []string{"sys_id", "sys_class_name", "sys_created_on", "sys_updated_on"}}
			o.header = append(o.header, sortedKeys(cols[rec.Class])...)
			o.at = map[string]int{}
			for i, h := range o.header {
				o.at[h] = i
			}
			o.w = csv.NewWriter(o.b)
			files[rec.Class] = o
			if err := o.w.Write(o.header); err != nil {
				return err
			}
		}
		fields, err := recordRow(r, x.rs, rec)
		if err != nil {
			return err
		}
		row := make([]string, len(o.header))
		for _, f := range fields {
			row[o.at[f.name]] = f.value
		}
		return o.w.Write(row)
	})
	if err != nil {
		return err
	}
	for _, o := range files {
		o.w.Flush()
		if err := o.w.Error(); err != nil {
			return err
		}
		if err := o.b.Flush(); err != nil {
			return err
		}
		if err := o.f.Close(); err != nil {
			return err
		}
	}
	files = nil
	return nil
}
