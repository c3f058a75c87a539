package ui_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/server/ui"
)

func TestSignInAndOut(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/ui/signin") {
		t.Fatalf("signed out, /ui/ answered %d %q; want a redirect to the sign-in page", p.Status, p.Location)
	}
	form := b.get("/ui/signin")
	wrong := b.post("/ui/signin", url.Values{"csrf": {token(t, form)}, "name": {"root"}, "password": {"not-the-password"}})
	refusedSignIn(t, wrong, "wrong")
	wrong = b.get(wrong.Location)
	mustContain(t, wrong, "Wrong user name or password.", `value="root"`)
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Fatalf("after a wrong password, /ui/ answered %d; want the sign-in redirect", p.Status)
	}
	form = b.get("/ui/signin")
	ok := b.post("/ui/signin", url.Values{"csrf": {token(t, form)}, "name": {"root"}, "password": {password("root")}, "next": {"/ui/queues"}})
	if ok.Status != http.StatusSeeOther || ok.Location != "/ui/queues" {
		t.Fatalf("sign-in: %d %q, want 303 to /ui/queues", ok.Status, ok.Location)
	}
	cookie := ""
	for _, c := range ok.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "irego_console=") {
			cookie = c
		}
	}
	for _, attr := range []string{"Path=/ui/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie %q is Secure over plain HTTP, where the browser would drop it", cookie)
	}
	home := b.get("/ui/")
	mustContain(t, home, "root", "(admin)", "Sign out")
	csrf := token(t, home)
	if p := b.post("/ui/signout", url.Values{}); p.Status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", p.Status)
	}
	if p := b.get("/ui/"); p.Status != http.StatusOK {
		t.Fatalf("a refused sign-out ended the session: %d", p.Status)
	}
	if p := b.post("/ui/signout", url.Values{"csrf": {csrf}}); p.Status != http.StatusSeeOther {
		t.Errorf("sign-out: %d, want 303", p.Status)
	}
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Errorf("after sign-out /ui/ answered %d; want the sign-in redirect", p.Status)
	}
}

// refusedSignIn checks that a sign-in was refused with a redirect back to
// the form (so a reload does not post the password again), saying why.
func refusedSignIn(t *testing.T, p *page, why string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/ui/signin?") || !strings.Contains(p.Location, "failed="+why) {
		t.Errorf("refused sign-in answered %d %q; want 303 to the form with failed=%s", p.Status, p.Location, why)
	}
}

// A sign-in form posted without the token of the browser's own form (a
// forged cross-site form, say) is refused even with the right password.
func TestSignInNeedsItsToken(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	p := b.post("/ui/signin", url.Values{"name": {"root"}, "password": {password("root")}})
	refusedSignIn(t, p, "token")
	other := v.browser(t, nil)
	stolen := token(t, other.get("/ui/signin"))
	b.get("/ui/signin") // b's cookie holds a token of its own
	refusedSignIn(t, b.post("/ui/signin", url.Values{"csrf": {stolen}, "name": {"root"}, "password": {password("root")}}), "token")
	form := b.get("/ui/signin")
	req, _ := http.NewRequest("POST", v.URL+"/ui/signin", strings.NewReader(url.Values{"csrf": {token(t, form)}, "name": {"root"}, "password": {password("root")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	refusedSignIn(t, b.do(req), "token")
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Errorf("a refused sign-in signed in: %d", p.Status)
	}
}

func TestSessionCookieIsSecureOverTLS(t *testing.T) {
	v := start(t, true)
	b := v.browser(t, v.tlsClient(t))
	form := b.get("/ui/signin")
	p := b.post("/ui/signin", url.Values{"csrf": {token(t, form)}, "name": {"reader"}, "password": {password("reader")}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in over TLS: %d", p.Status)
	}
	for _, c := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "irego_console=") && !strings.Contains(c, "Secure") {
			t.Errorf("session cookie over TLS is not Secure: %q", c)
		}
	}
}

func TestSessionsExpire(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	b.signIn("reader")
	v.clock.Add(20 * time.Minute)
	if p := b.get("/ui/"); p.Status != http.StatusOK {
		t.Fatalf("20 minutes idle: %d, want the page", p.Status)
	}
	v.clock.Add(31 * time.Minute)
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Errorf("31 minutes idle: %d, want the sign-in redirect", p.Status)
	}
	b.signIn("reader")
	for range 25 { // active, but past the 12-hour lifetime
		v.clock.Add(29 * time.Minute)
		b.get("/ui/")
	}
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Errorf("past the session lifetime: %d, want the sign-in redirect", p.Status)
	}
}

