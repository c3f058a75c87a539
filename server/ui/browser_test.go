package ui_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// go test ./server/ui -run Browser -docs rewrites the README's screenshots.
var docs = flag.Bool("docs", false, "write the README's console screenshots to docs/")

// chromium finds Debian's chromium. The browser tests skip without it,
// unless IREGO_TEST_BROWSER_REQUIRED is set (CI sets it once chromium is
// installed), when its absence fails them.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("IREGO_TEST_BROWSER_REQUIRED") != "" {
		t.Fatal("IREGO_TEST_BROWSER_REQUIRED is set but no chromium is installed")
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the browser tests")
	return ""
}

// headless starts a fresh headless Chromium and returns a context for
// chromedp actions, ended with the test.
func headless(t *testing.T) context.Context {
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// A bound on a stuck browser, not an assertion on speed.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// shot saves a full-page PNG of the current page in the test's artifact
// directory (go test -artifacts keeps them), and under docs/ with -docs.
func shot(t *testing.T, ctx context.Context, name, docName string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *docs && docName != "" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", docName), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	return value(t, ctx, "reading the location", chromedp.Location())
}

// value runs one action that answers a value.
func value[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// One browser walks the console as a person would: a wrong password, sign
// in, search, open a CI, read why a value was masked, open the graph and
// follow a relation, survive a forged form, sign out.
func TestConsoleInABrowser(t *testing.T) {
	ctx := headless(t)
	v := start(t, false)
	v.apply(t, "ServiceNow", "byol-dedicated-vm.json")
	v.apply(t, "ServiceNow", "computer-servicenow.json")
	v.apply(t, "SCCM", "computer-sccm.json")

	run(t, ctx, "opening the console", chromedp.Navigate(v.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS("#name")))
	if loc := location(t, ctx); !strings.Contains(loc, "/ui/signin") {
		t.Fatalf("signed out, the console opened %s; want the sign-in page", loc)
	}
	run(t, ctx, "keyboard: the first Tab reaches the skip link", chromedp.KeyEvent("\t"))
	focused := value(t, ctx, "reading the focus", chromedp.Evaluate[string](`document.activeElement.className`))
	if focused != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", focused)
	}
	shot(t, ctx, "1-signin", "")

	run(t, ctx, "a wrong password",
		chromedp.SetValue(chromedp.CSS("#name"), "root"), chromedp.SendKeys(chromedp.CSS("#password"), "wrong-password"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	if s := textOf(t, ctx, "#signin-error"); !strings.Contains(s, "Wrong user name or password") {
		t.Errorf("wrong password says %q", s)
	}

	run(t, ctx, "signing in",
		chromedp.SetValue(chromedp.CSS("#name"), "root"), chromedp.SendKeys(chromedp.CSS("#password"), password("root")),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#value")))
	if s := textOf(t, ctx, ".who"); s != "root (admin)" {
		t.Errorf("signed in as %q, want root (admin)", s)
	}

	run(t, ctx, "searching by name",
		chromedp.SetValue(chromedp.CSS("#class"), "cmdb_ci_computer"), chromedp.SetValue(chromedp.CSS("#value"), "Comp - Reconciled - 1"),
		chromedp.Click(chromedp.CSS(`form.search button`)), chromedp.WaitVisible(chromedp.CSS("table.results")))
	shot(t, ctx, "2-search", "")
	run(t, ctx, "opening the CI", chromedp.Click(chromedp.CSS("table.results a")), chromedp.WaitVisible(chromedp.CSS("#explain")))
	if s := textOf(t, ctx, "h1"); !strings.Contains(s, "Comp - Reconciled - 1") {
		t.Errorf("the CI page's heading is %q", s)
	}
	if s := textOf(t, ctx, "tr.masked .attempt"); !strings.HasPrefix(s, "masked: SCCM reported 4 at ") {
		t.Errorf("the refused value shows as %q, want SCCM's 4", s)
	}
	run(t, ctx, "following the masked tag", chromedp.Click(chromedp.CSS(`a.tag[href="#mask-cpu_count"]`)))
	if s := textOf(t, ctx, "#mask-cpu_count"); !strings.Contains(s, "owned by ServiceNow (priority 100), which outranks SCCM (priority 200)") {
		t.Errorf("the masked cpu_count is explained as %q", s)
	}
	value(t, ctx, "scrolling to the top", chromedp.Evaluate[any](`window.scrollTo(0, 0)`))
	shot(t, ctx, "3-ci", "console-ci.png")

	run(t, ctx, "narrow screen", chromedp.EmulateViewport(390, 844))
	fits := value(t, ctx, "measuring the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if !fits {
		t.Errorf("at 390 pixels the CI page scrolls sideways")
	}
	shot(t, ctx, "4-ci-narrow", "")
	run(t, ctx, "wide screen", chromedp.EmulateViewport(1200, 900))

	vm := ""
	for _, it := range mustFind(t, v, "cmdb_ci_vm_instance") {
		vm = it
	}
	run(t, ctx, "opening the VM's graph", chromedp.Navigate(v.URL+"/ui/ci/"+vm), chromedp.WaitVisible(chromedp.CSS("a.button")),
		chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("#graph")),
		chromedp.SetValue(chromedp.CSS("#depth"), "3"), chromedp.Click(chromedp.CSS(`#graph-filter button`)),
		chromedp.WaitVisible(chromedp.CSS(`#graph a[data-class="cmdb_ci_cloud_service_account"]`)))
	if s := textOf(t, ctx, "#graph-status"); !strings.HasPrefix(s, "5 CIs and 4 relations shown") {
		t.Errorf("the BYOL chain's graph says %q, want 5 CIs and 4 relations", s)
	}
	shot(t, ctx, "5-graph", "console-graph.png")
	run(t, ctx, "hiding a class in the page",
		chromedp.Click(chromedp.CSS(`input[data-filter="class"][value="cmdb_ci_cloud_host"]`)))
	hostHidden := value(t, ctx, "reading the host's state", chromedp.Evaluate[bool](`document.querySelector('#graph a[data-class="cmdb_ci_cloud_host"]').classList.contains("off")`))
	if !hostHidden {
		t.Errorf("unchecking cmdb_ci_cloud_host left the host drawn")
	}
	run(t, ctx, "showing it again", chromedp.Click(chromedp.CSS(`input[data-filter="class"][value="cmdb_ci_cloud_host"]`)))
	run(t, ctx, "following the relation to the cloud host",
		chromedp.Click(chromedp.CSS(`#graph a[data-class="cmdb_ci_cloud_host"]`)), chromedp.WaitVisible(chromedp.CSS("#attributes")))
	if s := textOf(t, ctx, "h1"); !strings.Contains(s, "cmdb_ci_cloud_host") {
		t.Errorf("the graph's host node opened %q", s)
	}

	run(t, ctx, "queues", chromedp.Navigate(v.URL+"/ui/queues"), chromedp.WaitVisible(chromedp.CSS("#dup-h")))
	shot(t, ctx, "6-queues", "")
	run(t, ctx, "license", chromedp.Navigate(v.URL+"/ui/license"), chromedp.WaitVisible(chromedp.CSS("#import-h")))
	shot(t, ctx, "7-license", "")

	// A page of another origin posts a forged sign-out form into the console.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/ui/signout"><input name="csrf" value="forged"></form><script>document.forms[0].submit()</script>`, v.URL)
	}))
	defer evil.Close()
	run(t, ctx, "a forged form", chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS(".error")))
	if s := textOf(t, ctx, ".error"); !strings.Contains(s, "security token") {
		t.Errorf("the forged form was answered %q", s)
	}
	run(t, ctx, "still signed in", chromedp.Navigate(v.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS("#value")))

	run(t, ctx, "signing out", chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#name")))
	run(t, ctx, "a page after sign-out", chromedp.Navigate(v.URL+"/ui/queues"), chromedp.WaitVisible(chromedp.CSS("#name")))
	if loc := location(t, ctx); !strings.Contains(loc, "/ui/signin") {
		t.Errorf("after sign-out the queues page opened %s", loc)
	}
}

// mustFind returns the sys_ids of a class's CIs.
func mustFind(t *testing.T, v *env, class string) []string {
	t.Helper()
	b, err := v.Engine.BrowseClass(context.Background(), class, "", 100, 100)
	if err != nil || len(b.Records) == 0 {
		t.Fatalf("no %s: %v", class, err)
	}
	var out []string
	for _, r := range b.Records {
		out = append(out, r.SysID)
	}
	return out
}
