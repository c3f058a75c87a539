package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"
)

// Every key irego writes is laid out here, and nowhere else.
//
//	meta/schema                                   → schema version (decimal)
//	meta/rules                                    → fingerprint of the rule set the identity index was built with
//	meta/identity                                 → the identity index layout ("2": guards and members)
//	meta/records                                  → the CI record format: "binary" once every record is (RecordFormat), else how far the migration from JSON got
//	v1/ci/<sys_id>                                → Record (binary, codec.go; JSON in stores older versions wrote)
//	v1/cls/<class>\x00<sys_id>                    → "" (class membership, for listing a class)
//	v1/id/<entry_id>/<scope>/<values>             → identity guard: how many CIs hold those values, and the sys_id when one does (identity.go)
//	v1/idm/<entry_id>/<scope>/<values><sys_id>    → "" (one CI holding those values)
//	v1/out/<parent sys_id>/<type>\x00<child>      → Edge (binary, edgecodec.go; JSON in stores older versions wrote)
//	v1/in/<child sys_id>/<type>\x00<parent>       → "" (the same edge read the other way: its out key); older versions stored the Edge here too
//	v1/sub/<main sys_id>/<sys_id>                 → "" (related records hanging under a CI)
//	v1/src/<sys_id>/<source>                      → SourceInfo (binary; JSON from older versions): what one source last said of a CI
//	v1/msd/<sys_id>/<source>                      → Reports (binary; JSON from older versions): the values one source last reported for attributes under a multi-source reconciliation policy
//	v1/nk/<source_name>/<native key>              → sys_id the source's native key names
//	v1/hist/<sys_id>/<time><seq>                  → Change (binary; JSON from older versions), one per write of the CI
//	v1/pp/<id>                                    → a partial payload (JSON, owned by the engine)
//	v1/ppk/<identifier key>/<id>                  → "" (index of partial payloads by identifier key)
//	v1/inc/<time>/<id>                            → an incomplete payload item (JSON), for inspection
//	v1/usr/<user name>                            → user account (JSON, owned by the auth package)
//	v1/tok/<SHA-256 of an API token, hex>         → user name the token belongs to (auth)
//	v1/set/<setting name>                         → a server setting's value (JSON, owned by the settings package)
//	v1/lic/state                                  → license import state (JSON, owned by the license package)
//	v1/lic/dim/<kind>/<id>                        → a computer system or software title with its numeric id (JSON)
//	v1/lic/dimk/<kind>/<natural key>              → that id (8 bytes), by the sys_id or title it stands for
//	v1/lic/snap/<day>/<import>/<cs>/<title>/<metric> → one day's license usage of one import (JSON)
//	v1/lic/peak/<import>/<cs>/<title>/<metric>    → the 90-day peak computed by one import (JSON)
//	v1/lic/ctr/<contract id>                      → a license contract (JSON)
//	v1/lic/doc/<name>                             → a small license document: computer groups, metric catalogue (JSON)
//	meta/indexes                                  → fingerprint of the secondary indexes the rule set declares
//	v1/ix/<class><attribute><value><sys_id>\x00<own class><text> → "" (secondary index of a class's `indexed` attributes, in value order: indexkeys.go)
//	v1/ixn/<class><attribute><value><chunk>       → how many of those entries have a sys_id starting with <chunk> (8 bytes)
//	v1/ixd/<event number>                         → changes to chunk counts one commit made, not yet added to them (indexdeltas.go)
//	v1/ixdw                                       → the first event number whose count changes are not yet added (8 bytes)
//	v1/hub/<id>                                   → a product event subscription (JSON, owned by api/tmf637)
//	v1/seq/<name>                                 → the last number a sequence handed out (decimal)
//	v1/dup/<task sys_id>                          → a de-duplication task (JSON, owned by the engine)
//	v1/dupo/<sys_id><sys_id>...                   → sys_id of the open de-duplication task naming exactly those CIs (sorted)
//	v1/dupof/<main sys_id>/<sys_id>               → "" (a CI merged into main: its duplicate_of)
//	meta/ready                                    → "1", written by the server's readiness probe to prove the store takes writes
//	meta/ruleset                                  → the rule set every process on the store uses: fingerprint, name, state (JSON, owned by the engine)
//	meta/rulesource                               → the text of that rule set, for processes to load
//	meta/ruleslease                               → who runs the reindex of a rule change, and until when (JSON, owned by the engine)
//	v1/imp/<step>                                 → how far a bulk load got in one step (JSON, owned by the engine's loader)
//	v1/impd/<identity key><sys_id>                → "" (a loaded CI that lost a unique identity to an older one, until its task is opened)
//	v1/evn                                        → the last change event sequence number handed out (8 bytes)
//	v1/ev/<sequence>                              → a change event (binary, owned by the engine; JSON from older versions), <sequence> 8 bytes big-endian
//	v1/hubc/<id>                                  → the last event sequence a product event subscription acknowledged (8 bytes)
//	v1/lrp/<sys_id>                               → LastReport (binary; JSON from older versions): how the last report that wrote the CI identified it
//	v1/msk/<sys_id>/<source>                      → []MaskedValue (binary; JSON from older versions): the last value per attribute the source reported and could not set
//
// sys_ids are 32 lowercase hex characters, so fixed-width components need no
// escaping. Identity values are length-prefixed, so no value can forge
// another key. <scope> is "-" for independent identities, else the sys_id of
// the CI the identity lives under (the parent of a dependent item, the main
// item of a related one).

