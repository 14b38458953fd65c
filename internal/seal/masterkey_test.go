package seal

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMasterKeyAcceptsEveryCommonSpelling(t *testing.T) {
	var want MasterKey
	for i := range want {
		want[i] = byte(i*7 + 250) // includes bytes that give '+', '/', '-' and '_'
	}
	b := want[:]
	tests := []struct {
		name, text string
	}{
		{"hex lower", hex.EncodeToString(b)},
		{"hex upper", strings.ToUpper(hex.EncodeToString(b))},
		{"base64 std padded", base64.StdEncoding.EncodeToString(b)},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(b)},
		{"base64 url padded", base64.URLEncoding.EncodeToString(b)},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(b)},
		{"file with final newline", base64.StdEncoding.EncodeToString(b) + "\n"},
		{"surrounding spaces", "  " + hex.EncodeToString(b) + "\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatal("decoded to another key")
			}
		})
	}
}

func TestParseMasterKeyRejectsClearlyWithoutEchoingTheKey(t *testing.T) {
	k32 := make([]byte, 32)
	for i := range k32 {
		k32[i] = byte(i + 1)
	}
	std := base64.StdEncoding.EncodeToString(k32)
	tests := []struct {
		name, text, wantMsg string
	}{
		{"empty", "", "empty"},
		{"blank", " \n", "empty"},
		{"16 bytes", base64.StdEncoding.EncodeToString(k32[:16]), "16 bytes, want 32"},
		{"33 bytes hex", hex.EncodeToString(append(k32, 1)), "66 hexadecimal digits, want 64"},
		{"63 hex digits", hex.EncodeToString(k32)[1:], "63 hexadecimal digits, want 64"},
		{"not base64", "this is not a key at all!", "neither base64 nor"},
		{"line break inside", std[:20] + "\n" + std[20:], "neither base64 nor"},
		{"mixed alphabets", "+" + base64.RawURLEncoding.EncodeToString(k32)[1:42] + "_", "neither base64 nor"},
		{"all zeros", strings.Repeat("0", 64), "all zeros"},
		{"non-zero padding bits", std[:42] + "B=", "neither base64 nor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMasterKey(tt.text)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
			if s := strings.TrimSpace(tt.text); len(s) > 8 && strings.Contains(err.Error(), s[:8]) {
				t.Fatalf("error %q repeats the key text", err)
			}
		})
	}
}

func TestLoadMasterKeyPrefersTheFileAndSaysWhenNoneIsSet(t *testing.T) {
	fileKey, fileText := GenerateMasterKey()
	envKey, envText := GenerateMasterKey()
	dir := t.TempDir()
	good := filepath.Join(dir, "master.key")
	os.WriteFile(good, []byte(fileText+"\n"), 0o600)
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("nonsense"), 0o600)
	big := filepath.Join(dir, "big.key")
	os.WriteFile(big, []byte(strings.Repeat("A", maxKeyFile+1)), 0o600)
	tests := []struct {
		name      string
		file, env string
		want      MasterKey
		wantOK    bool
		wantErr   string
	}{
		{"file wins over env", good, envText, fileKey, true, ""},
		{"env alone", "", envText, envKey, true, ""},
		{"neither", "", "", MasterKey{}, false, ""},
		{"blank env is unset", "", "  ", MasterKey{}, false, ""},
		{"missing file is an error, not a fallback", filepath.Join(dir, "nope"), envText, MasterKey{}, false, "no such file"},
		{"invalid file names the file", bad, envText, MasterKey{}, false, "bad.key"},
		{"oversized file", big, "", MasterKey{}, false, "larger than"},
		{"invalid env", "", "short", MasterKey{}, false, "environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := LoadMasterKey(tt.file, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.wantOK || got != tt.want {
				t.Fatalf("ok=%v err=%v, key matches: %v", ok, err, got == tt.want)
			}
		})
	}
}

func TestGenerateMasterKeyRoundTripsAndDiffers(t *testing.T) {
	a, text := GenerateMasterKey()
	b, _ := GenerateMasterKey()
	if a == b || a == (MasterKey{}) {
		t.Fatal("generated keys are not random")
	}
	got, err := ParseMasterKey(text)
	if err != nil || got != a {
		t.Fatalf("generated text does not parse back: %v", err)
	}
}

func TestMasterKeyNeverPrints(t *testing.T) {
	mk, text := GenerateMasterKey()
	for _, verb := range []string{"%v", "%s", "%x", "%X", "%#v", "%+v"} {
		out := fmt.Sprintf(verb, mk)
		if strings.Contains(out, text[:8]) || strings.Contains(strings.ToLower(out), hex.EncodeToString(mk[:4])) {
			t.Errorf("%s prints the key: %s", verb, out)
		}
	}
}
