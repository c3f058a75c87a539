package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/store"
)

func eventsEnv(t *testing.T) *servertest.Server {
	t.Helper()
	routes := func(e *engine.Engine) []api.Group { return []api.Group{servicenow.Routes(e)} }
	return servertest.Start(t, routes, servertest.Options{Users: map[string][]string{"root": {"admin"}, "ann": {"itil"}}})
}

type eventsReply struct {
	Result struct {
		Events []engine.Event `json:"events"`
		Next   uint64         `json:"next"`
	} `json:"result"`
}

func getEvents(t *testing.T, s *servertest.Server, query string) eventsReply {
	t.Helper()
	resp, body := s.Do(t, "ann", "GET", "/api/irego/events"+query, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET events%s: %d %s", query, resp.StatusCode, body)
	}
	var out eventsReply
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A BYOL apply through identifyreconcile is one event per CI it changed,
// and a long poll from the next number waits for the next change.
func TestEventsFollowAnApplyThroughREST(t *testing.T) {
	s := eventsEnv(t)
	body, err := os.ReadFile("../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, out := s.Do(t, "ann", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", string(body), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("apply: %d %s", resp.StatusCode, out)
	}
	got := getEvents(t, s, "?from=1")
	records := map[string]bool{}
	if err := s.Engine.Records(context.Background(), func(r *store.Record) error { records[r.SysID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range got.Result.Events {
		if ev.Op != "INSERT" || seen[ev.SysID] || !records[ev.SysID] {
			t.Errorf("event %d: %s of %s (seen before: %v)", ev.Seq, ev.Op, ev.SysID, seen[ev.SysID])
		}
		seen[ev.SysID] = true
	}
	if len(seen) != len(records) || len(records) != 6 {
		t.Fatalf("%d CIs changed, %d records stored, want 6 of each: %+v", len(seen), len(records), got.Result.Events)
	}
	// Single-record reads carry the record's version as their ETag.
	for _, ev := range got.Result.Events {
		for _, path := range []string{"/api/now/table/" + ev.Class + "/" + ev.SysID, "/api/irego/ci/" + ev.SysID} {
			if resp, body := s.Do(t, "ann", "GET", path, "", nil); resp.StatusCode != 200 || resp.Header.Get("ETag") != fmt.Sprintf(`"%d"`, ev.Seq) {
				t.Errorf("GET %s: %d ETag %q, want \"%d\": %.200s", path, resp.StatusCode, resp.Header.Get("ETag"), ev.Seq, body)
			}
		}
	}
	next := got.Result.Next
	if next != 7 {
		t.Errorf("next %d, want 7", next)
	}
	installs := getEvents(t, s, "?class=cmdb_sam_sw_install")
	if len(installs.Result.Events) != 1 || installs.Result.Events[0].Class != "cmdb_sam_sw_install" || installs.Result.Next != 7 {
		t.Errorf("installs only: %+v", installs.Result)
	}
	computers := getEvents(t, s, "?class=cmdb_ci_hardware&limit=1") // the computer extends hardware
	if len(computers.Result.Events) != 1 || computers.Result.Events[0].Class != "cmdb_ci_computer" {
		t.Errorf("hardware: %+v", computers.Result)
	}

	// A long poll from next answers when the next change commits.
	polled := make(chan eventsReply, 1)
	go func() { polled <- getEvents(t, s, fmt.Sprintf("?from=%d&wait=30", next)) }()
	time.Sleep(50 * time.Millisecond) // give the poll time to wait; it answers either way
	p := strings.Replace(string(body), `"cpu_core_count": 4`, `"cpu_core_count": 8`, 1)
	if resp, out := s.Do(t, "ann", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", p, nil); resp.StatusCode != 200 {
		t.Fatalf("apply: %d %s", resp.StatusCode, out)
	}
	r := <-polled
	if len(r.Result.Events) != 1 || r.Result.Events[0].Op != "UPDATE" || r.Result.Events[0].Attributes["cpu_core_count"].After != float64(8) {
		t.Errorf("long poll: %+v", r.Result)
	}
	if empty := getEvents(t, s, fmt.Sprintf("?from=%d", r.Result.Next)); len(empty.Result.Events) != 0 || empty.Result.Next != r.Result.Next {
		t.Errorf("nothing new: %+v", empty.Result)
	}
	for _, q := range []string{"?from=x", "?limit=0", "?limit=5000", "?wait=600", "?class=no_such_class", "?colour=red"} {
		if resp, body := s.Do(t, "ann", "GET", "/api/irego/events"+q, "", nil); resp.StatusCode != 400 || !strings.Contains(string(body), `"status":"failure"`) {
			t.Errorf("GET events%s: %d %s", q, resp.StatusCode, body)
		}
	}
}

// Server-Sent Events stream each change as it commits, resuming after
// Last-Event-ID.
func TestEventsStream(t *testing.T) {
	s := eventsEnv(t)
	apply := func(name string) {
		t.Helper()
		p := fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":%q,"serial_number":%q}}]}`, name, name)
		if resp, out := s.Do(t, "ann", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", p, nil); resp.StatusCode != 200 {
			t.Fatalf("apply: %d %s", resp.StatusCode, out)
		}
	}
	apply("a")
	apply("b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/irego/events", nil)
	req.SetBasicAuth("ann", servertest.Password("ann"))
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var mu sync.Mutex
	var ids []string
	names := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var ev engine.Event
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Errorf("data %s: %v", data, err)
				}
				names <- fmt.Sprint(ev.Values["name"])
			}
		}
	}()
	if n := <-names; n != "b" {
		t.Fatalf("first streamed event names %s, want b (after Last-Event-ID 1)", n)
	}
	apply("c")
	if n := <-names; n != "c" {
		t.Fatalf("streamed %s, want c", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(ids, ",") != "2,3" {
		t.Errorf("ids %v", ids)
	}
}

// Users: GET gives an ETag; PUT and DELETE honour If-Match.
func TestUsersIfMatch(t *testing.T) {
	s := eventsEnv(t)
	resp, body := s.Do(t, "root", "GET", "/api/irego/users/ann", "", nil)
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || tag != `"1"` {
		t.Fatalf("GET ann: %d ETag %q %s", resp.StatusCode, tag, body)
	}
	put := func(tag string) *http.Response {
		resp, _ := s.Do(t, "root", "PUT", "/api/irego/users/ann", `{"roles": ["itil", "asset"]}`, http.Header{"If-Match": {tag}})
		return resp
	}
	if r := put(tag); r.StatusCode != 200 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("PUT at the version read: %d %q", r.StatusCode, r.Header.Get("ETag"))
	}
	if r := put(tag); r.StatusCode != 412 {
		t.Fatalf("PUT with a stale If-Match: %d", r.StatusCode)
	}
	if resp, body := s.Do(t, "root", "DELETE", "/api/irego/users/ann", "", http.Header{"If-Match": {tag}}); resp.StatusCode != 412 || !strings.Contains(string(body), "Precondition failed") {
		t.Fatalf("DELETE with a stale If-Match: %d %s", resp.StatusCode, body)
	}
	if resp, _ := s.Do(t, "root", "DELETE", "/api/irego/users/ann", "", http.Header{"If-Match": {`"2"`}}); resp.StatusCode != 204 {
		t.Fatalf("DELETE at the version read: %d", resp.StatusCode)
	}
	// A method the path does not serve: 405 in the irego error shape.
	resp, body = s.Do(t, "root", "PATCH", "/api/irego/users/root", "{}", nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "DELETE, GET, HEAD, PUT" || !strings.Contains(string(body), `"status":"failure"`) {
		t.Errorf("PATCH a user: %d Allow %q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}
