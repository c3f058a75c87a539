package servicenow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

const (
	// usageClass is the table software usage records live in; the rule set
	// identifies them (the default pack's Software Usage Rule).
	usageClass = "samp_sw_usage"
	// usageSource is the data source usage records are written as.
	usageSource = "SAM"
	// reclamationType is the column that picks the identifying columns.
	reclamationType = "reclamation_type"
)

// usageField is one column of a usage item as sent.
type usageField struct {
	name  string
	value any             // canonical (see package payload)
	raw   json.RawMessage // the JSON the client sent; XML text as a JSON string
	text  string          // the value as XML text
}

// usageItem is one element of items[], its columns in the order sent.
type usageItem []usageField

// add appends f, replacing an earlier column of the same name. Columns
// named like the reply's own fields (sysId, status) are not data and are
// dropped, so a client may send a reply back.
func (it *usageItem) add(path string, f usageField) error {
	if !columnName(f.name) {
		return fmt.Errorf("%s: %q is not a column name (letters, digits, '_', '-', '.'; not starting with a digit)", path, f.name)
	}
	if f.name == "sysId" || f.name == "status" {
		return nil
	}
	if k := it.index(f.name); k >= 0 {
		(*it)[k] = f
		return nil
	}
	*it = append(*it, f)
	return nil
}

func (it usageItem) index(name string) int {
	return slices.IndexFunc(it, func(f usageField) bool { return f.name == name })
}

// value returns the value of column name, nil when absent.
func (it usageItem) value(name string) any {
	if k := it.index(name); k >= 0 {
		return it[k].value
	}
	return nil
}

func (it usageItem) values() map[string]any {
	m := make(map[string]any, len(it))
	for _, f := range it {
		m[f.name] = f.value
	}
	return m
}

func columnName(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// usageReply is one item of the reply: the columns as sent, the record's
// sys_id and INSERT or UPDATE, or ERROR with the reasons.
type usageReply struct {
	item   usageItem
	sysID  string
	status string
	errors []engine.Issue
}

// usage serves POST .../sam_software_usage_integration/createOrUpdate:
// every item becomes a samp_sw_usage payload item, identified by the rules
// (the reclamation type picks the columns), inserted when new and updated
// when found. Items fail alone; the others are stored.
func (h *handler) usage(w http.ResponseWriter, r *http.Request) {
	class, ok := h.e.Rules().Class(usageClass)
	if !ok {
		writeError(w, r, &api.Error{Status: http.StatusMethodNotAllowed, Message: "Software usage is disabled",
			Detail: "the rule set declares no class " + usageClass + "; add it (see `irego rules default`)"})
		return
	}
	body, e := api.ReadBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	var items []usageItem
	var err error
	if isXML(r.Header.Get("Content-Type")) {
		items, err = decodeUsageXML(body)
	} else {
		items, err = api.DecodeRelaxed(body, decodeUsageJSON)
	}
	if err != nil {
		writeError(w, r, badBody(err))
		return
	}
	p := &payload.Payload{Items: make([]payload.Item, len(items))}
	for i, it := range items {
		p.Items[i] = payload.Item{ClassName: usageClass, Values: it.values()}
	}
	res, err := h.e.Apply(r.Context(), usageSource, p, engine.ApplyOptions{PartialCommits: true, DeduplicatePayloads: true})
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	if len(res.Items) != len(items) {
		writeError(w, r, engineError(fmt.Errorf("the engine answered %d items for %d", len(res.Items), len(items))))
		return
	}
	replies, failed := usageReplies(items, res, class.Allowed[reclamationType])
	message := "Ok"
	if failed > 0 {
		message = fmt.Sprintf("%d of %d items were not stored; see their errors", failed, len(items))
	}
	if wantsXML(r.Header.Get("Accept")) {
		writeUsageXML(w, replies, message)
		return
	}
	type reply struct {
		Items []usageReply `json:"items"`
	}
	type result struct {
		Reply   reply  `json:"reply"`
		Message string `json:"message"`
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"result": result{reply{replies}, message}})
}

// usageReplies pairs each item with its result: the record's sys_id and
// INSERT or UPDATE (the API knows no NO_CHANGE), or ERROR and why. It also
// counts the failed items.
func usageReplies(items []usageItem, res *engine.Result, reclamationTypes []string) ([]usageReply, int) {
	replies := make([]usageReply, len(items))
	failed := 0
	for i, ir := range res.Items {
		rep := usageReply{item: items[i], sysID: ir.SysID, status: "UPDATE"}
		switch {
		case ir.ErrorCount > 0:
			rep.status, rep.sysID, rep.errors = "ERROR", "", ir.Errors
			if v := items[i].value(reclamationType); v == nil || v == "" {
				// The engine can only say that no identifier entry
				// applies; the cause is the missing column.
				rep.errors = []engine.Issue{{Code: "REQUIRED_ATTRIBUTE_EMPTY", Message: fmt.Sprintf(
					"item %d: missing mandatory field [%s] in table [%s]; it picks the columns that identify the record, one of: %s",
					i, reclamationType, usageClass, strings.Join(reclamationTypes, ", "))}}
			}
			failed++
		case ir.Operation == "INSERT":
			rep.status = "INSERT"
		}
		replies[i] = rep
	}
	return replies, failed
}

// decodeUsageJSON reads {"items": [{column: value, ...}, ...]}.
func decodeUsageJSON(b []byte) ([]usageItem, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, fmt.Errorf(`the body must be a JSON object {"items": [...]}: %w`, syntaxError(b, err))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(top["items"], &raws); err != nil || top["items"] == nil {
		return nil, errors.New(`the body must be a JSON object {"items": [...]}: items must be an array of objects`)
	}
	items := make([]usageItem, len(raws))
	for i, raw := range raws {
		path := fmt.Sprintf("items[%d]", i)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if t, _ := dec.Token(); t != json.Delim('{') {
			return nil, fmt.Errorf("%s: must be an object of column names and values", path)
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			name, _ := t.(string)
			var raw json.RawMessage
			var v any
			err = dec.Decode(&raw)
			if err == nil {
				vd := json.NewDecoder(bytes.NewReader(raw))
				vd.UseNumber()
				err = vd.Decode(&v)
			}
			value, nerr := payload.Normalize(v)
			if err = errors.Join(err, nerr); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", path, name, err)
			}
			if err := items[i].add(path, usageField{name: name, value: value, raw: raw, text: payload.Canonical(value)}); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// MarshalJSON writes the reply item with its columns in the order sent.
func (rep usageReply) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	key := func(k string) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
	}
	for _, f := range rep.item {
		key(f.name)
		b.Write(f.raw)
	}
	if rep.sysID != "" {
		key("sysId")
		kb, _ := json.Marshal(rep.sysID)
		b.Write(kb)
	}
	key("status")
	sb, _ := json.Marshal(rep.status)
	b.Write(sb)
	if rep.errors != nil {
		key("errors")
		eb, err := json.Marshal(rep.errors)
		if err != nil {
			return nil, err
		}
		b.Write(eb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
