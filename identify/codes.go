package identify

import "fmt"

// Error and warning codes, as ServiceNow's IRE names them.
const (
	InvalidInputData                 = "INVALID_INPUT_DATA"
	IdentificationRuleMissing        = "IDENTIFICATION_RULE_MISSING"
	IdentificationRuleForRelatedMiss = "IDENTIFICATION_RULE_FOR_RELATED_ITEM_MISSING"
	MissingMatchingAttributes        = "MISSING_MATCHING_ATTRIBUTES"
	MissingDependency                = "MISSING_DEPENDENCY"
	MultipleDependencies             = "MULTIPLE_DEPENDENCIES"
	DuplicatePayloadRecords          = "DUPLICATE_PAYLOAD_RECORDS"
	DuplicateRelatedPayload          = "DUPLICATE_RELATED_PAYLOAD"
	MultiMatch                       = "MULTI_MATCH"
	MultipleDuplicateRecords         = "MULTIPLE_DUPLICATE_RECORDS"
	IdentificationRuleForLookupMiss  = "IDENTIFICATION_RULE_FOR_LOOKUP_MISSING"
	DuplicateLookupPayload           = "DUPLICATE_LOOKUP_PAYLOAD"
	Abandoned                        = "ABANDONED"
	RequiredAttributeEmpty           = "REQUIRED_ATTRIBUTE_EMPTY"
	InsertNotAllowedForSource        = "INSERT_NOT_ALLOWED_FOR_SOURCE"
	ReclassificationNotAllowed       = "RECLASSIFICATION_NOT_ALLOWED"
)

// Operations.
const (
	OpInsert              = "INSERT"
	OpUpdate              = "UPDATE"
	OpNoChange            = "NO_CHANGE"
	OpUpdateWithUpgrade   = "UPDATE_WITH_UPGRADE"
	OpUpdateWithDowngrade = "UPDATE_WITH_DOWNGRADE"
	OpUpdateWithSwitch    = "UPDATE_WITH_SWITCH"
)

// Info codes: a class change the match asked for was skipped.
const (
	SkippedClassUpgrade   = "SKIPPED_CLASS_UPGRADE"
	SkippedClassDowngrade = "SKIPPED_CLASS_DOWNGRADE"
	SkippedClassSwitch    = "SKIPPED_CLASS_SWITCH"
)

// Attempt results.
const (
	Matched = "MATCHED"
	NoMatch = "NO_MATCH"
	Skipped = "SKIPPED"
	// MultiMatch doubles as an attempt result.
)

// Issue is an error or a warning about one item, relation or related item.
type Issue struct {
	Code    string `json:"error"`
	Message string `json:"message"`
	// RuleSysID names the rule behind an info (a reclassification
	// restriction); "" when a payload flag or the rules' settings decided.
	RuleSysID string `json:"-"`
}

func issue(code, format string, args ...any) Issue {
	return Issue{Code: code, Message: fmt.Sprintf(format, args...)}
}
