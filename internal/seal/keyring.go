package seal

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
)

// Errors. Match them with errors.Is.
var (
	// ErrWrongMasterKey: the master key does not unwrap the stored keys. It is
	// the wrong key, or the keys were re-wrapped under a new one (RewrapAll).
	ErrWrongMasterKey = errors.New("seal: the master key does not unwrap the stored keys (wrong key, or keys re-wrapped under a new master key)")
	// ErrCorrupt: a sealed value does not open: it is malformed, was altered,
	// was sealed for another purpose, or names a key this keyring lacks.
	ErrCorrupt = errors.New("seal: cannot unseal")
	// ErrUnknownKey accompanies ErrCorrupt when the value names a data key
	// that is not in the keyring, even after a refresh.
	ErrUnknownKey = errors.New("unknown data key")
)

// sealPrefix starts every sealed value; the version lets the format change
// without ambiguity.
const sealPrefix = "s1."

const (
	keySize    = 32
	handleSize = 16
	// gcmOverhead is the random nonce plus the tag that GCM adds.
	gcmOverhead = 12 + 16
	// missRefreshEvery bounds how often Unseal reloads the keys when it meets
	// a key id newer than any it knows: often enough to follow a rotation on
	// another node at once, rarely enough that forged ids cannot load the
	// database.
	missRefreshEvery = time.Second
	// missRefreshTimeout bounds that reload, since Unseal has no context.
	missRefreshTimeout = 5 * time.Second
)

// Keyring holds the unwrapped keys and seals, unseals and indexes values. It
// is safe for concurrent use: the hot paths read an immutable snapshot of the
// keys through an atomic pointer and take no lock.
type Keyring struct {
	d     *db.DB
	clock clock.Clock

	// mu serialises the operations that load or write keys. It guards mk.
	mu sync.Mutex
	mk MasterKey

	keys atomic.Pointer[keySet]
	// hmacs pools keyed HMAC states: building one costs two SHA-256 blocks,
	// which would otherwise be a third of each BlindIndex call.
	hmacs sync.Pool
	// lastMissRefresh is when (Unix nanoseconds) Unseal last reloaded the keys
	// on meeting an unknown key id.
	lastMissRefresh atomic.Int64
}

// keySet is an immutable snapshot of the keys.
type keySet struct {
	data    map[int64]*dataKey
	current *dataKey
	index   *indexKey
	// maxID is the highest key row id seen, of either kind. Ids are never
	// reused, so an unknown id at or below it will not appear by refreshing.
	maxID int64
}

type dataKey struct {
	id        int64
	handle    string
	aead      cipher.AEAD
	createdAt int64
	retiredAt sql.NullInt64
}

type indexKey struct {
	id        int64
	handle    string
	key       []byte
	createdAt int64
}

// Option adjusts a Keyring.
type Option func(*Keyring)

// WithClock sets the clock that stamps created_at and retired_at; the default
// is the system clock.
func WithClock(c clock.Clock) Option { return func(k *Keyring) { k.clock = c } }

// Open loads the keys from table seal_keys, unwrapping them with mk. On an
// empty table it first creates the blind-index key and the first data key,
// in one transaction.
//
// Several nodes may call Open on an empty table at once. The creating
// transaction takes a PostgreSQL table lock (SQLite's write transactions are
// exclusive anyway), re-reads the table and creates only what is still
// missing, so exactly one index key and one data key result. A unique partial
// index on kind = 'index' additionally makes a second index key impossible
// whatever the code path. Open never writes when the keys exist.
//
// A master key that unwraps none of the stored keys fails with
// ErrWrongMasterKey, and then nothing is written.
func Open(ctx context.Context, d *db.DB, mk MasterKey, opts ...Option) (*Keyring, error) {
	if mk == (MasterKey{}) {
		return nil, errors.New("seal: the master key is all zeros")
	}
	k := &Keyring{d: d, clock: clock.System{}, mk: mk}
	for _, o := range opts {
		o(k)
	}
	rows, err := loadKeyRows(ctx, d)
	if err != nil {
		return nil, err
	}
	if !complete(rows) {
		if err := k.create(ctx); err != nil {
			return nil, err
		}
		if rows, err = loadKeyRows(ctx, d); err != nil {
			return nil, err
		}
	}
	ks, err := buildKeySet(rows, nil, mk)
	if err != nil {
		return nil, err
	}
	k.keys.Store(ks)
	key := ks.index.key
	k.hmacs.New = func() any { return hmac.New(sha256.New, key) }
	return k, nil
}

