package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// productListener is a TMF637 client's listener that refuses every event
// (503) after the first `take` until open is called: a listener that has
// fallen behind.
type productListener struct {
	mu     sync.Mutex
	take   int
	open   bool
	events []heard // taken, in arrival order (duplicates too)
}

type heard struct{ id, eventType, product string }

func (l *productListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.open && len(l.events) >= l.take {
		http.Error(w, "behind", http.StatusServiceUnavailable)
		return
	}
	var ev struct {
		EventID   string `json:"eventId"`
		EventType string `json:"eventType"`
		Event     struct {
			Product struct {
				ID string `json:"id"`
			} `json:"product"`
		} `json:"event"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l.events = append(l.events, heard{ev.EventID, ev.EventType, ev.Event.Product.ID})
	w.WriteHeader(http.StatusNoContent)
}

func (l *productListener) heard() []heard {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// TestProductEventsSurviveSIGKILL kills irego serve while its listener is
// behind and events are pending; after a restart the listener receives
// every committed change at least once, in order per product, none
// missing, as the store's history tells them.
func TestProductEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a server process")
	}
	bin := buildIrego(t)
	db := t.TempDir()
	l := &productListener{take: 3}
	ls := httptest.NewServer(l)
	defer ls.Close()

	cmd, base := startServeHub(t, bin, db)
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.SetBasicAuth("admin", "crash-test-password")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return out
	}
	const products = "/tmf-api/productInventory/v4/product"
	call("POST", "/tmf-api/productInventory/v4/hub", fmt.Sprintf(`{"callback": %q}`, ls.URL+"/client"), 201)
	var ids []string
	for i := range 4 {
		p := call("POST", products, fmt.Sprintf(`{"name": "p%d", "status": "created"}`, i), 201)
		ids = append(ids, p["id"].(string))
	}
	for round := range 3 {
		for i, id := range ids {
			call("PATCH", products+"/"+id, fmt.Sprintf(`{"description": "round %d"}`, round), 200)
			if (i+round)%2 == 0 {
				status := []string{"active", "suspended", "active"}[round]
				call("PATCH", products+"/"+id, fmt.Sprintf(`{"status": %q}`, status), 200)
			}
		}
	}
	// Some events are delivered and acknowledged, the rest wait.
	waitFor(t, func() bool { return len(l.heard()) >= l.take })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if n := len(l.heard()); n >= 20 {
		t.Fatalf("the listener took %d events before the kill; it was to fall behind", n)
	}

	l.mu.Lock()
	l.open = true
	l.mu.Unlock()
	_, base = startServeHub(t, bin, db)

	// What the store's history says happened to each product, as TMF637
	// events: its insert a create event, each update a state change event
	// when the state moved and an attribute value change event when
	// anything else did.
	want := map[string][]string{}
	total := 0
	for _, id := range ids {
		var h struct {
			Result []struct {
				Op         string         `json:"operation"`
				Attributes map[string]any `json:"attributes"`
			} `json:"result"`
		}
		b, _ := json.Marshal(call("GET", "/api/irego/ci/"+id+"/history", "", 200))
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatal(err)
		}
		for _, c := range h.Result {
			if c.Op == "INSERT" {
				want[id] = append(want[id], "ProductCreateEvent")
				continue
			}
			_, state := c.Attributes["state"]
			if state {
				want[id] = append(want[id], "ProductStateChangeEvent")
			}
			if len(c.Attributes) > 1 || !state {
				want[id] = append(want[id], "ProductAttributeValueChangeEvent")
			}
		}
		total += len(want[id])
	}
	// Every one arrives, after the restart; duplicates are redeliveries of
	// the same event (its eventId), never out of order.
	var got map[string][]string
	waitFor(t, func() bool {
		got = map[string][]string{}
		seen := map[string]bool{}
		last := map[string]int{}
		for _, h := range l.heard() {
			if seen[h.id] {
				continue
			}
			seen[h.id] = true
			seq, err := strconv.Atoi(h.id[:strings.IndexByte(h.id, '-')])
			if err != nil || seq <= last[h.product] {
				t.Fatalf("event %s of product %s arrived after event %d of it", h.id, h.product, last[h.product])
			}
			last[h.product] = seq
			got[h.product] = append(got[h.product], h.eventType)
		}
		return len(seen) >= total
	})
	for _, id := range ids {
		if !slices.Equal(want[id], got[id]) {
			t.Errorf("product %s:\n got %v\nwant %v", id, got[id], want[id])
		}
	}
	t.Logf("%d events for %d products; %d taken before the kill, %d deliveries in all", total, len(ids), l.take, len(l.heard()))
}

// startServeHub starts irego serve on db, allowing listeners on loopback.
func startServeHub(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--log", "json", "--callback-allow", "127.0.0.1/32")
	cmd.Env = append(os.Environ(), "IREGO_ADMIN_PASSWORD=crash-test-password")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, waitListening(t, stderr)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
