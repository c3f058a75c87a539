package api

import (
	"fmt"
	"net/http"
	"strconv"
)

// ScanCappedHeader names the reply header saying a list read its scan
// limit of records before it had read the whole class: a filter or order
// no index serves reads records, and at most that many (engine.Selection's
// MaxScan). Its value is how many records were read.
const ScanCappedHeader = "X-Scan-Capped"

// NoteScanCapped tells the client of a list reply that the records behind
// it were read up to the scan limit only: the total and the page cover the
// first scanned records, class by class and by sys_id. It sets
// ScanCappedHeader and a Warning saying what to do.
func NoteScanCapped(w http.ResponseWriter, scanned int) {
	w.Header().Set(ScanCappedHeader, strconv.Itoa(scanned))
	w.Header().Set("Warning", fmt.Sprintf(`199 irego "the query read %d records, its scan limit, before the end of the class: the total and the page cover those records only; filter on an indexed attribute or query a narrower class"`, scanned))
}
