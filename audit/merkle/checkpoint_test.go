package merkle_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis/audit/merkle"
)

func testKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func testCheckpoint(t testing.TB) merkle.Checkpoint {
	t.Helper()
	return merkle.Checkpoint{
		Origin: "fidelis.test/audit",
		Size:   8,
		Root:   mustHash(t, ctRoots[8]),
		Time:   time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC),
	}
}

const testBody = "fidelis.test/audit\n" +
	"8\n" +
	"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n" +
	"2025-03-04T05:06:07.123456Z\n"

func TestCheckpointBody(t *testing.T) {
	c := testCheckpoint(t)
	if got := string(c.Body()); got != testBody {
		t.Errorf("Body() = %q; want %q", got, testBody)
	}

	// Other zones are converted to UTC and sub-microsecond detail is dropped.
	c.Time = time.Date(2025, 3, 4, 6, 6, 7, 123456999, time.FixedZone("CET", 3600))
	if got := string(c.Body()); got != testBody {
		t.Errorf("Body() with CET time and nanoseconds = %q; want %q", got, testBody)
	}

	c = merkle.Checkpoint{Origin: "o", Size: 0, Root: merkle.EmptyRoot(), Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	want := "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n2025-01-01T00:00:00.000000Z\n"
	if got := string(c.Body()); got != want {
		t.Errorf("Body() of empty tree = %q; want %q", got, want)
	}
}

func TestCheckpointSignVerify(t *testing.T) {
	pub, priv := testKey(1)
	otherPub, _ := testKey(2)
	c := testCheckpoint(t)
	sig := c.Sign(priv)
	if got := len(sig); got != ed25519.SignatureSize {
		t.Fatalf("len(Sign()) = %d; want %d", got, ed25519.SignatureSize)
	}
	if err := c.Verify(pub, sig); err != nil {
		t.Fatalf("Verify(pub, Sign(priv)) = %v; want nil", err)
	}
	// Anyone can check the signature over the body with plain Ed25519.
	if !ed25519.Verify(pub, []byte(testBody), sig) {
		t.Errorf("ed25519.Verify(pub, testBody, sig) = false; want true")
	}

	changed := []struct {
		name string
		edit func(*merkle.Checkpoint)
	}{
		{"origin", func(c *merkle.Checkpoint) { c.Origin = "fidelis.test/other" }},
		{"origin case", func(c *merkle.Checkpoint) { c.Origin = strings.ToUpper(c.Origin) }},
		{"size+1", func(c *merkle.Checkpoint) { c.Size++ }},
		{"size-1", func(c *merkle.Checkpoint) { c.Size-- }},
		{"root byte 0", func(c *merkle.Checkpoint) { c.Root = flipped(c.Root, 0) }},
		{"root byte 31", func(c *merkle.Checkpoint) { c.Root = flipped(c.Root, 31) }},
		{"time +1µs", func(c *merkle.Checkpoint) { c.Time = c.Time.Add(time.Microsecond) }},
		{"time -1s", func(c *merkle.Checkpoint) { c.Time = c.Time.Add(-time.Second) }},
		{"time zero", func(c *merkle.Checkpoint) { c.Time = time.Time{} }},
		{"origin empty", func(c *merkle.Checkpoint) { c.Origin = "" }},
	}
	for _, tt := range changed {
		c2 := testCheckpoint(t)
		tt.edit(&c2)
		if err := c2.Verify(pub, sig); err == nil {
			t.Errorf("Verify() after changing %s = nil; want error", tt.name)
		}
	}

	badSigs := []struct {
		name string
		pub  ed25519.PublicKey
		sig  []byte
	}{
		{"other key", otherPub, sig},
		{"nil key", nil, sig},
		{"short key", pub[:31], sig},
		{"nil signature", pub, nil},
		{"short signature", pub, sig[:63]},
		{"long signature", pub, append(bytes.Clone(sig), 0)},
		{"signature bit flipped", pub, func() []byte { s := bytes.Clone(sig); s[10] ^= 1; return s }()},
	}
	for _, tt := range badSigs {
		if err := c.Verify(tt.pub, tt.sig); err == nil {
			t.Errorf("Verify() with %s = nil; want error", tt.name)
		}
	}

	// Sub-microsecond detail and the location are not signed (Body drops them).
	c3 := c
	c3.Time = c.Time.Add(999 * time.Nanosecond).In(time.FixedZone("X", -7*3600))
	if err := c3.Verify(pub, sig); err != nil {
		t.Errorf("Verify() with the same instant to the microsecond in another zone = %v; want nil", err)
	}
}

func TestCheckpointSignPanicsOnMisuse(t *testing.T) {
	_, priv := testKey(1)
	tests := []struct {
		name string
		c    merkle.Checkpoint
		priv ed25519.PrivateKey
	}{
		{"invalid origin", merkle.Checkpoint{Origin: "a b", Time: time.Now()}, priv},
		{"zero time", merkle.Checkpoint{Origin: "o"}, priv},
		{"short key", testCheckpoint(t), priv[:10]},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Sign() with %s did not panic; want panic", tt.name)
				}
			}()
			tt.c.Sign(tt.priv)
		}()
	}
}