// SchemaVersion is the key layout version written under meta/schema.
const SchemaVersion = 1

var (
	keySchema    = []byte("meta/schema")
	keyRulesHash = []byte("meta/rules")
	keyIDFormat  = []byte("meta/identity")
	prefixCI     = []byte("v1/ci/")
	prefixClass  = []byte("v1/cls/")
	prefixID     = []byte("v1/id/")
	prefixIDM    = []byte("v1/idm/")
	prefixOut    = []byte("v1/out/")
	prefixIn     = []byte("v1/in/")
	prefixSub    = []byte("v1/sub/")
	prefixUser   = []byte("v1/usr/")
	prefixSource = []byte("v1/src/")
	prefixReport = []byte("v1/msd/")
	prefixNative = []byte("v1/nk/")
	prefixHist   = []byte("v1/hist/")
	prefixPP     = []byte("v1/pp/")
	prefixPPKey  = []byte("v1/ppk/")
	prefixInc    = []byte("v1/inc/")
	prefixLastRp = []byte("v1/lrp/")
	prefixMasked = []byte("v1/msk/")
)

// NoScope is the scope of an independent identity.
const NoScope = "-"

// SchemaKey is the key holding the store's key layout version (SchemaVersion).
func SchemaKey() []byte { return keySchema }

// RulesHashKey is the key holding the fingerprint of the rule set the identity index was built with.
func RulesHashKey() []byte { return keyRulesHash }

// IdentityFormatKey records the layout of the identity index (the current
// one is IdentityFormat); a store without it has the older layout, one key
// per identity naming its only CI, and is reindexed when opened.
func IdentityFormatKey() []byte { return keyIDFormat }

// IdentityFormat is the identity index layout this version writes. 3:
// dependent CIs also hold the lookup identities of their host's rule (an
// adapter's MAC address), so stores of format 2 are reindexed when opened.
// 4: an identity with a single holder has no member key (its guard names
// the holder); a store of format 3 drops those keys once when opened.
const IdentityFormat = "4"

// IdentityFormatSingleMembers is the format before IdentityFormat, whose
// single holders also have member keys.
const IdentityFormatSingleMembers = "3"

// RecordFormatKey holds the format of the store's CI records: RecordFormat
// once every record is in it; while the records written as JSON by older
// versions are being rewritten, "migrating " and the last key done.
func RecordFormatKey() []byte { return []byte("meta/records") }

// RecordFormat is the record format this version writes (codec.go).
const RecordFormat = "binary"

// CIKey is the key of a CI's record.
func CIKey(sysID string) []byte { return cat(prefixCI, sysID) }

// CIPrefix is the prefix of every CI record.
func CIPrefix() []byte { return prefixCI }

// SysIDFromCIKey returns the sys_id of a key built by CIKey.
func SysIDFromCIKey(k []byte) string { return string(k[len(prefixCI):]) }

// ClassKey is the key listing a CI under its class.
func ClassKey(class, sysID string) []byte { return cat(prefixClass, class, "\x00", sysID) }

// ClassPrefix is the prefix of every CI listed under class.
func ClassPrefix(class string) []byte { return cat(prefixClass, class, "\x00") }

