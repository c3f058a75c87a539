package tmf637_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/store"
)

// mandatory are the attributes TMF637's conformance profile requires on
// every product a GET or POST returns.
var mandatory = []string{"id", "href", "status", "billingAccount", "productOffering", "productCharacteristic", "productPrice", "relatedParty"}

func TestTMFCreateAndRead(t *testing.T) {
	v := newEnv(t)
	r := v.do(t, request{user: "pi", method: "POST", path: tmf + "/product", body: `{
		"name": "SD-WAN Edge", "status": "active", "isBundle": false, "productSerialNumber": "SN-1",
		"productOffering": {"id": "po-1", "name": "Premium SD-WAN", "@referredType": "ProductOffering"},
		"billingAccount": {"id": "ba-1"},
		"productCharacteristic": [{"name": "CPE Type", "valueType": "choice", "value": "Virtual"}, {"name": "bandwidth", "value": 100}, {"name": "ports", "value": {"lan": 4}}],
		"relatedParty": [{"id": "cust-1", "name": "Funco", "@referredType": "Customer"}],
		"place": [{"id": "pl-1", "name": "Baltimore", "role": "installationAddress"}],
		"productPrice": [{"priceType": "recurring", "price": {"taxIncludedAmount": {"unit": "EUR", "value": 12.5}}}]}`})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.StatusCode, r.body)
	}
	var p obj
	r.decode(t, &p)
	for _, a := range mandatory {
		if _, ok := p[a]; !ok {
			t.Errorf("mandatory attribute %s missing: %s", a, r.body)
		}
	}
	if loc := r.Header.Get("Location"); loc == "" || loc != p["href"] || !strings.HasSuffix(loc, tmf+"/product/"+str(p["id"])) {
		t.Errorf("Location %q, href %q", loc, p["href"])
	}
	var got obj
	v.call(t, "GET", tmf+"/product/"+str(p["id"]), "", http.StatusOK, &got)
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("GET differs from the POST reply (-post +get):\n%s", diff)
	}
	// What the client sent comes back as sent.
	for k, want := range map[string]string{
		"productOffering":       `{"@referredType":"ProductOffering","id":"po-1","name":"Premium SD-WAN"}`,
		"productCharacteristic": `[{"name":"CPE Type","value":"Virtual","valueType":"choice"},{"name":"bandwidth","value":100},{"name":"ports","value":{"lan":4}}]`,
		"productPrice":          `[{"price":{"taxIncludedAmount":{"unit":"EUR","value":12.5}},"priceType":"recurring"}]`,
		"place":                 `[{"id":"pl-1","name":"Baltimore","role":"installationAddress"}]`,
		"productSerialNumber":   `"SN-1"`,
		"status":                `"active"`,
		"isBundle":              `false`,
	} {
		if b := jsonOf(t, got[k]); b != want {
			t.Errorf("%s = %s, want %s", k, b, want)
		}
	}
	// A product without the optional parts still has every mandatory one.
	bare := v.create(t, `{"status": "created"}`)
	for _, a := range mandatory {
		if _, ok := bare[a]; !ok {
			t.Errorf("bare product: %s missing", a)
		}
	}
	if bare["productOffering"] != nil || bare["billingAccount"] != nil || len(bare["relatedParty"].([]any)) != 0 {
		t.Errorf("bare product: %v", bare)
	}
}

func TestTMFCreateErrors(t *testing.T) {
	v := newEnv(t)
	for _, c := range []struct {
		body, contentType string
		status            int
		want              string
	}{
		{`{"name": "x"}`, "", 400, "Missing mandatory attribute: status"},
		{`{"status": "running"}`, "", 400, `"running" is not a product status`},
		{`{"status": "active", "productOffering": {"name": "no id"}}`, "", 400, "productOffering.id: missing"},
		{`{"status": "active", "productCharacteristic": [{"value": 1}]}`, "", 400, "productCharacteristic[0].name: missing"},
		{`{"status": "active", "productCharacteristic": [{"name": "a"}, {"name": "a"}]}`, "", 400, "one characteristic per name"},
		{`{"status": "active", "productRelationship": [{"relationshipType": "bundled", "product": {"id": "nope"}}]}`, "", 400, `no product has the id or pid "nope"`},
		{`{"status": "active", "productRelationship": [{"relationshipType": "targets", "product": {"id": "x"}}]}`, "", 400, `"targets" is not supported`},
		{`{"status": "active", "isBundle": "yes"}`, "", 400, "isBundle: want true or false"},
		{`[{"status": "active"}]`, "", 400, "want a JSON object"},
		{"{\n  \"status\": \"active\",,\n}", "", 400, "line 2, column 23"},
	} {
		v.wantTMFError(t, request{user: "pi", method: "POST", path: tmf + "/product", body: c.body, contentType: c.contentType}, c.status, c.want)
	}
	v.wantTMFError(t, request{method: "GET", path: tmf + "/product"}, 401, "User Not Authenticated")
	v.wantTMFError(t, request{user: "reader", method: "GET", path: tmf + "/product"}, 403, "User Not Authorized")
	v.wantTMFError(t, request{user: "pi", method: "GET", path: tmf + "/product/0123456789abcdef0123456789abcdef"}, 404, "No Record found")
	big := `{"status": "active", "description": "` + strings.Repeat("x", 2<<20) + `"}`
	v.wantTMFError(t, request{user: "pi", method: "POST", path: tmf + "/product", body: big}, 413, "Request body too large")
}

