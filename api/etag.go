package api

import (
	"net/http"
	"strconv"
	"strings"
)

// ETag is the entity tag of a resource at a version (a record's version,
// see store.Record.Version): a strong tag, "<version>".
func ETag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// IfMatch checks a request's If-Match header (RFC 9110) against the
// resource's current version. It returns ok=false and a 412 Error when the
// header names no tag the resource has; conditional is true when the
// header names tags (not "*" nor absent), so the write should be made
// conditional on the version (engine IfVersions) to hold until commit.
func IfMatch(r *http.Request, version uint64) (conditional bool, e *Error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return false, nil
	}
	want := ETag(version)
	for _, tag := range strings.Split(h, ",") {
		if strings.TrimSpace(tag) == want {
			return true, nil
		}
	}
	return true, PreconditionFailed(version)
}

// PreconditionFailed is the 412 Error of a write whose If-Match no longer
// names the resource's version.
func PreconditionFailed(version uint64) *Error {
	return Errorf(http.StatusPreconditionFailed, "Precondition failed",
		"the resource changed since it was read: its ETag is now %s; read it again, and send that in If-Match", ETag(version))
}

// MethodNotAllowed is the 405 Error for a method a path does not serve;
// the caller sets the Allow header.
func MethodNotAllowed(method string, allow []string) *Error {
	return Errorf(http.StatusMethodNotAllowed, "Method not allowed", "%s is not served on this path; use %s", method, strings.Join(allow, ", "))
}
