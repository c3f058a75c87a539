package rules

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIndexedAttributesAreInherited(t *testing.T) {
	rs, err := Load("t.yaml", []byte(`classes:
  - name: root
  - name: product
    extends: root
    indexed: [state, customer]
  - name: bundle
    extends: product
    indexed: [size, state]
  - name: other
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		class, indexClass string
		indexed           []string
	}{
		{"root", "", nil},
		{"product", "product", []string{"state", "customer"}},
		{"bundle", "product", []string{"state", "customer", "size"}},
		{"other", "", nil},
	} {
		got, _ := rs.Class(c.class)
		if got.IndexClass != c.indexClass || !cmp.Equal(c.indexed, got.Indexed) {
			t.Errorf("%s: index of %q on %v, want %q on %v", c.class, got.IndexClass, got.Indexed, c.indexClass, c.indexed)
		}
	}
	product, _ := Default().Class("sn_prd_invt_product_inventory")
	if product.IndexClass != "sn_prd_invt_product_inventory" || len(product.Indexed) == 0 {
		t.Errorf("default product class: index of %q on %v", product.IndexClass, product.Indexed)
	}
}

func TestIndexedErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"classes:\n  - name: a\n    indexed: []\n", `t.yaml:3: class "a": indexed: no attributes; list at least one, or drop the key`},
		{"classes:\n  - name: a\n    indexed: [x, x]\n", `t.yaml:3: class "a": indexed: duplicate attribute "x"`},
		{"classes:\n  - name: a\n    indexed: [sys_id]\n", `t.yaml:3: class "a": indexed: "sys_id" is always indexed; list only the class's own attributes`},
		{"classes:\n  - name: a\n    indexed: [sys_class_name]\n", `t.yaml:3: class "a": indexed: "sys_class_name" is always indexed; list only the class's own attributes`},
		{"classes:\n  - name: a\n    indexed: state\n", `t.yaml:3: class "a": indexed: expected a list, got string "state"`},
	} {
		_, err := Load("t.yaml", []byte(c.in))
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 || list[0].Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}
