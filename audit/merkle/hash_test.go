package merkle_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fidelis/fidelis/audit/merkle"
)

func TestLeafHashKnownAnswers(t *testing.T) {
	tests := []struct {
		data string
		want string
	}{
		// SHA-256(0x00), the leaf hash of the empty entry.
		{"", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
		{"\x10", "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"},
		{"\x20\x21", "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"},
	}
	for _, tt := range tests {
		if got := merkle.LeafHash([]byte(tt.data)).String(); got != tt.want {
			t.Errorf("LeafHash(%q) = %s; want %s", tt.data, got, tt.want)
		}
	}
}

func TestNodeHashKnownAnswer(t *testing.T) {
	leaves := ctLeafHashes()
	// The root of the first two CT leaves is NodeHash of their leaf hashes.
	if got, want := merkle.NodeHash(leaves[0], leaves[1]), mustHash(t, ctRoots[2]); got != want {
		t.Errorf("NodeHash(l0, l1) = %s; want %s", got, want)
	}
	if got, bad := merkle.NodeHash(leaves[1], leaves[0]), mustHash(t, ctRoots[2]); got == bad {
		t.Errorf("NodeHash(l1, l0) = %s; want it to differ from NodeHash(l0, l1)", got)
	}
}

func TestEmptyRoot(t *testing.T) {
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := merkle.EmptyRoot().String(); got != want {
		t.Errorf("EmptyRoot() = %s; want %s", got, want)
	}
	if got := merkle.RootFromLeaves(nil).String(); got != want {
		t.Errorf("RootFromLeaves(nil) = %s; want %s", got, want)
	}
}

func TestRootFromLeavesKnownAnswers(t *testing.T) {
	leaves := ctLeafHashes()
	for n, want := range ctRoots {
		if got := merkle.RootFromLeaves(leaves[:n]).String(); got != want {
			t.Errorf("RootFromLeaves(ctLeaves[:%d]) = %s; want %s", n, got, want)
		}
	}
}

func TestParseHash(t *testing.T) {
	const lower = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: lower, want: lower},
		{in: strings.ToUpper(lower), want: lower},
		{in: "", wantErr: true},
		{in: lower[:62], wantErr: true},
		{in: lower + "00", wantErr: true},
		{in: "zz" + lower[2:], wantErr: true},
		{in: " " + lower[1:], wantErr: true},
	}
	for _, tt := range tests {
		h, err := merkle.ParseHash(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseHash(%q) = %s, nil; want error", tt.in, h)
			}
			continue
		}
		if err != nil || h.String() != tt.want {
			t.Errorf("ParseHash(%q) = %s, %v; want %s, nil", tt.in, h, err, tt.want)
		}
	}
}

func TestHashFromBytes(t *testing.T) {
	want := merkle.LeafHash([]byte("x"))
	if got, err := merkle.HashFromBytes(want[:]); err != nil || got != want {
		t.Errorf("HashFromBytes(h[:]) = %s, %v; want %s, nil", got, err, want)
	}
	for _, n := range []int{0, 31, 33} {
		if got, err := merkle.HashFromBytes(make([]byte, n)); err == nil {
			t.Errorf("HashFromBytes(%d bytes) = %s, nil; want error", n, got)
		}
	}
}

func TestHashJSONRoundTrip(t *testing.T) {
	type doc struct {
		Root merkle.Hash `json:"root"`
	}
	in := doc{Root: merkle.LeafHash([]byte("x"))}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("json.Marshal = %v; want nil error", err)
	}
	if want := `{"root":"` + in.Root.String() + `"}`; string(b) != want {
		t.Errorf("json.Marshal = %s; want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("json.Unmarshal(%s) = %+v, %v; want %+v, nil", b, out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"root":"abc"}`), &out); err == nil {
		t.Errorf(`json.Unmarshal({"root":"abc"}) error = nil; want error`)
	}
}
