package ruleimport

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/rules"
)

// duration reads a data refresh rule's duration: a glide_duration as the
// Table API gives it ("1970-01-31 00:00:00" is 30 days), a whole number
// of seconds, or irego's own form ("30d", "36h"). It returns irego's form.
func duration(v string) (string, error) {
	v = strings.TrimSpace(v)
	var d time.Duration
	if t, err := time.Parse(time.DateTime, v); err == nil {
		d = t.Sub(time.Unix(0, 0).UTC())
	} else if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(n) * time.Second
	} else if d, err = rules.ParseDuration(v); err != nil {
		return "", errors.New(`want a duration ("1970-01-31 00:00:00", seconds, or "30d")`)
	}
	switch {
	case d < 0:
		return "", errors.New("negative")
	case d == 0:
		return "", errors.New("0 makes every source stale at once, which irego's refresh periods cannot say")
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d", nil
	}
	return d.String(), nil
}

var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// condOps are the encoded query operators condition translates, longest
// first so that "!=" is not read as "=".
var condOps = []string{"ISNOTEMPTY", "ISEMPTY", "NOT IN", "NOT LIKE", "STARTSWITH", "ENDSWITH", "LIKE", "IN", "!=", ">=", "<=", "=", ">", "<"}

// condition translates an encoded query ("install_status!=7^nameISNOTEMPTY")
// into an expr condition over a CI's values. Only AND (^) joins terms; OR
// and NQ are refused. A number is compared as text or number, since
// values may be stored either way.
func condition(q string) (string, error) {
	if strings.Contains(q, "^OR") || strings.Contains(q, "^NQ") || strings.Contains(q, "javascript:") {
		return "", errors.New("only terms joined by ^ (AND) are translated")
	}
	var terms []string
	for _, t := range strings.Split(q, "^") {
		t = strings.TrimSpace(t)
		if t == "" || t == "EQ" {
			continue
		}
		x, err := term(t)
		if err != nil {
			return "", err
		}
		terms = append(terms, x)
	}
	if len(terms) == 0 {
		return "", errors.New("no terms")
	}
	return strings.Join(terms, " && "), nil
}

func term(t string) (string, error) {
	for _, op := range condOps {
		i := strings.Index(t, op)
		if i <= 0 {
			continue
		}
		field, val := t[:i], t[i+len(op):]
		if !fieldName.MatchString(field) {
			continue
		}
		switch op {
		case "ISEMPTY":
			return fmt.Sprintf(`(%s in [nil, ""])`, field), nil
		case "ISNOTEMPTY":
			return fmt.Sprintf(`(%s not in [nil, ""])`, field), nil
		case "=":
			return fmt.Sprintf("(%s in %s)", field, values(val)), nil
		case "!=":
			return fmt.Sprintf("(%s not in %s)", field, values(val)), nil
		case "IN":
			return fmt.Sprintf("(%s in %s)", field, values(strings.Split(val, ",")...)), nil
		case "NOT IN":
			return fmt.Sprintf("(%s not in %s)", field, values(strings.Split(val, ",")...)), nil
		case "LIKE":
			return fmt.Sprintf("(string(%s) contains %s)", field, strconv.Quote(val)), nil
		case "NOT LIKE":
			return fmt.Sprintf("!(string(%s) contains %s)", field, strconv.Quote(val)), nil
		case "STARTSWITH":
			return fmt.Sprintf("(string(%s) startsWith %s)", field, strconv.Quote(val)), nil
		case "ENDSWITH":
			return fmt.Sprintf("(string(%s) endsWith %s)", field, strconv.Quote(val)), nil
		default: // comparisons need numbers
			if _, err := strconv.ParseFloat(val, 64); err != nil {
				return "", fmt.Errorf("%s%s%s: only numbers are compared", field, op, val)
			}
			return fmt.Sprintf("(%s != nil && float(%s) %s %s)", field, field, op, val), nil
		}
	}
	return "", fmt.Errorf("term %q: unknown operator", t)
}

// values is an expr list of the values as text, and as numbers where they
// read as numbers.
func values(vs ...string) string {
	var out []string
	for _, v := range vs {
		out = append(out, strconv.Quote(v))
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, v)
		} else if _, err := strconv.ParseFloat(v, 64); err == nil {
			out = append(out, v)
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}
