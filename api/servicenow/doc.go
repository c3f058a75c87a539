// Package servicenow serves ServiceNow's REST APIs over the engine, so an
// integration written for a ServiceNow instance works against irego by
// changing its base URL:
//
//	POST /api/now/identifyreconcile                 ?sysparm_data_source=S   Apply, all or nothing
//	POST /api/now/identifyreconcile/enhanced        &options=name:value,...  Apply with the enhanced options
//	POST /api/now/identifyreconcile/query                                    Identify (dry run)
//	POST /api/now/identifyreconcile/queryEnhanced                            Identify with options
//	POST /api/now/sam_software_usage_integration/createOrUpdate              software usage, JSON or XML
//	GET  /api/now/table/{class}[/{sys_id}]          stored records of a class and its subclasses
//	GET  /api/now/table/reconcile_duplicate_task    de-duplication tasks (state 1 open, 3 merged, 7 dismissed)
//	GET  /api/now/table/duplicate_audit_result      one row per CI of a task: duplicate_ci, follow_on_task
//	GET  /api/now/cmdb/instance/{class}[/{sys_id}]  a CI with its relations both ways
//
// and the same under /api/now/v1 and /api/now/v2. Replies are wrapped in
// {"result": ...}; errors use ServiceNow's envelope
// {"error": {"message", "detail"}, "status": "failure"}.
//
// The handlers only decode, call the engine, encode and map errors. Bodies
// may be strict JSON or the single-quoted style of ServiceNow's own
// examples (see api.Relaxed). Table rows render every value as a string, as
// ServiceNow's Table API does.
//
// # Roles
//
// identify/reconcile: itil or asset; software usage: sam_admin or
// sam_developer; reads: any of those or cmdb_read. The admin role passes
// every check.
package servicenow