// SysIDFromClassKey returns the sys_id of a key built by ClassKey.
func SysIDFromClassKey(k []byte) string { return string(k[bytes.LastIndexByte(k, 0)+1:]) }

// ClassKeysPrefix is the prefix of every class membership key, of every
// class: in key order, class by class in name order, by sys_id within one.
func ClassKeysPrefix() []byte { return prefixClass }

// IdentityKey is the index key of one identifier entry's values within a
// scope. values must be canonical texts, in the entry's attribute order; a
// nil entry in isNull marks an allowed null.
func IdentityKey(entryID, scope string, values []string, isNull []bool) []byte {
	room := 0 // for the values: the key is built in one allocation, to its size
	for _, v := range values {
		room += len(v) + uvarintLen(uint64(len(v))+1)
	}
	k := catWithRoom(room, prefixID, entryID, "/", scope, "/")
	for i, v := range values {
		if isNull != nil && isNull[i] {
			k = append(k, 0) // null marker: cannot collide with a length prefix ≥ 1
			continue
		}
		k = binary.AppendUvarint(k, uint64(len(v))+1)
		k = append(k, v...)
	}
	return k
}

// uvarintLen is how many bytes binary.AppendUvarint writes for x.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// IdentityPrefix is the prefix of every identity guard key.
func IdentityPrefix() []byte { return prefixID }

// IdentityMemberKey is the key recording that sysID holds the identity
// whose guard key is identity (built by IdentityKey). Identity values are
// length-prefixed, so no identity key is a prefix of another and the
// members of one identity are exactly the keys under IdentityMemberPrefix.
func IdentityMemberKey(identity []byte, sysID string) []byte {
	return append(IdentityMemberPrefix(identity), sysID...)
}

// IdentityMemberPrefix is the prefix of every member key of identity.
func IdentityMemberPrefix(identity []byte) []byte {
	return cat(prefixIDM, string(identity[len(prefixID):]))
}

// IdentityMembersPrefix is the prefix of every identity member key.
func IdentityMembersPrefix() []byte { return prefixIDM }

// IdentityOfMemberKey splits a member key into its identity key and sys_id.
func IdentityOfMemberKey(k []byte) (identity []byte, sysID string) {
	cut := len(k) - SysIDLen
	return cat(prefixID, string(k[len(prefixIDM):cut])), string(k[cut:])
}

// EntryIDOfIdentity returns the identifier entry ID an identity key
// (built by IdentityKey) belongs to.
func EntryIDOfIdentity(k []byte) string {
	rest := k[len(prefixID):]
	if i := bytes.IndexByte(rest, '/'); i >= 0 {
		return string(rest[:i])
	}
	return ""
}

// ScopeOfIdentity returns the scope an identity key was built with.
func ScopeOfIdentity(k []byte) string { return string(IdentityScope(k)) }

// IdentityScope is ScopeOfIdentity as a part of k, for map lookups that
// need no copy (m[string(IdentityScope(k))]).
func IdentityScope(k []byte) []byte {
	rest := k[len(prefixID):]
	i := bytes.IndexByte(rest, '/')
	if i < 0 {
		return nil
	}
	rest = rest[i+1:]
	if j := bytes.IndexByte(rest, '/'); j >= 0 {
		return rest[:j]
	}
	return nil
}

// SplitIdentityKey splits an identity key (built by IdentityKey) around its
// scope: IdentityKey(e, s, …) is prefix, s, suffix for every scope s. ok is
// false for a key that is not one.
func SplitIdentityKey(k []byte) (prefix, scope, suffix []byte, ok bool) {
	if !IsIdentityKey(k) {
		return nil, nil, nil, false
	}
	s := IdentityScope(k)
	if s == nil {
		return nil, nil, nil, false
	}
	i := len(prefixID) + bytes.IndexByte(k[len(prefixID):], '/') + 1 // the scope follows the entry ID
	return k[:i:i], k[i : i+len(s)], k[i+len(s):], true
}

// SysIDLen is the length of a sys_id: 32 lowercase hex characters.
const SysIDLen = 32

// OutKey is the key of a relation read from its parent.
func OutKey(parent, relType, child string) []byte {
	return cat(prefixOut, parent, "/", relType, "\x00", child)
}

