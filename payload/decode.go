package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/irego/irego/internal/jsontree"
)

// MaxItems is the largest number of top-level items Decode accepts.
const MaxItems = 100000

// Error is the error Decode returns for input it cannot accept. A syntax
// error carries the 1-based Line and Column where the input broke (columns
// count characters, not bytes); a structural error carries the Path of the
// offending element, e.g. "items[2].values.cpu_count".
type Error struct {
	Line, Column int    // set for syntax errors, 0 otherwise
	Path         string // set for structural errors; may be empty for whole-payload faults
	Msg          string
	eof          bool
}

// Error names the position in the payload and the reason.
func (e *Error) Error() string {
	switch {
	case e.eof:
		return fmt.Sprintf("payload: unexpected end of input at line %d, column %d", e.Line, e.Column)
	case e.Line > 0:
		return fmt.Sprintf("payload: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	case e.Path != "":
		return "payload: " + e.Path + ": " + e.Msg
	default:
		return "payload: " + e.Msg
	}
}

func errAt(path, format string, args ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Decode reads one IRE input payload, {"items": [...], "relations": [...]},
// from r. See DecodeBytes.
func Decode(r io.Reader) (*Payload, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("payload: reading input: %w", err)
	}
	return DecodeBytes(b)
}

// DecodeBytes decodes one IRE input payload. Every value in the result is
// canonical (see Normalize); relations in internal-id form are resolved to
// item indexes. Errors are of type *Error. The result shares no memory with
// b and belongs to the caller.
func DecodeBytes(b []byte) (*Payload, error) {
	tree, err := parse(b)
	if err != nil {
		return nil, err
	}
	top, ok := tree.(map[string]any)
	if !ok {
		return nil, errAt("", "the payload must be a JSON object, got %s", kindOf(tree))
	}
	return build(top)
}

// parse reads exactly one JSON value from b, with numbers kept as
// json.Number, and turns syntax errors into *Error with a position.
func parse(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errAt("", "empty input (expected a JSON object)")
	}
	if tree, ok := jsontree.Parse(b); ok {
		return tree, nil // the tree the decoder below builds, in one pass
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return nil, syntaxErr(b, len(b), "", true)
		case errors.As(err, &se):
			if strings.Contains(se.Error(), "unexpected end") {
				return nil, syntaxErr(b, len(b), "", true)
			}
			return nil, syntaxErr(b, int(se.Offset)-1, se.Error(), false)
		case errors.As(err, &te):
			return nil, syntaxErr(b, int(te.Offset)-1, te.Error(), false)
		default:
			return nil, errAt("", "%v", err)
		}
	}
	// Only whitespace may follow the top-level value.
	off := int(dec.InputOffset())
	for off < len(b) {
		switch b[off] {
		case ' ', '\t', '\r', '\n':
			off++
			continue
		}
		r, _ := utf8.DecodeRune(b[off:])
		return nil, syntaxErr(b, off, fmt.Sprintf("invalid character %s after top-level value", quoteChar(r)), false)
	}
	return tree, nil
}

func quoteChar(r rune) string {
	if r == '\'' {
		return `'\''`
	}
	if r == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(r))
	return "'" + s[1:len(s)-1] + "'"
}

// syntaxErr builds a positioned error for byte offset off of b.
func syntaxErr(b []byte, off int, msg string, eof bool) error {
	line, col := position(b, off)
	return &Error{Line: line, Column: col, Msg: msg, eof: eof}
}

