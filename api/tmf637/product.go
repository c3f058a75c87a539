package tmf637

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/payload"
)

// How a product lives in the graph: a record of productClass whose
// attributes are below, its characteristics as related records of
// charClass, and its relations to other products as edges.
const (
	productClass = "sn_prd_invt_product_inventory"
	charClass    = "sn_prd_invt_product_characteristics"
)

// Product attributes. Reference objects (productOffering, ...) keep their
// id in an attribute of its own, which the rules index, and the whole object
// as JSON text beside it (refJSON), so a client reads back what it sent.
const (
	aName         = "name"
	aDescription  = "description"
	aPID          = "pid"
	aNumber       = "number"
	aState        = "state"
	aIsBundle     = "is_bundle"
	aRelatedParty = "related_party" // the relatedParty array, JSON
	aCustomer     = "customer"      // id of the first party referred to as a Customer
	aPlaces       = "place_ref"     // the place array, JSON
	aPlace        = "place"         // id of the first place
	aPlaceName    = "place_name"
	aPrice        = "product_price" // the productPrice array, JSON
	aExtra        = "extra"         // every other first-level attribute, a JSON object
	// aPending lists, as JSON, the relations to products not stored yet
	// ([{"rel": relation type, "ref": id or pid}]); aHasPending is true
	// while it holds any, so the products waiting are found.
	aPending    = "pending_relation"
	aHasPending = "has_pending_relation"
	refJSON     = "_ref"
)

// Characteristic attributes; the engine sets cProduct to the product.
const (
	cProduct   = "product"
	cName      = "name"
	cValue     = "value"
	cValueType = "value_type"
	cIsJSON    = "value_is_json" // value is JSON text (an object or array value)
	cOrder     = "order"         // position in the product's list
	cExtra     = "extra"
)

// refs are the reference objects: JSON name and the attribute of their id.
var refs = []struct{ json, attr string }{
	{"productOffering", "product_offering"},
	{"productSpecification", "product_specification"},
	{"billingAccount", "billing_account"},
}

// managed are the product attributes a product's JSON sets: a replacing
// update that no longer carries one removes it. Others (written through
// another API) are left alone.
var managed = func() []string {
	out := []string{aName, aDescription, aPID, aState, aIsBundle, aRelatedParty, aCustomer, aPlaces, aPlace, aPlaceName, aPrice, aExtra, aPending, aHasPending}
	for _, r := range refs {
		out = append(out, r.attr, r.attr+refJSON)
	}
	return out
}()

// linkKind is one kind of relation between products.
type linkKind struct {
	json    string // the product's array attribute
	relType string // the relation type, the product being the parent
	tmf, sn string // productRelationship's relationshipType as each API shows it
}

var linkKinds = []linkKind{
	{"productRelationship", "Bundles::Bundled in", "bundled", "Bundles"},
	{"productRelationship", "Depends on::Used by", "reliesOn", "Depends on"},
	{"realizingService", "Realized by service::Realizes", "", ""},
	{"realizingResource", "Realized by resource::Realizes", "", ""},
}

func kindOf(relType string) (linkKind, bool) {
	i := slices.IndexFunc(linkKinds, func(k linkKind) bool { return k.relType == relType })
	if i < 0 {
		return linkKind{}, false
	}
	return linkKinds[i], true
}

// input is one product as a client sent it, mapped onto the graph.
type input struct {
	values map[string]any
	chars  []map[string]any // characteristic records' values, in order
	links  []linkInput
	// status says the client gave a state (status or state).
	status bool
}

// linkInput is a relation to another product, named by its id or pid.
type linkInput struct{ relType, ref, path string }

// fieldError is a product attribute a client got wrong; the APIs answer it
// with a 400.
type fieldError struct{ path, reason string }

func (e *fieldError) Error() string { return e.path + ": " + e.reason }

func badField(path, format string, args ...any) *fieldError {
	return &fieldError{path: path, reason: fmt.Sprintf(format, args...)}
}

