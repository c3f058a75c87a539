package tableapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Record is one row of a table: field name → value as text.
type Record map[string]string

// ErrNoTable is returned by Each when the source does not hold the table,
// so that a caller can skip tables an export may leave out.
var ErrNoTable = errors.New("no such table")

// Source is where records come from: a directory export or an instance.
type Source interface {
	// Each calls fn with every record of table after the first skip, in
	// the source's order (file and page order; sys_id order on an
	// instance), stopping at the first error fn returns.
	Each(ctx context.Context, table string, skip int, fn func(Record) error) error
	// Tables names the tables the source holds, in name order, when it can
	// tell without a query (a directory); an instance returns nil.
	Tables() ([]string, error)
	// String names the source in messages.
	String() string
}

// Options are how Open reaches an instance; a directory needs none.
type Options struct {
	User, Password string
	// PageSize is the records asked for per request; 0 means 1000.
	PageSize int
	// Query is a sysparm_query added to every request (encoded query
	// syntax, e.g. "active=true"); the reader appends ORDERBYsys_id so
	// that pages do not shift while they are read.
	Query string
}

// Open returns the source spec names: an http:// or https:// URL is a
// live instance, anything else a directory.
func Open(spec string, opts Options) (Source, error) {
	if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
		return openInstance(spec, opts)
	}
	return openDir(spec)
}

// readPage streams the records of one page (a file or a response body)
// to fn, counting them; where names the page in errors. It skips the
// first *skip records and decrements *skip as it does.
func readPage(r io.Reader, where string, skip *int, fn func(Record) error) (int, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return 0, nil // an empty file is an empty page
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	switch tok {
	case json.Delim('['):
		return readRecords(dec, where, skip, fn)
	case json.Delim('{'):
	default:
		return 0, fmt.Errorf("%s: want {\"result\": [...]}, found %v", where, tok)
	}
	n, found := 0, false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return n, fmt.Errorf("%s: %w", where, err)
		}
		switch key {
		case "result", "records":
			tok, err := dec.Token()
			if err != nil {
				return n, fmt.Errorf("%s: %w", where, err)
			}
			if tok != json.Delim('[') {
				return n, fmt.Errorf("%s: %q is not a list of records", where, key)
			}
			found = true
			m, err := readRecords(dec, where, skip, fn)
			n += m
			if err != nil {
				return n, err
			}
		case "error":
			var e struct{ Message, Detail string }
			if err := dec.Decode(&e); err != nil {
				return n, fmt.Errorf("%s: %w", where, err)
			}
			return n, fmt.Errorf("%s: the instance answered an error: %s", where, strings.TrimSpace(e.Message+" "+e.Detail))
		default:
			var skipped json.RawMessage
			if err := dec.Decode(&skipped); err != nil {
				return n, fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	if !found {
		return n, fmt.Errorf("%s: no \"result\" list of records", where)
	}
	return n, nil
}

// readRecords reads the elements of a list whose '[' was consumed.
func readRecords(dec *json.Decoder, where string, skip *int, fn func(Record) error) (int, error) {
	n := 0
	for dec.More() {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return n, fmt.Errorf("%s: record %d: %w", where, n+1, err)
		}
		n++
		if *skip > 0 {
			*skip--
			continue
		}
		rec := make(Record, len(raw))
		for field, v := range raw {
			s, err := text(v)
			if err != nil {
				return n, fmt.Errorf("%s: record %d (sys_id %q): field %q: %w", where, n, sysID(raw), field, err)
			}
			rec[field] = s
		}
		if err := fn(rec); err != nil {
			return n, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return n, fmt.Errorf("%s: %w", where, err)
	}
	return n, nil
}

// text is a field's value as the Table API stores it.
func text(v json.RawMessage) (string, error) {
	var x any
	d := json.NewDecoder(strings.NewReader(string(v)))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		return "", err
	}
	switch x := x.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any:
		// A reference ({"link","value"}) or a display_value=all pair.
		if val, ok := x["value"]; ok {
			switch val := val.(type) {
			case string:
				return val, nil
			case nil:
				return "", nil
			case json.Number:
				return val.String(), nil
			case bool:
				return strconv.FormatBool(val), nil
			}
		}
		return "", errors.New("an object without a text \"value\"")
	}
	return "", fmt.Errorf("a %T, want text", x)
}

func sysID(raw map[string]json.RawMessage) string {
	s, _ := text(raw["sys_id"])
	return s
}
