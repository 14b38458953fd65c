// Package audit keeps GridHall's append-only, hash-chained audit log. Every
// state-changing action and every reveal of personal data appends one entry
// inside the same transaction as the change, so an entry exists exactly when
// the change does. Each entry's hash covers its content and the previous
// entry's hash; Verify recomputes the chain and names the first entry that was
// altered, inserted or deleted.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// Record is what a service says about an action.
type Record struct {
	ActorID    int64  // 0 when the actor is not an account (the command line, a job)
	ActorName  string // user name, or "cli:<os user>", "system"
	ActorRole  string
	Action     string // dotted verb, e.g. "user.create", "session.login_failed"
	ObjectType string
	ObjectID   string
	ScopePath  string // territorial scope of the object, for scoped audit reading
	Reason     string // required for reveals of personal data
	Detail     any    // JSON-encodable facts; never personal data or secrets
}

// Entry is a stored audit record with its place in the chain.
type Entry struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id,omitempty"`
	ActorName  string    `json:"actor_name"`
	ActorRole  string    `json:"actor_role"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	ScopePath  string    `json:"scope_path,omitempty"`
	IP         string    `json:"ip,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// Source says where a request came from; the HTTP middleware puts it in the
// context so that services need not thread it through every call.
type Source struct {
	IP        string
	RequestID string
}

type sourceKey struct{}

// WithSource returns a context carrying the request's origin.
func WithSource(ctx context.Context, s Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

// SourceFrom returns the origin stored by WithSource, or the zero Source.
func SourceFrom(ctx context.Context) Source {
	s, _ := ctx.Value(sourceKey{}).(Source)
	return s
}

// Log appends to and reads the audit log.
type Log struct {
	db *db.DB
}

// New returns the audit log of d.
func New(d *db.DB) *Log { return &Log{db: d} }

// Append adds r to the chain inside tx, which must be the transaction that
// makes the audited change. The chain head is locked for the rest of the
// transaction, so concurrent appends — also from other nodes — queue up and
// receive consecutive sequence numbers.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, at time.Time, r Record) (Entry, error) {
	var head Entry
	if err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1"+l.db.ForUpdate()).
		Scan(&head.Seq, &head.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit head: %w", err)
	}
	detail := ""
	if r.Detail != nil {
		b, err := json.Marshal(r.Detail)
		if err != nil {
			return Entry{}, fmt.Errorf("audit detail: %w", err)
		}
		detail = string(b)
	}
	src := SourceFrom(ctx)
	e := Entry{
		Seq: head.Seq + 1, At: time.UnixMilli(at.UnixMilli()).UTC(),
		ActorID: r.ActorID, ActorName: r.ActorName, ActorRole: r.ActorRole,
		Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID, ScopePath: r.ScopePath,
		IP: src.IP, RequestID: src.RequestID, Reason: r.Reason, Detail: detail,
		PrevHash: head.Hash,
	}
	e.Hash = e.computeHash()
	var actorID any
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log
		(seq, at, actor_id, actor_name, actor_role, action, object_type, object_id, scope_path, ip, request_id, reason, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		e.Seq, db.Millis(e.At), actorID, e.ActorName, e.ActorRole, e.Action, e.ObjectType, e.ObjectID, e.ScopePath,
		e.IP, e.RequestID, e.Reason, e.Detail, e.PrevHash, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit insert: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", e.Seq, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit head update: %w", err)
	}
	return e, nil
}

// computeHash is SHA-256 over the canonical JSON array of every stored field
// except the hash itself. A JSON array keeps field boundaries unambiguous.
func (e Entry) computeHash() string {
	b, _ := json.Marshal([]any{
		e.Seq, e.At.UnixMilli(), e.ActorID, e.ActorName, e.ActorRole, e.Action, e.ObjectType, e.ObjectID,
		e.ScopePath, e.IP, e.RequestID, e.Reason, e.Detail, e.PrevHash,
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const selectEntry = `SELECT seq, at, COALESCE(actor_id, 0), actor_name, actor_role, action, object_type, object_id,
	scope_path, ip, request_id, reason, detail, prev_hash, hash FROM audit_log`

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	err := rows.Scan(&e.Seq, &at, &e.ActorID, &e.ActorName, &e.ActorRole, &e.Action, &e.ObjectType, &e.ObjectID,
		&e.ScopePath, &e.IP, &e.RequestID, &e.Reason, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = db.FromMillis(at)
	return e, err
}

// Filter selects audit entries for reading, newest first.
type Filter struct {
	BeforeSeq  int64  // cursor: only entries older than this; 0 for the newest
	ScopePath  string // only entries whose scope lies inside this path; "" for all
	ObjectType string
	ObjectID   string
	Limit      int
}

// List returns one page of entries, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := selectEntry + " WHERE ($1 = 0 OR seq < $1) AND ($2 = '' OR scope_path = $2 OR scope_path LIKE $3)" +
		" AND ($4 = '' OR (object_type = $4 AND object_id = $5)) ORDER BY seq DESC LIMIT $6"
	rows, err := l.db.QueryContext(ctx, q, f.BeforeSeq, f.ScopePath, f.ScopePath+"/%", f.ObjectType, f.ObjectID, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Problem describes the first break in the chain.
type Problem struct {
	Seq    int64  // the entry where the chain breaks
	Reason string // what is wrong with it
}

// Report is the outcome of Verify.
type Report struct {
	Entries int64
	Head    string // hash of the last entry: record it elsewhere to anchor the chain
	Problem *Problem
}

// ErrBroken is returned by Verify when the chain does not verify.
var ErrBroken = errors.New("audit chain broken")

// Verify walks the whole chain in order, streaming, and stops at the first
// entry whose sequence number, link or hash is wrong, or at a head that does
// not match the last entry (a deleted or appended tail).
func (l *Log) Verify(ctx context.Context) (Report, error) {
	var rep Report
	rows, err := l.db.QueryContext(ctx, selectEntry+" ORDER BY seq")
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	prev := ""
	var want int64 = 1
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return rep, err
		}
		switch {
		case e.Seq != want:
			rep.Problem = &Problem{Seq: e.Seq, Reason: fmt.Sprintf("sequence gap: expected entry %d, found %d (entries deleted or inserted)", want, e.Seq)}
		case e.PrevHash != prev:
			rep.Problem = &Problem{Seq: e.Seq, Reason: "link to the previous entry does not match (an earlier entry was replaced)"}
		case e.computeHash() != e.Hash:
			rep.Problem = &Problem{Seq: e.Seq, Reason: "content does not match its hash (the entry was altered)"}
		}
		if rep.Problem != nil {
			return rep, ErrBroken
		}
		prev, rep.Head = e.Hash, e.Hash
		rep.Entries++
		want++
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	var headSeq int64
	var headHash string
	if err := l.db.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
		return rep, fmt.Errorf("audit head: %w", err)
	}
	switch {
	case headSeq > rep.Entries:
		rep.Problem = &Problem{Seq: rep.Entries + 1, Reason: fmt.Sprintf("missing: the chain head names entry %d but the log ends at entry %d (entries deleted from the end)", headSeq, rep.Entries)}
	case headSeq < rep.Entries:
		rep.Problem = &Problem{Seq: headSeq + 1, Reason: fmt.Sprintf("entry lies beyond the chain head %d (inserted outside GridHall)", headSeq)}
	case headHash != rep.Head:
		rep.Problem = &Problem{Seq: headSeq, Reason: "the chain head's hash does not match the last entry"}
	}
	if rep.Problem != nil {
		return rep, ErrBroken
	}
	return rep, nil
}