// Behind a TLS-terminating proxy the session cookie is Secure when the
// proxy says https and is trusted; the same header from anybody else is
// ignored.
func TestSecureCookieBehindATrustedProxy(t *testing.T) {
	signIn := func(v *env) string {
		b := v.browser(t, nil)
		req := func(method, path string, form url.Values) *http.Request {
			r, _ := http.NewRequest(method, v.URL+path, strings.NewReader(form.Encode()))
			r.Header.Set("X-Forwarded-Proto", "https")
			if method == "POST" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return r
		}
		form := b.do(req("GET", "/ui/signin", nil))
		p := b.do(req("POST", "/ui/signin", url.Values{"csrf": {token(t, form)}, "name": {"reader"}, "password": {password("reader")}}))
		if p.Status != http.StatusSeeOther || p.Location != "/ui/" {
			t.Fatalf("sign-in through the proxy: %d %q", p.Status, p.Location)
		}
		for _, c := range p.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "irego_console=") {
				return c
			}
		}
		t.Fatal("no session cookie")
		return ""
	}
	trusted := start(t, false)
	proxied := startAt(t, t.TempDir(), false, func(c *ui.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	if c := signIn(proxied); !strings.Contains(c, "; Secure") {
		t.Errorf("behind a trusted proxy saying https the session cookie is not Secure: %q", c)
	}
	if c := signIn(trusted); strings.Contains(c, "Secure") {
		t.Errorf("X-Forwarded-Proto from a client not listed as a proxy made the cookie Secure: %q", c)
	}
	other := startAt(t, t.TempDir(), false, func(c *ui.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	if c := signIn(other); strings.Contains(c, "Secure") {
		t.Errorf("a proxy list without this client's address made the cookie Secure: %q", c)
	}
}

func TestUsersWithoutAConsoleRoleAreTurnedAway(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	form := b.get("/ui/signin")
	p := b.post("/ui/signin", url.Values{"csrf": {token(t, form)}, "name": {"nobody"}, "password": {password("nobody")}})
	refusedSignIn(t, p, "role")
	mustContain(t, b.get(p.Location), "User nobody has none of the roles")
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Errorf("a user without a console role got a session: %d", p.Status)
	}
}

// duplicates makes one open de-duplication task and returns its sys_id.
func duplicates(t *testing.T, v *env) string {
	t.Helper()
	v.apply(t, "ServiceNow", `{"items": [{"className": "cmdb_ci_computer", "values": {"name": "twin", "serial_number": "A-1"}},
		{"className": "cmdb_ci_computer", "values": {"name": "twin", "serial_number": "B-2"}}]}`)
	v.apply(t, "ServiceNow", `{"items": [{"className": "cmdb_ci_computer", "values": {"name": "twin"}}]}`)
	tasks, err := v.Engine.DuplicateTasks(context.Background(), engine.TaskOpen)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("want one open task, got %d (%v)", len(tasks), err)
	}
	return tasks[0].SysID
}

func TestReadOnlyUsersSeeNoWriteActions(t *testing.T) {
	v := start(t, false)
	id := duplicates(t, v)
	reader := v.browser(t, nil)
	csrf := reader.signIn("reader")
	q := reader.get("/ui/queues")
	mustContain(t, q, "De-duplication tasks (1 open)", "twin")
	if strings.Contains(q.Body, "/merge") || strings.Contains(q.Body, "Dismiss") {
		t.Errorf("a read-only user is offered the merge or dismiss action")
	}
	if p := reader.post("/ui/duplicates/"+id+"/merge", url.Values{"csrf": {csrf}}); p.Status != http.StatusForbidden {
		t.Errorf("merge by a read-only user: %d, want 403", p.Status)
	}
	admin := v.browser(t, nil)
	csrf = admin.signIn("root")
	q = admin.get("/ui/queues")
	mustContain(t, q, "/ui/duplicates/"+id+"/merge", "Merge into the oldest")
	if p := admin.post("/ui/duplicates/"+id+"/merge", url.Values{"csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Errorf("merge with a wrong CSRF token: %d, want 403", p.Status)
	}
	if tasks, _ := v.Engine.DuplicateTasks(context.Background(), engine.TaskOpen); len(tasks) != 1 {
		t.Fatalf("a refused merge closed the task")
	}
	p := admin.post("/ui/duplicates/"+id+"/merge", url.Values{"csrf": {csrf}})
	if p.Status != http.StatusSeeOther || p.Location != "/ui/queues" {
		t.Fatalf("merge: %d %q, want 303 to /ui/queues (a reload must not post again)\n%s", p.Status, p.Location, p.Body)
	}
	p = admin.get(p.Location)
	mustContain(t, p, "merged: 1 CI(s) folded into", "De-duplication tasks (0 open)")
	if p := admin.get("/ui/queues"); strings.Contains(p.Body, "merged: 1 CI(s)") {
		t.Error("the merge's notice shows again on the next page")
	}
	if tasks, _ := v.Engine.DuplicateTasks(context.Background(), engine.TaskOpen); len(tasks) != 0 {
		t.Errorf("after the merge %d tasks are open", len(tasks))
	}
	if p := admin.post("/ui/duplicates/"+id+"/merge", url.Values{"csrf": {csrf}}); p.Status != http.StatusConflict {
		t.Errorf("merging a closed task: %d, want 409", p.Status)
	}
}

var resultLink = regexp.MustCompile(`<a href="/ui/ci/([0-9a-f]{32})">`)
var nextLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// Paging through a class visits each CI once; the name and sys_id
// searches find theirs.
func TestSearch(t *testing.T) {
	v := start(t, false)
	v.apply(t, "ServiceNow", computers(60))
	v.apply(t, "ServiceNow", "byol-dedicated-vm.json")
	b := v.browser(t, nil)
	b.signIn("reader")
	seen := map[string]bool{}
	p := b.get("/ui/?class=cmdb_ci_computer&value=")
	mustContain(t, p, "Found 61", "through the class membership keys")
	for pages := 1; ; pages++ {
		for _, m := range resultLink.FindAllStringSubmatch(p.Body, -1) {
			if seen[m[1]] {
				t.Errorf("page %d repeats %s", pages, m[1])
			}
			seen[m[1]] = true
		}
		m := nextLink.FindStringSubmatch(p.Body)
		if m == nil {
			if pages != 3 {
				t.Errorf("%d pages of 25 for 61 CIs, want 3", pages)
			}
			break
		}
		p = b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	if len(seen) != 61 {
		t.Errorf("paging showed %d CIs, want 61", len(seen))
	}
	p = b.get("/ui/?class=cmdb_ci&field=name&value=host-042")
	links := resultLink.FindAllStringSubmatch(p.Body, -1)
	if len(links) != 1 {
		t.Fatalf("name search found %d, want 1", len(links))
	}
	// cmdb_ci holds the BYOL chain's account, not identified by name: the
	// name index of every CI answers.
	mustContain(t, p, "host-042", "through the class&#39;s index")
	p = b.get("/ui/?class=cmdb_ci_computer&field=name&value=host-042")
	if got := resultLink.FindAllStringSubmatch(p.Body, -1); len(got) != 1 || got[0][1] != links[0][1] {
		t.Fatalf("name search in cmdb_ci_computer found %v, want %s", got, links[0][1])
	}
	mustContain(t, p, "through the identity index")
	p = b.get("/ui/?class=cmdb_ci&field=sys_id&value=" + links[0][1])
	mustContain(t, p, "host-042", "by sys_id")
	p = b.get("/ui/?class=cmdb_ci_vm_instance&field=sys_id&value=" + links[0][1])
	mustContain(t, p, "not in class cmdb_ci_vm_instance")
	p = b.get("/ui/?class=no_such_class")
	mustContain(t, p, "No class is named")
}

// The CI page names each value's owner, shows the value a lower source
// tried to set, and the explain section tells why it was masked.
func TestCIPageExplainsAMaskedValue(t *testing.T) {
	v := start(t, false)
	res := v.apply(t, "ServiceNow", "computer-servicenow.json")
	v.apply(t, "SCCM", "computer-sccm.json")
	b := v.browser(t, nil)
	b.signIn("reader")
	p := b.get("/ui/ci/" + res.Items[0].SysID)
	mustContain(t, p, "Comp - Reconciled - 1", "masked in the last report", `id="mask-cpu_count"`,
		`masked: <strong class="src">SCCM</strong> reported <q class="val">4</q>`,
		"reported <q>4</q>; kept &#34;2&#34;: owned by ServiceNow (priority 100), which outranks SCCM (priority 200)",
		"Hardware Rule [serial_number]: MATCHED", "from <strong>SCCM</strong>: operation <strong>UPDATE</strong>", "<td>Windows Server 2022</td><td>SCCM</td>")
	if p := b.get("/ui/ci/0123456789abcdef0123456789abcdef"); p.Status != http.StatusNotFound {
		t.Errorf("unknown CI: %d, want 404", p.Status)
	}
	if !strings.Contains(v.logs.String(), `msg="console page" page=ci`) || !strings.Contains(v.logs.String(), "server_time=") {
		t.Errorf("the CI page's server time is not logged:\n%s", v.logs.String())
	}
	// The owner reporting again leaves SCCM's refused value in place.
	v.apply(t, "ServiceNow", "computer-servicenow.json")
	p = b.get("/ui/ci/" + res.Items[0].SysID)
	mustContain(t, p, `masked: <strong class="src">SCCM</strong> reported <q class="val">4</q>`, "from <strong>ServiceNow</strong>")
	if strings.Contains(p.Body, "masked in the last report") {
		t.Error("the owner's report masked nothing, yet the page says the last report masked a value")
	}
}

// The last report's identification attempts and the masked values are
// kept in the store: a restarted server still shows them.
func TestExplainSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	v := startAt(t, dir, false)
	res := v.apply(t, "ServiceNow", "computer-servicenow.json")
	v.apply(t, "SCCM", "computer-sccm.json")
	v.stop(t)
	v = startAt(t, dir, false)
	b := v.browser(t, nil)
	b.signIn("reader")
	p := b.get("/ui/ci/" + res.Items[0].SysID)
	mustContain(t, p, "Hardware Rule [serial_number]: MATCHED", `class="decided"`, `id="mask-cpu_count"`,
		`masked: <strong class="src">SCCM</strong> reported <q class="val">4</q>`)
	if strings.Contains(p.Body, "No report of this CI was kept") {
		t.Error("after a restart the CI page says no report was kept")
	}
}

// A hub's graph draws at most the cap and says how many it hides.
func TestGraphCapsAndFilters(t *testing.T) {
	v := start(t, false)
	var items, rels []string
	items = append(items, `{"className": "cmdb_ci_cloud_service_account", "values": {"account_id": "123456789012", "name": "Hub"}}`)
	for i := range 200 {
		items = append(items, `{"className": "cmdb_ci_aws_datacenter", "values": {"object_id": "dc-`+itoa(i)+`", "name": "dc-`+itoa(i)+`"}}`)
		rels = append(rels, `{"type": "Hosted on::Hosts", "parent": `+itoa(i+1)+`, "child": 0}`)
	}
	res := v.apply(t, "AWS", `{"items": [`+strings.Join(items, ",")+`], "relations": [`+strings.Join(rels, ",")+`]}`)
	b := v.browser(t, nil)
	b.signIn("reader")
	p := b.get("/ui/ci/" + res.Items[0].SysID + "/graph?depth=1")
	mustContain(t, p, "150 CIs and 149 relations shown; 51 hidden")
	if n := strings.Count(p.Body, `class="node`); n != 150 {
		t.Errorf("%d nodes drawn, want 150", n)
	}
	p = b.get("/ui/ci/" + res.Items[0].SysID + "/graph?depth=1&type=Runs+on::Runs")
	mustContain(t, p, "1 CIs and 0 relations shown; 200 relations left out by the filter")
}

func itoa(i int) string { return strconv.Itoa(i) }

// The license page charts the last import's peak per product and metric
// and drills down to the computer systems behind it.
func TestLicensePage(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	b.signIn("reader")
	mustContain(t, b.get("/ui/license"), "none yet", "No usage")
	v.apply(t, "ServiceNow", "byol-dedicated-vm.json")
	if _, err := v.License.Import(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := b.get("/ui/license")
	mustContain(t, p, "successful", "<svg class=\"chart\"", "SQL Server", "behind the peak")
	m := regexp.MustCompile(`href="(/ui/license\?title=[0-9]+&amp;metric=[A-Z_]+)#drill"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no drill-down link in the license page:\n%s", p.Body)
	}
	d := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	mustContain(t, d, "Computer systems behind", "AWS Dedicated Host - 1")
}

// Quantities are written in full, however large: a host of 40,000 cores
// peaks at 2800000 PVUs, not 2.8e+06.
func TestLicensePageWritesQuantitiesInFull(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	b.signIn("reader")
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "byol-dedicated-vm.json"))
	if err != nil {
		t.Fatal(err)
	}
	v.apply(t, "ServiceNow", strings.Replace(string(example), `"cpu_core_count": 32`, `"cpu_core_count": 40000`, 1))
	if _, err := v.License.Import(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := b.get("/ui/license")
	mustContain(t, p, "<td>2800000</td>")
	if strings.Contains(p.Body, "e+0") {
		t.Errorf("the license page writes a quantity as a float:\n%s", p.Body)
	}
	m := regexp.MustCompile(`href="(/ui/license\?title=[0-9]+&amp;metric=PVU_FULL_CAP)#drill"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no PVU drill-down link in the license page:\n%s", p.Body)
	}
	mustContain(t, b.get(strings.ReplaceAll(m[1], "&amp;", "&")), "peak 2800000 on")
}

// The user is read on every request: a role taken away applies at once.
func TestRoleChangesApplyAtOnce(t *testing.T) {
	v := start(t, false)
	b := v.browser(t, nil)
	b.signIn("reader")
	if _, err := v.Users.Update("reader", auth.Change{Roles: []string{"sam_user"}}); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/ui/"); p.Status != http.StatusForbidden {
		t.Errorf("after losing cmdb_read: %d, want 403", p.Status)
	}
	if err := v.Users.Delete("reader"); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/ui/"); p.Status != http.StatusSeeOther {
		t.Errorf("after the user was deleted: %d, want the sign-in redirect", p.Status)
	}
}

// The graph's filter leaves out what was offered and unchecked, so a
// deeper walk still meets classes the shallower one had not.
func TestGraphFilterKeepsWhatItHadNotOffered(t *testing.T) {
	v := start(t, false)
	res := v.apply(t, "ServiceNow", "byol-dedicated-vm.json")
	vm := res.Items[1].SysID
	b := v.browser(t, nil)
	b.signIn("reader")
	q := url.Values{"depth": {"3"}}
	for _, c := range []string{"cmdb_ci_vm_instance", "cmdb_ci_computer", "cmdb_ci_cloud_host", "cmdb_ci_aws_datacenter"} {
		q.Add("offered_class", c)
		q.Add("class", c)
	}
	p := b.get("/ui/ci/" + vm + "/graph?" + q.Encode())
	mustContain(t, p, "5 CIs and 4 relations shown", `data-class="cmdb_ci_cloud_service_account"`,
		// the computer (column 1) virtualized by the VM (column 0): the arrow starts at the computer
		`data-type="Virtualized by::Virtualizes" data-from="`+res.Items[0].SysID+`" data-to="`+vm+`"><path d="M320 `)
	q.Del("class")
	q.Add("class", "cmdb_ci_vm_instance")
	q.Add("class", "cmdb_ci_computer")
	p = b.get("/ui/ci/" + vm + "/graph?" + q.Encode())
	mustContain(t, p, "2 CIs and 1 relations shown; 1 relations left out by the filter")
}