func TestCheckpointValidate(t *testing.T) {
	ok := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		origin string
		time   time.Time
		ok     bool
	}{
		{"fidelis.example.com/audit", ok, true},
		{"ünïcode/log", ok, true},
		{strings.Repeat("a", merkle.MaxOriginLen), ok, true},
		{strings.Repeat("a", merkle.MaxOriginLen+1), ok, false},
		{"", ok, false},
		{"two words", ok, false},
		{"tab\there", ok, false},
		{"new\nline", ok, false},
		{"cr\r", ok, false},
		{"nbsp\u00a0", ok, false},
		{"zero\u200bwidth", ok, false},
		{"bom\ufeff", ok, false},
		{"bad\xffutf8", ok, false},
		{"nul\x00", ok, false},
		{"o", time.Time{}, false},
		{"o", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"o", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"o", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), true},
	}
	for _, tt := range tests {
		c := merkle.Checkpoint{Origin: tt.origin, Time: tt.time}
		if err := c.Validate(); (err == nil) != tt.ok {
			t.Errorf("Checkpoint{Origin: %q, Time: %v}.Validate() = %v; want ok=%t", tt.origin, tt.time, err, tt.ok)
		}
	}
}

func TestParseCheckpointRoundTrip(t *testing.T) {
	tests := []merkle.Checkpoint{
		testCheckpoint(t),
		{Origin: "o", Size: 0, Root: merkle.EmptyRoot(), Time: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)},
		{Origin: "ünïcode/log", Size: 1<<64 - 1, Root: merkle.LeafHash(nil), Time: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{Origin: "x", Size: 1234567, Root: merkle.LeafHash([]byte("r")), Time: time.Date(2025, 6, 1, 12, 0, 0, 0, time.FixedZone("", 5*3600))},
	}
	for _, c := range tests {
		body := c.Body()
		got, err := merkle.ParseCheckpoint(body)
		if err != nil {
			t.Errorf("ParseCheckpoint(%q) error: %v", body, err)
			continue
		}
		if got.Origin != c.Origin || got.Size != c.Size || got.Root != c.Root || !got.Time.Equal(c.Time) || got.Time.Location() != time.UTC {
			t.Errorf("ParseCheckpoint(%q) = %+v; want %+v in UTC", body, got, c)
		}
		if again := got.Body(); !bytes.Equal(again, body) {
			t.Errorf("ParseCheckpoint(%q).Body() = %q; want the input", body, again)
		}
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	const (
		origin = "fidelis.test/audit\n"
		size   = "8\n"
		root   = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
		when   = "2025-03-04T05:06:07.123456Z\n"
	)
	if _, err := merkle.ParseCheckpoint([]byte(origin + size + root + when)); err != nil {
		t.Fatalf("ParseCheckpoint(valid) error: %v", err)
	}
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"newline only", "\n"},
		{"no final newline", strings.TrimSuffix(origin+size+root+when, "\n")},
		{"extra blank line", origin + size + root + when + "\n"},
		{"extra line", origin + size + root + when + "extra\n"},
		{"missing time", origin + size + root},
		{"leading blank line", "\n" + origin + size + root + when},
		{"CRLF", strings.ReplaceAll(origin+size+root+when, "\n", "\r\n")},
		{"empty origin", "\n" + size + root + when},
		{"origin with space", "fidelis test\n" + size + root + when},
		{"origin trailing space", "fidelis.test/audit \n" + size + root + when},
		{"origin invalid UTF-8", "fid\xffelis\n" + size + root + when},
		{"origin too long", strings.Repeat("a", merkle.MaxOriginLen+1) + "\n" + size + root + when},
		{"size empty", origin + "\n" + root + when},
		{"size leading zero", origin + "08\n" + root + when},
		{"size plus sign", origin + "+8\n" + root + when},
		{"size negative", origin + "-8\n" + root + when},
		{"size space", origin + " 8\n" + root + when},
		{"size hex", origin + "0x8\n" + root + when},
		{"size underscore", origin + "1_000\n" + root + when},
		{"size overflow", origin + "18446744073709551616\n" + root + when},
		{"root hex", origin + size + ctRoots[8] + "\n" + when},
		{"root unpadded", origin + size + strings.TrimSuffix(root, "=\n") + "\n" + when},
		{"root URL alphabet", origin + size + strings.NewReplacer("+", "-", "/", "_").Replace(root) + when},
		{"root non-zero padding bits", origin + size + "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n" + when},
		{"root too short", origin + size + "AAAA\n" + when},
		{"root 33 bytes", origin + size + "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQygA\n" + when},
		{"root bad character", origin + size + "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQy*=\n" + when},
		{"time no fraction", origin + size + root + "2025-03-04T05:06:07Z\n"},
		{"time millis", origin + size + root + "2025-03-04T05:06:07.123Z\n"},
		{"time nanos", origin + size + root + "2025-03-04T05:06:07.123456789Z\n"},
		{"time offset", origin + size + root + "2025-03-04T06:06:07.123456+01:00\n"},
		{"time +00:00", origin + size + root + "2025-03-04T05:06:07.123456+00:00\n"},
		{"time lower z", origin + size + root + "2025-03-04T05:06:07.123456z\n"},
		{"time lower t", origin + size + root + "2025-03-04t05:06:07.123456Z\n"},
		{"time space separator", origin + size + root + "2025-03-04 05:06:07.123456Z\n"},
		{"time comma", origin + size + root + "2025-03-04T05:06:07,123456Z\n"},
		{"time invalid date", origin + size + root + "2025-02-30T05:06:07.123456Z\n"},
		{"time leap second", origin + size + root + "2016-12-31T23:59:60.000000Z\n"},
		{"time zero", origin + size + root + "0001-01-01T00:00:00.000000Z\n"},
		{"time unix seconds", origin + size + root + "1741064767\n"},
		{"fields swapped", size + origin + root + when},
	}
	for _, tt := range tests {
		if got, err := merkle.ParseCheckpoint([]byte(tt.body)); err == nil {
			t.Errorf("ParseCheckpoint(%s: %q) = %+v, nil; want error", tt.name, tt.body, got)
		}
	}
}

func TestKeyID(t *testing.T) {
	pub, _ := testKey(1)
	sum := sha256.Sum256(pub)
	want := hex.EncodeToString(sum[:8])
	if got := merkle.KeyID(pub); got != want {
		t.Errorf("KeyID(pub) = %s; want %s", got, want)
	}
	if got := len(merkle.KeyID(pub)); got != 16 {
		t.Errorf("len(KeyID(pub)) = %d; want 16", got)
	}
	other, _ := testKey(2)
	if merkle.KeyID(pub) == merkle.KeyID(other) {
		t.Errorf("KeyID(pub1) = KeyID(pub2) = %s; want different IDs for different keys", merkle.KeyID(pub))
	}
}
