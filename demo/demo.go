// Package demo generates a deterministic, entirely synthetic set of retail
// customers living in France and elsewhere in the EU (plus Switzerland), for
// `fidelis demo`.
//
// Names are drawn independently from tables of common given and family names,
// so a generated person is a random combination, not a real individual.
// E-mail addresses only use domains reserved for documentation and testing
// (subdomains of example.com, example.net, example.org, and
// demo.fidelis.test), so they can never reach a real mailbox. Phone numbers
// follow real national mobile formats and ranges, so they may happen to be
// allocated to someone: demo data must never be used to actually call or
// text anyone.
//
// The output depends only on Options.Seed, Options.Now and the package's
// tables. With the same Seed and Now, the first n people are the same for any
// Count >= n. Changing the tables changes the data set.
package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Person is one synthetic customer.
type Person struct {
	GivenName, FamilyName string
	// Email is unique across the generated set, lower case ASCII, at a
	// reserved domain.
	Email string
	// Phone is in the national style of Country ("06 12 34 56 78" in
	// France, "+49 151 23456789" in Germany...), unique across the set.
	Phone string
	// BirthDate is "YYYY-MM-DD", age 16..90 at Options.Now, or "" (about
	// 10% of people).
	BirthDate  string
	Street     string
	PostalCode string
	City       string
	// Country is an ISO 3166-1 alpha-2 code, FR for about 70% of people.
	Country string
	// Locale is "fr" or "en".
	Locale string
	// Attributes holds 0 to 3 custom attributes with lower_snake_case
	// keys. It is never nil.
	Attributes map[string]string
}

// Options configure Generate.
type Options struct {
	Seed  uint64    // same seed, same data
	Count int       // number of people; <= 0 means none
	Now   time.Time // reference date for ages; zero means 2026-01-01
}

// Generate returns opts.Count people, deterministic for (Seed, Count, Now).
func Generate(opts Options) []Person {
	people := make([]Person, 0, max(opts.Count, 0))
	_ = Stream(opts, func(_ int, p Person) error {
		people = append(people, p)
		return nil
	})
	return people
}

// Stream calls fn for each person in order without building the whole
// slice; it stops and returns fn's error. The people are the same as
// Generate's.
func Stream(opts Options, fn func(i int, p Person) error) error {
	if opts.Count <= 0 {
		return nil
	}
	g := newGenerator(opts)
	for i := range opts.Count {
		if err := fn(i, g.next()); err != nil {
			return err
		}
	}
	return nil
}

type generator struct {
	r           *rand.Rand
	regions     []region
	regionTotal int

	// Birth dates are drawn between earliest and latest (ages 90 to 16),
	// mostly between coreEarliest and coreLatest (ages 65 to 22).
	earliest, latest         time.Time
	coreEarliest, coreLatest time.Time

	emails    map[string]struct{}
	emailNext map[string]int // next suffix to try for a colliding address
	phones    map[string]struct{}
	buf       []byte // scratch
	gf, ff    []byte // scratch: folded given and family names
}

