package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/settings"
)

// TestTokenScheme: a group with AuthToken takes the Token header, or token=
// while the setting allows it, and never HTTP Basic.
func TestTokenScheme(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	routes := func(*engine.Engine) []api.Group {
		return []api.Group{{Name: "t", Auth: api.AuthToken, Routes: []api.Route{{Method: "GET", Path: "/t", Roles: []string{"reader"}, Handler: ok}}}}
	}
	s := servertest.Start(t, routes, servertest.Options{Users: map[string][]string{"ann": {"reader"}, "bob": {"writer"}}})
	ann, _ := s.Users.Token("ann")
	bob, _ := s.Users.Token("bob")
	get := func(query string, header map[string]string, basic bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+"/t"+query, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if basic {
			req.SetBasicAuth("ann", servertest.Password("ann"))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, c := range []struct {
		name   string
		query  string
		header map[string]string
		basic  bool
		want   int
	}{
		{"header", "", map[string]string{"Token": ann}, false, 204},
		{"url", "?token=" + ann, nil, false, 204},
		{"header wins", "?token=" + ann, map[string]string{"Token": "bad"}, false, 401},
		{"no role", "", map[string]string{"Token": bob}, false, 403},
		{"basic", "", nil, true, 401},
		{"nothing", "", nil, false, 401},
	} {
		if resp := get(c.query, c.header, c.basic); resp.StatusCode != c.want || resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: %d %v, want %d without WWW-Authenticate", c.name, resp.StatusCode, resp.Header, c.want)
		}
	}
	if err := settings.New(s.Engine.Store()).Set(map[string]string{settings.TokenInURL: "false"}); err != nil {
		t.Fatal(err)
	}
	if resp := get("?token="+ann, nil, false); resp.StatusCode != 401 {
		t.Errorf("URL token with api_token_in_url_enabled false: %d", resp.StatusCode)
	}
}

// TestRun: Serve runs a group's Run while it serves and waits for it.
func TestRun(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan struct{})
	run := func(ctx context.Context, _ *slog.Logger) {
		close(started)
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // Serve must wait for this
		close(stopped)
	}
	srv := servertest.Start(t, func(*engine.Engine) []api.Group { return []api.Group{{Name: "bg", Run: run}} }, servertest.Options{}).Server
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Error("Serve returned before Run did")
	}
}