// complete reports whether rows hold a blind-index key and a data key that
// can seal.
func complete(rows []keyRow) bool {
	var index, data bool
	for _, r := range rows {
		index = index || r.kind == kindIndex
		data = data || r.kind == kindData && !r.retiredAt.Valid
	}
	return index && data
}

// create adds the keys that the table lacks.
func (k *Keyring) create(ctx context.Context) error {
	return k.d.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockKeys(ctx, k.d, tx); err != nil {
			return err
		}
		rows, err := loadKeyRows(ctx, tx)
		if err != nil {
			return err
		}
		if err := verifyMaster(k.mk, rows); err != nil {
			return err
		}
		var index, data bool
		for _, r := range rows {
			index = index || r.kind == kindIndex
			data = data || r.kind == kindData && !r.retiredAt.Valid
		}
		if !index {
			if _, err := k.insertNewKey(ctx, tx, kindIndex); err != nil {
				return err
			}
		}
		if !data {
			if _, err := k.insertNewKey(ctx, tx, kindData); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertNewKey generates a key of the given kind, wraps it under the master
// key and stores it. The caller holds k.mu or is Open.
func (k *Keyring) insertNewKey(ctx context.Context, tx *sql.Tx, kind string) (int64, error) {
	key := make([]byte, keySize)
	rand.Read(key)
	h := make([]byte, handleSize)
	rand.Read(h)
	handle := hex.EncodeToString(h)
	wrapped, err := wrapKey(k.mk, kind, handle, key)
	if err != nil {
		return 0, err
	}
	return insertKeyRow(ctx, tx, kind, handle, wrapped, db.Millis(k.clock.Now()))
}

// verifyMaster checks, inside a writing transaction, that the master key
// unwraps the stored keys, so that a node still holding a replaced master key
// cannot add keys that no other node could unwrap. One row is enough:
// RewrapAll changes all rows in one transaction.
func verifyMaster(mk MasterKey, rows []keyRow) error {
	if len(rows) == 0 {
		return nil
	}
	r := rows[0]
	if _, err := unwrapKey(mk, r.kind, r.handle, r.wrapped); err != nil {
		return fmt.Errorf("%w: key %d does not unwrap", ErrWrongMasterKey, r.id)
	}
	return nil
}

// keyAAD binds a wrapped key to its kind and handle, so that a wrapped key
// copied onto another row, or turned from index into data, does not unwrap.
func keyAAD(kind, handle string) []byte {
	return []byte("gridhall-seal-key:" + kind + ":" + handle)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// wrapKey returns base64(nonce || AES-256-GCM(mk, key)).
func wrapKey(mk MasterKey, kind, handle string, key []byte) (string, error) {
	g, err := newGCM(mk[:])
	if err != nil {
		return "", fmt.Errorf("seal: wrap key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(g.Seal(nil, nil, key, keyAAD(kind, handle))), nil
}

func unwrapKey(mk MasterKey, kind, handle, wrapped string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		return nil, err
	}
	g, err := newGCM(mk[:])
	if err != nil {
		return nil, err
	}
	key, err := g.Open(nil, nil, b, keyAAD(kind, handle))
	if err != nil {
		return nil, err
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("unwrapped key has %d bytes", len(key))
	}
	return key, nil
}

// buildKeySet turns rows into a key set, reusing the keys of prev that are
// unchanged (same id and handle) so that a refresh unwraps only new rows. A
// row is only unwrapped when new, which is also why a node keeps working
// after another node re-wrapped the keys under a new master key.
func buildKeySet(rows []keyRow, prev *keySet, mk MasterKey) (*keySet, error) {
	ks := &keySet{data: make(map[int64]*dataKey, len(rows))}
	var tried, failed int
	var failedID int64
	for _, r := range rows {
		ks.maxID = max(ks.maxID, r.id)
		switch r.kind {
		case kindIndex:
			if ks.index != nil {
				return nil, fmt.Errorf("seal: two blind-index keys in seal_keys (%d and %d)", ks.index.id, r.id)
			}
			if prev != nil && prev.index.id == r.id && prev.index.handle == r.handle {
				ks.index = prev.index
				continue
			}
			tried++
			key, err := unwrapKey(mk, r.kind, r.handle, r.wrapped)
			if err != nil {
				failed, failedID = failed+1, r.id
				continue
			}
			ks.index = &indexKey{id: r.id, handle: r.handle, key: key, createdAt: r.createdAt}
		case kindData:
			dk := &dataKey{id: r.id, handle: r.handle, createdAt: r.createdAt, retiredAt: r.retiredAt}
			if p := prev.dataKey(r.id); p != nil && p.handle == r.handle {
				dk.aead = p.aead
			} else {
				tried++
				key, err := unwrapKey(mk, r.kind, r.handle, r.wrapped)
				if err == nil {
					dk.aead, err = newGCM(key)
				}
				if err != nil {
					failed, failedID = failed+1, r.id
					continue
				}
			}
			ks.data[r.id] = dk
			if !r.retiredAt.Valid && (ks.current == nil || r.id > ks.current.id) {
				ks.current = dk
			}
		default:
			return nil, fmt.Errorf("seal: key %d has unknown kind %q", r.id, r.kind)
		}
	}
	switch {
	case failed > 0 && failed == tried:
		return nil, fmt.Errorf("%w: key %d does not unwrap", ErrWrongMasterKey, failedID)
	case failed > 0:
		return nil, fmt.Errorf("seal: key %d does not unwrap although others do: its row in seal_keys was altered", failedID)
	case ks.index == nil:
		return nil, errors.New("seal: seal_keys has no blind-index key")
	case ks.current == nil:
		return nil, errors.New("seal: seal_keys has no data key that is not retired")
	case prev != nil && ks.index != prev.index:
		// The index key is never replaced: every stored blind index would
		// silently stop matching.
		return nil, fmt.Errorf("seal: the blind-index key in seal_keys changed (now key %d)", ks.index.id)
	}
	return ks, nil
}

func (ks *keySet) dataKey(id int64) *dataKey {
	if ks == nil {
		return nil
	}
	return ks.data[id]
}

// Seal encrypts plaintext with the current data key for the given purpose,
// the name of the field it is stored in, such as "resident.id_number". The
// purpose is authenticated, so the value only unseals for the same purpose.
// An empty plaintext seals to "". With the keys that Open loads, Seal cannot
// fail; the error leaves room for key sources that can.
func (k *Keyring) Seal(purpose, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	cur := k.keys.Load().current
	ct := cur.aead.Seal(nil, nil, []byte(plaintext), []byte(purpose))
	enc := base64.RawURLEncoding
	out := make([]byte, 0, len(sealPrefix)+20+1+enc.EncodedLen(len(ct)))
	out = append(out, sealPrefix...)
	out = strconv.AppendInt(out, cur.id, 10)
	out = append(out, '.')
	out = enc.AppendEncode(out, ct)
	return string(out), nil
}

// Unseal decrypts a value made by Seal for the same purpose. "" unseals to "".
// Any other failure wraps ErrCorrupt (and ErrUnknownKey when the key is
// missing). A key id newer than any known makes Unseal reload the keys, at
// most once a second, since another node has probably rotated.
func (k *Keyring) Unseal(purpose, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	id, body, ok := splitSealed(sealed)
	if !ok {
		return "", fmt.Errorf("%w: not a sealed value", ErrCorrupt)
	}
	dk := k.dataKey(id)
	if dk == nil {
		return "", fmt.Errorf("%w: %w %d", ErrCorrupt, ErrUnknownKey, id)
	}
	ct, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return "", fmt.Errorf("%w: malformed", ErrCorrupt)
	}
	pt, err := dk.aead.Open(nil, nil, ct, []byte(purpose))
	if err != nil {
		return "", fmt.Errorf("%w: authentication failed for purpose %q: altered, or sealed for another purpose", ErrCorrupt, purpose)
	}
	return string(pt), nil
}

// dataKey finds a data key, reloading the keys when the id is newer than any
// known (see Unseal).
func (k *Keyring) dataKey(id int64) *dataKey {
	ks := k.keys.Load()
	if dk := ks.data[id]; dk != nil || id <= ks.maxID {
		return dk
	}
	now := k.clock.Now().UnixNano()
	last := k.lastMissRefresh.Load()
	if now-last < int64(missRefreshEvery) || !k.lastMissRefresh.CompareAndSwap(last, now) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), missRefreshTimeout)
	defer cancel()
	// A failed reload leaves the value unknown; Refresh reports the reason
	// to whoever calls it.
	_ = k.Refresh(ctx)
	return k.keys.Load().data[id]
}

// splitSealed checks the shape of a sealed value and returns its key id and
// its base64 body. It admits exactly the texts Seal writes: a canonical
// decimal id and only base64url characters, since package base64 would skip
// line breaks and so let two texts stand for one value.
func splitSealed(s string) (id int64, body string, ok bool) {
	rest, ok := strings.CutPrefix(s, sealPrefix)
	if !ok {
		return 0, "", false
	}
	idText, body, ok := strings.Cut(rest, ".")
	if !ok || idText == "" || len(idText) > 18 || idText[0] == '0' {
		return 0, "", false
	}
	for i := 0; i < len(idText); i++ {
		if idText[i] < '0' || idText[i] > '9' {
			return 0, "", false
		}
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return 0, "", false
	}
	// The smallest sealed value has one byte of plaintext; a length of 1
	// modulo 4 encodes no whole byte.
	if len(body) < base64.RawURLEncoding.EncodedLen(gcmOverhead+1) || len(body)%4 == 1 {
		return 0, "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return 0, "", false
		}
	}
	return id, body, true
}

