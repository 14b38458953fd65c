// Package outbox sends GridHall's events out of the system: in-app messages
// to a user's inbox, email over SMTP, and signed webhooks to other systems.
//
// Services call [Enqueue] inside the transaction of their use case, so an
// event exists exactly when the change that caused it commits; nothing is
// sent inline. A [Dispatcher] on every node claims due messages after commit
// and delivers them, retrying failures with exponential backoff until a
// message is delivered or, after the maximum attempts, dead. Every attempt
// is written to a delivery log that endpoint owners can read.
//
// # Claims
//
// Several gridhall nodes may share one PostgreSQL database. A dispatcher
// claims a batch with one UPDATE whose subquery locks the due rows FOR UPDATE
// SKIP LOCKED, so concurrent claims never take the same row and never wait
// for each other; on SQLite the single writer serialises claims. A claim
// writes the node's name and a lease end: a node that dies mid-batch holds
// its messages only until the lease ends, then another node claims them.
// Outcomes are written only while the claim is still the writer's (same
// node, same lease end), so a node that comes back late cannot overwrite the
// outcome of the node that took over.
//
// In-app messages are delivered exactly once: the inbox row is inserted in
// the transaction that checks the claim and marks the message delivered.
// Email and webhooks leave the database, so a node that crashes between a
// successful send and recording it causes a second send after the lease;
// receivers deduplicate webhooks by X-GridHall-Delivery (the message id,
// stable across retries) and mail by its Message-ID.
//
// # Webhook subscriptions
//
// An endpoint belongs to an owner. A department's endpoints (owner = the
// department code) receive only messages addressed to the department, that
// is the events of its own cases; a system subscriber (owner "system:<name>",
// managed only by holders of auth.ManageSettings) receives every message its
// filters match, whoever it is addressed to. Filters narrow either kind: the
// events ("case.*" for a prefix), a territory code of any level (everything
// inside it) and categories (refs or major classes). webhook_routes indexes
// the active endpoints by (audience, territory, category), so that fan-out
// finds the candidates of a whole batch with one lookup of the message's
// department and "*", its territory's levels and its category's ref and
// class; the exact match is then decided per message.
//
// # Webhook signatures
//
// Each delivery carries
//
//	X-GridHall-Event:     case.accepted
//	X-GridHall-Delivery:  message id
//	X-GridHall-Timestamp: unix seconds
//	X-GridHall-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// For 24 hours after a secret rotation the signature header also holds a
// v1= signature under the previous secret, comma separated, so receivers can
// switch secrets without losing deliveries. [Verify] checks a delivery and
// refuses timestamps outside a tolerance ([VerifyTolerance] is the one to
// use), which bounds replays; within it, receivers drop deliveries whose
// X-GridHall-Delivery they have seen.
//
// # Secrets at rest
//
// Endpoint secrets are sealed with internal/seal when the installation has a
// master key, so a database dump does not reveal them. Without a master key
// (possible on PostgreSQL) they are stored in plain text: signing needs the
// secret itself, so a hash would not do, and refusing webhooks on such
// installations would be worse than the documented exposure.
package outbox
