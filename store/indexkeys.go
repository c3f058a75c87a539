package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Secondary indexes (engine.Find, engine.Select). An index entry is
//
//	v1/ix/<class><attribute><value><sys_id>\x00<own class><text>
//
// <class> (the class that declares the index) and <attribute> are
// length-prefixed; <value> encodes the attribute's value so that keys sort
// in CompareIndexed order and the Table API's comparisons, which ignore
// case, are key ranges: 0x00 for an empty value; 0x01 and 8 order-keeping
// bytes for a number; 0x02, the value in lower case with 0x00 escaped as
// 0x00 0xFF, and the terminator 0x00 0x01 for text. Entries of one value
// (a bucket) sort by sys_id. After the sys_id come the record's own class
// (length-prefixed), so a walk filters classes without reading records,
// and the value's text when the bucket does not give it back (a number,
// or text with capitals), so exact comparisons need no record either.
//
// Each bucket keeps a count per chunk, the first IndexChunkLen characters
// of the sys_id, so a page at any offset is found by summing at most 256
// counts (sys_ids are random hex) and skipping within one chunk. Writers
// do not read counts: they write their changes as deltas, added to the
// counts later (indexdeltas.go).

// IndexLayout names the index key layout; the engine rebuilds the indexes
// of a store written with another one.
const IndexLayout = "2"

// Value tags, in the order CompareIndexed gives.
const (
	tagEmpty  = 0x00
	tagNumber = 0x01
	tagText   = 0x02
)

// IndexChunkLen is how many leading sys_id characters name a count chunk.
const IndexChunkLen = 2

// IndexesHashKey is the key holding the fingerprint of the secondary indexes the rule set declares.
func IndexesHashKey() []byte { return keyIndexesHash }

