//go:build linux

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// irego serve on a disk that fills up: writes answer 507 Insufficient
// Storage and store nothing, reads answer as before, and once space is
// freed writes succeed again; what was acknowledged stays. The disk is a
// tmpfs of the test's own, so this runs only as root (CI runs as root).
func TestServeFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs (CI runs as root)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1g"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	resize := func(size string) {
		t.Helper()
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size="+size); err != nil {
			t.Fatalf("resizing the tmpfs to %s: %v", size, err)
		}
	}
	t.Setenv("IREGO_ADMIN_PASSWORD", "admin-password")
	base, stderr, stop := startServe(t, serveConfig{db: filepath.Join(mnt, "db"), addr: "127.0.0.1:0", logFormat: "text", maxBody: 1 << 20, sync: true})
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.SetBasicAuth("admin", "admin-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	computer := func(n int) string {
		return fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"c%d","serial_number":"SN-%d"}}]}`, n, n)
	}
	const post, list = "/api/now/identifyreconcile?sysparm_data_source=SCCM", "/api/now/table/cmdb_ci_computer?sysparm_limit=100"
	if code, body := call("POST", post, computer(1)); code != 200 {
		t.Fatalf("first write: %d %s", code, body)
	}
	// The disk fills up: leave a few MiB, far below what the store keeps.
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	used := (st.Blocks - st.Bfree) * uint64(st.Bsize)
	resize(fmt.Sprint(used + 8<<20))
	code, body := call("POST", post, computer(2))
	if code != http.StatusInsufficientStorage || !strings.Contains(body, "free") {
		t.Fatalf("write on a full disk: %d %s", code, body)
	}
	if code, body := call("GET", list, ""); code != 200 || !strings.Contains(body, "SN-1") || strings.Contains(body, "SN-2") {
		t.Fatalf("read on a full disk: %d %s", code, body)
	}
	resize("1g")
	if code, body := call("POST", post, computer(3)); code != 200 {
		t.Fatalf("write once space is freed: %d %s", code, body)
	}
	if code, body := call("GET", list, ""); code != 200 || !strings.Contains(body, "SN-1") || !strings.Contains(body, "SN-3") {
		t.Fatalf("read after: %d %s", code, body)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
}