// position turns a byte offset into a 1-based line and column; columns
// count UTF-8 characters.
func position(b []byte, off int) (line, col int) {
	off = max(0, min(off, len(b)))
	line = 1 + bytes.Count(b[:off], []byte{'\n'})
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(b[start:off])
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// fieldPath appends an object key to a path, quoting keys that are not
// plain identifiers.
func fieldPath(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// unknownFields records the keys of obj not in allowed as ignored, in
// sorted order so the list is deterministic. Unknown fields never fail a
// payload: a newer client may send fields this version does not read.
func (d *decoder) unknownFields(obj map[string]any, path string, allowed ...string) {
	var unknown []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		if path == "" {
			d.ignored = append(d.ignored, k)
		} else {
			d.ignored = append(d.ignored, fieldPath(path, k))
		}
	}
}

var (
	topFields = []string{"items", "relations", "referenceItems"}
	// The item fields ServiceNow documents; settings and the class*
	// reclassification flags are read by the payload's settings.
	itemFields     = []string{"className", "values", "related", "internal_id", "sys_object_source_info", "lookup", "settings", "display_values", "classUpgrade", "classDowngrade", "classSwitch"}
	relatedFields  = []string{"className", "values", "internal_id", "sys_object_source_info"}
	relationFields = []string{"type", "parent", "child", "parent_id", "child_id", "sys_rel_source_info"}
	sourceFields   = []string{"source_name", "source_native_key", "source_feed", "source_recency_timestamp"}
	referenceField = []string{"referenced", "referencedBy", "referenceField"}
)

// idRef records where an internal_id was declared.
type idRef struct {
	path string
	item int     // top-level item index
	sub  *SubRef // set when declared on a lookup or related record
}

// decoder holds the state of one DecodeBytes call.
type decoder struct {
	ids     map[string]idRef
	ignored []string
}

func build(top map[string]any) (*Payload, error) {
	d := &decoder{ids: map[string]idRef{}}
	d.unknownFields(top, "", topFields...)
	rawItems, ok := top["items"]
	if !ok || rawItems == nil {
		return nil, errAt("", "items is required")
	}
	arr, ok := rawItems.([]any)
	if !ok {
		return nil, errAt("items", "must be an array, got %s", kindOf(rawItems))
	}
	if len(arr) > MaxItems {
		return nil, errAt("items", "%d items exceeds the limit of %d", len(arr), MaxItems)
	}
	p := &Payload{Items: make([]Item, len(arr))}
	for i, raw := range arr {
		if err := d.buildItem(&p.Items[i], raw, i); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["relations"]; ok && raw != nil {
		rels, ok := raw.([]any)
		if !ok {
			return nil, errAt("relations", "must be an array, got %s", kindOf(raw))
		}
		if len(rels) > 0 {
			p.Relations = make([]Relation, len(rels))
		}
		for i, r := range rels {
			if err := d.buildRelation(&p.Relations[i], r, i, len(p.Items)); err != nil {
				return nil, err
			}
		}
	}
	if raw, ok := top["referenceItems"]; ok && raw != nil {
		refs, ok := raw.([]any)
		if !ok {
			return nil, errAt("referenceItems", "must be an array, got %s", kindOf(raw))
		}
		for i, r := range refs {
			ref, err := d.buildReference(r, fmt.Sprintf("referenceItems[%d]", i))
			if err != nil {
				return nil, err
			}
			p.References = append(p.References, ref)
		}
	}
	p.Ignored = d.ignored
	return p, nil
}

func (d *decoder) buildItem(it *Item, raw any, i int) error {
	path := fmt.Sprintf("items[%d]", i)
	obj, ok := raw.(map[string]any)
	if !ok {
		return errAt(path, "must be an object, got %s", kindOf(raw))
	}
	d.unknownFields(obj, path, itemFields...)
	var err error
	if it.ClassName, err = className(obj, path); err != nil {
		return err
	}
	if it.Values, err = values(obj["values"], path+".values"); err != nil {
		return err
	}
	if it.InternalID, err = d.internalID(obj, path, idRef{path: path, item: i}); err != nil {
		return err
	}
	if it.SourceInfo, err = d.sourceInfo(obj["sys_object_source_info"], path+".sys_object_source_info"); err != nil {
		return err
	}
	if raw, ok := obj["display_values"]; ok && raw != nil {
		if it.DisplayValues, err = values(raw, path+".display_values"); err != nil {
			return err
		}
		if len(it.DisplayValues) == 0 {
			it.DisplayValues = nil
		}
	}
	if err := reclassFlags(it, obj, path); err != nil {
		return err
	}
	if it.Lookup, err = d.records(obj, path, "lookup", i); err != nil {
		return err
	}
	it.Related, err = d.records(obj, path, "related", i)
	return err
}

// records reads items[i].lookup or items[i].related.
func (d *decoder) records(obj map[string]any, path, field string, i int) ([]Related, error) {
	raw, ok := obj[field]
	if !ok || raw == nil {
		return nil, nil
	}
	a, ok := raw.([]any)
	if !ok {
		return nil, errAt(path+"."+field, "must be an array, got %s", kindOf(raw))
	}
	if len(a) == 0 {
		return nil, nil
	}
	out := make([]Related, len(a))
	for j, r := range a {
		sub := &SubRef{Lookup: field == "lookup", Index: j}
		if err := d.buildRelated(&out[j], r, fmt.Sprintf("%s.%s[%d]", path, field, j), i, sub); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d *decoder) buildRelated(rel *Related, raw any, path string, item int, sub *SubRef) error {
	obj, ok := raw.(map[string]any)
	if !ok {
		return errAt(path, "must be an object, got %s", kindOf(raw))
	}
	d.unknownFields(obj, path, relatedFields...)
	var err error
	if rel.ClassName, err = className(obj, path); err != nil {
		return err
	}
	if rel.Values, err = values(obj["values"], path+".values"); err != nil {
		return err
	}
	if rel.InternalID, err = d.internalID(obj, path, idRef{path: path, item: item, sub: sub}); err != nil {
		return err
	}
	if rel.SourceInfo, err = d.sourceInfo(obj["sys_object_source_info"], path+".sys_object_source_info"); err != nil {
		return err
	}
	return nil
}

func className(obj map[string]any, path string) (string, error) {
	raw := obj["className"]
	if raw == nil {
		return "", errAt(path, "className is required")
	}
	s, ok := raw.(string)
	if !ok {
		return "", errAt(path+".className", "must be a string")
	}
	if s == "" {
		return "", errAt(path, "className is required")
	}
	return s, nil
}

func values(raw any, path string) (map[string]any, error) {
	if raw == nil {
		return map[string]any{}, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errAt(path, "must be an object, got %s", kindOf(raw))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(obj))
	for _, k := range keys {
		if k == "" {
			return nil, errAt(path, "attribute names must be non-empty")
		}
		v, err := Normalize(obj[k])
		if err != nil {
			return nil, errAt(fieldPath(path, k), "%v", err)
		}
		out[k] = v
	}
	return out, nil
}

func (d *decoder) internalID(obj map[string]any, path string, ref idRef) (string, error) {
	raw := obj["internal_id"]
	if raw == nil {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", errAt(path+".internal_id", "must be a string, got %s", kindOf(raw))
	}
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	if prev, dup := d.ids[s]; dup {
		return "", errAt(path+".internal_id", "duplicate internal_id %q (also on %s)", s, prev.path)
	}
	d.ids[s] = ref
	return s, nil
}

func (d *decoder) sourceInfo(raw any, path string) (*SourceInfo, error) {
	if raw == nil {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errAt(path, "must be an object, got %s", kindOf(raw))
	}
	d.unknownFields(obj, path, sourceFields...)
	si := &SourceInfo{}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"source_name", &si.SourceName},
		{"source_native_key", &si.SourceNativeKey},
		{"source_feed", &si.SourceFeed},
		{"source_recency_timestamp", &si.SourceRecencyTimestamp},
	} {
		v := obj[f.name]
		if v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return nil, errAt(path+"."+f.name, "must be a string, got %s", kindOf(v))
		}
		*f.dst = s
	}
	return si, nil
}

