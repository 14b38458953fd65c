// Package seal protects personal data at rest: it encrypts sensitive fields
// (identity numbers, phone numbers, …), computes keyed blind indexes so that
// exact lookups never decrypt a table, and masks values for display.
//
// # Key hierarchy
//
//	master key (32 bytes, from a file or an environment variable; never stored)
//	  └─ wraps, with AES-256-GCM, every row of table seal_keys:
//	       data keys   (kind 'data', 32 bytes)  encrypt field values; rotated
//	       index key   (kind 'index', 32 bytes) keys the blind-index HMAC; one, never rotated
//
// A key row is wrapped as base64(nonce || AES-256-GCM(master, key)) with the
// associated data "gridhall-seal-key:" + kind + ":" + handle, where handle is a
// random 16-byte name (hex) chosen before the insert. Binding kind and handle
// means a row's wrapped key cannot be copied onto another row or kind. A
// wrong master key shows as every row failing to unwrap: [ErrWrongMasterKey].
//
// # Formats
//
// A sealed value is text, so it fits the TEXT columns of both engines:
//
//	"s1." + data key id (decimal) + "." + base64url-without-padding(nonce[12] || ciphertext || tag[16])
//
// It is AES-256-GCM with a random 96-bit nonce, and the associated data is
// the purpose (for example "resident.id_number"), so a value moved to another
// column does not open. The key id travels with the value, which is how data
// sealed under several keys is read during and after a rotation. An empty
// plaintext seals to "" (there is nothing to protect, and an absent value
// stays recognisably absent). Parsing is strict — one canonical text per
// sealed value — so any other string, even one that decodes to the same
// bytes, fails with [ErrCorrupt].
//
// A blind index is hex(HMAC-SHA256(index key, purpose || 0x00 || value)[:16]),
// 32 characters. It matches exact bytes, so callers normalise a value before
// indexing it (upper-case ID numbers with ASCII digits, digits-only phone
// numbers), and normalise a query the same way, in one shared function per
// field: two normalisations that drift apart silently lose matches.
//
// # Rotation
//
// Data keys: [Keyring.Rotate] adds a data key and makes it current. The
// current key is the newest data key that is not retired, read from the table,
// so every node agrees once it has called [Keyring.Refresh] (call it from a
// periodic job, say every minute; [Keyring.Unseal] also refreshes by itself,
// at most once a second, when it meets a key id newer than any it knows).
// Re-encrypting rows is the caller's job, because only it knows the tables:
// walk them with [Keyring.Reseal]. When no value uses an old key any more,
// [Keyring.Retire] marks it retired. A retired key is never used to seal but
// still opens values, because a node that had not yet refreshed may have
// sealed with it after the re-encryption pass; there is no deletion here, so
// no ciphertext can become unreadable by accident. The procedure for
// `gridhall keys rotate`:
//
//  1. Rotate, so that new writes on this node use the new key;
//  2. wait one refresh interval, so that every node seals with it;
//  3. Reseal every sealed column (a second pass catches late writes);
//  4. check that no value names an old key ([KeyIDOf]) and Retire it.
//
// Random 96-bit nonces limit a data key to 2^32 seals before nonce collisions
// become a concern; a million-row import sealing a few fields per row uses a
// thousandth of that, but a deployment that re-imports often should rotate
// yearly anyway.
//
// Master key: [Keyring.RewrapAll] re-wraps every key row under a new master
// key in one transaction; data and blind indexes are untouched. Afterwards
// every node must be restarted with the new master key: a node still holding
// the old one keeps working with the keys it has loaded, but cannot load keys
// created later, and its writes to seal_keys are refused.
//
// # Threat model
//
// Protected: a copy of the database — the SQLite file, a backup, a PostgreSQL
// dump, a replica, a leaked export of the tables — without the master key. It
// reveals neither the sealed values nor, because the blind indexes are keyed,
// a way to test guesses against them (an unkeyed hash of an 18-digit ID
// number or an 11-digit phone number falls to enumeration in minutes).
//
// Not protected: a compromised running server or its memory, its
// environment or its master-key file; anyone who can run code as gridhall
// can decrypt everything and, holding the index key, enumerate the small
// spaces of ID and phone numbers against the indexes. What a copy of the
// database still shows: which rows share a value (equal blind indexes), the
// rough length of each value, and when keys were created and retired. Someone
// who can write to the database can swap sealed values between rows of the
// same column (the associated data binds a column, not a row); integrity
// against database writers is the audit log's job, not this package's.
//
// # Masking
//
// [MaskIDNumber], [MaskPhone], [MaskName] and [MaskPassport] shorten values
// for lists and logs. They never show more than the product's examples
// (4201**********123X, 138****5678, 张*): outside those exact shapes, at most
// half of a value's characters are shown, and values shorter than six
// characters are masked whole.
package seal
