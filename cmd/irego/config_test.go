package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// effective runs irego serve --check-config and returns each setting's
// value and source as it printed them.
func effective(t *testing.T, args ...string) (values, sources map[string]string) {
	t.Helper()
	code, out, errs := irego("", append([]string{"serve", "--check-config"}, args...)...)
	if code != exitOK || !strings.Contains(errs, "configuration ok") {
		t.Fatalf("serve --check-config %v: %d %s", args, code, errs)
	}
	values, sources = map[string]string{}, map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := regexp.MustCompile(`^([a-z-]+): (.*?)  # (.*)$`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("check-config line %q", l)
		}
		values[m[1]], sources[m[1]] = m[2], m[3]
	}
	return values, sources
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "irego.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A flag beats its IREGO_* variable, which beats the file, which beats the
// default; the store URL's password is never printed.
func TestConfigPrecedence(t *testing.T) {
	f := writeFile(t, `# irego serve settings
addr: 127.0.0.1:9000
max-conns: 100
lockout: 5m
db: postgres://irego:s3cret@db.example/irego
set:
  api_token_in_url_enabled: false
`)
	t.Setenv("IREGO_MAX_CONNS", "50")
	t.Setenv("IREGO_ADDR", "127.0.0.1:9001")
	values, sources := effective(t, "--config", f, "--addr", "127.0.0.1:9002")
	want := map[string][2]string{
		"addr":      {"127.0.0.1:9002", "--addr"},
		"max-conns": {"50", "IREGO_MAX_CONNS"},
		"lockout":   {"5m0s", f + ":4"},
		"db":        {"postgres://irego:xxxxx@db.example/irego", f + ":5"},
		"set":       {"api_token_in_url_enabled=false", f + ":6"},
		"log":       {"text", "default"},
	}
	for k, w := range want {
		if values[k] != w[0] || sources[k] != w[1] {
			t.Errorf("%s = %q from %q, want %q from %q", k, values[k], sources[k], w[0], w[1])
		}
	}
	if _, ok := values["store"]; ok {
		t.Errorf("the alias --store is printed besides --db")
	}
}

// Every serve flag can come from the file and from the environment: the
// support is derived from the flag set, so a new flag has it too.
func TestEveryServeFlagIsConfigurable(t *testing.T) {
	values, _ := effective(t)
	if len(values) < 15 {
		t.Fatalf("only %d settings printed: %v", len(values), values)
	}
	// Settings empty by default take a sample value; a new one needs one.
	samples := map[string]string{"metrics-addr": "127.0.0.1:0", "rules": "../../examples/byol-rules.yaml",
		"callback-allow": "10.0.0.1", "trusted-proxies": "10.0.0.0/8", "set": "api_token_in_url_enabled=false"}
	var file strings.Builder
	for k, v := range values {
		if v == "" {
			if values[k] = samples[k]; values[k] == "" {
				t.Fatalf("no sample value for %s, empty by default", k)
			}
		}
		file.WriteString(k + ": '" + values[k] + "'\n")
	}
	got, sources := effective(t, "--config", writeFile(t, file.String()))
	for k, v := range values {
		if got[k] != v || !strings.Contains(sources[k], "irego.yaml:") {
			t.Errorf("%s = %q from %q, want %q from the file", k, got[k], sources[k], v)
		}
	}
	for k, v := range values {
		t.Setenv(envName(k), v)
	}
	got, sources = effective(t)
	for k, v := range values {
		if got[k] != v || sources[k] != envName(k) {
			t.Errorf("%s = %q from %q, want %q from %s", k, got[k], sources[k], v, envName(k))
		}
	}
}

