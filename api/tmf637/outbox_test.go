package tmf637_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
)

// A product written through the identification API, which knows nothing
// of TMF637, reaches the listeners: events come from the engine's outbox,
// not from the product API's handlers.
func TestHubHearsProductsWrittenThroughIdentification(t *testing.T) {
	routes := func(e *engine.Engine) []api.Group {
		return []api.Group{tmf637.New(e, tmf637.Options{AllowCallbacks: loopback, Backoff: 10 * time.Millisecond}), servicenow.Routes(e)}
	}
	s := servertest.Start(t, routes, servertest.Options{Users: testUsers})
	v := &env{e: s.Engine, url: s.URL, s: s}
	l := newListener(t, 0, nil)
	v.register(t, l, "")
	p := `{"items":[{"className":"sn_prd_invt_product_inventory","values":{"pid":"IRE-1","name":"from IRE","state":"active"}}]}`
	resp, body := s.Do(t, "root", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", p, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("identifyreconcile: %d %s", resp.StatusCode, body)
	}
	got := l.wait(t, 1)
	if got[0].eventType != "ProductCreateEvent" || got[0].status != "active" || got[0].path != "/client/listener/productCreateEvent" {
		t.Fatalf("events: %v", got)
	}
	p = strings.Replace(p, `"state":"active"`, `"state":"suspended"`, 1)
	if resp, body := s.Do(t, "root", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", p, nil); resp.StatusCode != 200 {
		t.Fatalf("identifyreconcile: %d %s", resp.StatusCode, body)
	}
	if got := l.wait(t, 2); got[1].eventType != "ProductStateChangeEvent" || got[1].status != "suspended" || got[1].productID != got[0].productID {
		t.Errorf("events: %v", got)
	}
}

// Two PATCHes sent at once with the same If-Match: one is applied, the
// other finds the product changed (412); neither is lost silently.
func TestPatchIfMatch(t *testing.T) {
	v := newEnv(t)
	p := v.create(t, `{"name": "p", "status": "active"}`)
	id := str(p["id"])
	r := v.call(t, "GET", tmf+"/product/"+id, "", http.StatusOK, nil)
	tag := r.Header.Get("ETag")
	first := tag
	if tag == "" || !strings.HasPrefix(tag, `"`) {
		t.Fatalf("ETag %q", tag)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		status := make([]int, 2)
		etags := make([]string, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := v.s.Do(t, "pi", "PATCH", tmf+"/product/"+id, fmt.Sprintf(`{"description": "round %d by %d"}`, round, i), http.Header{"If-Match": {tag}})
				status[i], etags[i] = resp.StatusCode, resp.Header.Get("ETag")
			}()
		}
		wg.Wait()
		if status[0]+status[1] != 200+412 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, status)
		}
		won := 0
		if status[1] == 200 {
			won = 1
		}
		tag = etags[won]
		var got obj
		r := v.call(t, "GET", tmf+"/product/"+id, "", http.StatusOK, &got)
		if got["description"] != fmt.Sprintf("round %d by %d", round, won) || r.Header.Get("ETag") != tag {
			t.Fatalf("round %d: product %v with ETag %s, the 200 said %s", round, got["description"], r.Header.Get("ETag"), tag)
		}
	}
	// A stale tag on ServiceNow's path and on DELETE: 412 in each API's
	// shape; the current one deletes.
	resp, body := v.s.Do(t, "pi", "PATCH", sn+"/product/"+id, `{"name": "q"}`, http.Header{"If-Match": {first}})
	if resp.StatusCode != 412 || !strings.Contains(string(body), `"status":"failure"`) {
		t.Errorf("ServiceNow PATCH with a stale tag: %d %s", resp.StatusCode, body)
	}
	resp, body = v.s.Do(t, "pi", "PATCH", sn+"/product/"+id, `{"name": "q"}`, http.Header{"If-Match": {tag}})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag {
		t.Fatalf("ServiceNow PATCH with the current tag: %d ETag %s %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	tag = resp.Header.Get("ETag")
	resp, body = v.s.Do(t, "pi", "DELETE", tmf+"/product/"+id, "", http.Header{"If-Match": {first}})
	if resp.StatusCode != 412 || !strings.Contains(string(body), `"@type":"Error"`) {
		t.Errorf("DELETE with a stale tag: %d %s", resp.StatusCode, body)
	}
	// A method the path does not serve: 405 in TMF637's Error, with Allow.
	resp, body = v.s.Do(t, "pi", "PUT", tmf+"/product/"+id, "{}", nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "DELETE, GET, HEAD, PATCH" || !strings.Contains(string(body), `"@type":"Error"`) {
		t.Errorf("PUT a product: %d Allow %q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	if resp, body := v.s.Do(t, "pi", "DELETE", tmf+"/product/"+id, "", http.Header{"If-Match": {tag}}); resp.StatusCode != 204 {
		t.Errorf("DELETE with the current tag: %d %s", resp.StatusCode, body)
	}
}
