package server_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/auth"
)

// logLines are the JSON log records written so far.
func logLines(t *testing.T, v *env) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(v.log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// withID sends a GET with the X-Request-ID header (none when id is "") and
// returns the id the reply carries.
func withID(t *testing.T, v *env, user, path, id string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", v.url+path, nil)
	if id != "" {
		req.Header.Set("X-Request-ID", id)
	}
	if user != "" {
		req.SetBasicAuth(user, user+"-password")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, resp.Header.Get("X-Request-ID")
}

// linesOf are the log records that name the request id.
func linesOf(t *testing.T, v *env, id string) []map[string]any {
	var out []map[string]any
	for _, m := range logLines(t, v) {
		if m["request_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

// Every request gets an id: the client's when sane, else a new one; the
// reply and the access log carry it.
func TestRequestID(t *testing.T) {
	v := newEnv(t)
	hex := regexp.MustCompile(`^[0-9a-f]{32}$`)
	_, a := withID(t, v, "", "/t/open", "")
	_, b := withID(t, v, "", "/t/open", "")
	if !hex.MatchString(a) || !hex.MatchString(b) || a == b {
		t.Fatalf("made-up ids %q and %q: want two different 32-hex ids", a, b)
	}
	if got := linesOf(t, v, a); len(got) != 1 || got[0]["msg"] != "request" || got[0]["path"] != "/t/open" {
		t.Errorf("log records with id %s: %v", a, got)
	}
	if _, got := withID(t, v, "", "/t/open", "client-42/a.b"); got != "client-42/a.b" {
		t.Errorf("a sane client id came back as %q", got)
	}
	for _, bad := range []string{strings.Repeat("x", 129), "two words", "tab\there", "caf\u00e9"} {
		if _, got := withID(t, v, "", "/t/open", bad); got == bad || !hex.MatchString(got) {
			t.Errorf("client id %q came back as %q, want a new one", bad, got)
		}
	}
	if _, got := withID(t, v, "", "/t/open", strings.Repeat("y", 128)); got != strings.Repeat("y", 128) {
		t.Errorf("a 128-character id was replaced by %q", got)
	}
}

// Errors are logged with their request's id: the error reply in the access
// log, a handler's own error record, a panic.
func TestRequestIDInErrorLogs(t *testing.T) {
	v := newEnv(t)
	resp, _ := withID(t, v, "ann", "/api/irego/users", "forbidden-1")
	got := linesOf(t, v, "forbidden-1")
	if resp.StatusCode != http.StatusForbidden || len(got) != 1 || !strings.Contains(got[0]["error"].(string), "User Not Authorized") {
		t.Errorf("403: status %d, log records %v", resp.StatusCode, got)
	}
	withID(t, v, "", "/t/panic", "panic-1")
	got = linesOf(t, v, "panic-1")
	if len(got) != 2 || got[0]["msg"] != "panic serving request" || got[1]["status"] != float64(500) {
		t.Errorf("panic: log records %v", got)
	}
	// A failed sign-in that starts a delay is logged with its request.
	v.users.Throttle = &auth.Throttle{Free: 1, Delay: time.Hour, MaxFailures: 10, Lockout: time.Hour}
	for _, id := range []string{"wrong-1", "wrong-2"} {
		req, _ := http.NewRequest("GET", v.url+"/t/itil", nil)
		req.Header.Set("X-Request-ID", id)
		req.SetBasicAuth("root", "not-the-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got = linesOf(t, v, "wrong-2")
	if len(got) != 2 || got[0]["msg"] != "failed sign-ins" || got[1]["status"] != float64(401) {
		t.Errorf("the sign-in that started a delay: log records %v", got)
	}
	// A closed store fails sign-in: the server logs the failure and the
	// access log the 500, both with the id.
	v.e.Close()
	resp, _ = withID(t, v, "ann", "/t/itil", "closed-1")
	got = linesOf(t, v, "closed-1")
	if resp.StatusCode != http.StatusInternalServerError || len(got) != 2 ||
		got[0]["msg"] != "reading user" || got[0]["level"] != "ERROR" || got[1]["msg"] != "request" || got[1]["error"] == nil {
		t.Errorf("store failure: status %d, log records %v", resp.StatusCode, got)
	}
}

// The OpenAPI document describes the header, as a parameter every
// operation takes and a header every reply carries.
func TestRequestIDDescribed(t *testing.T) {
	v := newEnv(t)
	_, body := v.do(t, "", "GET", "/api/irego/openapi.json", nil)
	var d struct {
		Components struct {
			Parameters map[string]struct{ Name, In string }    `json:"parameters"`
			Headers    map[string]struct{ Description string } `json:"headers"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if p := d.Components.Parameters["RequestId"]; p.Name != "X-Request-ID" || p.In != "header" {
		t.Errorf("components.parameters.RequestId = %+v", p)
	}
	if h := d.Components.Headers["RequestId"]; !strings.Contains(h.Description, "Every reply") {
		t.Errorf("components.headers.RequestId = %+v", h)
	}
}
