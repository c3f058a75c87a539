package api

import "encoding/json"

// Relaxed rewrites the JavaScript object-literal style that ServiceNow's
// documentation uses in its examples, and that ServiceNow's own parser
// accepts, into strict JSON: 'single-quoted' strings become "double-quoted"
// ones and a comma before a closing } or ] is dropped. Everything else is
// copied as is, so text that was JSON stays the same JSON. changed says
// whether anything was rewritten. Callers try strict JSON first and fall
// back to Relaxed, so errors in ordinary JSON keep their positions.
func Relaxed(b []byte) (out []byte, changed bool) {
	out = make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			j := i + 1
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			end := min(j+1, len(b))
			out = append(out, b[i:end]...)
			i = end - 1
		case '\'':
			j := i + 1
			for ; j < len(b) && b[j] != '\''; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if j >= len(b) {
				return append(out, b[i:]...), changed // unterminated: leave it for the parser to report
			}
			out = append(out, '"')
			out = appendQuoted(out, b[i+1:j])
			out = append(out, '"')
			i, changed = j, true
		case ',':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				changed = true
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out, changed
}

// appendQuoted appends the body of a single-quoted string as the body of a
// double-quoted one: \' becomes ', a bare " is escaped.
func appendQuoted(out, s []byte) []byte {
	for k := 0; k < len(s); k++ {
		switch {
		case s[k] == '\\' && k+1 < len(s) && s[k+1] == '\'':
			out = append(out, '\'')
			k++
		case s[k] == '\\' && k+1 < len(s):
			out = append(out, s[k], s[k+1])
			k++
		case s[k] == '"':
			out = append(out, '\\', '"')
		default:
			out = append(out, s[k])
		}
	}
	return out
}

// DecodeRelaxed decodes body with decode; when that fails and Relaxed
// rewrites body into valid JSON, it decodes the rewritten text instead, so a
// body in the style of ServiceNow's examples is read as its author meant
// it. The first error is returned when body is not even relaxed JSON.
// Either text must pass CheckJSON first.
func DecodeRelaxed[T any](body []byte, decode func([]byte) (T, error)) (T, error) {
	var zero T
	if err := CheckJSON(body); err != nil {
		return zero, err
	}
	v, err := decode(body)
	if err == nil {
		return v, nil
	}
	if relaxed, changed := Relaxed(body); changed && json.Valid(relaxed) {
		if err := CheckJSON(relaxed); err != nil {
			return zero, err
		}
		return decode(relaxed)
	}
	return v, err
}
