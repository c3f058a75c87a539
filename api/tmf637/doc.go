// Package tmf637 serves product inventory over the engine, in two APIs
// that show the same products:
//
//	TM Forum TMF637 Product Inventory Management v4, for TM Forum clients:
//	GET, POST            /tmf-api/productInventory/v4/product
//	GET, PATCH, DELETE   /tmf-api/productInventory/v4/product/{id}
//	POST                 /tmf-api/productInventory/v4/hub
//	DELETE               /tmf-api/productInventory/v4/hub/{id}
//
//	ServiceNow's Product Inventory Open API (its TMF637 implementation):
//	GET, POST            /api/sn_prd_invt/product
//	GET, PATCH, DELETE   /api/sn_prd_invt/product/{id}
//	PATCH, DELETE        /api/sn_prd_invt/order/product/{id}        (where ServiceNow documents them)
//	GET, POST            /api/sn_prd_invt/productinventory          (deprecated shapes)
//	GET                  /api/sn_prd_invt/productinventory/{id}
//
// Products are CIs of the class sn_prd_invt_product_inventory, written with
// engine.Apply like every CI: identified by their id (the sys_id) or pid
// (the client's own id), reconciled, with history. Characteristics are
// related records (sn_prd_invt_product_characteristics); bundled products
// and realizing services and resources are relations to other products.
// Reference objects keep their id in an indexed attribute and the object as
// JSON beside it; lists are served by engine.Find from the rules' indexes.
// The mapping is in product.go, the shapes in render.go. A relation that
// ServiceNow's path names to a product not stored yet is kept on the
// product and made a relation when that product arrives (pending.go).
//
// TMF637 errors use its Error shape (code, reason, message, status),
// ServiceNow's paths ServiceNow's envelope. Every route needs the role
// sn_prd_invt.product_inventory_integrator (HTTP Basic, as elsewhere).
//
// # Events
//
// Listeners registered with POST /hub receive ProductCreateEvent,
// ProductAttributeValueChangeEvent, ProductStateChangeEvent and
// ProductDeleteEvent for every committed change of a product, whatever
// wrote it, as POSTs to {callback}/listener/productCreateEvent and so on.
// They are served from the engine's change events: one goroutine per
// listener delivers them in commit order, retries until the listener takes
// them, and stores how far it got, so delivery is at least once and
// resumes after a restart; it never holds up a write. The goroutines end
// when the engine closes.
//
// # Preconditions
//
// Single-product reads and writes send an ETag (the product's version);
// PATCH and DELETE honour If-Match, checked in the write's transaction
// (412 when the product moved).
//
// # Concurrency
//
// The Group is safe for concurrent use; every write is one engine
// transaction.
package tmf637