// KeyIDOf returns the id of the data key that sealed a value, without
// decrypting it; ok is false when sealed is not shaped like a sealed value.
// Rotation jobs use it to find values still under an old key.
func KeyIDOf(sealed string) (int64, bool) {
	id, _, ok := splitSealed(sealed)
	return id, ok
}

// BlindIndex returns the keyed blind index of value for purpose:
// hex(HMAC-SHA256(index key, purpose || 0x00 || value)[:16]), 32 characters.
// Equal inputs give equal indexes whatever the data key, so a column's index
// survives rotation. It is exact: callers must normalise value first
// (upper-case ID number with ASCII digits, digits-only phone number) and
// index the query the same way. The purpose should name the field, so that equal values
// in different fields do not share an index. An empty value has no index: "".
// A purpose containing NUL would make the input ambiguous and panics, being
// a programming error.
func (k *Keyring) BlindIndex(purpose, value string) string {
	if value == "" {
		return ""
	}
	if strings.IndexByte(purpose, 0) >= 0 {
		panic("seal: blind-index purpose contains NUL")
	}
	m := k.hmacs.Get().(hash.Hash)
	m.Reset()
	buf := make([]byte, 0, len(purpose)+1+len(value))
	buf = append(append(append(buf, purpose...), 0), value...)
	m.Write(buf)
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	k.hmacs.Put(m)
	return hex.EncodeToString(sum[:16])
}