// parseProduct maps a product object (decoded with UseNumber) onto the
// graph. at names the object in error messages, e.g. "product[1]".
func parseProduct(obj map[string]any, at string) (*input, error) {
	in := &input{values: map[string]any{}}
	extra := map[string]any{}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // errors name the same attribute first every time
	for _, k := range keys {
		v, path := obj[k], at+"."+k
		if v == nil {
			continue // null: not given
		}
		var err error
		switch k {
		case "id", "href":
			// Set by the server.
		case "name", "description", "pid":
			err = putString(in.values, k, v, path)
		case "isBundle":
			b, ok := v.(bool)
			if !ok {
				return nil, badField(path, "want true or false, got %s", describe(v))
			}
			in.values[aIsBundle] = b
		case "status", "state":
			s, ok := v.(string)
			code, known := parseState(s)
			if !ok || !known {
				return nil, badField(path, "%s is not a product status; use one of %s (TMF637) or %s (ServiceNow)", describe(v), stateNames(true), stateNames(false))
			}
			in.values[aState], in.status = code, true
		case "relatedParty":
			err = in.parties(v, path)
		case "place":
			err = in.places(v, path)
		case "productPrice":
			var list []any
			if _, list, err = objects(v, path, false); err == nil && len(list) > 0 {
				in.values[aPrice] = jsonText(list)
			}
		case "productCharacteristic":
			err = in.characteristics(v, path)
		case "productRelationship", "realizingService", "realizingResource":
			err = in.relations(k, v, path)
		default:
			if i := slices.IndexFunc(refs, func(r struct{ json, attr string }) bool { return r.json == k }); i >= 0 {
				err = in.ref(refs[i].attr, v, path)
			} else {
				extra[k] = v
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if len(extra) > 0 {
		in.values[aExtra] = jsonText(extra)
	}
	return in, nil
}

func putString(values map[string]any, attr string, v any, path string) error {
	s, ok := v.(string)
	if !ok {
		return badField(path, "want a string, got %s", describe(v))
	}
	values[attr] = s
	return nil
}

// ref stores a reference object: its id, and the object as JSON.
func (in *input) ref(attr string, v any, path string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return badField(path, "want an object with an id, got %s", describe(v))
	}
	id, ok := obj["id"].(string)
	if !ok || id == "" {
		return badField(path+".id", "missing; a reference needs the id of what it refers to")
	}
	in.values[attr], in.values[attr+refJSON] = id, jsonText(obj)
	return nil
}

// parties stores relatedParty; an empty list is no list.
func (in *input) parties(v any, path string) error {
	els, list, err := objects(v, path, false)
	if err != nil || len(els) == 0 {
		return err
	}
	for _, el := range els {
		id, ok := el.obj["id"].(string)
		if !ok || id == "" {
			return badField(el.at+".id", "missing; a related party needs the id of the account, contact or consumer")
		}
		if t, _ := el.obj["@referredType"].(string); fold(t) == "customer" && in.values[aCustomer] == nil {
			in.values[aCustomer] = id
		}
	}
	in.values[aRelatedParty] = jsonText(list)
	return nil
}

// places accepts TMF637's array of places and ServiceNow's single place.
func (in *input) places(v any, path string) error {
	els, list, err := objects(v, path, true)
	if err != nil || len(els) == 0 {
		return err
	}
	if id, ok := els[0].obj["id"].(string); ok && id != "" {
		in.values[aPlace] = id
	}
	if name, ok := els[0].obj["name"].(string); ok && name != "" {
		in.values[aPlaceName] = name
	}
	in.values[aPlaces] = jsonText(list)
	return nil
}

func (in *input) characteristics(v any, path string) error {
	els, _, err := objects(v, path, false)
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for i, el := range els {
		name, ok := el.obj["name"].(string)
		if !ok || name == "" {
			return badField(el.at+".name", "missing; a characteristic needs a name")
		}
		if first, dup := seen[name]; dup {
			return badField(el.at+".name", "%q is also the name of %s; a product has one characteristic per name", name, first)
		}
		seen[name] = el.at
		vals := map[string]any{cName: name, cOrder: int64(i), cValue: ""}
		extra := map[string]any{}
		for k, x := range el.obj {
			var err error
			switch k {
			case "name":
			case "value":
				err = characteristicValue(vals, x, el.at+".value")
			case "valueType":
				if x != nil {
					err = putString(vals, cValueType, x, el.at+".valueType")
				}
			default:
				extra[k] = x
			}
			if err != nil {
				return err
			}
		}
		if len(extra) > 0 {
			vals[cExtra] = jsonText(extra)
		}
		in.chars = append(in.chars, vals)
	}
	return nil
}

// characteristicValue stores a value of any JSON type: scalars as they are,
// objects and arrays as JSON text.
func characteristicValue(vals map[string]any, x any, path string) error {
	switch x.(type) {
	case nil:
		return nil
	case map[string]any, []any:
		vals[cValue], vals[cIsJSON] = jsonText(x), true
		return nil
	}
	n, err := payload.Normalize(x)
	if err != nil {
		return badField(path, "%v", err)
	}
	vals[cValue] = n
	return nil
}

// relations reads productRelationship, realizingService or
// realizingResource: an array of references (ServiceNow also takes one
// object) to products by id or pid.
func (in *input) relations(k string, v any, path string) error {
	els, _, err := objects(v, path, k != "productRelationship")
	if err != nil {
		return err
	}
	for _, el := range els {
		l, err := parseLink(k, el.obj, el.at)
		if err != nil {
			return err
		}
		in.links = append(in.links, l)
	}
	return nil
}

func parseLink(k string, obj map[string]any, at string) (linkInput, error) {
	ref, _ := obj["id"].(string)
	if k == "productRelationship" {
		ref, _ = obj["productId"].(string)
		if p, ok := obj["product"].(map[string]any); ok && ref == "" {
			ref, _ = p["id"].(string)
		}
	}
	if ref == "" {
		field := ".id"
		if k == "productRelationship" {
			field = ".productId"
		}
		return linkInput{}, badField(at+field, "missing; name the related product by its id or pid")
	}
	t, _ := obj["relationshipType"].(string)
	if t == "" {
		t, _ = obj["type"].(string)
	}
	l := linkInput{ref: ref, path: at}
	switch {
	case k == "realizingService" && (t == "" || fold(t) == "child"):
		l.relType = linkKinds[2].relType
	case k == "realizingResource" && (t == "" || fold(t) == "child"):
		l.relType = linkKinds[3].relType
	case k != "productRelationship":
		return l, badField(at+".relationshipType", "%q: the only relationship a realizing product has is child", t)
	case slices.Contains([]string{"", "child", "bundled", "bundles", "bundle"}, fold(t)):
		l.relType = linkKinds[0].relType
	case slices.Contains([]string{"relieson", "dependson"}, fold(t)):
		l.relType = linkKinds[1].relType
	default:
		return l, badField(at+".relationshipType", "%q is not supported; use bundled (ServiceNow: child) or reliesOn", t)
	}
	return l, nil
}

// element is one object of a list a client sent, and where it is.
type element struct {
	obj map[string]any
	at  string
}

// objects reads a JSON array of objects; one lets a single object stand
// for a list of one, as ServiceNow sends some lists. It returns the
// elements and the list as sent.
func objects(v any, path string, one bool) ([]element, []any, error) {
	if m, ok := v.(map[string]any); ok && one {
		return []element{{m, path}}, []any{m}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, nil, badField(path, "want an array, got %s", describe(v))
	}
	out := make([]element, len(list))
	for i, x := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		m, ok := x.(map[string]any)
		if !ok {
			return nil, nil, badField(at, "want an object, got %s", describe(x))
		}
		out[i] = element{m, at}
	}
	return out, list, nil
}

// jsonText is v as compact JSON with its object keys sorted.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // decoded JSON always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// fromJSON decodes JSON text a product attribute holds; nil when it holds
// none or something else.
func fromJSON(v any) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var out any
	if d.Decode(&out) != nil {
		return nil
	}
	return out
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	case bool, json.Number:
		return fmt.Sprint(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}

// decodeJSON reads a request body: strict JSON, numbers kept exact, with
// the position of a syntax error.
func decodeJSON(b []byte) (any, error) {
	if err := api.CheckJSON(b); err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(b, se.Offset)
			return nil, fmt.Errorf("line %d, column %d: %v", line, col, err)
		}
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("more than one JSON value in the body")
	}
	return v, nil
}

// position is the line and column of a byte offset in b.
func position(b []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for _, c := range b[:min(int(offset), len(b))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
