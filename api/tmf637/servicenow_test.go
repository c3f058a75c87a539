package tmf637_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedPost is the seed's POST /api/sn_prd_invt/product example; the
// products it relates to are created first, under the ids it names as pids.
const seedPost = `[
   {
      "pid": "PO-456",
      "description": "inventory description",
      "isBundle": false,
      "name": "Voice Over IP Basic instance for Jean",
      "productOffering": {"@referredType": "ProductOffering", "name": "Premium SD-WAN Offering", "id": "69017a0f536520103b6bddeeff7b127d"},
      "productCharacteristic": [],
      "productRelationship": [{"productId": "fa6d13f45b5620102dff5e92dc81c77f", "relationshipType": "child"}],
      "realizingService": {"id": "fe6d13f45b5620102dff5e92dc81c786", "relationshipType": "child"},
      "realizingResource": {"id": "326d13f45b5620102dff5e92dc81c78c", "relationshipType": "child"},
      "relatedParty": [
         {"@referredType": "CustomerContact", "@type": "RelatedParty", "name": "Sally Thomas", "id": "eaf68911c35420105252716b7d40ddde"},
         {"@referredType": "Customer", "@type": "RelatedParty", "name": "Funco Intl", "id": "ffc68911c35420105252716b7d40dd55"}
      ],
      "productSpecification": {"@referredType": "ProductSpecification", "@type": null, "name": null, "id": "3ee1fdb1c3331010d216b5183c40dd81", "internalVersion": "1"},
      "bundle": false
   }
]`

// seedParts creates the products seedPost relates to.
func seedParts(t *testing.T, v *env) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, pid := range []string{"fa6d13f45b5620102dff5e92dc81c77f", "fe6d13f45b5620102dff5e92dc81c786", "326d13f45b5620102dff5e92dc81c78c"} {
		var p map[string]any
		v.call(t, "POST", sn+"/product", fmt.Sprintf(`{"pid": %q, "name": "part %s", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}`, pid, pid[:4]), http.StatusCreated, &p)
		ids[pid] = str(p["id"])
	}
	return ids
}

func TestServiceNowCreateEchoesTheProduct(t *testing.T) {
	v := newEnv(t)
	parts := seedParts(t, v)
	var p obj
	v.call(t, "POST", sn+"/product", seedPost, http.StatusCreated, &p)
	id := str(p["id"])
	if len(id) != 32 || p["href"] != sn+"/product/"+id || jsonOf(t, p["productPrice"]) != "[]" || p["pid"] != "PO-456" {
		t.Errorf("reply: %v", p)
	}
	if po := p["productOffering"].(obj); po["internalId"] != "69017a0f536520103b6bddeeff7b127d" || po["name"] != "Premium SD-WAN Offering" {
		t.Errorf("productOffering: %v", po)
	}
	if rs := p["realizingService"].(obj); rs["relationshipType"] != "child" {
		t.Errorf("the reply echoes realizingService as sent: %v", rs)
	}
	// Read back, in ServiceNow's GET shape.
	var got obj
	v.call(t, "GET", sn+"/product/"+id, "", http.StatusOK, &got)
	for k, want := range map[string]string{
		"status":              `"Installation Pending"`,
		"billingAccount":      `"Not Specified."`,
		"place":               `""`,
		"productPrice":        `[]`,
		"href":                `"` + sn + "/product/" + id + `"`,
		"productRelationship": `[{"id":"` + parts["fa6d13f45b5620102dff5e92dc81c77f"] + `","name":"part fa6d","relationshipType":"Bundles"}]`,
		"realizingService":    `[{"id":"` + parts["fe6d13f45b5620102dff5e92dc81c786"] + `","name":"part fe6d"}]`,
		"realizingResource":   `[{"id":"` + parts["326d13f45b5620102dff5e92dc81c78c"] + `","name":"part 326d"}]`,
	} {
		if b := jsonOf(t, got[k]); b != want {
			t.Errorf("GET %s = %s, want %s", k, b, want)
		}
	}
	// The same product on the TMF637 path, with TMF637's status.
	var tp obj
	v.call(t, "GET", tmf+"/product/"+id, "", http.StatusOK, &tp)
	if tp["status"] != "pendingActive" || tp["name"] != got["name"] || len(tp["relatedParty"].([]any)) != 2 {
		t.Errorf("TMF637 view: %v", tp)
	}
	// Posting the pid again updates the product: one product per pid.
	var again obj
	v.call(t, "POST", sn+"/product", `{"pid": "PO-456", "name": "renamed", "state": "active", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}`, http.StatusOK, &again)
	if again["id"] != id {
		t.Errorf("same pid, new id %v", again["id"])
	}
	v.call(t, "GET", sn+"/product/"+id, "", http.StatusOK, &got)
	if got["name"] != "renamed" || got["status"] != "Active" {
		t.Errorf("after the second POST: %v %v", got["name"], got["status"])
	}
}

