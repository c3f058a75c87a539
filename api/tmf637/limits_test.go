package tmf637_test

import (
	"strings"
	"testing"
)

// TestKeyTextLimit: a pid over the store's key text limit is a 400 naming
// it and the limit; long filter values and ids are answered as any other
// (400, 404 or an empty list), never a 500 with an internal key.
func TestKeyTextLimit(t *testing.T) {
	v := newEnv(t)
	big := strings.Repeat("x", 70000)
	for _, c := range []struct {
		rq   request
		want string
	}{
		{request{user: "pi", method: "POST", path: tmf + "/product", body: `{"status": "active", "pid": "` + big + `"}`}, "attribute pid is 70000 bytes long, over the limit of 4096 bytes"},
		{request{user: "pi", method: "POST", path: "/api/sn_prd_invt/product", body: `[{"pid": "` + big + `", "name": "n", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}]`}, "attribute pid is 70000 bytes long, over the limit of 4096 bytes"},
		{request{user: "pi", method: "GET", path: tmf + "/product?status=" + big}, ""},
		{request{user: "pi", method: "GET", path: tmf + "/product?productOffering.id=" + big}, ""},
		{request{user: "pi", method: "GET", path: tmf + "/product/" + big}, ""},
		{request{user: "pi", method: "PATCH", path: tmf + "/product/" + big, body: `{"status": "active"}`, contentType: "application/merge-patch+json"}, ""},
		{request{user: "pi", method: "GET", path: "/api/sn_prd_invt/product?customer=" + big}, ""},
	} {
		r := v.do(t, c.rq)
		if r.StatusCode >= 500 || strings.Contains(string(r.body), "v1/") || (c.want != "" && (r.StatusCode != 400 || !strings.Contains(string(r.body), c.want))) {
			t.Errorf("%s %.60s: %d %.400s, want %q", c.rq.method, c.rq.path, r.StatusCode, r.body, c.want)
		}
	}
}