// OutKeyEnds returns the parent and child sys_ids of an OutKey; false
// when k is not one.
func OutKeyEnds(k []byte) (parent, child []byte, ok bool) {
	rest, ok := bytes.CutPrefix(k, prefixOut)
	if !ok {
		return nil, nil, false
	}
	parent, rest, ok = bytes.Cut(rest, []byte("/"))
	if !ok {
		return nil, nil, false
	}
	_, child, ok = bytes.Cut(rest, []byte{0})
	return parent, child, ok
}

// InKey is the key of a relation read from its child.
func InKey(child, relType, parent string) []byte {
	return cat(prefixIn, child, "/", relType, "\x00", parent)
}

// OutPrefix is the prefix of every relation out of parent.
func OutPrefix(parent string) []byte { return cat(prefixOut, parent, "/") }

// InPrefix is the prefix of every relation into child.
func InPrefix(child string) []byte { return cat(prefixIn, child, "/") }

// OutKeyOfIn returns the key of the relation whose key read from its
// child is k, a key under InPrefix(child); false when k is not one.
func OutKeyOfIn(child string, k []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(k, prefixIn)
	if !ok || len(rest) <= len(child) || string(rest[:len(child)]) != child || rest[len(child)] != '/' {
		return nil, false
	}
	relType, parent, ok := bytes.Cut(rest[len(child)+1:], []byte{0})
	if !ok {
		return nil, false
	}
	out := make([]byte, 0, len(prefixOut)+len(parent)+len(relType)+len(child)+2)
	out = append(append(out, prefixOut...), parent...)
	out = append(append(append(out, '/'), relType...), 0)
	return append(out, child...), true
}

// EdgePrefix is the prefix of every relation, each read once (from its parent).
func EdgePrefix() []byte { return prefixOut }

// InEdgePrefix is the prefix of every relation's key read from its child.
func InEdgePrefix() []byte { return prefixIn }

// OutKeyOfAnyIn is OutKeyOfIn for a key under InEdgePrefix, whose child it
// reads from the key.
func OutKeyOfAnyIn(k []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(k, prefixIn)
	if !ok {
		return nil, false
	}
	child, _, ok := bytes.Cut(rest, []byte("/"))
	if !ok {
		return nil, false
	}
	return OutKeyOfIn(string(child), k)
}

// SubKey is the key listing a related record under its main CI.
func SubKey(main, sysID string) []byte { return cat(prefixSub, main, "/", sysID) }

// SubPrefix is the prefix of every related record under main.
func SubPrefix(main string) []byte { return cat(prefixSub, main, "/") }

// SysIDFromSubKey returns the related record's sys_id of a key built by SubKey.
func SysIDFromSubKey(k []byte) string { return string(k[bytes.LastIndexByte(k, '/')+1:]) }

// SourceKey is the key of what one source last said of a CI.
func SourceKey(sysID, source string) []byte { return cat(prefixSource, sysID, "/", source) }

// SourcePrefix is the prefix of every source's report of a CI.
func SourcePrefix(sysID string) []byte { return cat(prefixSource, sysID, "/") }

// ReportKey holds what one source last reported of a CI's attributes that
// a multi-source reconciliation policy decides (ServiceNow's
// cmdb_multisource_data).
func ReportKey(sysID, source string) []byte { return cat(prefixReport, sysID, "/", source) }

// ReportPrefix is the prefix of every source's multi-source reports of a CI.
func ReportPrefix(sysID string) []byte { return cat(prefixReport, sysID, "/") }

// SourceFromReportKey returns the source of a key built by ReportKey.
func SourceFromReportKey(k []byte) string {
	return string(k[len(prefixReport)+bytes.IndexByte(k[len(prefixReport):], '/')+1:])
}

// LastReportKey holds how the last report that wrote a CI identified it.
func LastReportKey(sysID string) []byte { return cat(prefixLastRp, sysID) }

// MaskedKey holds the values one source reported of a CI and could not set.
func MaskedKey(sysID, source string) []byte { return cat(prefixMasked, sysID, "/", source) }

// MaskedPrefix is the prefix of every source's masked values of a CI.
func MaskedPrefix(sysID string) []byte { return cat(prefixMasked, sysID, "/") }

// NativeKey indexes a source's own key for a CI (sys_object_source_info).
// Both parts are length-prefixed, so neither can forge the other.
func NativeKey(sourceName, nativeKey string) []byte {
	k := append([]byte(nil), prefixNative...)
	for _, p := range []string{sourceName, nativeKey} {
		k = binary.AppendUvarint(k, uint64(len(p)))
		k = append(k, p...)
	}
	return k
}