func (d *decoder) buildReference(raw any, path string) (Reference, error) {
	var ref Reference
	obj, ok := raw.(map[string]any)
	if !ok {
		return ref, errAt(path, "must be an object, got %s", kindOf(raw))
	}
	d.unknownFields(obj, path, referenceField...)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"referenced", &ref.Referenced}, {"referencedBy", &ref.ReferencedBy}, {"referenceField", &ref.Field}} {
		v, ok := obj[f.name].(string)
		if !ok || strings.TrimSpace(v) == "" {
			return ref, errAt(path, "%s is required (a string)", f.name)
		}
		*f.dst = v
	}
	for _, id := range []string{ref.Referenced, ref.ReferencedBy} {
		if _, ok := d.ids[id]; !ok {
			return ref, errAt(path, "no item has internal_id %q", id)
		}
	}
	return ref, nil
}

// buildRelation reads one relation. A relation that is not an object is a
// malformed payload; one whose ends cannot be resolved is kept with Invalid
// set, so that the payload's other parts are still processed.
func (d *decoder) buildRelation(rel *Relation, raw any, i, nItems int) error {
	path := fmt.Sprintf("relations[%d]", i)
	obj, ok := raw.(map[string]any)
	if !ok {
		return errAt(path, "must be an object, got %s", kindOf(raw))
	}
	d.unknownFields(obj, path, relationFields...)
	rel.Parent, rel.Child = -1, -1
	invalid := func(err error) {
		if rel.Invalid == "" {
			rel.Invalid = strings.TrimPrefix(err.Error(), "payload: ")
		}
	}
	switch t := obj["type"].(type) {
	case string:
		rel.Type = t
		if strings.TrimSpace(t) == "" {
			invalid(errAt(path, "type is required"))
		}
	case nil:
		invalid(errAt(path, "type is required"))
	default:
		invalid(errAt(path+".type", "must be a string, got %s", kindOf(t)))
	}
	var err error
	if rel.Parent, rel.ParentSub, err = d.relationEnd(obj, path, "parent", nItems); err != nil {
		invalid(err)
	}
	if rel.Child, rel.ChildSub, err = d.relationEnd(obj, path, "child", nItems); err != nil {
		invalid(err)
	}
	if rel.Invalid == "" && rel.Parent == rel.Child && SameSub(rel.ParentSub, rel.ChildSub) {
		invalid(errAt(path, "parent and child are the same item (%d)", rel.Parent))
	}
	if rel.Invalid != "" {
		rel.Parent, rel.Child, rel.ParentSub, rel.ChildSub = -1, -1, nil, nil
	}
	// sys_rel_source_info is accepted; relations are filed under the payload's source.
	return nil
}

