package merkle_test

import (
	"bytes"
	"testing"

	"github.com/fidelis/fidelis/audit/merkle"
)

func FuzzCompactRangeUnmarshalBinary(f *testing.F) {
	for _, n := range []int{0, 1, 2, 3, 7, 8, 300} {
		r := merkle.NewCompactRange()
		for _, l := range randomLeaves(8, n) {
			r.Append(l)
		}
		b, err := r.MarshalBinary()
		if err != nil {
			f.Fatalf("MarshalBinary() at size %d error: %v", n, err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r merkle.CompactRange
		if err := r.UnmarshalBinary(data); err != nil {
			return
		}
		// Whatever decodes must be canonical and usable.
		out, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("MarshalBinary(UnmarshalBinary(%x)) = %x, %v; want the input, nil", data, out, err)
		}
		_ = r.Root()
		r.Append(merkle.LeafHash(data))
		_ = r.Root()
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(testBody))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n2025-01-01T00:00:00.000000Z\n"))
	f.Add([]byte("o\n18446744073709551615\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n9999-12-31T23:59:59.999999Z\n"))
	f.Add([]byte(""))
	f.Add([]byte("\n\n\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := merkle.ParseCheckpoint(body)
		if err != nil {
			return
		}
		if got := c.Body(); !bytes.Equal(got, body) {
			t.Fatalf("ParseCheckpoint(%q).Body() = %q; want the input", body, got)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseCheckpoint(%q).Validate() = %v; want nil", body, err)
		}
	})
}
