package ilmt_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/license"
)

// TestContractIDLimit: a contract id over the store's key text limit is a
// row error naming contract_id and the limit, not a 500.
func TestContractIDLimit(t *testing.T) {
	v := newEnv(t)
	big := strings.Repeat("x", 70000)
	resp, body := v.do(request{user: "root", method: "PUT", path: "/api/sam/v2/contracts.json", body: `[{"contract_id": "` + big + `", "name": "n", "type": 1, "metric": {"code_name": "PVU_SUB_CAP"}, "purchase_orders": [{"purchase_number": "PO-1", "quantity": 1}]}]`})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "contract_id is 70000 bytes long, over the limit of 4096 bytes") || strings.Contains(string(body), "v1/") {
		t.Fatalf("%d %.600s", resp.StatusCode, body)
	}
}

// TestGetTokenThrottle: failed sign-ins at POST /api/get_token are slowed
// down like HTTP Basic ones: 429 with Retry-After, even for the right
// password, until the wait is over.
func TestGetTokenThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	routes := func(e *engine.Engine) []api.Group {
		users := auth.New(e.Store())
		users.Cost = bcrypt.MinCost
		users.Throttle = &auth.Throttle{Now: func() time.Time { return now }, Free: 1, Delay: time.Minute}
		return []api.Group{ilmt.RoutesFor(license.New(e, license.Options{Logger: slog.New(slog.DiscardHandler)}), users)}
	}
	s := servertest.Start(t, routes, servertest.Options{Users: map[string][]string{"root": {auth.Admin}}})
	post := func(password string) *http.Response {
		resp, err := http.Post(s.URL+"/api/get_token", "application/json", strings.NewReader(`{"user": "root", "password": "`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for range 2 {
		if resp := post("wrong"); resp.StatusCode != 500 { // IBM documents 500 "Bad Request" for a failed sign-in
			t.Fatalf("a wrong password: %d", resp.StatusCode)
		}
	}
	if resp := post(servertest.Password("root")); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("the right password while slowed down: %d %v", resp.StatusCode, resp.Header)
	}
}
