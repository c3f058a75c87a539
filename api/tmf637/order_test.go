package tmf637_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// TestServiceNowPatchAndDelete: PATCH and DELETE on the paths ServiceNow
// documents (/order/product/{id}) and on /product/{id}.
func TestServiceNowPatchAndDelete(t *testing.T) {
	v := newEnv(t)
	var p obj
	v.call(t, "POST", sn+"/product", `{"pid": "VOIP-1", "name": "Voice", "description": "old", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"},
		"productCharacteristic": [{"name": "CPE Type", "value": "Virtual", "valueType": "choice"}]}`, http.StatusCreated, &p)
	id := str(p["id"])
	for _, base := range []string{sn + "/order/product/", sn + "/product/"} {
		var got obj
		v.call(t, "PATCH", base+id, `{"description": "via `+base+`", "state": "active"}`, http.StatusOK, &got)
		if got["id"] != id || got["description"] != "via "+base || got["status"] != "Active" || got["name"] != "Voice" || got["href"] != sn+"/product/"+id {
			t.Errorf("PATCH %s: %v", base, got)
		}
		if chars := got["productCharacteristic"].([]any); len(chars) != 1 {
			t.Errorf("PATCH %s dropped characteristics: %v", base, chars)
		}
	}
	// ServiceNow's single-object style and its array style both patch.
	var got obj
	v.call(t, "PATCH", sn+"/order/product/"+id, `[{'name': 'Voice 2', 'description': null}]`, http.StatusOK, &got)
	if _, has := got["description"]; has || got["name"] != "Voice 2" || got["status"] != "Active" {
		t.Errorf("PATCH with an array: %v", got)
	}
	v.wantSNError(t, request{user: "pi", method: "PATCH", path: sn + "/order/product/" + id, body: `{"state": "on"}`}, 400, `"on" is not a product status`)
	v.wantSNError(t, request{user: "pi", method: "PATCH", path: sn + "/order/product/0123456789abcdef0123456789abcdef", body: `{"name": "x"}`}, 404, "")
	v.wantSNError(t, request{user: "reader", method: "PATCH", path: sn + "/order/product/" + id, body: `{"name": "x"}`}, 403, "User Not Authorized")
	// DELETE: 204 and no body; the product is gone from both APIs.
	r := v.call(t, "DELETE", sn+"/order/product/"+id, "", http.StatusNoContent, nil)
	if len(r.body) != 0 {
		t.Errorf("DELETE body: %s", r.body)
	}
	v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product/" + id}, 404, "No Record found")
	v.wantSNError(t, request{user: "pi", method: "DELETE", path: sn + "/order/product/" + id}, 404, "")
	// The documentation's DELETE example uses /product/{id}.
	v.call(t, "POST", sn+"/product", `{"name": "Other", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}`, http.StatusCreated, &p)
	v.call(t, "DELETE", sn+"/product/"+str(p["id"]), "", http.StatusNoContent, nil)
}

// TestServiceNowPendingRelations: the documented POST, whose related
// products do not exist yet, is accepted; each relation is kept and made
// a relation when its product arrives.
func TestServiceNowPendingRelations(t *testing.T) {
	v := newEnv(t)
	var p obj
	v.call(t, "POST", sn+"/product", seedPost, http.StatusCreated, &p)
	id := str(p["id"])
	related := func() map[string]string {
		t.Helper()
		var got obj
		v.call(t, "GET", sn+"/product/"+id, "", http.StatusOK, &got)
		out := map[string]string{}
		for _, k := range []string{"productRelationship", "realizingService", "realizingResource"} {
			for _, el := range got[k].([]any) {
				m := el.(obj)
				out[k+" "+str(m["id"])] = str(m["name"])
			}
		}
		return out
	}
	// Read back as sent, without names: nothing is stored under those ids.
	want := map[string]string{"productRelationship fa6d13f45b5620102dff5e92dc81c77f": "", "realizingService fe6d13f45b5620102dff5e92dc81c786": "",
		"realizingResource 326d13f45b5620102dff5e92dc81c78c": ""}
	if diff := cmp.Diff(want, related()); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	// A TMF637 patch of the product keeps what is pending.
	v.call(t, "PATCH", tmf+"/product/"+id, `{"description": "patched"}`, http.StatusOK, nil)
	if diff := cmp.Diff(want, related()); diff != "" {
		t.Errorf("pending after a TMF637 patch (-want +got):\n%s", diff)
	}
	// The products arrive, named by those ids as their pids; listeners hear
	// of the product each settles.
	l := newListener(t, 0, nil)
	v.register(t, l, "eventType=ProductAttributeValueChangeEvent")
	parts := seedParts(t, v)
	for _, e := range l.wait(t, 3) {
		if e.productID != id {
			t.Errorf("change event for %s, want %s", e.productID, id)
		}
	}
	want = map[string]string{"productRelationship " + parts["fa6d13f45b5620102dff5e92dc81c77f"]: "part fa6d",
		"realizingService " + parts["fe6d13f45b5620102dff5e92dc81c786"]: "part fe6d", "realizingResource " + parts["326d13f45b5620102dff5e92dc81c78c"]: "part 326d"}
	if diff := cmp.Diff(want, related()); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}
	// They are real relations now: the part cannot go while related.
	v.wantSNError(t, request{user: "pi", method: "DELETE", path: sn + "/order/product/" + parts["fa6d13f45b5620102dff5e92dc81c77f"]}, 409, "is referenced by "+id)
	// TMF637 keeps its rule: a relation names a stored product.
	v.wantTMFError(t, request{user: "pi", method: "POST", path: tmf + "/product", body: `{"name": "t", "status": "created", "productSpecification": {"id": "ps"},
		"productRelationship": [{"relationshipType": "bundled", "product": {"id": "not-yet"}}]}`}, 400, `no product has the id or pid "not-yet"`)
}