// CurrentKeyID returns the id of the data key that Seal uses.
func (k *Keyring) CurrentKeyID() int64 { return k.keys.Load().current.id }

// Rotate creates a new data key, makes it current and returns its id. Other
// nodes use it after their next Refresh. Values already sealed keep their key
// until the caller re-encrypts them with Reseal.
func (k *Keyring) Rotate(ctx context.Context) (int64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var id int64
	err := k.d.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockKeys(ctx, k.d, tx); err != nil {
			return err
		}
		rows, err := loadKeyRows(ctx, tx)
		if err != nil {
			return err
		}
		if err := verifyMaster(k.mk, rows); err != nil {
			return err
		}
		id, err = k.insertNewKey(ctx, tx, kindData)
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := k.refreshLocked(ctx); err != nil {
		return id, fmt.Errorf("seal: created data key %d, but reloading the keys failed: %w", id, err)
	}
	return id, nil
}

// Refresh reloads the keys from the table, to follow a rotation or
// retirement made on another node. It reads the few rows of seal_keys and
// unwraps only keys it has not seen, so it is cheap enough to run every
// minute. On error the keyring keeps the keys it had.
func (k *Keyring) Refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.refreshLocked(ctx)
}

func (k *Keyring) refreshLocked(ctx context.Context) error {
	rows, err := loadKeyRows(ctx, k.d)
	if err != nil {
		return err
	}
	ks, err := buildKeySet(rows, k.keys.Load(), k.mk)
	if err != nil {
		return err
	}
	k.keys.Store(ks)
	return nil
}

