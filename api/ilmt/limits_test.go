package ilmt_test

import (
	"strings"
	"testing"
)

// TestContractIDLimit: a contract id over the store's key text limit is a
// row error naming contract_id and the limit, not a 500.
func TestContractIDLimit(t *testing.T) {
	v := newEnv(t)
	big := strings.Repeat("x", 70000)
	resp, body := v.do(request{user: "root", method: "PUT", path: "/api/sam/v2/contracts.json", body: `[{"contract_id": "` + big + `", "name": "n", "type": 1, "metric": {"code_name": "PVU_SUB_CAP"}, "purchase_orders": [{"purchase_number": "PO-1", "quantity": 1}]}]`})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "contract_id is 70000 bytes long, over the limit of 4096 bytes") || strings.Contains(string(body), "v1/") {
		t.Fatalf("%d %.600s", resp.StatusCode, body)
	}
}