func TestServiceNowCreateShapesAndErrors(t *testing.T) {
	v := newEnv(t)
	const good = `{"name": "n%d", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}`
	var list []obj
	v.call(t, "POST", sn+"/product", "["+fmt.Sprintf(good, 1)+","+fmt.Sprintf(good, 2)+"]", http.StatusCreated, &list)
	if len(list) != 2 || list[0]["name"] != "n1" || list[1]["name"] != "n2" || list[0]["id"] == list[1]["id"] {
		t.Errorf("two products: %v", list)
	}
	var one obj
	v.call(t, "POST", sn+"/product", fmt.Sprintf(good, 3), http.StatusCreated, &one)
	if one["name"] != "n3" || one["href"] == nil {
		t.Errorf("one object: %v", one)
	}
	// The deprecated path answers the older shape: no href, no productPrice.
	var old obj
	v.call(t, "POST", sn+"/productinventory", `[{'name': 'n4', 'productOffering': {'id': 'po'}, 'productSpecification': {'id': 'ps'},}]`, http.StatusCreated, &old)
	if _, ok := old["href"]; ok || old["id"] == nil || old["name"] != "n4" {
		t.Errorf("deprecated POST, single-quoted: %v", old)
	}
	for _, c := range []struct{ body, want string }{
		{``, "Empty payload."},
		{`[]`, "Empty payload."},
		{`{}`, "Empty payload."},
		{`[{"productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}]`, "Invalid payload. Mandatory field missing: name"},
		{`[{"name": "x", "productSpecification": {"id": "ps"}}]`, "Invalid payload. Mandatory field missing: productOffering.id"},
		{`[{"name": "x", "productOffering": {"name": "po"}, "productSpecification": {"id": "ps"}}]`, "Invalid payload. Mandatory field missing: productOffering.id"},
		{`[` + fmt.Sprintf(good, 5) + `, {"name": "x", "productOffering": {"id": "po"}}]`, "product[1].productSpecification.id is required"},
		{`[{"name": "x", "state": "on", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}]`, `"on" is not a product status`},
		{`[{"name": "x", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}, "realizingService": {"id": "x", "type": "parent"}}]`, "the only relationship a realizing product has is child"},
		{`[1]`, "product[0] is 1, not an object"},
		{`"x"`, "want a product object or an array"},
		{`[{"name": }]`, "Exception while reading request"},
	} {
		v.wantSNError(t, request{user: "pi", method: "POST", path: sn + "/product", body: c.body}, 400, c.want)
	}
	// A failed POST writes nothing: only n1 to n4 exist.
	var all []obj
	v.call(t, "GET", sn+"/product?fields=name", "", http.StatusOK, &all)
	if len(all) != 4 {
		t.Errorf("%d products after the failed POSTs, want 4: %v", len(all), all)
	}
	v.wantSNError(t, request{method: "GET", path: sn + "/product"}, 401, "User Not Authenticated")
	v.wantSNError(t, request{user: "reader", method: "POST", path: sn + "/product", body: fmt.Sprintf(good, 6)}, 403, "User Not Authorized")
}

