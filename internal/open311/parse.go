package open311

import (
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/cases"
)

// FieldError is a refused parameter: its name as the client sent it and
// the message key (with arguments) saying why.
type FieldError struct {
	Field string
	Key   string
	Args  []any
}

// Limits of what a client may send.
const (
	// MaxDescription is the standard's limit of a request's description.
	MaxDescription = 4000
	// maxClientID bounds device_id and account_id.
	maxClientID = 200
	// maxName bounds first_name and last_name together, like any
	// channel's contact name.
	maxName = 50
)

// htmlTag finds markup: a tag, a closing tag, a comment or a declaration.
// A bare "<" or "a < b > c" is plain text and passes.
var htmlTag = regexp.MustCompile(`<\s*/?\s*[A-Za-z!?][^<>]*>`)

// plainText reports whether s carries no HTML. GeoReport descriptions are
// plain text; markup is refused rather than stripped, so that what is
// stored is exactly what the client sent and the client learns the rule.
func plainText(s string) bool { return !htmlTag.MatchString(s) }

// Request is a parsed POST requests.{fmt}: the report in the case
// service's terms, and what the face itself resolves or answers.
type Request struct {
	Case cases.NewCase
	// AddressID is the building the request is about, when sent; the
	// face resolves it to its point and address.
	AddressID int64
	// AccountID is echoed in the answer; DeviceID is accepted. Neither is
	// kept: they identify the reporter to the client, not to us.
	AccountID, DeviceID string
}