// NativeKeysPrefix is the prefix of every NativeKey.
func NativeKeysPrefix() []byte { return prefixNative }

// SplitNativeKey returns the source name and native key of a key built by
// NativeKey; ok is false when k is not one.
func SplitNativeKey(k []byte) (sourceName, nativeKey string, ok bool) {
	rest := k[len(prefixNative):]
	var parts [2]string
	for i := range parts {
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			return "", "", false
		}
		parts[i], rest = string(rest[w:w+int(n)]), rest[w+int(n):]
	}
	return parts[0], parts[1], len(rest) == 0
}

// HistoryKey orders a CI's changes by time; seq, rising within a process,
// orders changes stamped with the same time.
func HistoryKey(sysID string, at time.Time, seq uint64) []byte {
	k := cat(prefixHist, sysID, "/")
	k = binary.BigEndian.AppendUint64(k, uint64(at.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// HistoryPrefix is the prefix of a CI's history, oldest first.
func HistoryPrefix(sysID string) []byte { return cat(prefixHist, sysID, "/") }

// PartialKey is the key of a partial payload waiting to be completed.
func PartialKey(id string) []byte { return cat(prefixPP, id) }

// PartialPrefix is the prefix of every partial payload.
func PartialPrefix() []byte { return prefixPP }

// PartialIndexKey indexes a partial payload under one identifier key of one
// of its items (see identify.PartialKeys).
func PartialIndexKey(identifier []byte, id string) []byte {
	k := append([]byte(nil), prefixPPKey...)
	k = binary.AppendUvarint(k, uint64(len(identifier)))
	k = append(k, identifier...)
	return append(k, id...)
}

// PartialIndexPrefix is the prefix of the partial payloads filed under one identifier key.
func PartialIndexPrefix(identifier []byte) []byte {
	k := append([]byte(nil), prefixPPKey...)
	k = binary.AppendUvarint(k, uint64(len(identifier)))
	return append(k, identifier...)
}

// IncompleteKey orders incomplete payload items by the time they failed.
func IncompleteKey(at time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(append([]byte(nil), prefixInc...), uint64(at.UnixNano()))
	return append(k, id...)
}

// IncompletePrefix is the prefix of every incomplete payload item, oldest first.
func IncompletePrefix() []byte { return prefixInc }

// IncompleteTime returns the time an IncompleteKey was made with.
func IncompleteTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefixInc):])))
}

// UserKey is the key of a user account.
func UserKey(name string) []byte { return cat(prefixUser, name) }

// UserPrefix is the prefix of every user account.
func UserPrefix() []byte { return prefixUser }

// API tokens, server settings and license data. <day> is YYYY-MM-DD;
// <import>, <id>, <cs> and <title> are 8-byte big-endian numbers, so keys
// sort by day, then import, then computer system and title.
var (
	prefixToken    = []byte("v1/tok/")
	prefixSetting  = []byte("v1/set/")
	keyLicState    = []byte("v1/lic/state")
	prefixLicDim   = []byte("v1/lic/dim/")
	prefixLicDimK  = []byte("v1/lic/dimk/")
	prefixLicSnap  = []byte("v1/lic/snap/")
	prefixLicPeak  = []byte("v1/lic/peak/")
	prefixLicPeakT = []byte("v1/lic/peakt/")
	prefixLicSum   = []byte("v1/lic/sum/")
	prefixContract = []byte("v1/lic/ctr/")
	prefixLicDoc   = []byte("v1/lic/doc/")
)

// TokenKey is the key of an API token, by the hex SHA-256 digest of the token.
func TokenKey(digest string) []byte { return cat(prefixToken, digest) }

// SettingKey is the key of a server setting.
func SettingKey(name string) []byte { return cat(prefixSetting, name) }

// LicenseStateKey is the key of the license import state.
func LicenseStateKey() []byte { return keyLicState }

// LicenseDocKey is the key of a small license document (computer groups, metric catalogue).
func LicenseDocKey(name string) []byte { return cat(prefixLicDoc, name) }

// ContractKey is the key of a license contract.
func ContractKey(id string) []byte { return cat(prefixContract, id) }

// ContractPrefix is the prefix of every license contract.
func ContractPrefix() []byte { return prefixContract }