// Reseal re-encrypts a value under the current data key when another key
// sealed it, and reports whether it changed. A value already under the
// current key is returned as it is, without being decrypted, so that a
// re-encryption pass over a table costs little for the rows already done.
func (k *Keyring) Reseal(purpose, sealed string) (string, bool, error) {
	if sealed == "" {
		return "", false, nil
	}
	id, ok := KeyIDOf(sealed)
	if !ok {
		return "", false, fmt.Errorf("%w: not a sealed value", ErrCorrupt)
	}
	if id == k.CurrentKeyID() {
		return sealed, false, nil
	}
	pt, err := k.Unseal(purpose, sealed)
	if err != nil {
		return "", false, err
	}
	out, err := k.Seal(purpose, pt)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// Retire marks a data key retired: it is never again used to seal, on any
// node after its refresh, but it still unseals, because a node that had not
// yet refreshed may have sealed with it after the caller's check that no data
// uses it. Retiring is idempotent. The current key cannot be retired (rotate
// first), nor can the blind-index key.
func (k *Keyring) Retire(ctx context.Context, keyID int64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	err := k.d.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockKeys(ctx, k.d, tx); err != nil {
			return err
		}
		rows, err := loadKeyRows(ctx, tx)
		if err != nil {
			return err
		}
		var target *keyRow
		var newest int64
		for i, r := range rows {
			if r.id == keyID {
				target = &rows[i]
			}
			if r.kind == kindData && !r.retiredAt.Valid {
				newest = max(newest, r.id)
			}
		}
		switch {
		case target == nil:
			return fmt.Errorf("seal: no key %d", keyID)
		case target.kind != kindData:
			return fmt.Errorf("seal: key %d is the blind-index key, which is never retired", keyID)
		case target.retiredAt.Valid:
			return nil
		case target.id == newest:
			return fmt.Errorf("seal: key %d is the current data key: rotate first", keyID)
		}
		return setRetired(ctx, tx, keyID, db.Millis(k.clock.Now()))
	})
	if err != nil {
		return err
	}
	return k.refreshLocked(ctx)
}

// RewrapAll re-wraps every stored key under newMaster in one transaction and
// makes this keyring use it. Data and blind indexes do not change. Other
// nodes must then restart with newMaster: see the package documentation.
func (k *Keyring) RewrapAll(ctx context.Context, newMaster MasterKey) error {
	if newMaster == (MasterKey{}) {
		return errors.New("seal: the new master key is all zeros")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	err := k.d.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockKeys(ctx, k.d, tx); err != nil {
			return err
		}
		rows, err := loadKeyRows(ctx, tx)
		if err != nil {
			return err
		}
		// One UPDATE per key row: there are a handful, one per rotation.
		for _, r := range rows {
			key, err := unwrapKey(k.mk, r.kind, r.handle, r.wrapped)
			if err != nil {
				return fmt.Errorf("%w: key %d does not unwrap", ErrWrongMasterKey, r.id)
			}
			w, err := wrapKey(newMaster, r.kind, r.handle, key)
			if err != nil {
				return err
			}
			if err := updateWrapped(ctx, tx, r.id, w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	k.mk = newMaster
	return k.refreshLocked(ctx)
}

// KeyInfo describes one stored key, for `gridhall keys` listings. It holds
// no key material.
type KeyInfo struct {
	ID        int64
	Kind      string // "data" or "index"
	CreatedAt time.Time
	RetiredAt time.Time // zero while the key is not retired
	Current   bool      // the data key that Seal uses
}

// Keys lists the keys this keyring knows, in id order.
func (k *Keyring) Keys() []KeyInfo {
	ks := k.keys.Load()
	out := []KeyInfo{{ID: ks.index.id, Kind: kindIndex, CreatedAt: db.FromMillis(ks.index.createdAt)}}
	for _, dk := range ks.data {
		ki := KeyInfo{ID: dk.id, Kind: kindData, CreatedAt: db.FromMillis(dk.createdAt), Current: dk == ks.current}
		if dk.retiredAt.Valid {
			ki.RetiredAt = db.FromMillis(dk.retiredAt.Int64)
		}
		out = append(out, ki)
	}
	slices.SortFunc(out, func(a, b KeyInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
