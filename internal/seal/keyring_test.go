package seal

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

const purposeID = "resident.id_number"

func newMasterKey(t testing.TB) MasterKey {
	t.Helper()
	mk, _ := GenerateMasterKey()
	return mk
}

func mustOpen(t testing.TB, d *db.DB, mk MasterKey, opts ...Option) *Keyring {
	t.Helper()
	k, err := Open(context.Background(), d, mk, opts...)
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	return k
}

func mustSeal(t testing.TB, k *Keyring, purpose, plaintext string) string {
	t.Helper()
	s, err := k.Seal(purpose, plaintext)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return s
}

func mustUnseal(t testing.TB, k *Keyring, purpose, sealed, want string) {
	t.Helper()
	got, err := k.Unseal(purpose, sealed)
	if err != nil {
		t.Fatalf("unseal %.20s…: %v", sealed, err)
	}
	if got != want {
		t.Fatalf("unsealed %q, want %q", got, want)
	}
}

func countKeys(t testing.TB, d *db.DB, kind string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM seal_keys WHERE kind = $1", kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSealRoundTripsAndHidesThePlaintext(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := mustOpen(t, d, newMasterKey(t))
		tests := []struct {
			name, purpose, value string
		}{
			{"id number", purposeID, "42010219900101123X"},
			{"mobile", "resident.phone", "13812345678"},
			{"chinese address", "resident.address", "湖北省武汉市江汉区民族路 18 号 3 单元 502"},
			{"one byte", "resident.note", "x"},
			{"long text", "resident.note", strings.Repeat("独居老人，需每周探访。", 300)},
			{"binary-ish", "resident.note", "a\x00b\xffc"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s1 := mustSeal(t, k, tt.purpose, tt.value)
				s2 := mustSeal(t, k, tt.purpose, tt.value)
				if !strings.HasPrefix(s1, "s1."+strconv.FormatInt(k.CurrentKeyID(), 10)+".") {
					t.Fatalf("sealed value %.30s does not start with the version and key id", s1)
				}
				if len(tt.value) >= 4 && strings.Contains(s1, tt.value) {
					t.Fatal("sealed value contains the plaintext")
				}
				if s1 == s2 {
					t.Fatal("two seals of one value are equal: the nonce is not random")
				}
				mustUnseal(t, k, tt.purpose, s1, tt.value)
				mustUnseal(t, k, tt.purpose, s2, tt.value)
				if b1, b2 := k.BlindIndex(tt.purpose, tt.value), k.BlindIndex(tt.purpose, tt.value); b1 != b2 || len(b1) != 32 {
					t.Fatalf("blind index unstable or not 32 characters: %q %q", b1, b2)
				}
			})
		}
	})
}

func TestEmptyValuesStayEmpty(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := mustOpen(t, d, newMasterKey(t))
		if s := mustSeal(t, k, purposeID, ""); s != "" {
			t.Fatalf("empty plaintext sealed to %q", s)
		}
		mustUnseal(t, k, purposeID, "", "")
		if b := k.BlindIndex(purposeID, ""); b != "" {
			t.Fatalf("empty value indexed as %q", b)
		}
		if s, changed, err := k.Reseal(purposeID, ""); s != "" || changed || err != nil {
			t.Fatalf("reseal of empty: %q %v %v", s, changed, err)
		}
	})
}

func TestBlindIndexSeparatesPurposesAndValues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := mustOpen(t, d, newMasterKey(t))
		other := mustOpen(t, dbtest.Open(t, d.Engine), newMasterKey(t))
		base := k.BlindIndex(purposeID, "42010219900101123X")
		tests := []struct {
			name, purpose, value string
			k                    *Keyring
		}{
			{"other value", purposeID, "420102199001011230", k},
			{"other purpose", "resident.passport", "42010219900101123X", k},
			{"purpose and value boundary moved", purposeID + "4", "2010219900101123X", k},
			{"unnormalised value", purposeID, "42010219900101123x", k},
			{"another installation's index key", purposeID, "42010219900101123X", other},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := tt.k.BlindIndex(tt.purpose, tt.value); got == base {
					t.Fatalf("index %s equals the base index", got)
				}
			})
		}
	})
}

