package open311

import (
	"math"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/cases"
)

// The form parser behind POST requests: never a panic, and the two ways
// clients send several values give the same answers.
func FuzzAttributes(f *testing.F) {
	f.Add("attribute[needs][]=meals&attribute[needs][]=cleaning")
	f.Add("attribute[needs]=meals&attribute[needs]=cleaning")
	f.Add("attribute[]=x&attribute[a][b]=y&attribute[a=z&attribute[a]]=w")
	f.Add("service_code=M92001&attribute[hazard_type]=other")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got := Attributes(form)
		for code, vs := range got {
			if code == "" || len(vs) == 0 {
				t.Fatalf("empty code or answer list from %q: %v", raw, got)
			}
			// The same values sent the other way give the same answers.
			other := url.Values{}
			for _, v := range vs {
				other.Add("attribute["+code+"][]", v)
			}
			if again := Attributes(other)[code]; !slices.Equal(again, vs) {
				t.Fatalf("%q: %v, sent as [] %v", raw, vs, again)
			}
		}
	})
}

// The whole POST requests form → report conversion: never a panic, and
// what it accepts keeps the standard's limits: a service code, a place,
// a plain description of at most 4000 characters, valid media URLs, the
// same answers as the attribute parser.
func FuzzParseRequest(f *testing.F) {
	f.Add("service_code=M92001&lat=30.55&long=114.30&description=%E6%BC%8F%E6%B0%B4&attribute[needs][]=meals")
	f.Add("service_code=M92001&address_id=12&media_url=https://a.example/x.jpg&media_url[]=http://b.example/y.png")
	f.Add("service_code=M92001&address_string=%E4%B8%AD%E5%8D%97%E4%B8%80%E8%B7%AF&description=%3Cb%3Ex%3C/b%3E")
	f.Add("service_code=&lat=91&long=NaN&address_id=-1&media_url=file:///etc/passwd&device_id=d&account_id=a")
	f.Add("service_code=X&lat=1e400&long=0&first_name=a&last_name=b&email=x@y.z&phone=123")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, bad := ParseRequest(form, nil)
		for _, b := range bad {
			if b.Field == "" || b.Key == "" {
				t.Fatalf("%q: unnamed refusal %+v", raw, b)
			}
		}
		if len(bad) > 0 {
			return
		}
		c := req.Case
		switch {
		case c.Category == "" || c.Channel != cases.Open311:
			t.Fatalf("%q: accepted without a service code or channel: %+v", raw, c)
		case (c.Lat == nil) != (c.Lng == nil):
			t.Fatalf("%q: half a point", raw)
		case c.Lat == nil && req.AddressID == 0 && c.Address == "":
			t.Fatalf("%q: accepted without a place", raw)
		case c.Lat != nil && (*c.Lat < -90 || *c.Lat > 90 || *c.Lng < -180 || *c.Lng > 180 || math.IsNaN(*c.Lat) || math.IsNaN(*c.Lng)):
			t.Fatalf("%q: point out of range %v %v", raw, *c.Lat, *c.Lng)
		case utf8.RuneCountInString(c.Description) > MaxDescription || !plainText(c.Description):
			t.Fatalf("%q: description accepted: %q", raw, c.Description)
		case len(c.Links) > cases.MaxLinks:
			t.Fatalf("%q: %d links", raw, len(c.Links))
		}
		for _, l := range c.Links {
			if !cases.ValidLink(l) {
				t.Fatalf("%q: link %q accepted", raw, l)
			}
		}
		if !reflect.DeepEqual(c.Answers, Attributes(form)) {
			t.Fatalf("%q: answers %v, attributes %v", raw, c.Answers, Attributes(form))
		}
	})
}

// The POST servicerequestupdates parser: never a panic, and what it
// accepts names its request and update, carries one of FixMyStreet's
// statuses in lower case, a datetime, and a plain description.
func FuzzParseUpdate(f *testing.F) {
	f.Add("service_request_id=20261121-00001&update_id=7&status=FIXED&updated_datetime=2026-11-21T09:00:00Z&description=ok")
	f.Add("service_request_id=1&update_id=7&status=in_progress&updated_datetime=2026-11-21T09:00:00.5%2B08:00&description=%3Cp%3E")
	f.Add("service_request_id=1&update_id=&status=SOLVED&updated_datetime=yesterday&email=not-an-address&media_url=javascript:x")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		u, bad := ParseUpdate(form)
		if len(bad) > 0 {
			return
		}
		c := u.Update
		switch {
		case u.RequestID == "" || c.UpdateID == "" || c.Description == "" || c.At.IsZero():
			t.Fatalf("%q: accepted without a required field: %+v", raw, u)
		case !slices.Contains(Statuses, c.Status):
			t.Fatalf("%q: status %q", raw, c.Status)
		case utf8.RuneCountInString(c.Description) > MaxDescription || !plainText(c.Description):
			t.Fatalf("%q: description %q", raw, c.Description)
		}
		for _, l := range c.Links {
			if !cases.ValidLink(l) {
				t.Fatalf("%q: link %q accepted", raw, l)
			}
		}
	})
}
