package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// The settings irego knows.
const (
	// TokenInURL lets API clients pass their token as token= in the URL;
	// when false the Token header is the only way.
	TokenInURL = "api_token_in_url_enabled"
	// ExposeDeprecatedAPI serves the deprecated GET /api/sam/license_usages.
	ExposeDeprecatedAPI = "expose_deprecated_api"
	// ImportInterval is how often irego serve runs a license import; 0
	// turns scheduled imports off.
	ImportInterval = "import_interval"
	// UsageRetention is how long daily license usage snapshots are kept.
	UsageRetention = "usage_retention"
	// ContractRequiredCustomFields lists the IDs of the contract custom
	// fields (contract_custom_field_<ID>) every contract must have.
	ContractRequiredCustomFields = "contract_required_custom_fields"
)

// Kind is the type of a setting's value.
type Kind string

// The kinds of setting values.
const (
	Bool     Kind = "boolean"      // true or false
	Duration Kind = "duration"     // "24h", "90m", "30d"
	IntList  Kind = "integer list" // comma-separated integers
)

// Def describes one setting.
type Def struct {
	Name        string
	Kind        Kind
	Default     string
	Description string
}

// Defs are every setting, by name.
var Defs = []Def{
	{TokenInURL, Bool, "true", "accept an API token as token= in the URL; when false only the Token header is"},
	{ContractRequiredCustomFields, IntList, "", "IDs of the contract custom fields every contract must have, comma-separated (e.g. 2,3)"},
	{ExposeDeprecatedAPI, Bool, "false", "serve the deprecated GET /api/sam/license_usages"},
	{ImportInterval, Duration, "24h", "how often irego serve runs a license import; 0 turns scheduled imports off"},
	{UsageRetention, Duration, "730d", "how long daily license usage snapshots are kept"},
}

// Value is a setting with its current value.
type Value struct {
	Name        string `json:"name"`
	Value       any    `json:"value"`
	Default     any    `json:"default"`
	Type        Kind   `json:"type"`
	Description string `json:"description"`
}

// InvalidError reports an unknown setting or a value it cannot take.
type InvalidError struct{ Msg string }

// Error returns the reason, prefixed with the package.
func (e *InvalidError) Error() string { return "settings: " + e.Msg }

// Settings reads and writes the settings kept in a store.
type Settings struct{ st store.Store }

// New returns the settings kept in st.
func New(st store.Store) *Settings { return &Settings{st: st} }

// Lookup returns the definition of a setting.
func Lookup(name string) (Def, bool) {
	i := slices.IndexFunc(Defs, func(d Def) bool { return d.Name == name })
	if i < 0 {
		return Def{}, false
	}
	return Defs[i], true
}

// Bool returns a boolean setting; its default when unset or unreadable.
func (s *Settings) Bool(name string) bool {
	v, _ := s.typed(name)
	b, _ := v.(bool)
	return b
}

// Duration returns a duration setting; its default when unset or unreadable.
func (s *Settings) Duration(name string) time.Duration {
	v, _ := s.typed(name)
	d, _ := v.(time.Duration)
	return d
}

// Ints returns an integer list setting; its default when unset or unreadable.
func (s *Settings) Ints(name string) []int {
	v, _ := s.typed(name)
	l, _ := v.([]int)
	return l
}

// typed reads a setting as its Go value, falling back to the default.
func (s *Settings) typed(name string) (any, error) {
	d, ok := Lookup(name)
	if !ok {
		return nil, &InvalidError{fmt.Sprintf("unknown setting %q", name)}
	}
	text, err := s.text(d)
	if err != nil {
		text = d.Default
	}
	v, err := parse(d, text)
	if err != nil {
		v, _ = parse(d, d.Default)
	}
	return v, err
}

// text reads a setting's stored text, or its default.
func (s *Settings) text(d Def) (string, error) {
	var text string
	err := s.st.View(func(r store.Reader) error {
		b, err := r.Get(store.SettingKey(d.Name))
		if errors.Is(err, store.ErrNotFound) {
			text = d.Default
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &text)
	})
	return text, err
}

// All returns every setting with its value, by name.
func (s *Settings) All() ([]Value, error) {
	out := make([]Value, 0, len(Defs))
	for _, d := range Defs {
		text, err := s.text(d)
		if err != nil {
			return nil, err
		}
		out = append(out, Value{Name: d.Name, Value: render(d, text), Default: render(d, d.Default), Type: d.Kind, Description: d.Description})
	}
	return out, nil
}

// Set changes settings, name → value as text ("true", "12h", "2,3"), all
// or nothing.
func (s *Settings) Set(changes map[string]string) error {
	var bad []string
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		d, ok := Lookup(name)
		if !ok {
			bad = append(bad, fmt.Sprintf("unknown setting %q (the settings are %s)", name, names()))
			continue
		}
		if _, err := parse(d, changes[name]); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return &InvalidError{strings.Join(bad, "; ")}
	}
	txn := s.st.NewTxn()
	defer txn.Discard()
	for name, text := range changes {
		d, _ := Lookup(name)
		v, _ := parse(d, text)
		b, _ := json.Marshal(canonical(d, v))
		if err := txn.Set(store.SettingKey(name), b); err != nil {
			return err
		}
	}
	return txn.Commit()
}

// Text renders a JSON value a client sent as the text Set takes: a
// string as it is, a boolean or number in its JSON form, a list of numbers
// joined by commas.
func Text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			t, ok := Text(e)
			if !ok {
				return "", false
			}
			parts = append(parts, t)
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

func parse(d Def, text string) (any, error) {
	text = strings.TrimSpace(text)
	switch d.Kind {
	case Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not true or false", d.Name, text)
		}
		return b, nil
	case Duration:
		if text == "0" {
			return time.Duration(0), nil
		}
		v, err := rules.ParseDuration(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", d.Name, err)
		}
		return v, nil
	case IntList:
		var out []int
		for _, f := range strings.Split(text, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			n, err := strconv.Atoi(f)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s: %q is not a whole number > 0", d.Name, f)
			}
			out = append(out, n)
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	}
	return nil, fmt.Errorf("%s: unknown kind %s", d.Name, d.Kind)
}

// canonical is the text stored for a parsed value.
func canonical(d Def, v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case time.Duration:
		if x%(24*time.Hour) == 0 && x > 0 {
			return strconv.FormatInt(int64(x/(24*time.Hour)), 10) + "d"
		}
		return x.String()
	case []int:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.Itoa(n)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// render is a setting's value as the configs API shows it: booleans as
// JSON booleans, the rest as text.
func render(d Def, text string) any {
	v, err := parse(d, text)
	if err != nil {
		return text
	}
	if b, ok := v.(bool); ok {
		return b
	}
	return canonical(d, v)
}

func names() string {
	out := make([]string, len(Defs))
	for i, d := range Defs {
		out[i] = d.Name
	}
	return strings.Join(out, ", ")
}