// LicenseDimKey is the key of a computer system or software title by its numeric id.
func LicenseDimKey(kind string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(cat(prefixLicDim, kind, "/"), id)
}

// LicenseDimPrefix is the prefix of every license dimension of one kind.
func LicenseDimPrefix(kind string) []byte { return cat(prefixLicDim, kind, "/") }

// LicenseDimIndexKey is the key finding a license dimension's id by its natural key.
func LicenseDimIndexKey(kind, key string) []byte { return cat(prefixLicDimK, kind, "/", key) }

// SnapshotKey is one day's usage of one (computer system, title, metric)
// as one import computed it.
func SnapshotKey(day string, imp, cs, title uint64, metric string) []byte {
	k := SnapshotPrefix(day, imp)
	k = binary.BigEndian.AppendUint64(k, cs)
	k = binary.BigEndian.AppendUint64(k, title)
	return append(k, metric...)
}

// SnapshotPrefix is the prefix of one import's license usage of one day.
func SnapshotPrefix(day string, imp uint64) []byte {
	return binary.BigEndian.AppendUint64(SnapshotDayPrefix(day), imp)
}

// IDAfter is the id k holds right after prefix: the computer system of a
// SnapshotKey under its SnapshotPrefix, or the id of a LicenseDimKey under
// its LicenseDimPrefix; 0 when k is too short to hold one.
func IDAfter(prefix, k []byte) uint64 {
	if len(k) < len(prefix)+8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(prefix):])
}

// SnapshotDayPrefix holds every import's snapshot of one day.
func SnapshotDayPrefix(day string) []byte { return cat(prefixLicSnap, day, "/") }

// PeakKey is the key of a 90-day peak one import computed.
func PeakKey(imp, cs, title uint64, metric string) []byte {
	k := binary.BigEndian.AppendUint64(PeakPrefix(imp), cs)
	k = binary.BigEndian.AppendUint64(k, title)
	return append(k, metric...)
}

// PeakPrefix is the prefix of every peak one import computed.
func PeakPrefix(imp uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixLicPeak...), imp)
}

// PeakByTitleKey is a 90-day peak one import computed, again, keyed by
// title and metric first so the computer systems behind one title's
// metric are read with one seek, in the order of rank (the caller's
// encoding of the value), then computer system. The metric ends with a 0
// byte, so no metric's prefix finds another's rows.
func PeakByTitleKey(imp, title uint64, metric string, rank, cs uint64) []byte {
	k := binary.BigEndian.AppendUint64(PeakByTitlePrefix(imp, title, metric), rank)
	return binary.BigEndian.AppendUint64(k, cs)
}

// PeakByTitlePrefix is the prefix of one import's peaks of one title's metric.
func PeakByTitlePrefix(imp, title uint64, metric string) []byte {
	k := binary.BigEndian.AppendUint64(PeakByTitleImportPrefix(imp), title)
	return append(append(k, metric...), 0)
}

// PeakByTitleImportPrefix is the prefix of every PeakByTitleKey of one import.
func PeakByTitleImportPrefix(imp uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixLicPeakT...), imp)
}

// UsageSummaryKey is the key of one import's summary of one title's metric
// in All Computers (the 90-day high-water mark and its day).
func UsageSummaryKey(imp, title uint64, metric string) []byte {
	return append(binary.BigEndian.AppendUint64(UsageSummaryPrefix(imp), title), metric...)
}

// UsageSummaryPrefix is the prefix of every summary one import wrote.
func UsageSummaryPrefix(imp uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixLicSum...), imp)
}

// Secondary indexes (engine.Find, engine.Select): see indexkeys.go.
var (
	keyIndexesHash    = []byte("meta/indexes")
	prefixIndex       = []byte("v1/ix/")
	prefixIndexCount  = []byte("v1/ixn/")
	prefixIndexDelta  = []byte("v1/ixd/")
	keyIndexDeltaMark = []byte("v1/ixdw")
	prefixHub         = []byte("v1/hub/")
	prefixSeq         = []byte("v1/seq/")
	prefixDupTask     = []byte("v1/dup/")
	prefixDupOpen     = []byte("v1/dupo/")
	prefixDupOf       = []byte("v1/dupof/")
)

// SourcesPrefix is the prefix of every SourceKey, of all CIs.
func SourcesPrefix() []byte { return prefixSource }