func newGenerator(opts Options) *generator {
	hint := min(opts.Count, 1<<16)
	g := &generator{
		r:         rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		regions:   buildRegions(),
		emails:    make(map[string]struct{}, hint),
		emailNext: make(map[string]int),
		phones:    make(map[string]struct{}, hint),
		buf:       make([]byte, 0, 32),
	}
	for _, reg := range g.regions {
		g.regionTotal += reg.weight
	}
	now := opts.Now
	if now.IsZero() {
		// Never time.Now(): the output must stay deterministic.
		now = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	y, m, d := now.Date()
	ref := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	g.earliest, g.latest = birthBounds(ref, 16, 90)
	g.coreEarliest, g.coreLatest = birthBounds(ref, 22, 65)
	return g
}

// age returns the age in whole years at ref of someone born on birth.
func age(birth, ref time.Time) int {
	a := ref.Year() - birth.Year()
	if ref.Month() < birth.Month() || ref.Month() == birth.Month() && ref.Day() < birth.Day() {
		a--
	}
	return a
}

// birthBounds returns the earliest and latest birth dates (UTC midnight) of
// people aged minAge..maxAge at ref, leap days included.
func birthBounds(ref time.Time, minAge, maxAge int) (earliest, latest time.Time) {
	latest = ref.AddDate(-minAge, 0, 0)
	for age(latest, ref) < minAge {
		latest = latest.AddDate(0, 0, -1)
	}
	earliest = ref.AddDate(-maxAge-1, 0, 0)
	for age(earliest, ref) > maxAge {
		earliest = earliest.AddDate(0, 0, 1)
	}
	return earliest, latest
}

func (g *generator) next() Person {
	r := g.r
	reg := g.pickRegion()
	pool := reg.pickPool(r)
	female := r.IntN(100) < 52
	given := pickGiven(r, pool, female)
	family := pickFamily(r, pool, female)

	birth, birthYear := g.birthDate()
	c := reg.pickCity(r)
	p := Person{
		GivenName:  given,
		FamilyName: family,
		BirthDate:  birth,
		Country:    reg.country,
		City:       c.name,
		PostalCode: postalCode(r, reg.postal, pick(r, c.postal)),
		Street:     street(r, reg.street),
		Locale:     reg.locale,
	}
	if r.IntN(100) < reg.otherLocalePct {
		if p.Locale == "fr" {
			p.Locale = "en"
		} else {
			p.Locale = "fr"
		}
	}
	p.Email = g.email(given, family, birthYear, reg)
	p.Phone = g.phone(reg)
	p.Attributes = g.attributes(reg, c.name, female)
	return p
}

func pick(r *rand.Rand, s []string) string {
	return s[r.IntN(len(s))]
}

func (g *generator) pickRegion() *region {
	n := g.r.IntN(g.regionTotal)
	for i := range g.regions {
		if n < g.regions[i].weight {
			return &g.regions[i]
		}
		n -= g.regions[i].weight
	}
	panic("unreachable")
}

func (reg *region) pickPool(r *rand.Rand) *namePool {
	n := r.IntN(reg.poolTotal)
	for _, p := range reg.pools {
		if n < p.weight {
			return p.pool
		}
		n -= p.weight
	}
	panic("unreachable")
}

func (reg *region) pickCity(r *rand.Rand) *city {
	n := r.IntN(reg.cityTotal)
	for i := range reg.cities {
		if n < reg.cities[i].weight {
			return &reg.cities[i]
		}
		n -= reg.cities[i].weight
	}
	panic("unreachable")
}

func pickGiven(r *rand.Rand, pool *namePool, female bool) string {
	if female {
		return pick(r, pool.female)
	}
	return pick(r, pool.male)
}

func pickFamily(r *rand.Rand, pool *namePool, female bool) string {
	name := pick(r, pool.family)
	if pool.doubleFamilyPct > 0 && r.IntN(100) < pool.doubleFamilyPct {
		second := pick(r, pool.family)
		for second == name {
			second = pick(r, pool.family)
		}
		name += " " + second
	}
	if pool.slavic && female && strings.HasSuffix(name, "ki") {
		name = name[:len(name)-1] + "a"
	}
	return name
}

// birthDate returns a "YYYY-MM-DD" birth date and its year, or "" and 0 for
// about 10% of people.
func (g *generator) birthDate() (string, int) {
	r := g.r
	if r.IntN(10) == 0 {
		return "", 0
	}
	lo, hi := g.earliest, g.latest
	if r.IntN(100) < 70 {
		lo, hi = g.coreEarliest, g.coreLatest
	}
	days := int(hi.Sub(lo).Hours()/24 + 0.5)
	b := lo.AddDate(0, 0, r.IntN(days+1))
	return b.Format(time.DateOnly), b.Year()
}

func postalCode(r *rand.Rand, style postalStyle, base string) string {
	switch style {
	case postalNL:
		// Letters F, I, O, Q, U, Y are not used; SA, SD, SS neither.
		const letters = "ABCDEGHJKLMNPRSTVWXZ"
		for {
			a, b := letters[r.IntN(len(letters))], letters[r.IntN(len(letters))]
			if a == 'S' && (b == 'A' || b == 'D' || b == 'S') {
				continue
			}
			return base + " " + string([]byte{a, b})
		}
	case postalPT:
		return base + "-" + pad3(1+r.IntN(399))
	}
	return base
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", max(0, 3-len(s))) + s
}

// houseNumber returns a house number, mostly small.
func houseNumber(r *rand.Rand) int {
	if r.IntN(10) == 0 {
		return 1 + r.IntN(300)
	}
	return 1 + r.IntN(60)
}

func street(r *rand.Rand, style streetStyle) string {
	n := strconv.Itoa(houseNumber(r))
	switch style {
	case streetFR, streetLU:
		switch x := r.IntN(100); {
		case x < 4:
			n += " bis"
		case x < 5:
			n += " ter"
		}
		sep := " "
		if style == streetLU {
			sep = ", "
		}
		return n + sep + pick(r, frStreetTypes) + " " + pick(r, frStreetNames)
	case streetBEfr:
		return pick(r, beStreetTypes) + " " + pick(r, frStreetNames) + " " + n
	case streetCHfr:
		return pick(r, chStreetTypes) + " " + pick(r, frStreetNames) + " " + n
	case streetDE, streetCHde:
		s := germanStreet(r)
		if style == streetCHde {
			s = strings.ReplaceAll(s, "ß", "ss")
		}
		if r.IntN(10) == 0 {
			n += string(rune('a' + r.IntN(3)))
		}
		return s + " " + n
	case streetNL:
		return pick(r, nlStreetStems) + pick(r, nlStreetSuffixes) + " " + n
	case streetES:
		s := pick(r, esStreetTypes) + " " + pick(r, esStreetNames) + ", " + n
		if r.IntN(100) < 60 {
			s += ", " + pick(r, esFloors)
		}
		return s
	case streetIT:
		return pick(r, itStreetTypes) + " " + pick(r, itStreetNames) + " " + n
	case streetPT:
		s := pick(r, ptStreetTypes) + " " + pick(r, ptStreetNames) + ", " + n
		if r.IntN(100) < 40 {
			s += ", " + pick(r, ptFloors)
		}
		return s
	case streetPL:
		if r.IntN(2) == 0 {
			n += "/" + strconv.Itoa(1+r.IntN(80))
		}
		return pick(r, plStreetTypes) + " " + pick(r, plStreetNames) + " " + n
	}
	panic("demo: unknown street style")
}

// germanStreet joins a stem and a suffix: "Hauptstraße",
// "Friedrich-Ebert-Straße", "Berliner Allee".
func germanStreet(r *rand.Rand) string {
	stem, suffix := pick(r, deStreetStems), pick(r, deStreetSuffixes)
	if strings.HasSuffix(stem, "-") || strings.HasSuffix(stem, " ") {
		return stem + strings.ToUpper(suffix[:1]) + suffix[1:]
	}
	return stem + suffix
}

// email returns a unique address derived from the names.
func (g *generator) email(given, family string, birthYear int, reg *region) string {
	r := g.r
	g.gf = appendFold(g.gf[:0], given)
	g.ff = appendFold(g.ff[:0], family)
	if len(g.gf) == 0 {
		g.gf = append(g.gf, "client"...)
	}
	if len(g.ff) == 0 {
		g.ff = append(g.ff, "demo"...)
	}
	gf, ff := g.gf, g.ff
	b := g.buf[:0]
	switch x := r.IntN(100); {
	case x < 35:
		b = append(append(append(b, gf...), '.'), ff...)
	case x < 45:
		b = append(append(append(b, gf[0]), '.'), ff...)
	case x < 55:
		b = append(append(b, gf...), ff...)
	case x < 60:
		b = append(append(append(b, gf...), '_'), ff...)
	case x < 68:
		b = append(append(append(b, ff...), '.'), gf...)
	case x < 80:
		yy := r.IntN(100)
		if birthYear > 0 {
			yy = birthYear % 100
		}
		b = append(append(append(b, gf...), '.'), ff...)
		b = append(b, byte('0'+yy/10), byte('0'+yy%10))
	case x < 90:
		year := 1 + r.IntN(999)
		if birthYear > 0 {
			year = birthYear
		}
		b = strconv.AppendInt(append(b, gf...), int64(year), 10)
	default:
		b = append(append(append(b, ff...), '.'), gf[0])
	}
	localLen := len(b)
	domain := pick(r, reg.domains)
	b = append(append(b, '@'), domain...)
	g.buf = b
	if _, dup := g.emails[string(b)]; !dup {
		addr := string(b)
		g.emails[addr] = struct{}{}
		return addr
	}
	// Taken: append the first free number, remembering where to resume
	// for the next collision on the same address.
	base := string(b)
	local := b[:localLen:localLen]
	sep := ""
	if c := local[localLen-1]; c >= '0' && c <= '9' {
		sep = "."
	}
	n := max(g.emailNext[base], 2)
	var addr string
	for {
		addr = string(local) + sep + strconv.Itoa(n) + "@" + domain
		n++
		if _, dup := g.emails[addr]; !dup {
			break
		}
	}
	g.emailNext[base] = n
	g.emails[addr] = struct{}{}
	return addr
}

// appendFold appends s to b, lower-cased and folded to the ASCII letters,
// digits and hyphens usable in an e-mail local part: "Lefèvre" → "lefevre",
// "Weiß" → "weiss", "Müller" → "mueller", "D'Angelo" → "dangelo",
// "Da Silva" → "dasilva".
func appendFold(b []byte, s string) []byte {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b = append(b, byte(c))
		case c >= 'A' && c <= 'Z':
			b = append(b, byte(c-'A'+'a'))
		default:
			b = append(b, foldRune(unicode.ToLower(c))...)
		}
	}
	return b
}