// TestServiceNowPlaceFilterAndLinks: place as an id or as an object, and
// the Link header's first, previous, next and last.
func TestServiceNowPlaceFilterAndLinks(t *testing.T) {
	v := newEnv(t)
	var items []string
	for i := range 9 {
		items = append(items, fmt.Sprintf(`{"name": "p%d", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}, "place": {"id": "loc-%d", "name": "Site"}}`, i, i%3))
	}
	v.call(t, "POST", sn+"/product", "["+strings.Join(items, ",")+"]", http.StatusCreated, nil)
	for _, query := range []string{"place=loc-1", "place=" + url.QueryEscape(`{"id":"loc-1"}`), "place=" + url.QueryEscape(`{'id': 'loc-1'}`), "place.id=loc-1"} {
		var page []obj
		r := v.call(t, "GET", sn+"/product?"+query, "", http.StatusOK, &page)
		if len(page) != 3 || r.Header.Get("X-Total-Count") != "3" {
			t.Errorf("%s: %d products", query, len(page))
		}
	}
	v.wantSNError(t, request{user: "pi", method: "GET", path: sn + "/product?place=" + url.QueryEscape(`{"name":"Site"}`)}, 400, `place: give the id, or an object {"id": "..."}`)
	r := v.call(t, "GET", sn+"/product?limit=2&offset=4", "", http.StatusPartialContent, nil)
	rels := map[string]string{}
	for _, part := range strings.Split(r.Header.Get("Link"), ",") {
		u, rel, _ := strings.Cut(part, ";rel=")
		pu, err := url.Parse(strings.Trim(u, "<>"))
		if err != nil {
			t.Fatal(err)
		}
		rels[strings.Trim(rel, `"`)] = pu.Query().Get("offset") + "/" + pu.Query().Get("limit")
	}
	if diff := cmp.Diff(map[string]string{"first": "0/2", "previous": "2/2", "next": "6/2", "last": "8/2"}, rels); diff != "" {
		t.Errorf("Link (-want +got):\n%s", diff)
	}
}

// TestServiceNowPendingSettledByItsOwnWrite: a product that arrived
// another way (here straight through the engine, as a concurrent write
// would look) is related when the waiting product is next written.
func TestServiceNowPendingSettledByItsOwnWrite(t *testing.T) {
	v := newEnv(t)
	body := `{"pid": "VOIP-7", "name": "Voice 7", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"},
		"productRelationship": [{"productId": "LINE-7", "relationshipType": "child"}]}`
	var p obj
	v.call(t, "POST", sn+"/product", body, http.StatusCreated, &p)
	line := &payload.Payload{Items: []payload.Item{{ClassName: "sn_prd_invt_product_inventory",
		Values: map[string]any{"pid": "LINE-7", "name": "Line 7", "state": "active", "product_offering": "po", "product_specification": "ps"}}}}
	res, err := v.e.Apply(context.Background(), "ProductInventory", line, engine.StrictApplyOptions())
	if err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	var got obj
	v.call(t, "GET", sn+"/product/"+str(p["id"]), "", http.StatusOK, &got)
	if rel := got["productRelationship"].([]any); len(rel) != 1 || rel[0].(obj)["id"] != "LINE-7" {
		t.Fatalf("still pending: %v", rel)
	}
	v.call(t, "POST", sn+"/product", body, http.StatusOK, nil) // the same pid: an update
	v.call(t, "GET", sn+"/product/"+str(p["id"]), "", http.StatusOK, &got)
	if rel := got["productRelationship"].([]any); len(rel) != 1 || rel[0].(obj)["id"] != res.Items[0].SysID || rel[0].(obj)["name"] != "Line 7" {
		t.Errorf("after the waiting product's write: %v", rel)
	}
}
