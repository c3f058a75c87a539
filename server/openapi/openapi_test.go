package openapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/openapitest"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/server/metrics"
	"github.com/irego/irego/server/openapi"
	"github.com/irego/irego/server/ui"
)

// start serves every adapter irego serve mounts, with metrics.
func start(t *testing.T) *servertest.Server {
	return servertest.Start(t, func(e *engine.Engine) []api.Group {
		console, err := ui.New(ui.Config{Engine: e, Users: auth.New(e.Store())})
		if err != nil {
			t.Fatal(err)
		}
		return []api.Group{servicenow.Routes(e), ilmt.Routes(e), tmf637.Routes(e), console.Group()}
	}, servertest.Options{Metrics: metrics.New(), Users: map[string][]string{"root": {auth.Admin}}})
}

type document struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func parse(t *testing.T, b []byte) document {
	t.Helper()
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Every route the server mounts is in the document, and every operation
// the document lists is a route the server mounts.
func TestEveryRouteIsDescribed(t *testing.T) {
	s := start(t)
	d := parse(t, openapi.Document)
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", d.OpenAPI)
	}
	mounted := s.Server.Patterns()
	for _, p := range mounted {
		method, path, _ := strings.Cut(p, " ")
		if path == "/ui" || strings.HasPrefix(path, "/ui/") {
			continue // the web console: HTML pages for people, not part of the API the document describes
		}
		if _, ok := d.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not described in the OpenAPI document", p)
		}
	}
	for path, ops := range d.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if p := strings.ToUpper(method) + " " + path; !slices.Contains(mounted, p) {
				t.Errorf("the OpenAPI document describes %s, which no route serves", p)
			}
		}
	}
	if len(mounted) < 70 {
		t.Errorf("only %d routes mounted; the adapters are missing", len(mounted))
	}
}

// The server serves the document it embeds, and it is valid OpenAPI.
func TestServedDocument(t *testing.T) {
	s := start(t)
	resp, b := s.Do(t, "", "GET", "/api/irego/openapi.json", "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, openapi.Document) {
		t.Fatalf("GET /api/irego/openapi.json: status %d, %d bytes (want the %d embedded)", resp.StatusCode, len(b), len(openapi.Document))
	}
	if _, err := openapitest.Validator(nil); err != nil {
		t.Fatal(err)
	}
}

// A document that says something the server does not do is caught: here
// (test-only) /healthz is said to answer an uptime it does not, and
// /api/irego/version to answer only 201.
func TestMismatchIsCaught(t *testing.T) {
	s := start(t)
	var doc map[string]any
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	health := schemas["Health"].(map[string]any)
	health["required"] = []any{"status", "uptime"}
	version := doc["paths"].(map[string]any)["/api/irego/version"].(map[string]any)["get"].(map[string]any)
	responses := version["responses"].(map[string]any)
	responses["201"] = responses["200"]
	delete(responses, "200")
	delete(responses, "default")
	altered, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	good, err := openapitest.Validator(nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := openapitest.Validator(altered)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, path, want string }{
		{"", "/healthz", "uptime"},
		{"root", "/api/irego/version", "200"},
	} {
		req, _ := http.NewRequest("GET", s.URL+c.path, nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, servertest.Password(c.user))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		replay := func() *http.Response {
			r := *resp
			r.Body = io.NopCloser(bytes.NewReader(body))
			return &r
		}
		if err := openapitest.Check(good, req, replay(), false); err != nil {
			t.Errorf("GET %s against the real document: %v", c.path, err)
		}
		err = openapitest.Check(bad, req, replay(), false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("GET %s against the altered document: %v, want a mismatch naming %q", c.path, err, c.want)
		}
	}
}