// foldRune returns the ASCII spelling of a lower-case letter, or "" for
// anything else (spaces, apostrophes, unknown letters).
func foldRune(c rune) string {
	switch c {
	case 'à', 'á', 'â', 'ã', 'å', 'ą', 'ā':
		return "a"
	case 'ä', 'æ':
		return "ae"
	case 'ç', 'ć', 'č':
		return "c"
	case 'è', 'é', 'ê', 'ë', 'ę', 'ě', 'ē':
		return "e"
	case 'ì', 'í', 'î', 'ï', 'ı', 'ī':
		return "i"
	case 'ł':
		return "l"
	case 'ñ', 'ń', 'ň':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ø', 'ō':
		return "o"
	case 'ö', 'œ':
		return "oe"
	case 'ś', 'š', 'ș', 'ş':
		return "s"
	case 'ß':
		return "ss"
	case 'ù', 'ú', 'û', 'ů', 'ū':
		return "u"
	case 'ü':
		return "ue"
	case 'ý', 'ÿ':
		return "y"
	case 'ź', 'ż', 'ž':
		return "z"
	case 'đ', 'ď':
		return "d"
	case 'ř':
		return "r"
	case 'ț', 'ť':
		return "t"
	case 'ğ':
		return "g"
	}
	return ""
}

