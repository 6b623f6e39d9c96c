package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
)

// The canonical forms as they were first defined, with encoding/json: entries sealed
// since then hash to these bytes, so the hand-written encoder must reproduce them exactly.
func contentByJSON(e *Entry) []byte {
	fields := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		fields[i] = string(f)
	}
	b, _ := json.Marshal([]any{
		"fidelis-audit/v1", e.UID, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action,
		e.Subject, string(e.Purpose), fields, string(e.Outcome), e.Reason, e.RequestID,
	})
	return b
}

func leafByJSON(e *Entry, i int64) []byte {
	b, _ := json.Marshal([]any{i, json.RawMessage(contentByJSON(e)), e.MAC})
	return b
}

// awkward draws strings rich in what JSON escapes: quotes, backslashes, control and HTML
// characters, U+2028/U+2029, multi-byte runes and invalid UTF-8.
func awkward(t *rapid.T, label string) string {
	pieces := rapid.SliceOfN(rapid.SampledFrom([]string{
		"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x1f", "\x7f",
		"é", "€", "𝄞", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x82", "\ufffd", "user:usr_x", "customer.read",
	}), 0, 24).Draw(t, label)
	var b bytes.Buffer
	for _, p := range pieces {
		b.WriteString(p)
	}
	return b.String()
}

// TestCanonicalForms_MatchEncodingJSON_P4: Content and LeafData are byte for byte what
// encoding/json wrote, so authentication codes and sealed leaves of existing logs verify.
func TestCanonicalForms_MatchEncodingJSON_P4(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := &Entry{
			UID:       awkward(t, "uid"),
			At:        time.Unix(rapid.Int64Range(-1e10, 1e11).Draw(t, "sec"), rapid.Int64Range(0, 999999999).Draw(t, "nsec")).In(time.FixedZone("x", 3600)),
			Actor:     awkward(t, "actor"),
			Action:    awkward(t, "action"),
			Subject:   awkward(t, "subject"),
			Purpose:   fidelis.Purpose(awkward(t, "purpose")),
			Outcome:   Outcome(awkward(t, "outcome")),
			Reason:    awkward(t, "reason"),
			RequestID: awkward(t, "request"),
		}
		for range rapid.IntRange(0, 4).Draw(t, "fields") {
			e.Fields = append(e.Fields, fidelis.Field(awkward(t, "field")))
		}
		switch rapid.IntRange(0, 2).Draw(t, "mac") {
		case 0:
			e.MAC = nil
		case 1:
			e.MAC = []byte{}
		default:
			e.MAC = rapid.SliceOfN(rapid.Byte(), 1, 40).Draw(t, "macBytes")
		}
		if got, want := e.Content(), contentByJSON(e); !bytes.Equal(got, want) {
			t.Fatalf("Content = %q; want %q", got, want)
		}
		i := rapid.Int64().Draw(t, "leaf")
		if got, want := e.LeafData(i), leafByJSON(e, i); !bytes.Equal(got, want) {
			t.Fatalf("LeafData = %q; want %q", got, want)
		}
	})
}
