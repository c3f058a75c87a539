package servicenow_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
)

// users of every test server: name → roles.
var testUsers = map[string][]string{
	"root":   {auth.Admin},
	"ann":    {"itil"},
	"sam":    {"sam_developer"},
	"reader": {"cmdb_read"},
}

// env is the whole stack over real HTTP: Badger on disk, the engine, the
// server with the ServiceNow routes and a body limit of 1 MiB.
type env struct {
	e   *engine.Engine
	url string
	s   *servertest.Server
}

func newEnv(t *testing.T) *env { return serveEngine(t, nil) }

// serveEngine serves e (nil: a new engine on a temporary directory).
func serveEngine(t *testing.T, e *engine.Engine) *env {
	t.Helper()
	routes := func(e *engine.Engine) []api.Group { return []api.Group{servicenow.Routes(e)} }
	s := servertest.Start(t, routes, servertest.Options{Engine: e, Users: testUsers, MaxBody: 1 << 20})
	return &env{e: s.Engine, url: s.URL, s: s}
}

// request is one call: who, what, and the headers that matter here.
type request struct {
	user, method, path string
	body               string
	contentType        string // default application/json
	accept             string
}

// do sends r and returns the response with its body read.
func (v *env) do(t *testing.T, r request) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{}
	if r.contentType != "" {
		h.Set("Content-Type", r.contentType)
	}
	if r.accept != "" {
		h.Set("Accept", r.accept)
	}
	return v.s.Do(t, r.user, r.method, r.path, r.body, h)
}

// call sends r, requires the status and decodes the JSON reply into out
// (when out is not nil).
func (v *env) call(t *testing.T, r request, status int, out any) *http.Response {
	t.Helper()
	resp, b := v.do(t, r)
	if resp.StatusCode != status {
		t.Fatalf("%s %s as %q: status %d, want %d: %s", r.method, r.path, r.user, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: reply %s: %v", r.method, r.path, b, err)
		}
	}
	return resp
}

// errorReply is ServiceNow's error envelope.
type errorReply struct {
	Error struct {
		Message string  `json:"message"`
		Detail  *string `json:"detail"`
	} `json:"error"`
	Status string `json:"status"`
}

func (e errorReply) String() string {
	d := ""
	if e.Error.Detail != nil {
		d = *e.Error.Detail
	}
	return e.Error.Message + ": " + d
}

// wantError sends r and requires the status and an error envelope whose
// message and detail contain want.
func (v *env) wantError(t *testing.T, r request, status int, want string) *http.Response {
	t.Helper()
	var er errorReply
	resp := v.call(t, r, status, &er)
	if er.Status != "failure" || !strings.Contains(er.String(), want) {
		t.Errorf("%s %s: error %q (status %q), want it to contain %q", r.method, r.path, er, er.Status, want)
	}
	return resp
}

// byol is the repository's strict-JSON copy of the seed's BYOL payload.
func byol(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// applyResult is the part of the IRE output the tests look at.
type applyResult struct {
	Result struct {
		Items []struct {
			ClassName string `json:"className"`
			Operation string `json:"operation"`
			SysID     string `json:"sysId"`
			Errors    []struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			} `json:"errors"`
		} `json:"items"`
		Relations []struct {
			Operation string `json:"operation"`
		} `json:"relations"`
		HasError bool `json:"hasError"`
	} `json:"result"`
}

// sysIDs maps class names to the sys_ids of an apply result.
func (a applyResult) sysIDs() map[string]string {
	m := map[string]string{}
	for _, it := range a.Result.Items {
		m[it.ClassName] = it.SysID
	}
	return m
}
