// Package tableapi reads records of ServiceNow's Table API, from an
// export on disk or from a live instance, one record at a time.
//
// A ServiceNow instance answers GET /api/now/table/{table} with a page
// {"result": [ {field: value, ...}, ... ]}. An export is such pages saved
// as files: DIR/{table}.json, or several pages DIR/{table}_1.json,
// DIR/{table}_2.json ... (also "-1" or ".1"), or DIR/{table}/*.json. The
// JSONv2 shape {"records": [...]} and a bare array are read too.
//
// Values come out as text, as the Table API stores them: a reference
// field, exported as {"link": ..., "value": sys_id} or as the bare
// sys_id (sysparm_exclude_reference_link=true), reads as its sys_id; a
// {"display_value": ..., "value": ...} pair (sysparm_display_value=all)
// reads as its value. Records are decoded as they stream, so memory does
// not grow with the size of a table.
//
// A Source is safe for use by one goroutine at a time.
package tableapi
