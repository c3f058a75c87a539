package main

import (
	"bytes"
	"strings"
	"testing"
)

// `irego rules default | irego rules check -` is clean.
func TestRulesDefaultChecksClean(t *testing.T) {
	var pack, out, errs bytes.Buffer
	if code := run([]string{"rules", "default"}, nil, &pack, &errs); code != exitOK {
		t.Fatalf("rules default: exit %d: %s", code, errs.String())
	}
	if code := run([]string{"rules", "check", "-"}, &pack, &out, &errs); code != exitOK {
		t.Fatalf("rules check -: exit %d: %s", code, errs.String())
	}
	if !strings.HasPrefix(out.String(), "-: ok (") {
		t.Errorf("rules check - printed %q", out.String())
	}
	out.Reset()
	if code := run([]string{"rules", "check", "-"}, strings.NewReader("classes: [{name: a, extends: b}]\n"), &out, &errs); code != exitFail {
		t.Errorf("a broken rule file on standard input: exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(errs.String(), `-:1: class "a": extends: unknown class "b"`) {
		t.Errorf("error for the broken file: %q", errs.String())
	}
}

func TestRulesClasses(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"rules", "classes", "cmdb_ci_appl"}, nil, &out, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	lines := strings.Split(out.String(), "\n")
	if lines[0] != "cmdb_ci_appl  [Application Rule]" {
		t.Errorf("first line %q, want the root with its rule", lines[0])
	}
	for _, want := range []string{"  cmdb_ci_app_server\n    cmdb_ci_app_server_tomcat  [Tomcat]\n",
		"  cmdb_ci_db_instance  [Database Instance Rule]\n    cmdb_ci_db_mysql_instance\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tree lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "cmdb_ci_server") {
		t.Error("the tree below cmdb_ci_appl lists cmdb_ci_server")
	}

	// The whole tree holds every class once.
	out.Reset()
	if code := run([]string{"rules", "classes"}, nil, &out, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		if seen[name] {
			t.Errorf("%s printed twice", name)
		}
		seen[name] = true
	}
	if len(seen) < 300 {
		t.Errorf("%d classes in the tree, want the whole pack", len(seen))
	}

	// Another rule file, from standard input; an unknown root fails.
	out.Reset()
	in := strings.NewReader("classes: [{name: a}, {name: b, extends: a}]\n")
	if code := run([]string{"rules", "classes", "--rules", "-"}, in, &out, &errs); code != exitOK || out.String() != "a\n  b\n" {
		t.Errorf("custom file: exit %d, printed %q", code, out.String())
	}
	errs.Reset()
	if code := run([]string{"rules", "classes", "cmdb_ci_nope"}, nil, &out, &errs); code != exitFail || !strings.Contains(errs.String(), `unknown class "cmdb_ci_nope"`) {
		t.Errorf("unknown root: exit %d, stderr %q", code, errs.String())
	}
}
