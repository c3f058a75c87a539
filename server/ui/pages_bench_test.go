package ui_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/server"
	"github.com/irego/irego/server/ui"
)

// BenchmarkPages times console pages over real HTTP. It uses the store in
// $IREGO_BENCH_STORE when set (e.g. one `irego bench --preload 1000000`
// filled), else 500 BYOL chains. Every page must answer 200.
//
//	IREGO_BENCH_STORE=/path/to/store go test ./server/ui -run '^$' -bench Pages -benchtime 50x
func BenchmarkPages(b *testing.B) {
	dir := os.Getenv("IREGO_BENCH_STORE")
	if dir == "" {
		dir = b.TempDir()
	}
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if os.Getenv("IREGO_BENCH_STORE") == "" {
		v := &env{Engine: e}
		for i := range 500 {
			v.apply(b, "ServiceNow", strings.ReplaceAll(chain, "#", fmt.Sprint(i)))
		}
	}
	users := auth.New(e.Store())
	users.Cost = bcrypt.MinCost
	if _, err := users.Add("bench-reader", password("bench-reader"), []string{"cmdb_read"}); err != nil && err != auth.ErrExists {
		b.Fatal(err)
	}
	c, err := ui.New(ui.Config{Engine: e, Users: users, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Engine: e, Users: users, Logger: slog.New(slog.DiscardHandler), Groups: []api.Group{c.Group()}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	br := (&env{URL: ts.URL}).browser(b, nil)
	br.signIn("bench-reader")
	first, err := e.BrowseClass(ctx, "cmdb_ci_computer", "", 1, 1)
	if err != nil || len(first.Records) == 0 {
		b.Fatalf("no computer in the store: %v", err)
	}
	computer := first.Records[0].SysID
	vms, err := e.BrowseClass(ctx, "cmdb_ci_vm_instance", "", 1, 1)
	if err != nil || len(vms.Records) == 0 {
		b.Fatalf("no VM instance in the store: %v", err)
	}
	b.Logf("store: %d+ computers", first.Total)
	for _, p := range []struct{ name, path string }{
		{"search-class-first-page", "/ui/?class=cmdb_ci&value="},
		{"search-class-cursor-mid", "/ui/?class=cmdb_ci_computer&value=&after=cmdb_ci_computer/8000000000000000000000000000000"},
		{"search-sys-id", "/ui/?class=cmdb_ci&field=sys_id&value=" + computer},
		{"search-name-cmdb_ci", "/ui/?class=cmdb_ci&field=name&value=" + url.QueryEscape(fmt.Sprint(first.Records[0].Values["name"]))},
		{"ci", "/ui/ci/" + computer},
		{"graph-depth-3", "/ui/ci/" + vms.Records[0].SysID + "/graph?depth=3"},
		{"queues", "/ui/queues"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if pg := br.get(p.path); pg.Status != http.StatusOK {
					b.Fatalf("%s: %d", p.path, pg.Status)
				}
			}
		})
	}
}

// chain is one BYOL chain; # numbers it.
const chain = `{"items": [
  {"className": "cmdb_ci_computer", "values": {"name": "bench-#", "cpu_count": 2, "cpu_core_count": 4, "cpu_core_thread": 2, "virtual": true}},
  {"className": "cmdb_ci_vm_instance", "values": {"object_id": "i-#", "name": "vm-#"}},
  {"className": "cmdb_ci_cloud_host", "values": {"object_id": "h-#", "name": "host-#", "cpu_core_count": 8}},
  {"className": "cmdb_ci_aws_datacenter", "values": {"object_id": "dc-#", "name": "dc-#"}},
  {"className": "cmdb_ci_cloud_service_account", "values": {"account_id": "acct-#", "name": "account-#"}}],
 "relations": [
  {"type": "Virtualized by::Virtualizes", "parent": 0, "child": 1},
  {"type": "Runs on::Runs", "parent": 1, "child": 2},
  {"type": "Hosted on::Hosts", "parent": 2, "child": 3},
  {"type": "Hosted on::Hosts", "parent": 3, "child": 4}]}`
