package transfer

import (
	"bufio"
	"encoding/json"
	"io"
	"time"

	"github.com/irego/irego/store"
)

// A JSON lines export holds one object per line: every CI (and related
// record), then every relation.

type ciLine struct {
	Kind    string         `json:"kind"` // "ci"
	SysID   string         `json:"sys_id"`
	Class   string         `json:"class"`
	Values  map[string]any `json:"values"`
	Scope   string         `json:"scope,omitempty"`
	Related bool           `json:"related,omitempty"`
	Source  string         `json:"discovery_source,omitempty"`
	Created time.Time      `json:"sys_created_on"`
	Updated time.Time      `json:"sys_updated_on"`
	Retired bool           `json:"retired,omitempty"`
}

type edgeLine struct {
	Kind    string    `json:"kind"` // "edge"
	SysID   string    `json:"sys_id"`
	Type    string    `json:"type"`
	Parent  string    `json:"parent"`
	Child   string    `json:"child"`
	Source  string    `json:"discovery_source,omitempty"`
	Created time.Time `json:"sys_created_on"`
}

func (x *exporter) jsonl(r store.Reader) error {
	return x.stream("graph.jsonl", func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		enc := json.NewEncoder(bw)
		err := x.records(r, func(rec *store.Record) error {
			x.count(rec)
			return enc.Encode(ciLine{Kind: "ci", SysID: rec.SysID, Class: rec.Class, Values: rec.Values, Scope: rec.Scope,
				Related: rec.Related, Source: rec.Source, Created: rec.Created, Updated: rec.Updated, Retired: rec.Retired})
		})
		if err != nil {
			return err
		}
		err = x.edges(r, func(ed *store.Edge) error {
			x.st.Edges++
			return enc.Encode(edgeLine{Kind: "edge", SysID: ed.SysID, Type: ed.Type, Parent: ed.Parent, Child: ed.Child,
				Source: ed.Source, Created: ed.Created})
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	})
}