// IndexNumber reports whether the index orders v as a number, and which.
func IndexNumber(v string) (float64, bool) {
	if v == "" || !mayStartNumber(v[0]) {
		return 0, false // most values are names: no error to allocate
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// mayStartNumber reports whether strconv.ParseFloat accepts a text that
// starts with c: a digit, a sign, a point, or the first letter of inf,
// infinity or nan.
func mayStartNumber(c byte) bool {
	switch {
	case '0' <= c && c <= '9', c == '+', c == '-', c == '.':
		return true
	}
	switch c | 0x20 { // lower case
	case 'i', 'n':
		return true
	}
	return false
}

// CompareIndexed is the order of values in a secondary index, and the
// Table API's ORDERBY: empty values first, then numbers by value, then
// text by its lower-case bytes. It is a total order over every mix of
// numbers and text.
func CompareIndexed(a, b string) int {
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	x, numA := IndexNumber(a)
	y, numB := IndexNumber(b)
	switch {
	case numA && numB:
		return cmp.Compare(x, y)
	case numA:
		return -1
	case numB:
		return 1
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// appendIndexValue appends v encoded as <value>.
func appendIndexValue(k []byte, v string) []byte {
	if v == "" {
		return append(k, tagEmpty)
	}
	if f, ok := IndexNumber(v); ok {
		return appendNumber(append(k, tagNumber), f)
	}
	return append(appendEscaped(append(k, tagText), strings.ToLower(v)), 0, 1)
}

// appendNumber appends f as 8 bytes that sort as cmp.Compare orders
// float64s: NaN first, -0 equal to 0.
func appendNumber(k []byte, f float64) []byte {
	var u uint64 // NaN
	if !math.IsNaN(f) {
		if f == 0 {
			f = 0
		}
		u = math.Float64bits(f)
		if u>>63 == 1 {
			u = ^u
		} else {
			u |= 1 << 63
		}
	}
	return binary.BigEndian.AppendUint64(k, u)
}

func appendEscaped(k []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if k = append(k, s[i]); s[i] == 0 {
			k = append(k, 0xff)
		}
	}
	return k
}

// indexValueLen returns the length of the <value> b starts with.
func indexValueLen(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	switch b[0] {
	case tagEmpty:
		return 1, true
	case tagNumber:
		return 9, len(b) >= 9
	case tagText:
		for i := 1; i+1 < len(b); i++ {
			if b[i] != 0 {
				continue
			}
			if b[i+1] == 1 {
				return i + 2, true
			}
			i++ // an escaped 0x00
		}
	}
	return 0, false
}

// indexText returns the text a <value> of length n encodes: lower case,
// "" for an empty value, the number for a number.
func indexText(b []byte) string {
	switch b[0] {
	case tagEmpty:
		return ""
	case tagNumber:
		u := binary.BigEndian.Uint64(b[1:9])
		if u == 0 {
			return "NaN"
		}
		if u>>63 == 1 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		return strconv.FormatFloat(math.Float64frombits(u), 'g', -1, 64)
	}
	return string(bytes.ReplaceAll(b[1:len(b)-2], []byte{0, 0xff}, []byte{0}))
}

// IndexAttributePrefix is the prefix of every entry of one attribute in a
// class's index, in CompareIndexed order of the values.
func IndexAttributePrefix(class, attr string) []byte { return indexAttributePrefix(class, attr, 0) }

// indexAttributePrefix is IndexAttributePrefix with room for extra more
// bytes, so that a key built on it is allocated once.
func indexAttributePrefix(class, attr string, extra int) []byte {
	k := make([]byte, 0, len(prefixIndex)+len(class)+len(attr)+2*binary.MaxVarintLen16+extra)
	k = append(k, prefixIndex...)
	for _, p := range []string{class, attr} {
		k = binary.AppendUvarint(k, uint64(len(p)))
		k = append(k, p...)
	}
	return k
}

// IndexValuePrefixes are the prefixes of the entries of one attribute in
// a class's index with an empty value, with a number and with text: in
// key order, together every entry of the attribute, and none of another
// layout's keys left under the attribute's prefix until compaction drops
// them.
func IndexValuePrefixes(class, attr string) [][]byte {
	p := IndexAttributePrefix(class, attr)
	return [][]byte{append(slices.Clip(p), tagEmpty), append(slices.Clip(p), tagNumber), append(slices.Clip(p), tagText)}
}

// IndexBucket is the prefix of the index entries of one class, attribute
// and value (canonical text): every entry whose value equals it ignoring
// case, or, for a number, every entry of the same number.
func IndexBucket(class, attr, value string) []byte {
	return appendIndexValue(indexAttributePrefix(class, attr, len(value)+indexValueRoom), value)
}

// indexValueRoom is the room a value's encoding takes beyond its text
// (tag, terminator, a few escapes).
const indexValueRoom = 8

// IndexTextPrefix is the prefix of the entries whose value is text that
// starts with prefix, ignoring case (numbers are under IndexNumbersPrefix).
func IndexTextPrefix(class, attr, prefix string) []byte {
	return appendEscaped(append(IndexAttributePrefix(class, attr), tagText), strings.ToLower(prefix))
}

// IndexNumbersPrefix is the prefix of the entries whose value is a number.
func IndexNumbersPrefix(class, attr string) []byte {
	return append(IndexAttributePrefix(class, attr), tagNumber)
}

// IndexKey is the index entry of the record sysID, of class own, whose
// attribute attr of the index of class holds value.
func IndexKey(class, attr, value, sysID, own string) []byte {
	// Room for the value twice: in the bucket and, with capitals, after.
	k := indexAttributePrefix(class, attr, 2*len(value)+indexValueRoom+len(sysID)+len(own)+binary.MaxVarintLen16+1)
	k = append(appendIndexValue(k, value), sysID...)
	k = append(k, 0)
	k = binary.AppendUvarint(k, uint64(len(own)))
	k = append(k, own...)
	if _, num := IndexNumber(value); num || strings.ToLower(value) != value {
		k = append(k, value...)
	}
	return k
}

// IndexEntry is an index entry read back.
type IndexEntry struct {
	// Bucket is the length of the entry's bucket (IndexBucket).
	Bucket int
	// SysID and Class are the record's; Value is its value of the
	// attribute (canonical text).
	SysID, Class, Value string
}

// indexBucketLen returns the length of an entry's bucket, where its
// value (at) begins, and where its sys_id ends.
func indexBucketLen(k []byte) (bucket, at, idEnd int, err error) {
	if !bytes.HasPrefix(k, prefixIndex) {
		return 0, 0, 0, fmt.Errorf("store: corrupt index entry %q", k)
	}
	at = len(prefixIndex)
	for range 2 {
		n, w := binary.Uvarint(k[at:])
		if w <= 0 || uint64(len(k)-at-w) < n {
			return 0, 0, 0, fmt.Errorf("store: corrupt index entry %q", k)
		}
		at += w + int(n)
	}
	vn, ok := indexValueLen(k[at:])
	end := -1
	if ok {
		end = bytes.IndexByte(k[at+vn:], 0)
	}
	if end <= 0 {
		return 0, 0, 0, fmt.Errorf("store: corrupt index entry %q", k)
	}
	return at + vn, at, at + vn + end, nil
}

// ParseIndexEntry reads an entry built by IndexKey.
func ParseIndexEntry(k []byte) (IndexEntry, error) {
	bucket, at, idEnd, err := indexBucketLen(k)
	if err != nil {
		return IndexEntry{}, err
	}
	bad := func() (IndexEntry, error) { return IndexEntry{}, fmt.Errorf("store: corrupt index entry %q", k) }
	e := IndexEntry{Bucket: bucket, SysID: string(k[bucket:idEnd])}
	rest := k[idEnd+1:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < n {
		return bad()
	}
	e.Class, rest = string(rest[w:w+int(n)]), rest[w+int(n):]
	e.Value = string(rest)
	if len(rest) == 0 {
		e.Value = indexText(k[at:e.Bucket])
	}
	return e, nil
}

// IndexPrefix is the prefix of every secondary index entry.
func IndexPrefix() []byte { return prefixIndex }

// IndexCountPrefix is the prefix of a bucket's chunk counts; in key order
// the chunks follow the order of the bucket's entries.
func IndexCountPrefix(class, attr, value string) []byte {
	b := IndexBucket(class, attr, value)
	return append(append([]byte(nil), prefixIndexCount...), b[len(prefixIndex):]...)
}

// IndexCountsPrefix is the prefix of every secondary index count.
func IndexCountsPrefix() []byte { return prefixIndexCount }

// IndexAttributeCountsPrefix is the prefix of the chunk counts of every
// value of one attribute in a class's index: with the attribute
// sys_class_name, how many records of each class the index holds.
func IndexAttributeCountsPrefix(class, attr string) []byte {
	b := IndexAttributePrefix(class, attr)
	return append(append([]byte(nil), prefixIndexCount...), b[len(prefixIndex):]...)
}

// SplitIndexCountKey returns the value (in lower case) and chunk of a
// count key found under prefix, an IndexAttributeCountsPrefix; ok is false
// for a key not laid out so.
func SplitIndexCountKey(prefix, k []byte) (value, chunk string, ok bool) {
	if !bytes.HasPrefix(k, prefix) {
		return "", "", false
	}
	rest := k[len(prefix):]
	n, ok := indexValueLen(rest)
	if !ok {
		return "", "", false
	}
	return indexText(rest[:n]), string(rest[n:]), true
}

// IndexCountKeyOf is the count key of the chunk an index entry built by
// IndexKey for sysID falls in.
func IndexCountKeyOf(entry []byte, sysID string) []byte {
	k, _ := IndexCountKeyOfEntry(entry)
	return k
}

// IndexCountKeyOfEntry is the count key of the chunk an index entry falls
// in, read from the entry alone.
func IndexCountKeyOfEntry(entry []byte) ([]byte, error) {
	bucket, _, idEnd, err := indexBucketLen(entry)
	if err != nil {
		return nil, err
	}
	k := make([]byte, 0, len(prefixIndexCount)+bucket-len(prefixIndex)+IndexChunkLen)
	k = append(append(k, prefixIndexCount...), entry[len(prefixIndex):bucket]...)
	return append(k, entry[bucket:min(bucket+IndexChunkLen, idEnd)]...), nil
}

// IndexChunk is the chunk a sys_id counts in.
func IndexChunk(sysID string) string { return sysID[:min(IndexChunkLen, len(sysID))] }