// SameSub reports whether a and b name the same record (nil: the item itself).
func SameSub(a, b *SubRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// relationEnd resolves one end of a relation, given either by index
// (parent/child: a number, or a string holding one, as connectors send) or
// by internal id (parent_id/child_id, which may name a lookup or related
// record).
func (d *decoder) relationEnd(obj map[string]any, path, end string, nItems int) (int, *SubRef, error) {
	idx, byID := obj[end], obj[end+"_id"]
	switch {
	case idx != nil && byID != nil:
		return -1, nil, errAt(path, "give either %s or %s_id, not both", end, end)
	case idx == nil && byID == nil:
		return -1, nil, errAt(path, "%s is required (an index into items, or %s_id naming an internal_id)", end, end)
	case idx != nil:
		var n json.Number
		switch x := idx.(type) {
		case json.Number:
			n = x
		case string:
			n = json.Number(strings.TrimSpace(x))
		default:
			return -1, nil, errAt(path+"."+end, "must be an integer index into items, got %s", kindOf(idx))
		}
		v, err := normNumber(string(n))
		if err != nil {
			return -1, nil, errAt(path+"."+end, "must be an integer index into items, got %q", string(n))
		}
		k, ok := v.(int64)
		if !ok {
			if f := v.(float64); f == math.Trunc(f) {
				return -1, nil, errAt(path+"."+end, "index %s out of range (%d items)", n, nItems)
			}
			return -1, nil, errAt(path+"."+end, "must be an integer index into items, got %s", n)
		}
		if k < 0 || k >= int64(nItems) {
			return -1, nil, errAt(path+"."+end, "index %d out of range (%d items)", k, nItems)
		}
		return int(k), nil, nil
	default:
		p := path + "." + end + "_id"
		s, ok := byID.(string)
		if !ok {
			return -1, nil, errAt(p, "must be a string, got %s", kindOf(byID))
		}
		ref, ok := d.ids[s]
		if !ok {
			return -1, nil, errAt(p, "no item has internal_id %q", s)
		}
		return ref.item, ref.sub, nil
	}
}

// Normalize turns one attribute value into its canonical form: string,
// bool, int64, float64 or nil. It accepts strings, booleans, every Go
// integer and floating-point kind (including named types), json.Number and
// nil. Numbers that are integers within the int64 range become int64 (so
// 1, 1.0, 1e0 and float64(1) are the same value); other numbers become
// float64. NaN, infinities, numbers beyond float64's range, maps, slices
// and other types are rejected.
func Normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case bool:
		return x, nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		return normFloat(x)
	case json.Number:
		return normNumber(string(x))
	case map[string]any:
		return nil, errors.New("nested objects are not allowed (values must be strings, numbers, booleans or null)")
	case []any:
		return nil, errors.New("arrays are not allowed (values must be strings, numbers, booleans or null)")
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u <= math.MaxInt64 {
			return int64(u), nil
		}
		return float64(u), nil
	case reflect.Float32, reflect.Float64:
		return normFloat(rv.Float())
	case reflect.Map, reflect.Struct:
		return nil, errors.New("nested objects are not allowed (values must be strings, numbers, booleans or null)")
	case reflect.Slice, reflect.Array:
		return nil, errors.New("arrays are not allowed (values must be strings, numbers, booleans or null)")
	}
	return nil, fmt.Errorf("unsupported value type %T (values must be strings, numbers, booleans or null)", v)
}

