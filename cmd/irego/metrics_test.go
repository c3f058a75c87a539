package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/irego/irego/version"
)

// irego serve --metrics-addr serves /metrics without credentials on its
// own address, while the main address asks for them; the first log line
// names the build.
func TestServeMetricsAddr(t *testing.T) {
	t.Setenv("IREGO_ADMIN_PASSWORD", "admin-password")
	base, log, _ := startServe(t, serveConfig{db: t.TempDir(), addr: "127.0.0.1:0", metricsAddr: "127.0.0.1:0", logFormat: "json", maxBody: 1 << 20})
	first, _, _ := strings.Cut(log.String(), "\n")
	if !strings.Contains(first, `"msg":"starting"`) || !strings.Contains(first, `"version":"`+version.Get().Version+`"`) {
		t.Errorf("first log line does not name the version: %s", first)
	}
	m := regexp.MustCompile(`"url":"(http://[^"]+/metrics)"`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no metrics address logged: %s", log.String())
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("irego_build_info{")) || !bytes.Contains(b, []byte("go_goroutines")) {
		t.Fatalf("GET %s: status %d: %.300s", m[1], resp.StatusCode, b)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics on the main address without credentials: status %d, want 401", resp.StatusCode)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out, errOut bytes.Buffer
		if code := run([]string{arg}, nil, &out, &errOut); code != exitOK || out.String() != version.Get().String()+"\n" || !strings.HasPrefix(out.String(), "irego ") {
			t.Errorf("irego %s: exit %d, printed %q %q", arg, code, out.String(), errOut.String())
		}
	}
}