// SysIDFromSourceKey returns the sys_id of a key built by SourceKey.
func SysIDFromSourceKey(k []byte) string {
	return string(k[len(prefixSource) : len(prefixSource)+min(SysIDLen, len(k)-len(prefixSource))])
}

// Bulk loads (engine.Loader) keep their progress per step, so an
// interrupted load resumes, and the CIs that lost a unique identity to an
// older CI, grouped by identity, until the load opens their tasks.
var (
	prefixImport     = []byte("v1/imp/")
	prefixImportDups = []byte("v1/impd/")
)

// ImportKey holds how far a bulk load got in one step.
func ImportKey(step string) []byte { return cat(prefixImport, step) }

// ImportPrefix is the prefix of every bulk load checkpoint.
func ImportPrefix() []byte { return prefixImport }

// ImportDuplicateKey records that sysID fills identity alike with its
// holder but lost it, being younger.
func ImportDuplicateKey(identity []byte, sysID string) []byte {
	return cat(prefixImportDups, string(identity), sysID)
}

// ImportDuplicatesPrefix is the prefix of every ImportDuplicateKey.
func ImportDuplicatesPrefix() []byte { return prefixImportDups }

// SplitImportDuplicateKey returns the identity and sys_id of a key built
// by ImportDuplicateKey.
func SplitImportDuplicateKey(k []byte) (identity []byte, sysID string) {
	cut := len(k) - SysIDLen
	return append([]byte(nil), k[len(prefixImportDups):cut]...), string(k[cut:])
}

// ReadyKey is the key the readiness probe writes.
func ReadyKey() []byte { return []byte("meta/ready") }

// HubKey is one event subscription of the product inventory API.
func HubKey(id string) []byte { return cat(prefixHub, id) }

// HubPrefix is the prefix of every product event subscription.
func HubPrefix() []byte { return prefixHub }

// DuplicateTaskKey holds one de-duplication task.
func DuplicateTaskKey(id string) []byte { return cat(prefixDupTask, id) }

// DuplicateTaskPrefix is the prefix of every de-duplication task.
func DuplicateTaskPrefix() []byte { return prefixDupTask }

// OpenDuplicateKey names the open task for a group of CIs, so a group
// found again is not given a second task. The sys_ids are fixed-width and
// sorted, so one group has one key.
func OpenDuplicateKey(sysIDs []string) []byte {
	ids := slices.Clone(sysIDs)
	slices.Sort(ids)
	return cat(prefixDupOpen, ids...)
}

// DuplicateOfKey records that sysID was merged into main (its
// duplicate_of), so main's duplicates are found without a scan.
func DuplicateOfKey(main, sysID string) []byte { return cat(prefixDupOf, main, "/", sysID) }

// DuplicateOfPrefix is the prefix of every CI merged into another.
func DuplicateOfPrefix(main string) []byte { return cat(prefixDupOf, main, "/") }

// SequenceKey holds the last number the named sequence handed out.
func SequenceKey(name string) []byte { return cat(prefixSeq, name) }

// The change event outbox: every change of a CI appends an event in the
// transaction that makes it, numbered by one counter that the transaction
// reads and writes, so commits that add events are serialized and event
// numbers follow commit order.
var (
	keyEventSeq     = []byte("v1/evn")
	prefixEvent     = []byte("v1/ev/")
	prefixHubCursor = []byte("v1/hubc/")
)

// EventSeqKey holds the last event sequence number handed out.
func EventSeqKey() []byte { return keyEventSeq }

// EventKey holds the event numbered seq; keys sort by seq.
func EventKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixEvent...), seq)
}

// EventPrefix is the prefix of every change event, in sequence order.
func EventPrefix() []byte { return prefixEvent }

// EventSeqOfKey returns the sequence number of a key built by EventKey.
func EventSeqOfKey(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(prefixEvent):]) }

// HubCursorKey holds the last event sequence the product event
// subscription id acknowledged.
func HubCursorKey(id string) []byte { return cat(prefixHubCursor, id) }

// IsCIKey reports whether k was built by CIKey.
func IsCIKey(k []byte) bool { return bytes.HasPrefix(k, prefixCI) }

// IsIdentityKey reports whether k is an identity guard key (IdentityKey).
func IsIdentityKey(k []byte) bool { return bytes.HasPrefix(k, prefixID) }

