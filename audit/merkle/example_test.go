package merkle_test

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/fidelis/fidelis/audit/merkle"
)

// The sealer keeps only a CompactRange between batches, appends leaf hashes of new audit
// entries, and signs a checkpoint over the resulting root.
func Example() {
	entries := []string{"", "\x00", "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
		"\x50\x51\x52\x53\x54\x55\x56\x57",
		"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"}

	r := merkle.NewCompactRange()
	for _, e := range entries {
		r.Append(merkle.LeafHash([]byte(e)))
	}
	fmt.Println(r.Size(), r.Root())

	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	cp := merkle.Checkpoint{
		Origin: "fidelis.example/audit",
		Size:   r.Size(),
		Root:   r.Root(),
		Time:   time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
	sig := cp.Sign(priv)
	fmt.Print(string(cp.Body()))
	fmt.Println(cp.Verify(priv.Public().(ed25519.PublicKey), sig))
	// Output:
	// 8 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328
	// fidelis.example/audit
	// 8
	// XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
	// 2025-03-04T05:06:07.000000Z
	// <nil>
}