// Bad values and unknown keys are refused with exit 2 and a message that
// names the key and where it came from.
func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		file, env, want string
	}{
		{file: "adr: x\n", want: `irego.yaml:1: unknown key "adr"; the keys are the serve flags: addr,`},
		{file: "addr: 1\nconfig: other.yaml\n", want: `irego.yaml:2: unknown key "config"`},
		{file: "max-body: 12Q\n", want: `irego.yaml:1: max-body: "12Q" is not a size`},
		{file: "max-conns: 0\n", want: `irego.yaml:1: max-conns: 0 must be positive`},
		{file: "sync: maybe\n", want: `irego.yaml:1: sync: invalid value "maybe"`},
		{file: "trusted-proxies: proxy.local\n", want: `irego.yaml:1: trusted-proxies: "proxy.local" is neither an address nor a CIDR`},
		{file: "addr: [a, b]\n", want: `irego.yaml:1: addr: want a single value`},
		{file: "log:\n", want: `irego.yaml:1: log: no value`},
		{file: "log: xml\n", want: `irego.yaml:1: log: "xml" is not a log format`},
		{file: "addr: a\nstore: b\ndb: c\n", want: `irego.yaml:3: db: set twice`},
		{file: "set:\n  no_such_setting: 1\n", want: `irego.yaml:1: set: invalid value "no_such_setting=1": unknown setting`},
		{file: "- addr\n", want: `irego.yaml:1: want a mapping`},
		{file: "addr: [\n", want: `irego.yaml: yaml:`},
		{env: "IREGO_MAX_CONNS=lots", want: `IREGO_MAX_CONNS: invalid value "lots"`},
		{env: "IREGO_STORE=a IREGO_DB=b", want: `IREGO_STORE: the same setting as IREGO_DB; give one`},
		{env: "IREGO_LOCKOUT=-1m", want: `IREGO_LOCKOUT: -1m0s must be positive`},
		{env: "IREGO_CALLBACK_ALLOW=10.0.0.0/99", want: `IREGO_CALLBACK_ALLOW: "10.0.0.0/99" is neither`},
	} {
		args := []string{"serve", "--check-config"}
		if c.file != "" {
			args = append(args, "--config", writeFile(t, c.file))
		}
		for _, kv := range strings.Fields(c.env) {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
		code, _, errs := irego("", args...)
		if code != exitUsage || !strings.HasPrefix(errs, "irego serve: ") || !strings.Contains(errs, c.want) {
			t.Errorf("file %q env %q: exit %d, %s\nwant exit 2 and %q", c.file, c.env, code, errs, c.want)
		}
		for _, kv := range strings.Fields(c.env) {
			k, _, _ := strings.Cut(kv, "=")
			os.Unsetenv(k)
		}
	}
	if code, _, errs := irego("", "serve", "--check-config", "--config", filepath.Join(t.TempDir(), "none.yaml")); code != exitUsage || !strings.Contains(errs, "--config: open") {
		t.Errorf("missing file: %d %s", code, errs)
	}
	if code, _, errs := irego("", "serve", "--check-config", "--rules", writeFile(t, "classes: [\n")); code != exitUsage || !strings.Contains(errs, "--rules: ") {
		t.Errorf("bad rule file: %d %s", code, errs)
	}
}

// IREGO_USER and IREGO_PASSWORD are the credentials of --server: they set
// no serve setting and draw no warning; a misspelt variable does.
func TestClientCredentialsAreNotServeSettings(t *testing.T) {
	defaults, _ := effective(t)
	for k := range defaults {
		if slices.Contains(otherEnv, envName(k)) {
			t.Errorf("%s would be both a serve setting and what it is now", envName(k))
		}
	}
	t.Setenv("IREGO_USER", "bob")
	t.Setenv("IREGO_PASSWORD", "bobs-password")
	code, _, errs := irego("", "serve", "--check-config")
	if code != exitOK || strings.Contains(errs, "warning") {
		t.Errorf("with IREGO_USER and IREGO_PASSWORD: %d %s", code, errs)
	}
	_, sources := effective(t)
	for k, s := range sources {
		if s != "default" {
			t.Errorf("%s came from %s", k, s)
		}
	}
	t.Setenv("IREGO_MAXCONNS", "5")
	if code, _, errs := irego("", "serve", "--check-config"); code != exitOK || !strings.Contains(errs, "warning: IREGO_MAXCONNS is not an irego serve setting") {
		t.Errorf("misspelt variable: %d %s", code, errs)
	}
}

// The real irego serve reads IREGO_CONFIG's file and the environment and
// logs the effective configuration at start, before it listens.
func TestServeLogsItsConfiguration(t *testing.T) {
	bin := buildIrego(t)
	f := writeFile(t, "addr: 127.0.0.1:0\nlog: json\nlockout-after: 3\n")
	cmd := exec.Command(bin, "serve", "--db", t.TempDir())
	cmd.Env = append(os.Environ(), "IREGO_ADMIN_PASSWORD=config-test-password", "IREGO_CONFIG="+f, "IREGO_MAX_CONNS=33")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), `"msg":"listening"`) {
			break
		}
	}
	var conf string
	for _, l := range lines {
		if strings.Contains(l, `"msg":"configuration"`) {
			conf = l
		}
	}
	for _, want := range []string{`"addr":"127.0.0.1:0"`, `"lockout-after":"3"`, `"max-conns":"33"`, `"log":"json"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration record %q lacks %s; log:\n%s", conf, want, strings.Join(lines, "\n"))
		}
	}
}