func TestBlindIndexPanicsOnPurposeWithNUL(t *testing.T) {
	k := mustOpen(t, dbtest.Open(t, db.SQLite), newMasterKey(t))
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	k.BlindIndex("a\x00b", "c")
}

func TestUnsealRejectsEverythingButTheSealedText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := mustOpen(t, d, newMasterKey(t))
		old := mustSeal(t, k, purposeID, "42010219900101123X")
		if _, err := k.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := mustSeal(t, k, purposeID, "42010219900101123X")
		id, _ := KeyIDOf(s)
		oldID, _ := KeyIDOf(old)
		prefix := "s1." + strconv.FormatInt(id, 10) + "."
		body := strings.TrimPrefix(s, prefix)
		flip := func(c byte) byte {
			if c == 'A' {
				return 'B'
			}
			return 'A'
		}
		mid := len(body) / 2
		tests := []struct {
			name, purpose, sealed string
			unknownKey            bool
		}{
			{"another purpose", "resident.phone", s, false},
			{"purpose differing in case", strings.ToUpper(purposeID), s, false},
			{"a byte of the ciphertext changed", purposeID, prefix + body[:mid] + string(flip(body[mid])) + body[mid+1:], false},
			{"a byte of the nonce changed", purposeID, prefix + string(flip(body[0])) + body[1:], false},
			{"a byte of the tag changed", purposeID, prefix + body[:len(body)-3] + string(flip(body[len(body)-3])) + body[len(body)-2:], false},
			{"the body of another key's value", purposeID, prefix + strings.TrimPrefix(old, "s1."+strconv.FormatInt(oldID, 10)+"."), false},
			{"the key id of another key", purposeID, "s1." + strconv.FormatInt(oldID, 10) + "." + body, false},
			{"an unknown key id", purposeID, "s1.999999." + body, true},
			{"a key id with a leading zero", purposeID, "s1.0" + strconv.FormatInt(id, 10) + "." + body, false},
			{"a signed key id", purposeID, "s1.+" + strconv.FormatInt(id, 10) + "." + body, false},
			{"another version", purposeID, "s2." + strings.TrimPrefix(s, "s1."), false},
			{"truncated", purposeID, s[:len(s)-4], false},
			{"extended", purposeID, s + "AAAA", false},
			{"padded", purposeID, s + "=", false},
			{"line break inside", purposeID, prefix + body[:10] + "\n" + body[10:], false},
			{"standard alphabet", purposeID, strings.NewReplacer("-", "+", "_", "/").Replace(s) + "+", false},
			{"trailing space", purposeID, s + " ", false},
			{"no body", purposeID, prefix, false},
			{"no key id", purposeID, "s1." + body, false},
			{"plain text", purposeID, "42010219900101123X", false},
			{"only a prefix", purposeID, "s1.", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := k.Unseal(tt.purpose, tt.sealed)
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("got %q, %v; want ErrCorrupt", got, err)
				}
				if got != "" {
					t.Fatal("a failed unseal returned text")
				}
				if errors.Is(err, ErrUnknownKey) != tt.unknownKey {
					t.Fatalf("ErrUnknownKey: %v, want %v (%v)", errors.Is(err, ErrUnknownKey), tt.unknownKey, err)
				}
			})
		}
	})
}

func TestOpenWithTheWrongMasterKeyFailsAndWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustOpen(t, d, newMasterKey(t))
		_, err := Open(context.Background(), d, newMasterKey(t))
		if !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("got %v, want ErrWrongMasterKey", err)
		}
		if n, m := countKeys(t, d, "data"), countKeys(t, d, "index"); n != 1 || m != 1 {
			t.Fatalf("%d data and %d index keys after a failed open", n, m)
		}
		if _, err := Open(context.Background(), d, MasterKey{}); err == nil {
			t.Fatal("the all-zero master key was accepted")
		}
	})
}

