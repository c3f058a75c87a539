package tmf637

import (
	"slices"
	"strings"
)

// state is one product state: the code stored in the record's state
// attribute (ServiceNow's choice values, plus the TMF637 states ServiceNow
// lacks), how ServiceNow's API shows it, and its TMF637 ProductStatusType.
type state struct{ code, display, tmf string }

// states are every state a product may be in. change_pending has no TMF637
// counterpart: TM Forum clients see such a product as active.
var states = []state{
	{"installation_pending", "Installation Pending", "pendingActive"},
	{"active", "Active", "active"},
	{"change_pending", "Change Pending", "active"},
	{"inactivation_pending", "Inactivation Pending", "pendingTerminate"},
	{"inactive", "Inactive", "terminated"},
	{"created", "Created", "created"},
	{"cancelled", "Cancelled", "cancelled"},
	{"suspended", "Suspended", "suspended"},
	{"aborted", "Aborted", "aborted"},
}

// defaultState is the state of a product created without one (ServiceNow's
// default), and how a stored product without a state is shown.
const defaultState = "installation_pending"

// stateOf returns the state with the given code; unknown codes (a product
// written through another API) show as the default state.
func stateOf(code string) state {
	for _, s := range states {
		if s.code == code {
			return s
		}
	}
	return states[0]
}

// parseState reads a state as a client writes it: a TMF637 status, a
// ServiceNow code or its display value, ignoring case, spaces and
// underscores. A TMF637 status that several codes show as means its first.
func parseState(s string) (string, bool) {
	key := fold(s)
	for _, st := range states {
		if key == fold(st.code) || key == fold(st.tmf) {
			return st.code, true
		}
	}
	return "", false
}

// tmfCodes returns the codes a TMF637 status filter matches: every state
// TM Forum clients see as that status.
func tmfCodes(status string) []string {
	var out []string
	for _, st := range states {
		if st.tmf == status {
			out = append(out, st.code)
		}
	}
	return out
}

// snCodes returns the codes a ServiceNow status filter matches: the one
// state named by its code, display value or TMF637 status.
func snCodes(status string) []string {
	if code, ok := parseState(status); ok {
		return []string{code}
	}
	return nil
}

func fold(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "_", "").Replace(s))
}

// stateNames lists the accepted states for error messages.
func stateNames(tmf bool) string {
	var out []string
	for _, st := range states {
		name := st.code
		if tmf {
			name = st.tmf
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}
