// Package ilmt serves IBM License Metric Tool's REST APIs over package
// license, so tools written for License Metric Tool (or BigFix Inventory)
// read the license usage irego computes from the CI graph:
//
//	POST /api/get_token                              {"user", "password"} → {"token"}; failures 500 "Bad Request"
//	GET  /api/import_status.json[?run=complete|raw_only]  the import state; run starts an import (admin)
//	GET  /api/sam/configs, PUT /api/sam/configs      advanced server settings (admin)
//	GET  /api/sam/license_usages                     deprecated: 90-day peaks per computer system (expose_deprecated_api)
//	GET  /api/sam/v2/license_usage                   per product and metric, the high-water mark in a computer group
//	PUT  /api/sam/v2/license_usage                   thresholds and custom fields per product and metric
//	GET  /api/sam/v2/license_usage_per_server?date=  per product, metric and server, one day
//	GET  /api/sam/v2/compliance                      contract entitlement beside peak use
//	GET, PUT, POST /api/sam/v2/contracts(.json)      export and import contracts, all or nothing (createSoftware=true)
//	GET  /api/sam/v2/schemas/contract.json           and the other schemas
//	GET  /api/sam/v2/metrics                         the metric catalogue
//	GET, PUT /api/sam/v2/computer_groups, DELETE …/{id}   computer groups and who may see them
//
// Every list takes columns[], order[] ("col desc" too), limit, offset and
// criteria (criteria.go: one parser for every endpoint, faults named with
// the parameter and the character they are at; repeated, all apply), and
// answers {"total": N, "rows": [...]} (countSwitch=1: rows only, 2: the
// total and no rows). limit is 10000 when absent, and at most 10000. A
// list is built as its rows are read (pager.go): each row is filtered and
// counted as it comes, and only the best offset + limit are kept, so a
// page does not hold the estate. Columns have the JSON types License
// Metric Tool documents: numbers as numbers, null where there is no value.
// The license usage replies carry the Import-Mode, Import-Progress,
// Import-Last-Status and Import-Last-Success-Time headers.
//
// # Authentication and permissions
//
// Callers send their API token (POST /api/get_token) in the Token header,
// or as token= in the URL while the setting api_token_in_url_enabled is
// true; the header wins when both are given. License Metric Tool's
// permissions are roles: view_license_metrics and manage_contracts; admin
// passes everywhere. What a caller sees is bounded by the computer groups
// granted to them (license.Group.Users).
//
// Errors use irego's envelope {"error": {"message", "detail"}, "status":
// "failure"}, with the status each API documents: a bad query parameter is
// a 400, except on the deprecated license_usages, which answers 500 "Bad
// Request" as its documentation says. Contract imports answer License
// Metric Tool's {"incorrectRows", "allRows", "message", "rowErrors"}.
package ilmt