func TestKeyRowsAreBoundToTheirKindAndHandle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		mk := newMasterKey(t)
		k := mustOpen(t, d, mk)
		k.Rotate(ctx)
		var a, b int64
		d.QueryRowContext(ctx, "SELECT MIN(id), MAX(id) FROM seal_keys WHERE kind = 'data'").Scan(&a, &b)
		// Copy one data key's wrapped bytes onto the other row: same master
		// key, but the handle in the associated data differs.
		if _, err := d.ExecContext(ctx, "UPDATE seal_keys SET wrapped = (SELECT wrapped FROM seal_keys WHERE id = $1) WHERE id = $2", a, b); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, d, mk)
		if err == nil || errors.Is(err, ErrWrongMasterKey) || !strings.Contains(err.Error(), "altered") {
			t.Fatalf("got %v, want a report of an altered row", err)
		}
	})
}

func TestTheSchemaAllowsOneBlindIndexKeyOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustOpen(t, d, newMasterKey(t))
		_, err := d.ExecContext(context.Background(),
			"INSERT INTO seal_keys (kind, handle, wrapped, created_at) VALUES ('index', 'h2', 'w', 0)")
		if !db.IsUniqueViolation(err) {
			t.Fatalf("second index key: %v, want a unique violation", err)
		}
	})
}

func TestRotateSealsWithTheNewKeyAndKeepsOldValuesReadable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		mk := newMasterKey(t)
		a := mustOpen(t, d, mk)
		b := mustOpen(t, d, mk) // another node
		first := a.CurrentKeyID()
		values := []string{"42010219900101123X", "110105198512120018", "31011519700707201X"}
		var old []string
		for _, v := range values {
			old = append(old, mustSeal(t, a, purposeID, v))
		}
		index := a.BlindIndex(purposeID, values[0])

		second, err := a.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if second == first || a.CurrentKeyID() != second {
			t.Fatalf("rotated to %d, current %d, first %d", second, a.CurrentKeyID(), first)
		}
		fresh := mustSeal(t, a, purposeID, values[0])
		if id, ok := KeyIDOf(fresh); !ok || id != second {
			t.Fatalf("new seal uses key %d, want %d", id, second)
		}
		for i, s := range old {
			mustUnseal(t, a, purposeID, s, values[i])
			moved, changed, err := a.Reseal(purposeID, s)
			if err != nil || !changed {
				t.Fatalf("reseal: changed=%v err=%v", changed, err)
			}
			if id, _ := KeyIDOf(moved); id != second {
				t.Fatalf("resealed under key %d", id)
			}
			mustUnseal(t, a, purposeID, moved, values[i])
			again, changed, err := a.Reseal(purposeID, moved)
			if err != nil || changed || again != moved {
				t.Fatalf("second reseal changed the value (%v, %v)", changed, err)
			}
		}
		if _, _, err := a.Reseal("resident.phone", old[0]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("reseal for the wrong purpose: %v", err)
		}
		if got := a.BlindIndex(purposeID, values[0]); got != index {
			t.Fatal("rotation changed the blind index")
		}

		// The other node seals with the old key until it refreshes.
		if b.CurrentKeyID() != first {
			t.Fatalf("node b switched before refreshing")
		}
		if err := b.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if b.CurrentKeyID() != second {
			t.Fatalf("node b current %d after refresh, want %d", b.CurrentKeyID(), second)
		}
		mustUnseal(t, b, purposeID, fresh, values[0])
		if got := b.BlindIndex(purposeID, values[0]); got != index {
			t.Fatal("the other node computes another blind index")
		}
		if n := countKeys(t, d, "index"); n != 1 {
			t.Fatalf("%d index keys after rotation", n)
		}
	})
}

