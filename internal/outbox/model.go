package outbox

import (
	"encoding/json"
	"errors"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/auth"
)

// Channel is how a message leaves the system.
type Channel string

// The channels.
const (
	InApp   Channel = "inapp"   // the recipient's inbox in GridHall
	Email   Channel = "email"   // mail over SMTP
	Webhook Channel = "webhook" // a signed JSON POST to every subscribed endpoint of an owner
)

// Channels lists every channel in a stable order.
var Channels = []Channel{InApp, Email, Webhook}

// Message is one event to send, as a service hands it to Enqueue.
type Message struct {
	Channel Channel
	// Event names what happened, as lower-case dotted words: "case.accepted".
	Event string
	// UserID is the recipient account of an in-app message.
	UserID int64
	// To is the email address of an email. For a webhook it is the owner
	// key of the department the event concerns (a case's assignee
	// department), or "" when none does: the message goes to every active
	// endpoint of that owner and of every system subscriber whose
	// subscription (events, territory, categories) covers it, as the
	// endpoints stand at enqueue time. A system owner is never a To: system
	// subscribers are reached by their filters, not by address.
	To string
	// Territory is the territory code of a webhook event's place (a case's
	// grid code; "" when it lies outside the territory) and Category its
	// catalog ref ("M92001", "" for none): endpoints filtered by territory
	// or category receive only events inside their filters.
	Territory string
	Category  string
	// Subject and Body are plain text, already translated by the caller.
	Subject string
	Body    string
	// Link is a relative URL inside the application ("/cases/42").
	Link string
	// Payload is the JSON body of a webhook.
	Payload json.RawMessage
	// Key, when set, makes Enqueue idempotent: a message whose key was
	// enqueued before for the same channel and recipient is dropped, so a
	// retried use case notifies each recipient once ("case:42:accepted").
	Key string
}

// Limits of stored message fields, in characters (runes) unless noted.
const (
	maxEvent   = 100
	maxSubject = 200
	maxBody    = 20000
	maxLink    = 2000
	maxOwner   = 64
	maxKey     = 200
	maxEmail   = 254
	maxPayload = 256 << 10 // bytes
	maxURL     = 2000
)

// validate checks m and normalises its text fields. It returns the bad
// fields, each with its i18n message key.
func (m *Message) validate() map[string]string {
	f := map[string]string{}
	m.Event = strings.TrimSpace(m.Event)
	m.To = strings.TrimSpace(m.To)
	m.Subject = strings.TrimSpace(m.Subject)
	m.Link = strings.TrimSpace(m.Link)
	m.Territory = strings.TrimSpace(m.Territory)
	m.Category = strings.ToUpper(strings.TrimSpace(m.Category))
	if !slices.Contains(Channels, m.Channel) {
		f["channel"] = "outbox.error.channel"
	}
	if !validEvent(m.Event) {
		f["event"] = "outbox.error.event"
	}
	switch n := utf8.RuneCountInString(m.Subject); {
	case !validLine(m.Subject):
		f["subject"] = "outbox.error.text"
	case n > maxSubject:
		f["subject"] = "error.field.too_long"
	case n == 0 && m.Channel != Webhook:
		f["subject"] = "error.field.required"
	}
	switch {
	case !utf8.ValidString(m.Body):
		f["body"] = "outbox.error.text"
	case utf8.RuneCountInString(m.Body) > maxBody:
		f["body"] = "error.field.too_long"
	}
	if m.Link != "" && !validLink(m.Link) {
		f["link"] = "outbox.error.link"
	}
	if len(m.Key) > maxKey {
		f["key"] = "error.field.too_long"
	}
	switch m.Channel {
	case InApp:
		if m.UserID <= 0 {
			f["user_id"] = "outbox.error.user"
		}
	case Email:
		if _, err := parseAddress(m.To); err != nil {
			f["to"] = "outbox.error.email"
		}
	case Webhook:
		if m.To != "" && (!validOwner(m.To) || IsSystemOwner(m.To) || m.To == routeAnyAudience) {
			f["to"] = "outbox.error.owner"
		}
		if m.Territory != "" && !validTerritory(m.Territory) {
			f["territory"] = "outbox.error.territory"
		}
		if m.Category != "" && (len(m.Category) != categoryRefLen || !validCategory(m.Category)) {
			f["category"] = "outbox.error.category"
		}
		switch {
		case len(m.Payload) > maxPayload:
			f["payload"] = "error.field.too_long"
		case !json.Valid(m.Payload):
			f["payload"] = "outbox.error.payload"
		}
	}
	return f
}

// validLine accepts valid UTF-8 without control characters: a subject is
// one line, in the inbox and in a mail header alike.
func validLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

var errBadAddress = errors.New("not a single email address")

