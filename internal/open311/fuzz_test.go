package open311

import (
	"net/url"
	"slices"
	"testing"
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