func TestTMFListFiltersFieldsAndPages(t *testing.T) {
	v := newEnv(t)
	statuses := []string{"active", "pendingActive", "suspended"}
	ids := map[string]string{}
	for i := range 9 {
		p := v.create(t, fmt.Sprintf(`{"name": "p%d", "pid": "pid-%d", "status": %q, "productOffering": {"id": "po-%d"},
			"relatedParty": [{"id": "party-%d", "@referredType": "Customer"}], "productCharacteristic": [{"name": "speed", "value": "%dG"}]}`,
			i, i, statuses[i%3], i%2, i%4, i))
		ids[str(p["name"])] = str(p["id"])
	}
	names := func(list []obj) []string {
		var out []string
		for _, p := range list {
			out = append(out, str(p["name"]))
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"}},
		{"status=active", []string{"p0", "p3", "p6"}},
		{"status=active,suspended", []string{"p0", "p2", "p3", "p5", "p6", "p8"}},
		{"productOffering.id=po-1", []string{"p1", "p3", "p5", "p7"}},
		{"status=active&productOffering.id=po-1", []string{"p3"}},
		{"id=" + ids["p4"], []string{"p4"}},
		{"pid=pid-7", []string{"p7"}},
		{"name=p2", []string{"p2"}},
		{"relatedParty.id=party-1", []string{"p1", "p5"}},
		{"relatedParty.id=party-1&status=pendingActive", []string{"p1"}},
		{"productCharacteristic.value=8G", []string{"p8"}},
		{"status=terminated", nil},
	} {
		var list []obj
		r := v.call(t, "GET", tmf+"/product?"+c.query, "", http.StatusOK, &list)
		if diff := cmp.Diff(c.want, names(list)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.query, diff)
		}
		if r.Header.Get("X-Total-Count") != itoa(len(c.want)) || r.Header.Get("X-Result-Count") != itoa(len(c.want)) {
			t.Errorf("%s: X-Total-Count %s, X-Result-Count %s", c.query, r.Header.Get("X-Total-Count"), r.Header.Get("X-Result-Count"))
		}
	}
	// fields= keeps the first-level attributes named, with id and href.
	var list []obj
	v.call(t, "GET", tmf+"/product?fields=name,status,nothing&status=suspended", "", http.StatusOK, &list)
	for _, p := range list {
		if keys := sortedKeys(p); !slices.Equal(keys, []string{"href", "id", "name", "status"}) {
			t.Errorf("fields=name,status: %v", keys)
		}
	}
	var one obj
	v.call(t, "GET", tmf+"/product/"+ids["p1"]+"?fields=productOffering.id", "", http.StatusOK, &one)
	if keys := sortedKeys(one); !slices.Equal(keys, []string{"href", "id", "productOffering"}) {
		t.Errorf("GET by id with fields: %v", keys)
	}
	// A product read by id must pass the filters too.
	v.wantTMFError(t, request{user: "pi", method: "GET", path: tmf + "/product/" + ids["p1"] + "?status=active"}, 404, "matches the filters")
	// Pages: offset and limit, the headers count.
	var all []obj
	v.call(t, "GET", tmf+"/product", "", http.StatusOK, &all)
	for _, c := range []struct {
		query      string
		start, end int
	}{
		{"offset=2&limit=3", 2, 5},
		{"offset=7&limit=5", 7, 9},
		{"offset=9", 9, 9},
		{"offset=50", 9, 9},
		{"limit=0", 0, 0},
		{"relatedParty.id=party-1&offset=1&limit=1", -1, -1},
	} {
		var page []obj
		r := v.call(t, "GET", tmf+"/product?"+c.query, "", http.StatusOK, &page)
		if c.start < 0 {
			if len(page) != 1 || r.Header.Get("X-Total-Count") != "2" || r.Header.Get("X-Result-Count") != "1" {
				t.Errorf("%s: %d items, headers %v", c.query, len(page), r.Header)
			}
			continue
		}
		if diff := cmp.Diff(names(all[c.start:c.end]), names(page)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.query, diff)
		}
		if r.Header.Get("X-Total-Count") != "9" || r.Header.Get("X-Result-Count") != itoa(c.end-c.start) {
			t.Errorf("%s: X-Total-Count %s, X-Result-Count %s", c.query, r.Header.Get("X-Total-Count"), r.Header.Get("X-Result-Count"))
		}
	}
	for _, q := range []string{"offset=-1", "limit=many", "status=running", "name="} {
		v.wantTMFError(t, request{user: "pi", method: "GET", path: tmf + "/product?" + q}, 400, "")
	}
}

