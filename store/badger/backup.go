package badger

import (
	"encoding/binary"
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