func TestServiceNowListPagesAndFilters(t *testing.T) {
	v := newEnv(t)
	var items []string
	for i := range 25 {
		state := []string{"active", "installation_pending", "inactive"}[i%3]
		items = append(items, fmt.Sprintf(`{"name": "p%02d", "state": %q, "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"},
			"relatedParty": [{"id": "cust-%d", "@referredType": "Customer"}], "place": {"id": "place-%d", "name": "Site %d"}}`, i, state, i%5, i%2, i%2))
	}
	v.call(t, "POST", sn+"/product", "["+strings.Join(items, ",")+"]", http.StatusCreated, nil)

	var page []obj
	r := v.call(t, "GET", sn+"/product", "", http.StatusPartialContent, &page)
	if len(page) != 20 || r.Header.Get("X-Total-Count") != "25" || r.Header.Get("Content-Range") != "items 1-20" {
		t.Errorf("default page: %d items, headers %v", len(page), r.Header)
	}
	if link := r.Header.Get("Link"); !strings.Contains(link, `offset=20>;rel="next"`) || !strings.Contains(link, `rel="first"`) || !strings.Contains(link, `offset=20>;rel="last"`) {
		t.Errorf("Link: %s", link)
	}
	// The seed's example: offset=2 and limit=3 are items 3-5.
	var all []obj
	v.call(t, "GET", sn+"/product?limit=100", "", http.StatusOK, &all)
	r = v.call(t, "GET", sn+"/product?offset=2&limit=3", "", http.StatusPartialContent, &page)
	if r.Header.Get("Content-Range") != "items 3-5" || !slices.Equal(ids(page), ids(all[2:5])) {
		t.Errorf("offset=2&limit=3: Content-Range %q, %v", r.Header.Get("Content-Range"), ids(page))
	}
	// A limit over 100 is served as 100: here that is every product.
	r = v.call(t, "GET", sn+"/product?limit=1000", "", http.StatusOK, &page)
	if len(page) != 25 || r.Header.Get("Content-Range") != "items 1-25" {
		t.Errorf("limit=1000: %d items, Content-Range %s", len(page), r.Header.Get("Content-Range"))
	}
	v.call(t, "GET", sn+"/product?offset=24", "", http.StatusPartialContent, &page)
	if len(page) != 1 {
		t.Errorf("last item: %d", len(page))
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"status=active", 9},
		{"status=Installation%20Pending", 8},
		{"status=inactive&customer=cust-1", 1},
		{"customer=cust-3", 5},
		{"place=place-1", 12},
		{"place=place-1&status=active", 4},
	} {
		var page []obj
		r := v.call(t, "GET", sn+"/product?limit=100&"+c.query, "", http.StatusOK, &page)
		if len(page) != c.want || r.Header.Get("X-Total-Count") != itoa(c.want) {
			t.Errorf("%s: %d products, X-Total-Count %s; want %d", c.query, len(page), r.Header.Get("X-Total-Count"), c.want)
		}
	}
	var projected []obj
	v.call(t, "GET", sn+"/product?fields=name,status,bogus&limit=1", "", http.StatusPartialContent, &projected)
	if diff := cmp.Diff([]string{"name", "status"}, sortedKeys(projected[0])); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	var one obj
	v.call(t, "GET", sn+"/product/"+str(all[0]["id"]), "", http.StatusOK, &one)
	if p := one["place"].(obj); !strings.HasPrefix(str(p["id"]), "place-") || !strings.HasPrefix(str(p["name"]), "Site ") {
		t.Errorf("place: %v", one["place"])
	}
	v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product?customer=nobody"}, 404, "no product matches")
	r = v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product?offset=25"}, 404, "offset 25 is past the last of the 25")
	if r.Header.Get("X-Total-Count") != "25" {
		t.Errorf("offset past the end: X-Total-Count %s", r.Header.Get("X-Total-Count"))
	}
	for _, q := range []string{"limit=-1", "limit=x", "offset=-3", "status=sleeping"} {
		v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product?" + q}, 400, "")
	}
	v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product/0123456789abcdef0123456789abcdef"}, 404, "No Record found")
	v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product/" + str(all[0]["id"]) + "?customer=nobody"}, 404, "matches the filters")
}

func TestServiceNowDeprecatedShapes(t *testing.T) {
	v := newEnv(t)
	seedParts(t, v)
	var p obj
	v.call(t, "POST", sn+"/product", seedPost, http.StatusCreated, &p)
	var old obj
	v.call(t, "GET", sn+"/productinventory/"+str(p["id"]), "", http.StatusOK, &old)
	want := []string{"description", "id", "isBundle", "name", "pid", "place", "productCharacteristic", "productOffering", "productRelationship",
		"productSpecification", "realizingResource", "realizingService", "relatedParty", "status"}
	if diff := cmp.Diff(want, sortedKeys(old)); diff != "" {
		t.Errorf("deprecated GET attributes (-want +got):\n%s", diff)
	}
	if b := jsonOf(t, old["productOffering"]); b != `{"id":"69017a0f536520103b6bddeeff7b127d","name":"Premium SD-WAN Offering"}` {
		t.Errorf("deprecated productOffering: %s", b)
	}
	if b := jsonOf(t, old["productSpecification"]); b != `{"id":"3ee1fdb1c3331010d216b5183c40dd81","name":""}` {
		t.Errorf("deprecated productSpecification: %s", b)
	}
	var list []obj
	r := v.call(t, "GET", sn+"/productinventory?status=installation_pending", "", http.StatusOK, &list)
	if len(list) != 4 || r.Header.Get("X-Total-Count") != "4" {
		t.Errorf("deprecated list: %d", len(list))
	}
}

func ids(list []obj) []string {
	var out []string
	for _, p := range list {
		out = append(out, str(p["id"]))
	}
	return out
}