func TestTMFLimitIsAtMost100(t *testing.T) {
	v := newEnv(t)
	var items []string
	for i := range 105 {
		items = append(items, fmt.Sprintf(`{"name": "p%d", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}`, i))
	}
	v.call(t, "POST", sn+"/product", "["+strings.Join(items, ",")+"]", http.StatusCreated, nil)
	var page []obj
	r := v.call(t, "GET", tmf+"/product?limit=500", "", http.StatusOK, &page)
	if len(page) != 100 || r.Header.Get("X-Total-Count") != "105" || r.Header.Get("X-Result-Count") != "100" {
		t.Errorf("limit=500: %d items, X-Total-Count %s", len(page), r.Header.Get("X-Total-Count"))
	}
	r = v.call(t, "GET", tmf+"/product?offset=100&limit=100", "", http.StatusOK, &page)
	if len(page) != 5 || r.Header.Get("X-Result-Count") != "5" {
		t.Errorf("last page: %d items", len(page))
	}
}

func TestTMFPatchIsAMergePatch(t *testing.T) {
	v := newEnv(t)
	part := v.create(t, `{"name": "part", "status": "active"}`)
	svc := v.create(t, `{"name": "routing", "pid": "svc-1", "status": "active"}`)
	p := v.create(t, fmt.Sprintf(`{"name": "bundle", "description": "old", "status": "pendingActive",
		"productCharacteristic": [{"name": "a", "value": "1", "valueType": "string"}, {"name": "b", "value": "2"}],
		"productRelationship": [{"relationshipType": "bundled", "product": {"id": %q}}],
		"realizingService": [{"id": "svc-1"}]}`, part["id"]))
	id := str(p["id"])
	if rel := jsonOf(t, p["productRelationship"]); !strings.Contains(rel, `"name":"part"`) || !strings.Contains(rel, `"relationshipType":"bundled"`) {
		t.Errorf("productRelationship: %s", rel)
	}
	if svcs := p["realizingService"].([]any); len(svcs) != 1 || svcs[0].(obj)["id"] != svc["id"] {
		t.Errorf("realizingService named by pid: %v", p["realizingService"])
	}
	var got obj
	patch := `{"status": "active", "description": null, "productCharacteristic": [{"name": "a", "value": "10"}, {"name": "c", "value": "3"}], "productRelationship": []}`
	r := v.do(t, request{user: "pi", method: "PATCH", path: tmf + "/product/" + id, body: patch, contentType: "application/merge-patch+json"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.StatusCode, r.body)
	}
	r.decode(t, &got)
	if _, ok := got["description"]; ok || got["status"] != "active" || got["name"] != "bundle" {
		t.Errorf("after the patch: %v", got)
	}
	if chars := jsonOf(t, got["productCharacteristic"]); chars != `[{"name":"a","value":"10"},{"name":"c","value":"3"}]` {
		t.Errorf("characteristics after the patch: %s", chars)
	}
	if len(got["productRelationship"].([]any)) != 0 || len(got["realizingService"].([]any)) != 1 {
		t.Errorf("relations after the patch: %v %v", got["productRelationship"], got["realizingService"])
	}
	// The part is no longer referenced: it can go without cascade.
	v.call(t, "DELETE", tmf+"/product/"+str(part["id"]), "", http.StatusNoContent, nil)
	// The history keeps what the patch changed.
	hist, err := v.e.History(context.Background(), id)
	if err != nil || len(hist) < 2 || hist[len(hist)-1].Source != "TMF637" {
		t.Fatalf("history: %v %+v", err, hist)
	}
	changed := map[string]bool{}
	for _, c := range hist[1:] {
		for a := range c.Attributes {
			changed[a] = true
		}
	}
	if !changed["state"] || !changed["description"] {
		t.Errorf("history does not show the state and description changes: %+v", hist[1:])
	}
	for _, c := range []struct {
		body, contentType string
		status            int
		want              string
	}{
		{`{"id": "other"}`, "", 400, "cannot be patched"},
		{`{"status": null}`, "", 400, "cannot be removed"},
		{`{"status": "sleeping"}`, "", 400, "not a product status"},
		{`[{"op": "replace", "path": "/status", "value": "active"}]`, "application/json-patch+json", 415, "JSON merge patch"},
		{`{"realizingService": [{"id": "` + id + `"}]}`, "", 400, "cannot relate to itself"},
	} {
		v.wantTMFError(t, request{user: "pi", method: "PATCH", path: tmf + "/product/" + id, body: c.body, contentType: c.contentType}, c.status, c.want)
	}
	v.wantTMFError(t, request{user: "pi", method: "PATCH", path: tmf + "/product/0123456789abcdef0123456789abcdef", body: `{}`}, 404, "not found")
}