func TestUnsealFollowsARotationOnAnotherNodeAtMostOnceASecond(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		mk := newMasterKey(t)
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		a := mustOpen(t, d, mk)
		b := mustOpen(t, d, mk, WithClock(clk))
		first := b.CurrentKeyID()

		// A forged id far ahead makes b reload once, and find nothing.
		if _, err := b.Unseal(purposeID, "s1.999999."+strings.Repeat("A", 40)); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("forged id: %v", err)
		}
		if _, err := a.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		s := mustSeal(t, a, purposeID, "42010219900101123X")
		// Within the same second b does not reload again.
		if _, err := b.Unseal(purposeID, s); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("reloaded twice within a second: %v", err)
		}
		clk.Advance(2 * time.Second)
		mustUnseal(t, b, purposeID, s, "42010219900101123X")
		if b.CurrentKeyID() == first {
			t.Fatal("the reload did not move b to the new current key")
		}
		// An unknown id at or below the newest known one is not worth a
		// reload, since ids are never reused. Id 1 is the blind-index key,
		// which never opens a value.
		clk.Advance(2 * time.Second)
		newer, err := a.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Unseal(purposeID, "s1.1."+strings.Repeat("A", 40)); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("the index key's id: %v", err)
		}
		if b.CurrentKeyID() == newer {
			t.Fatal("b reloaded for an id that cannot appear")
		}
	})
}

func TestRetireKeepsKeysReadableButNeverSeals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		mk := newMasterKey(t)
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clk := clock.NewFake(at)
		k := mustOpen(t, d, mk, WithClock(clk))
		first := k.CurrentKeyID()
		old := mustSeal(t, k, purposeID, "42010219900101123X")
		second, err := k.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var indexID int64
		d.QueryRowContext(ctx, "SELECT id FROM seal_keys WHERE kind = 'index'").Scan(&indexID)

		refused := []struct {
			name string
			id   int64
			msg  string
		}{
			{"the current key", second, "rotate first"},
			{"the blind-index key", indexID, "blind-index"},
			{"a key that does not exist", 424242, "no key"},
		}
		for _, tt := range refused {
			if err := k.Retire(ctx, tt.id); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("retire %s: %v, want an error saying %q", tt.name, err, tt.msg)
			}
		}
		clk.Advance(time.Hour)
		if err := k.Retire(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := k.Retire(ctx, first); err != nil {
			t.Fatalf("retiring twice: %v", err)
		}
		mustUnseal(t, k, purposeID, old, "42010219900101123X")

		keys := k.Keys()
		if len(keys) != 3 {
			t.Fatalf("keys: %+v", keys)
		}
		for _, ki := range keys {
			switch ki.ID {
			case first:
				if !ki.RetiredAt.Equal(at.Add(time.Hour)) || ki.Current || !ki.CreatedAt.Equal(at) {
					t.Errorf("retired key listed as %+v", ki)
				}
			case second:
				if !ki.RetiredAt.IsZero() || !ki.Current || ki.Kind != "data" {
					t.Errorf("current key listed as %+v", ki)
				}
			case indexID:
				if ki.Kind != "index" || ki.Current {
					t.Errorf("index key listed as %+v", ki)
				}
			}
		}

		// A node starting now seals with the newest key that is not retired,
		// and reads values under the retired one.
		third, _ := k.Rotate(ctx)
		if err := k.Retire(ctx, second); err != nil {
			t.Fatal(err)
		}
		n := mustOpen(t, d, mk)
		if n.CurrentKeyID() != third {
			t.Fatalf("new node seals with %d, want %d", n.CurrentKeyID(), third)
		}
		mustUnseal(t, n, purposeID, old, "42010219900101123X")
	})
}