// IsSourceKey reports whether k is a CI's source entry (SourceKey).
func IsSourceKey(k []byte) bool { return bytes.HasPrefix(k, prefixSource) }

// KeyUnder reports whether k lies under a CI for which fresh is true: its
// class membership, source entry, related records, relations either way,
// index entries, and the identities it scopes. Other keys, and a CI's own
// record, are under none.
func KeyUnder(k []byte, fresh func(sysID []byte) bool) bool {
	// before and after split rest at the first sep: the sys_ids either side.
	before := func(rest []byte, sep byte) []byte {
		if i := bytes.IndexByte(rest, sep); i >= 0 {
			return rest[:i]
		}
		return nil
	}
	after := func(rest []byte, sep byte) []byte {
		if i := bytes.IndexByte(rest, sep); i >= 0 {
			return rest[i+1:]
		}
		return nil
	}
	switch {
	case bytes.HasPrefix(k, prefixClass):
		return fresh(k[bytes.LastIndexByte(k, 0)+1:])
	case bytes.HasPrefix(k, prefixSource):
		return fresh(before(k[len(prefixSource):], '/'))
	case bytes.HasPrefix(k, prefixSub):
		rest := k[len(prefixSub):]
		return fresh(before(rest, '/')) || fresh(after(rest, '/'))
	case bytes.HasPrefix(k, prefixOut):
		parent, child, ok := OutKeyEnds(k)
		return ok && (fresh(parent) || fresh(child))
	case bytes.HasPrefix(k, prefixIn):
		rest := k[len(prefixIn):]
		return fresh(before(rest, '/')) || fresh(after(rest, 0))
	case bytes.HasPrefix(k, prefixID):
		return fresh(IdentityScope(k))
	case bytes.HasPrefix(k, prefixIndex):
		bucket, _, idEnd, err := indexBucketLen(k)
		return err == nil && fresh(k[bucket:idEnd])
	}
	return false
}

// IsOutKey reports whether k was built by OutKey.
func IsOutKey(k []byte) bool { return bytes.HasPrefix(k, prefixOut) }

func cat(prefix []byte, parts ...string) []byte { return catWithRoom(16, prefix, parts...) }

// catWithRoom is cat with room for room more bytes after the parts.
func catWithRoom(room int, prefix []byte, parts ...string) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n+room)
	k = append(k, prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// CheckSchema verifies (or, on an empty store, writes) the schema version.
// Processes opening one new shared store at once all succeed: the ones
// whose write conflicts read the version again.
func CheckSchema(s Store) error {
	for attempt := 1; ; attempt++ {
		err := checkSchema(s)
		if !errors.Is(err, ErrConflict) || attempt == 5 {
			return err
		}
	}
}

// ReadSchema checks, without writing, that s holds the schema version this
// build reads.
func ReadSchema(s Store) error {
	return s.View(func(r Reader) error {
		v, err := r.Get(keySchema)
		if errors.Is(err, ErrNotFound) {
			return errors.New("store: no schema version: an empty store, or not one of irego's")
		}
		if err != nil {
			return err
		}
		if string(v) != fmt.Sprint(SchemaVersion) {
			return fmt.Errorf("store: schema version %s, this build reads %d", v, SchemaVersion)
		}
		return nil
	})
}

func checkSchema(s Store) error {
	t := s.NewTxn()
	defer t.Discard()
	v, err := t.Get(keySchema)
	if errors.Is(err, ErrNotFound) {
		if err := t.Set(keySchema, fmt.Appendf(nil, "%d", SchemaVersion)); err != nil {
			return err
		}
		return t.Commit()
	}
	if err != nil {
		return err
	}
	if string(v) != fmt.Sprint(SchemaVersion) {
		return fmt.Errorf("store: schema version %s, this build reads %d", v, SchemaVersion)
	}
	return nil
}

// RuleSetKey, RuleSourceKey and RulesLeaseKey hold the rule set shared by
// every process on the store, its text, and the lease of whoever rebuilds
// the indexes after it changed.
func RuleSetKey() []byte { return []byte("meta/ruleset") }

// RuleSourceKey holds the text of the active rule set, for other processes to load.
func RuleSourceKey() []byte { return []byte("meta/rulesource") }

// RulesLeaseKey holds the lease of the process changing the rules.
func RulesLeaseKey() []byte { return []byte("meta/ruleslease") }