const two63 = 1 << 63 // 2^63 as an untyped constant; exact as float64

// intFloat reports whether f is an integer in [-2^63, 2^63), i.e. one that
// int64 holds exactly.
func intFloat(f float64) bool {
	return f == math.Trunc(f) && f >= -two63 && f < two63
}

func normFloat(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v is not allowed", f)
	}
	if intFloat(f) {
		return int64(f), nil
	}
	return f, nil
}

func normNumber(s string) (any, error) {
	if !validNumber(s) {
		return nil, fmt.Errorf("invalid number %q", s)
	}
	if n, ok := exactInt(s); ok {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %s is out of range", s)
	}
	return normFloat(f)
}

// validNumber reports whether s follows the JSON number grammar.
func validNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// exactInt reports whether the JSON number s denotes an integer that fits
// int64, and returns it, computed exactly from the decimal digits (so
// "9007199254740993.0" is 9007199254740993, not the nearest float64).
func exactInt(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	ip, fp, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(ip+fp, "0")
	if digits == "" {
		return 0, true // zero, whatever the exponent
	}
	// point: how many of digits lie before the decimal point.
	point := len(ip) - (len(ip+fp) - len(digits))
	if hasExp {
		e, err := strconv.ParseInt(expText, 10, 32)
		if err != nil {
			return 0, false // |exponent| huge: far too large or not an integer
		}
		point += int(e)
	}
	digits = strings.TrimRight(digits, "0")
	if point < len(digits) || point > 19 {
		return 0, false
	}
	n, err := strconv.ParseInt(sign+digits+strings.Repeat("0", point-len(digits)), 10, 64)
	return n, err == nil
}

// Canonical is the canonical text of a value, used in identity keys and to
// compare values: a string as is, a bool as "true" or "false", an int64 in
// decimal, a float64 that is an integer in int64's range as that integer,
// any other float64 by strconv.FormatFloat(f, 'g', -1, 64), and nil as "".
// Other types are canonicalised with Normalize first; a value Normalize
// rejects is formatted with fmt.Sprint.
func Canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if intFloat(x) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	n, err := Normalize(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return Canonical(n)
}

// Clone returns a deep copy of p: slices, values maps and source info are
// copied, so changing the copy never changes p.
func (p *Payload) Clone() *Payload {
	if p == nil {
		return nil
	}
	q := &Payload{}
	if p.Items != nil {
		q.Items = make([]Item, len(p.Items))
		for i := range p.Items {
			q.Items[i] = p.Items[i].clone()
		}
	}
	if p.Relations != nil {
		q.Relations = make([]Relation, len(p.Relations))
		for i, r := range p.Relations {
			r.ParentSub, r.ChildSub = cloneSub(r.ParentSub), cloneSub(r.ChildSub)
			q.Relations[i] = r
		}
	}
	q.References = append([]Reference(nil), p.References...)
	q.Ignored = append([]string(nil), p.Ignored...)
	return q
}

func (it *Item) clone() Item {
	c := *it
	if it.Settings != nil {
		st := *it.Settings
		c.Settings = &st
	}
	c.ClassUpgrade, c.ClassDowngrade, c.ClassSwitch = cloneFlag(it.ClassUpgrade), cloneFlag(it.ClassDowngrade), cloneFlag(it.ClassSwitch)
	c.Values = cloneValues(it.Values)
	c.SourceInfo = cloneSource(it.SourceInfo)
	c.DisplayValues = cloneValues(it.DisplayValues)
	c.Related = cloneRecords(it.Related)
	c.Lookup = cloneRecords(it.Lookup)
	return c
}

func cloneRecords(rs []Related) []Related {
	if rs == nil {
		return nil
	}
	out := make([]Related, len(rs))
	for j, r := range rs {
		r.Values = cloneValues(r.Values)
		r.SourceInfo = cloneSource(r.SourceInfo)
		out[j] = r
	}
	return out
}

func cloneSub(s *SubRef) *SubRef {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

func cloneValues(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneSource(s *SourceInfo) *SourceInfo {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}
