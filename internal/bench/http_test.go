package bench

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// The HTTP target posts payloads to a real server, one after another on
// reused buffers: each lands whole, and a payload the server refuses or
// answers with an error fails the send, naming what the server said.
func classCounts(t *testing.T, e *engine.Engine) map[string]int {
	t.Helper()
	n := map[string]int{}
	err := e.List(context.Background(), "cmdb_ci", func(r *store.Record) error { n[r.Class]++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHTTPSendsToARealServer(t *testing.T) {
	s := servertest.Start(t, func(e *engine.Engine) []api.Group { return []api.Group{servicenow.Routes(e)} },
		servertest.Options{Users: map[string][]string{"ann": {"admin"}}})
	target := &HTTP{BaseURL: s.URL, Source: "ServiceNow", User: "ann", Password: servertest.Password("ann"), Client: http.DefaultClient}
	ctx := context.Background()
	var batch []*payload.Payload
	for k := range 3 {
		batch = append(batch, Chain(k, 0, 2))
	}
	// The same payloads applied in process make the CIs to expect.
	local, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if err := (&InProc{Engine: local, Source: "ServiceNow"}).Send(ctx, batch); err != nil {
		t.Fatal(err)
	}
	want := classCounts(t, local)
	for range 2 { // the second time, every item is known: nothing new
		if err := target.Send(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if got := classCounts(t, s.Engine); !maps.Equal(got, want) {
			t.Fatalf("CIs by class after sending over HTTP %v, in process %v", got, want)
		}
	}

	bad := &payload.Payload{Items: []payload.Item{{ClassName: "no_such_class", Values: map[string]any{"name": "x"}}}}
	if err := target.Send(ctx, []*payload.Payload{bad}); err == nil || !strings.Contains(err.Error(), "no_such_class") {
		t.Fatalf("a payload of an unknown class sent: %v, want its error", err)
	}
	target.Password = "wrong"
	if err := target.Send(ctx, batch[:1]); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("with a wrong password: %v, want the server's 401", err)
	}
}
