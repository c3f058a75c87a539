package auth

import (
	"fmt"
	"slices"
	"strings"
)

// InvalidError reports a user name, password or role that cannot be stored.
type InvalidError struct{ Msg string }

// Error returns the reason, prefixed with the package.
func (e *InvalidError) Error() string { return "auth: " + e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// checkUser validates a new user and returns its roles sorted, without
// repeats.
func checkUser(name, password string, roles []string) ([]string, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	return checkRoles(roles)
}

// CheckName reports whether name can be a user name: 1 to 64 letters,
// digits, '.', '_', '@' or '-' (HTTP Basic auth cannot carry a ':' in it).
func CheckName(name string) error {
	if name == "" || len(name) > maxNameLen || strings.IndexFunc(name, func(r rune) bool { return !nameChar(r) }) >= 0 {
		return invalid("user name %q: use 1 to %d letters, digits, '.', '_', '@' or '-'", name, maxNameLen)
	}
	return nil
}

func nameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)
}

func checkPassword(password string) error {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return invalid("the password must be %d to %d bytes long, got %d", MinPasswordLen, MaxPasswordLen, len(password))
	}
	return nil
}

func checkRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, invalid("a user needs at least one role")
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if r == "" || len(r) > maxNameLen || strings.IndexFunc(r, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') }) >= 0 {
			return nil, invalid("role %q: use 1 to %d lowercase letters, digits, '_' or '.'", r, maxNameLen)
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// UnknownRoles returns an error naming the roles that are not in known.
func UnknownRoles(roles, known []string) error {
	var bad []string
	for _, r := range roles {
		if !slices.Contains(known, r) {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		return invalid("unknown role %s; the roles are %s", strings.Join(bad, ", "), strings.Join(known, ", "))
	}
	return nil
}
