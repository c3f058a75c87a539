package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// The export formats.
const (
	FormatServiceNow = "servicenow"
	FormatIRE        = "ire"
	FormatCSV        = "csv"
	FormatGraphML    = "graphml"
	FormatJSONL      = "jsonl"
)

// Formats lists the export formats.
var Formats = []string{FormatServiceNow, FormatIRE, FormatCSV, FormatGraphML, FormatJSONL}

// ExportOptions say what to export and where.
type ExportOptions struct {
	Format string
	// Class, when set, keeps only CIs of that class and its subclasses
	// (and the related records under them).
	Class string
	// Since, when not zero, keeps only CIs updated at or after it.
	Since time.Time
	// Dir is the directory the files go to; when empty, a single-stream
	// format (ire, graphml, jsonl) is written to W.
	Dir string
	W   io.Writer
}

// ExportStats counts what an export wrote.
type ExportStats struct {
	CIs, Related, Edges, NativeKeys int
	// Files are the files written, by name (none when written to W).
	Files []string
}

// ErrFormat: the format is not one of Formats, or needs a directory.
var ErrFormat = errors.New("transfer: bad export format")

// Export writes the store of e in o.Format. Everything is read from one
// consistent view of the store.
func Export(ctx context.Context, e *engine.Engine, o ExportOptions) (*ExportStats, error) {
	if o.Class != "" {
		if _, ok := e.Rules().Class(o.Class); !ok {
			return nil, fmt.Errorf("transfer: --class %s: %w", o.Class, engine.ErrUnknownClass)
		}
	}
	if o.Dir == "" && o.W == nil {
		return nil, fmt.Errorf("%w: no directory and no writer", ErrFormat)
	}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("transfer: %w", err)
		}
	}
	x := &exporter{ctx: ctx, rs: e.Rules(), o: o, st: &ExportStats{}}
	var run func(store.Reader) error
	switch o.Format {
	case FormatServiceNow:
		run = x.servicenow
	case FormatCSV:
		run = x.csv
	case FormatIRE:
		run = x.ire
	case FormatGraphML:
		run = x.graphml
	case FormatJSONL:
		run = x.jsonl
	default:
		return nil, fmt.Errorf("%w %q: want one of %v", ErrFormat, o.Format, Formats)
	}
	if o.Dir == "" && (o.Format == FormatServiceNow || o.Format == FormatCSV) {
		return nil, fmt.Errorf("%w: %s writes one file per table: give a directory", ErrFormat, o.Format)
	}
	err := e.Store().View(run)
	return x.st, err
}

type exporter struct {
	ctx context.Context
	rs  *rules.RuleSet
	o   ExportOptions
	st  *ExportStats
}

// keep says whether rec is exported: its class (a related record's main
// CI's class) is o.Class or below it, and it changed at or after o.Since.
func (x *exporter) keep(r store.Reader, rec *store.Record) (bool, error) {
	if !x.o.Since.IsZero() && rec.Updated.Before(x.o.Since) {
		return false, nil
	}
	if x.o.Class == "" {
		return true, nil
	}
	cls := rec.Class
	if rec.Related {
		main, err := store.ReadRecord(r, rec.Scope)
		if err != nil || main == nil {
			return false, err
		}
		cls = main.Class
	}
	if c, ok := x.rs.Class(cls); ok {
		return c.IsA(x.o.Class), nil
	}
	return cls == x.o.Class, nil
}

// records calls fn for every exported record, in sys_id order.
func (x *exporter) records(r store.Reader, fn func(*store.Record) error) error {
	return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		rec, err := store.DecodeRecord(v)
		if err != nil {
			return err
		}
		if ok, err := x.keep(r, rec); err != nil || !ok {
			return err
		}
		return fn(rec)
	})
}

// edges calls fn for every edge whose two ends are exported.
func (x *exporter) edges(r store.Reader, fn func(*store.Edge) error) error {
	return r.Iterate(store.EdgePrefix(), func(_, v []byte) error {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		ed, err := store.DecodeEdge(v)
		if err != nil {
			return err
		}
		for _, end := range []string{ed.Parent, ed.Child} {
			rec, err := store.ReadRecord(r, end)
			if err != nil {
				return err
			}
			if rec == nil {
				return nil
			}
			if ok, err := x.keep(r, rec); err != nil || !ok {
				return err
			}
		}
		return fn(ed)
	})
}

// sources calls fn for every native key of an exported CI: the index of
// native keys names them (a source's later report without its key leaves
// the key in force); the time comes from what that source last said.
func (x *exporter) sources(r store.Reader, fn func(sysID, class string, si *store.SourceInfo) error) error {
	return r.Iterate(store.NativeKeysPrefix(), func(k, v []byte) error {
		name, key, ok := store.SplitNativeKey(k)
		if !ok {
			return nil
		}
		rec, err := store.ReadRecord(r, string(v))
		if err != nil || rec == nil {
			return err
		}
		if ok, err := x.keep(r, rec); err != nil || !ok {
			return err
		}
		si := &store.SourceInfo{Source: name, Name: name, NativeKey: key}
		b, err := r.Get(store.SourceKey(rec.SysID, name))
		if err == nil {
			if said, err := store.DecodeSourceInfo(b); err == nil {
				si.LastScan = said.LastScan
				if said.Name == name {
					si.Source = said.Source
				}
			}
		}
		return fn(rec.SysID, rec.Class, si)
	})
}

// create opens a file of the export directory.
func (x *exporter) create(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(x.o.Dir, name))
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	x.st.Files = append(x.st.Files, name)
	return f, nil
}

// stream runs write on the single output of a one-stream format: file name
// in the directory, or the writer.
func (x *exporter) stream(name string, write func(io.Writer) error) error {
	if x.o.Dir == "" {
		return write(x.o.W)
	}
	f, err := x.create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (x *exporter) count(rec *store.Record) {
	if rec.Related {
		x.st.Related++
	} else {
		x.st.CIs++
	}
}