func TestTMFDeleteRefusesReferencedProducts(t *testing.T) {
	v := newEnv(t)
	child := v.create(t, `{"name": "child", "status": "active", "productCharacteristic": [{"name": "a", "value": "1"}]}`)
	parent := v.create(t, fmt.Sprintf(`{"name": "parent", "status": "active", "productRelationship": [{"relationshipType": "bundled", "product": {"id": %q}}]}`, child["id"]))
	path := tmf + "/product/" + str(child["id"])
	v.wantTMFError(t, request{user: "pi", method: "DELETE", path: path}, 409, `referenced by `+str(parent["id"])+` "parent" (productRelationship)`)
	v.wantTMFError(t, request{user: "pi", method: "DELETE", path: path + "?cascade=maybe"}, 400, "Invalid cascade")
	v.call(t, "DELETE", path+"?cascade=true", "", http.StatusNoContent, nil)
	v.wantTMFError(t, request{user: "pi", method: "GET", path: path}, 404, "No Record found")
	v.wantTMFError(t, request{user: "pi", method: "DELETE", path: path}, 404, "not found")
	var p obj
	v.call(t, "GET", tmf+"/product/"+str(parent["id"]), "", http.StatusOK, &p)
	if len(p["productRelationship"].([]any)) != 0 {
		t.Errorf("parent still bundles the deleted child: %v", p["productRelationship"])
	}
	var chars struct{ Result []obj }
	if err := v.e.Records(context.Background(), func(rec *store.Record) error {
		if rec.Class == "sn_prd_invt_product_characteristics" {
			chars.Result = append(chars.Result, obj{"id": rec.SysID})
		}
		return nil
	}); err != nil || len(chars.Result) != 0 {
		t.Errorf("characteristics of the deleted product left: %v (%v)", chars.Result, err)
	}
}

func sortedKeys(m obj) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	return strings.TrimSpace(string(mustJSON(t, v)))
}

func TestConcurrentCreatesOfOnePIDMakeOneProduct(t *testing.T) {
	v := newEnv(t)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			r := v.do(t, request{user: "pi", method: "POST", path: tmf + "/product", body: fmt.Sprintf(`{"pid": "same", "name": "n%d", "status": "active"}`, i)})
			var p obj
			r.decode(t, &p)
			if r.StatusCode != http.StatusCreated && r.StatusCode != http.StatusOK {
				t.Errorf("POST %d: %d %s", i, r.StatusCode, r.body)
			}
			ids[i] = str(p["id"])
		})
	}
	wg.Wait()
	var list []obj
	v.call(t, "GET", tmf+"/product?pid=same", "", http.StatusOK, &list)
	if len(list) != 1 || slices.ContainsFunc(ids, func(id string) bool { return id != str(list[0]["id"]) }) {
		t.Errorf("one pid, %d products; replies named %v", len(list), ids)
	}
}
