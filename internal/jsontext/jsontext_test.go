package jsontext

import (
	"encoding/json"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestAppendString_MatchesEncodingJSON compares with encoding/json on strings rich in what
// JSON escapes, invalid UTF-8 included.
func TestAppendString_MatchesEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pieces := rapid.SliceOfN(rapid.SampledFrom([]string{
			"a", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x1f", "\x7f",
			"é", "€", "𝄞", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x82", "\ufffd",
		}), 0, 32).Draw(t, "pieces")
		s := strings.Join(pieces, "")
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("AppendString(%q) = %s; want %s", s, got[1:], want)
		}
	})
}
