package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/irego/irego/auth"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/version"
)

// /readyz answers 200 while the store takes writes, and 503 naming the
// store once it is closed; /healthz stays the liveness probe.
func TestReadyz(t *testing.T) {
	s := servertest.Start(t, nil, servertest.Options{})
	var ok struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	resp, b := s.Do(t, "", "GET", "/readyz", "", nil)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &ok) != nil || ok.Status != "ok" || ok.Checks["store"] != "ok" || ok.Checks["rules"] != "ok" {
		t.Fatalf("GET /readyz: status %d: %s", resp.StatusCode, b)
	}
	if err := s.Engine.Close(); err != nil {
		t.Fatal(err)
	}
	var bad struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	resp, b = s.Do(t, "", "GET", "/readyz", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(b, &bad) != nil || bad.Status != "unavailable" || bad.Checks["store"] == "ok" {
		t.Fatalf("GET /readyz on a closed store: status %d: %s", resp.StatusCode, b)
	}
}

// /api/irego/version answers the running build to any signed-in user.
func TestVersionEndpoint(t *testing.T) {
	s := servertest.Start(t, nil, servertest.Options{Users: map[string][]string{"ann": {"itil"}, "root": {auth.Admin}}})
	if resp, _ := s.Do(t, "", "GET", "/api/irego/version", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous GET /api/irego/version: status %d, want 401", resp.StatusCode)
	}
	resp, b := s.Do(t, "ann", "GET", "/api/irego/version", "", nil)
	var v version.Info
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil {
		t.Fatalf("GET /api/irego/version: status %d: %s", resp.StatusCode, b)
	}
	if want := version.Get(); v != want || v.Go == "" || v.Version == "" {
		t.Errorf("version %+v, want %+v", v, want)
	}
}