func TestRewrapAllMovesTheKeysToANewMasterKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		oldMK, newMK := newMasterKey(t), newMasterKey(t)
		a := mustOpen(t, d, oldMK)
		stale := mustOpen(t, d, oldMK) // a node not restarted after the change
		before := mustSeal(t, a, purposeID, "42010219900101123X")
		a.Rotate(ctx)
		after := mustSeal(t, a, purposeID, "110105198512120018")
		index := a.BlindIndex(purposeID, "42010219900101123X")
		if err := stale.Refresh(ctx); err != nil {
			t.Fatal(err)
		}

		if err := a.RewrapAll(ctx, MasterKey{}); err == nil {
			t.Fatal("re-wrapped under the all-zero key")
		}
		if err := a.RewrapAll(ctx, newMK); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, d, oldMK); !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("open with the old master key: %v", err)
		}
		for _, k := range []*Keyring{a, mustOpen(t, d, newMK)} {
			mustUnseal(t, k, purposeID, before, "42010219900101123X")
			mustUnseal(t, k, purposeID, after, "110105198512120018")
			if k.BlindIndex(purposeID, "42010219900101123X") != index {
				t.Fatal("re-wrapping changed the blind index")
			}
		}

		// The stale node keeps what it loaded, but cannot write keys under
		// its old master key nor load keys made under the new one.
		mustUnseal(t, stale, purposeID, before, "42010219900101123X")
		if _, err := stale.Rotate(ctx); !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("rotate on a stale node: %v", err)
		}
		third, err := a.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stale.Refresh(ctx); !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("refresh on a stale node: %v", err)
		}
		mustUnseal(t, stale, purposeID, after, "110105198512120018")
		if got := mustOpen(t, d, newMK).CurrentKeyID(); got != third {
			t.Fatalf("key made after the re-wrap: current %d, want %d", got, third)
		}
		if n := countKeys(t, d, "data"); n != 3 {
			t.Fatalf("%d data keys, want 3", n)
		}
	})
}

// TestParallelOpenCreatesExactlyOneKeyOfEachKind starts several nodes, each
// with its own connection pool, on one empty table at once.
func TestParallelOpenCreatesExactlyOneKeyOfEachKind(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			o := dbtest.Options(t, e)
			first, err := db.Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			if _, err := first.Migrate(ctx, time.Now()); err != nil {
				t.Fatal(err)
			}
			mk := newMasterKey(t)
			const nodes = 6
			rings := make([]*Keyring, nodes)
			errs := make([]error, nodes)
			dbs := make([]*db.DB, nodes)
			for i := range dbs {
				if dbs[i], err = db.Open(ctx, o); err != nil {
					t.Fatal(err)
				}
				defer dbs[i].Close()
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range nodes {
				wg.Go(func() {
					<-start
					rings[i], errs[i] = Open(ctx, dbs[i], mk)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("node %d: %v", i, err)
				}
			}
			if n, m := countKeys(t, first, "data"), countKeys(t, first, "index"); n != 1 || m != 1 {
				t.Fatalf("%d data keys and %d index keys, want one of each", n, m)
			}
			s := mustSeal(t, rings[0], purposeID, "42010219900101123X")
			for i, k := range rings {
				if k.CurrentKeyID() != rings[0].CurrentKeyID() || k.BlindIndex(purposeID, "x") != rings[0].BlindIndex(purposeID, "x") {
					t.Fatalf("node %d has other keys", i)
				}
				mustUnseal(t, k, purposeID, s, "42010219900101123X")
			}
		})
	}
}

func TestKeyringIsSafeForConcurrentUse(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	k := mustOpen(t, d, newMasterKey(t))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				v := strconv.Itoa(g*1000 + i)
				s, err := k.Seal(purposeID, v)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := k.Unseal(purposeID, s); err != nil || got != v {
					t.Errorf("unseal: %q %v", got, err)
					return
				}
				k.BlindIndex(purposeID, v)
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			if _, err := k.Rotate(ctx); err != nil {
				t.Error(err)
			}
			if err := k.Refresh(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
}