// parseAddress accepts one address, "a@b.cn" or "Name <a@b.cn>".
func parseAddress(s string) (*mail.Address, error) {
	if len(s) > maxEmail || strings.ContainsAny(s, "\r\n") {
		return nil, errBadAddress
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(a.Address, "@") {
		return nil, errBadAddress
	}
	return a, nil
}

// validEvent accepts lower-case dotted words that start with a letter:
// "case.accepted", "visit.overdue_3d".
func validEvent(s string) bool {
	if s == "" || len(s) > maxEvent || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	prev := byte('.')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		case c == '.' && prev != '.':
		default:
			return false
		}
		prev = c
	}
	return prev != '.'
}

// validOwner accepts an owner key: printable, no spaces or commas (owners are
// department codes, "district", "street:420106001" and the like).
func validOwner(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > maxOwner || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || r == ',' {
			return false
		}
	}
	return true
}

// validLink accepts a path inside the application: it starts with one "/",
// so that an inbox link can never lead off-site ("//evil.example" and
// "/\evil.example" are read as other hosts by browsers) or run a script.
func validLink(s string) bool {
	if len(s) > maxLink || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' || unicode.IsSpace(r) {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// SystemOwnerPrefix starts the owner key of a system subscriber:
// "system:gis". A department's endpoints receive only the events of the
// department's own cases; a system subscriber, which only holders of
// auth.ManageSettings manage, receives the events of every case its filters
// match.
const SystemOwnerPrefix = "system:"

// IsSystemOwner reports whether owner names a system subscriber.
func IsSystemOwner(owner string) bool { return strings.HasPrefix(owner, SystemOwnerPrefix) }

// validSystemOwner accepts "system:" and a name of lower-case letters,
// digits, "-" and "_": the name appears in audit entries and URLs.
func validSystemOwner(s string) bool {
	name := strings.TrimPrefix(s, SystemOwnerPrefix)
	if name == "" || len(s) > maxOwner {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// Endpoint is a webhook receiver of an owner. Its secret is never part of it:
// it is shown once, when created or rotated.
type Endpoint struct {
	ID     int64    `json:"id"`
	Owner  string   `json:"owner"`
	URL    string   `json:"url"`
	Events []string `json:"events"` // ["*"] for every event; "case.*" for every case event
	// Territory is the territory code the subscription is limited to, at
	// any level; "" for everywhere.
	Territory string `json:"territory"`
	// Categories are the catalog refs and major classes the subscription
	// is limited to; empty for every category.
	Categories []string `json:"categories"`
	// System reports a system subscriber (owner "system:…").
	System bool `json:"system"`
	Active bool `json:"active"`
	// PreviousUntil is when the secret replaced by the last rotation stops
	// signing; nil when there is no previous secret.
	PreviousUntil *time.Time `json:"previous_until,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DisabledAt    *time.Time `json:"disabled_at,omitempty"`
}

// NewEndpoint is the input for CreateEndpoint.
type NewEndpoint struct {
	Owner string `json:"owner"`
	// URL is where deliveries are POSTed: http or https, without user
	// credentials (they would be stored and shown in the clear; the
	// signature is the authentication).
	URL string `json:"url"`
	// Events is a comma-separated list of event names and prefixes
	// ("case.*"), or "*" for all.
	Events string `json:"events"`
	// Territory limits the subscription to a territory code (district,
	// street, community or grid) and everything inside it; "" for none.
	Territory string `json:"territory"`
	// Categories limits the subscription to a comma-separated list of
	// catalog refs ("M92001") and major classes ("M92"); "" for none.
	Categories string `json:"categories"`
}

// EndpointUpdate is the input for UpdateEndpoint: the endpoint's new
// settings, replacing all of the old ones (the owner never changes).
type EndpointUpdate struct {
	URL        string `json:"url"`
	Events     string `json:"events"`
	Territory  string `json:"territory"`
	Categories string `json:"categories"`
}

// settings is a validated subscription.
type settings struct {
	url        string
	events     []string
	territory  string
	categories []string
}

// validate normalises in and returns the bad fields and the settings.
func (in *NewEndpoint) validate() (map[string]string, settings) {
	in.Owner = strings.TrimSpace(in.Owner)
	u := EndpointUpdate{URL: in.URL, Events: in.Events, Territory: in.Territory, Categories: in.Categories}
	f, st := u.validate()
	switch {
	case IsSystemOwner(in.Owner):
		if !validSystemOwner(in.Owner) {
			f["owner"] = "outbox.error.system_owner"
		}
	case !validOwner(in.Owner) || in.Owner == routeAnyAudience:
		f["owner"] = "outbox.error.owner"
	}
	return f, st
}

// validate returns the bad fields and the normalised settings.
func (in EndpointUpdate) validate() (map[string]string, settings) {
	f := map[string]string{}
	st := settings{url: strings.TrimSpace(in.URL), territory: strings.TrimSpace(in.Territory)}
	if err := checkEndpointURL(st.url); err != "" {
		f["url"] = err
	}
	var ok bool
	if st.events, ok = ParseEvents(in.Events); !ok {
		f["events"] = "outbox.error.events"
	}
	if st.territory != "" && !validTerritory(st.territory) {
		f["territory"] = "outbox.error.territory"
	}
	if st.categories, ok = ParseCategories(in.Categories); !ok {
		f["categories"] = "outbox.error.categories"
	}
	return f, st
}

// validTerritory accepts a territory code of any level: 6 digits of
// district and 3 more per level below.
func validTerritory(code string) bool {
	_, err := auth.ScopeFromCode(code)
	return err == nil
}

// A category ref is a kind letter and a 5-digit code ("M92001"); a major
// class is the kind letter and the code's first 2 digits ("M92").
const (
	categoryRefLen   = 6
	majorClassLen    = 3
	maxCategories    = 50
	routeAnyAudience = "*" // the audience of system subscribers in webhook_routes
)

// validCategory accepts an upper-case category ref or major class.
func validCategory(s string) bool {
	if (len(s) != categoryRefLen && len(s) != majorClassLen) || (s[0] != 'C' && s[0] != 'M') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseCategories reads a subscription's category filter: a
// comma-separated list of catalog refs ("M92001") and major classes ("M92"),
// either case. It returns them upper-case, sorted and without duplicates;
// an empty text is no filter (nil, true). It returns false when an entry is
// malformed or there are more than 50.
func ParseCategories(s string) ([]string, bool) {
	if len(s) > 4000 {
		return nil, false
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		c := strings.ToUpper(strings.TrimSpace(part))
		if c == "" {
			continue
		}
		if !validCategory(c) {
			return nil, false
		}
		out = append(out, c)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out, len(out) <= maxCategories
}

// checkEndpointURL returns the i18n key of what is wrong with a webhook
// URL, or "".
func checkEndpointURL(s string) string {
	if s == "" {
		return "error.field.required"
	}
	if len(s) > maxURL {
		return "error.field.too_long"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" ||
		u.Fragment != "" || strings.ContainsAny(s, " \t\r\n") {
		return "outbox.error.url"
	}
	if u.User != nil {
		return "outbox.error.url_credentials"
	}
	return ""
}

// ParseEvents reads an endpoint's subscription: a comma-separated list of
// event names and prefixes ("case.*" for every event starting "case."), or
// "*" for every event. It returns the names sorted and without duplicates
// ("*" alone when present) and false when the text is empty or a name is
// malformed.
func ParseEvents(s string) ([]string, bool) {
	if len(s) > 4000 {
		return nil, false
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		e := strings.TrimSpace(part)
		switch {
		case e == "" && strings.TrimSpace(s) != "":
			continue // tolerate "a,,b" and a trailing comma
		case e == "*":
			return []string{"*"}, true
		case !validEvent(strings.TrimSuffix(e, ".*")):
			return nil, false
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, false
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// subscribed reports whether a stored subscription covers event.
func subscribed(events, event string) bool {
	if events == "*" {
		return true
	}
	for e := range strings.SplitSeq(events, ",") {
		if prefix, ok := strings.CutSuffix(e, "*"); e == event || ok && strings.HasPrefix(event, prefix) {
			return true
		}
	}
	return false
}

// InboxMessage is a delivered in-app message.
type InboxMessage struct {
	ID        int64      `json:"id"`
	Event     string     `json:"event"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// InboxFilter selects a page of an inbox, newest first.
type InboxFilter struct {
	UnreadOnly bool
	// Before is a cursor: only messages with a smaller id (0: from the newest).
	Before int64
	// Limit is the page size: 1–200, 50 when 0.
	Limit int
}

// DeliveryFilter selects a page of an endpoint's delivery log, newest first.
type DeliveryFilter struct {
	// After is a cursor: only attempts with a smaller id (0: from the newest).
	After int64
	// Limit is the page size: 1–500, 50 when 0.
	Limit int
}

// Delivery is one attempt in the delivery log.
type Delivery struct {
	ID         int64         `json:"id"`
	MessageID  int64         `json:"message_id"`
	Event      string        `json:"event"`
	Attempt    int           `json:"attempt"`
	At         time.Time     `json:"at"`
	Outcome    Outcome       `json:"outcome"`
	StatusCode int           `json:"status_code,omitempty"` // HTTP status of a webhook, SMTP reply code of a mail
	Error      string        `json:"error,omitempty"`
	Duration   time.Duration `json:"duration"`
}

// Outcome is the result of one delivery attempt.
type Outcome string

// The outcomes.
const (
	Delivered Outcome = "delivered"
	Failed    Outcome = "failed"  // will be retried
	Dead      Outcome = "dead"    // failed for the last time
	Skipped   Outcome = "skipped" // nothing to deliver to (SMTP not configured, endpoint disabled)
)