// values reads a repeatable parameter sent as name or name[], without empties.
func values(form url.Values, name string) []string {
	var out []string
	for _, k := range []string{name, name + "[]"} {
		for _, v := range form[k] {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// ParseRequest turns the form of POST requests.{fmt} into a report, with
// every refused parameter named. It checks the shape of what was sent;
// the case service checks the rest (the service's questions, the place).
// It reads nothing but its arguments, so it can be fuzzed.
func ParseRequest(form url.Values, media []cases.Upload) (Request, []FieldError) {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	var bad []FieldError
	refuse := func(field, key string, args ...any) {
		bad = append(bad, FieldError{Field: field, Key: key, Args: args})
	}
	out := Request{Case: cases.NewCase{Category: get("service_code"), Description: get("description"),
		Address: get("address_string"), Channel: cases.Open311, Answers: Attributes(form), Photos: media,
		Contact: cases.Contact{Name: strings.TrimSpace(get("first_name") + " " + get("last_name")),
			Phone: get("phone"), Email: get("email")}},
		AccountID: get("account_id"), DeviceID: get("device_id")}
	if out.Case.Category == "" {
		refuse("service_code", "open311.error.required", "service_code")
	}
	if lat, long := get("lat"), get("long"); lat != "" || long != "" {
		la, lo, ok := point(lat, long)
		if !ok {
			refuse("lat/long", "open311.error.point")
		} else {
			out.Case.Lat, out.Case.Lng = &la, &lo
		}
	}
	if v := get("address_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			refuse("address_id", "open311.error.parameter", "address_id")
		} else {
			out.AddressID, out.Case.AddressID = id, v
		}
	}
	if out.Case.Lat == nil && out.AddressID == 0 && out.Case.Address == "" && !hasRefusal(bad, "lat/long", "address_id") {
		refuse("lat/long", "open311.error.where")
	}
	if n := utf8.RuneCountInString(out.Case.Description); n > MaxDescription {
		refuse("description", "open311.error.too_long", "description", MaxDescription)
	} else if !plainText(out.Case.Description) {
		refuse("description", "open311.error.html", "description")
	}
	if out.Case.Links = values(form, "media_url"); len(out.Case.Links) > cases.MaxLinks {
		refuse("media_url", "open311.error.too_many", "media_url", cases.MaxLinks)
	} else {
		for _, l := range out.Case.Links {
			if !cases.ValidLink(l) {
				refuse("media_url", "open311.error.media_url")
				break
			}
		}
	}
	if utf8.RuneCountInString(out.Case.Contact.Name) > maxName {
		refuse("first_name/last_name", "open311.error.too_long", "first_name/last_name", maxName)
	}
	for _, p := range []struct{ field, v string }{{"account_id", out.AccountID}, {"device_id", out.DeviceID}} {
		if utf8.RuneCountInString(p.v) > maxClientID {
			refuse(p.field, "open311.error.too_long", p.field, maxClientID)
		}
	}
	return out, bad
}

func hasRefusal(bad []FieldError, fields ...string) bool {
	for _, b := range bad {
		for _, f := range fields {
			if b.Field == f {
				return true
			}
		}
	}
	return false
}

// point reads a WGS84 latitude and longitude, both needed and in range.
func point(lat, long string) (float64, float64, bool) {
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(long, 64)
	ok := err1 == nil && err2 == nil && !math.IsNaN(la) && !math.IsNaN(lo) &&
		la >= -90 && la <= 90 && lo >= -180 && lo <= 180
	return la, lo, ok
}

// Statuses are FixMyStreet's extended statuses, as updates carry them (in
// lower case; clients post them in upper case).
var Statuses = []string{"fixed", "in_progress", "action_scheduled", "investigating", "duplicate",
	"not_councils_responsibility", "no_further_action", "internal_referral", "cancelled", "reopen",
	"for_triage", "open", "closed"}

// Update is a parsed POST servicerequestupdates.{fmt}.
type Update struct {
	// RequestID is the service_request_id, the case's number.
	RequestID string
	// Update is what goes on the timeline; its CaseID is resolved by the
	// face. The author's name and email are checked but not kept: the
	// comment is public and GridHall keeps no personal data of a
	// client's users.
	Update cases.ClientUpdate
}

// ParseUpdate turns the form of POST servicerequestupdates.{fmt} into a
// client update, with every refused parameter named. It reads nothing but
// its argument, so it can be fuzzed.
func ParseUpdate(form url.Values) (Update, []FieldError) {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	var bad []FieldError
	refuse := func(field, key string, args ...any) {
		bad = append(bad, FieldError{Field: field, Key: key, Args: args})
	}
	out := Update{RequestID: get("service_request_id"),
		Update: cases.ClientUpdate{UpdateID: get("update_id"), Description: get("description"), Links: values(form, "media_url")}}
	for _, p := range []struct{ field, v string }{
		{"service_request_id", out.RequestID}, {"update_id", out.Update.UpdateID}, {"description", out.Update.Description},
	} {
		if p.v == "" {
			refuse(p.field, "open311.error.required", p.field)
		}
	}
	if utf8.RuneCountInString(out.Update.UpdateID) > 100 {
		refuse("update_id", "open311.error.too_long", "update_id", 100)
	}
	if n := utf8.RuneCountInString(out.Update.Description); n > MaxDescription {
		refuse("description", "open311.error.too_long", "description", MaxDescription)
	} else if !plainText(out.Update.Description) {
		refuse("description", "open311.error.html", "description")
	}
	switch st := strings.ToLower(get("status")); {
	case st == "":
		refuse("status", "open311.error.required", "status")
	case !validStatus(st):
		refuse("status", "open311.error.status", strings.ToUpper(strings.Join(Statuses, ", ")))
	default:
		out.Update.Status = st
	}
	if v := get("updated_datetime"); v == "" {
		refuse("updated_datetime", "open311.error.required", "updated_datetime")
	} else if t, ok := parseTime(v); !ok {
		refuse("updated_datetime", "open311.error.datetime", "updated_datetime")
	} else {
		out.Update.At = t
	}
	if e := get("email"); e != "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 200 {
			refuse("email", "open311.error.parameter", "email")
		}
	}
	if utf8.RuneCountInString(strings.TrimSpace(get("first_name")+" "+get("last_name"))) > maxName {
		refuse("first_name/last_name", "open311.error.too_long", "first_name/last_name", maxName)
	}
	if len(out.Update.Links) > cases.MaxLinks {
		refuse("media_url", "open311.error.too_many", "media_url", cases.MaxLinks)
	} else {
		for _, l := range out.Update.Links {
			if !cases.ValidLink(l) {
				refuse("media_url", "open311.error.media_url")
				break
			}
		}
	}
	return out, bad
}

func validStatus(st string) bool { return slices.Contains(Statuses, st) }

// parseTime reads a GeoReport datetime: W3C ISO 8601 with a zone, with or
// without fractional seconds.
func parseTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}
