package badger

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// backupBatch is about how many bytes of keys and values one record of a
// backup carries: what a backup holds in memory at once.
const backupBatch = 1 << 20

// Backup writes a full backup of the store to w in Badger's backup format
// (what badger's DB.Load, and so Restore, reads: records of a little-endian
// uint64 length and a KVList), from one consistent snapshot while writes
// go on. It writes the live value of every key, a batch of about
// backupBatch bytes at a time, so its memory is bounded whatever the size
// of the store and however slowly w takes the bytes. (Badger's own
// Stream.Backup queues up to 32 batches of 16 MB ahead of a slow writer:
// 230 to 400 MiB of heap for a store of 50,000 CIs.)
func (d *DB) Backup(w io.Writer) (err error) {
	defer recoverDamage(d.dir, &err)
	return mapErr(d.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{})
		defer it.Close()
		var (
			list pb.KVList
			size int
			buf  []byte
		)
		flush := func() error {
			if len(list.Kv) == 0 {
				return nil
			}
			var err error
			if buf, err = (proto.MarshalOptions{}).MarshalAppend(buf[:8], &list); err != nil {
				return err
			}
			binary.LittleEndian.PutUint64(buf[:8], uint64(len(buf)-8))
			_, err = w.Write(buf)
			list.Kv, size = list.Kv[:0], 0
			return err
		}
		buf = make([]byte, 8, backupBatch+backupBatch/4)
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			k := item.KeyCopy(nil)
			list.Kv = append(list.Kv, &pb.KV{Key: k, Value: v, UserMeta: []byte{item.UserMeta()},
				Version: item.Version(), ExpiresAt: item.ExpiresAt()})
			if size += len(k) + len(v); size >= backupBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	}))
}

// maxBackupRecord bounds one record of a backup: Backup writes about
// backupBatch bytes, Badger's own backups at most a few times 16 MB.
const maxBackupRecord = 1 << 30

// restore writes every key of a backup (Backup's records, or Badger's own)
// into db anew, at db's own versions. Badger's Load keeps the versions the
// keys had in the backed-up store instead, so a key this store deleted at a
// later version of its own would hide the restored one: a store emptied
// by deletes would lose what it is given back.
func restore(db *bdg.DB, r io.Reader) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	br := bufio.NewReaderSize(r, 1<<16)
	var size [8]byte
	var last []byte // a key appears once: the newest version comes first
	for n := 1; ; n++ {
		if _, err := io.ReadFull(br, size[:]); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("backup record %d: %w", n, err)
		}
		l := binary.LittleEndian.Uint64(size[:])
		if l > maxBackupRecord {
			return fmt.Errorf("backup record %d claims %d bytes: not a backup of this store", n, l)
		}
		buf := make([]byte, l) // not reused: the batch may keep keys and values until it flushes
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("backup record %d: %w", n, err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(buf, &list); err != nil {
			return fmt.Errorf("backup record %d: %w", n, err)
		}
		for _, kv := range list.Kv {
			if last != nil && bytes.Equal(kv.Key, last) {
				continue
			}
			last = kv.Key
			e := bdg.NewEntry(kv.Key, kv.Value)
			if len(kv.UserMeta) > 0 {
				e = e.WithMeta(kv.UserMeta[0])
			}
			e.ExpiresAt = kv.ExpiresAt
			if err := wb.SetEntry(e); err != nil {
				return mapErr(err)
			}
		}
	}
	return mapErr(wb.Flush())
}