// phone returns a mobile number unused so far in the set.
func (g *generator) phone(reg *region) string {
	for {
		b := append(g.buf[:0], pick(g.r, reg.phonePrefixes)...)
		for i := 0; i < len(reg.phonePattern); i++ {
			if c := reg.phonePattern[i]; c == '#' {
				b = append(b, byte('0'+g.r.IntN(10)))
			} else {
				b = append(b, c)
			}
		}
		g.buf = b
		if _, dup := g.phones[string(b)]; !dup {
			s := string(b)
			g.phones[s] = struct{}{}
			return s
		}
	}
}

// attributes returns 0 to 3 custom attributes.
func (g *generator) attributes(reg *region, cityName string, female bool) map[string]string {
	r := g.r
	var k int
	switch x := r.IntN(100); {
	case x < 25:
		k = 0
	case x < 60:
		k = 1
	case x < 85:
		k = 2
	default:
		k = 3
	}
	attrs := make(map[string]string, k)
	const nkeys = 8
	keys := [nkeys]int{0, 1, 2, 3, 4, 5, 6, 7}
	for j := range k {
		s := j + r.IntN(nkeys-j)
		keys[j], keys[s] = keys[s], keys[j]
		switch keys[j] {
		case 0:
			attrs["preferred_store"] = preferredStore(r, reg.stores, cityName)
		case 1:
			size := 39 + r.IntN(8)
			if female {
				size = 35 + r.IntN(8)
			}
			attrs["shoe_size"] = strconv.Itoa(size)
		case 2:
			attrs["newsletter_source"] = pick(r, newsletterSources)
		case 3:
			attrs["favourite_category"] = pick(r, favouriteCategories)
		case 4:
			if female {
				attrs["clothing_size"] = pick(r, clothingSizesFemale)
			} else {
				attrs["clothing_size"] = pick(r, clothingSizesMale)
			}
		case 5:
			attrs["children_count"] = pick(r, childrenCounts)
		case 6:
			attrs["preferred_contact"] = pick(r, contactChannels)
		case 7:
			attrs["pet"] = pick(r, pets)
		}
	}
	return attrs
}

// preferredStore picks, most of the time, a store in the customer's city
// when there is one.
func preferredStore(r *rand.Rand, stores []string, cityName string) string {
	if r.IntN(100) < 70 {
		var local [4]string
		n := 0
		prefix := cityName + " "
		for _, s := range stores {
			if n < len(local) && strings.HasPrefix(s, prefix) {
				local[n] = s
				n++
			}
		}
		if n > 0 {
			return local[r.IntN(n)]
		}
	}
	return pick(r, stores)
}
