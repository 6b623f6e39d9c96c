package demo_test

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/fidelis/fidelis/demo"
)

var refNow = time.Date(2026, time.March, 15, 10, 30, 0, 0, time.UTC)

func opts(seed uint64, count int) demo.Options {
	return demo.Options{Seed: seed, Count: count, Now: refNow}
}

func TestGenerateCount(t *testing.T) {
	for _, n := range []int{-5, 0, 1, 7, 1000} {
		got := len(demo.Generate(opts(1, n)))
		want := max(n, 0)
		if got != want {
			t.Errorf("len(Generate(Count: %d)) = %d; want %d", n, got, want)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, 1 << 63, ^uint64(0)} {
		a := demo.Generate(opts(seed, 2000))
		b := demo.Generate(opts(seed, 2000))
		if !reflect.DeepEqual(a, b) {
			for i := range a {
				if !reflect.DeepEqual(a[i], b[i]) {
					t.Errorf("Generate(Seed: %d)[%d] = %+v on second run; want %+v", seed, i, b[i], a[i])
					break
				}
			}
		}
	}
}

func TestGenerateZeroNowIsDeterministic(t *testing.T) {
	a := demo.Generate(demo.Options{Seed: 3, Count: 200})
	b := demo.Generate(demo.Options{Seed: 3, Count: 200})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Generate(Now: zero) differs between runs; want equal")
	}
}

func TestGeneratePrefix(t *testing.T) {
	long := demo.Generate(opts(9, 500))
	short := demo.Generate(opts(9, 120))
	if !reflect.DeepEqual(short, long[:120]) {
		t.Errorf("Generate(Count: 120) is not a prefix of Generate(Count: 500)")
	}
}

func TestGenerateSeedsDiffer(t *testing.T) {
	tests := []struct{ a, b uint64 }{{1, 2}, {0, 1}, {42, 43}, {1 << 32, 1 << 33}}
	for _, tt := range tests {
		a := demo.Generate(opts(tt.a, 1000))
		b := demo.Generate(opts(tt.b, 1000))
		same := 0
		for i := range a {
			if a[i].Email == b[i].Email {
				same++
			}
		}
		if same > 50 {
			t.Errorf("Generate(Seed: %d) and Generate(Seed: %d) share %d of 1000 e-mails at the same index; want at most 50",
				tt.a, tt.b, same)
		}
	}
}

func TestUniqueEmailAndPhone(t *testing.T) {
	const n = 20000
	people := demo.Generate(opts(7, n))
	emails := make(map[string]int, n)
	phones := make(map[string]int, n)
	for i, p := range people {
		if j, ok := emails[p.Email]; ok {
			t.Errorf("Generate()[%d].Email = %q; want unique, already at %d", i, p.Email, j)
		}
		emails[p.Email] = i
		if j, ok := phones[p.Phone]; ok {
			t.Errorf("Generate()[%d].Phone = %q; want unique, already at %d", i, p.Phone, j)
		}
		phones[p.Phone] = i
	}
}

var (
	emailRE  = regexp.MustCompile(`^[a-z0-9]+([._+-][a-z0-9]+)*@[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$`)
	attrKeyR = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

// reservedDomain reports whether d can never be a real mail domain.
func reservedDomain(d string) bool {
	for _, suffix := range []string{"example.com", "example.net", "example.org"} {
		if d == suffix || strings.HasSuffix(d, "."+suffix) {
			return true
		}
	}
	return strings.HasSuffix(d, ".test") || strings.HasSuffix(d, ".example")
}

func TestEmailSyntax(t *testing.T) {
	for i, p := range demo.Generate(opts(11, 20000)) {
		for _, c := range []byte(p.Email) {
			if c >= 0x80 {
				t.Errorf("Generate()[%d].Email = %q; want ASCII", i, p.Email)
				break
			}
		}
		if !emailRE.MatchString(p.Email) {
			t.Errorf("Generate()[%d].Email = %q; want match %s", i, p.Email, emailRE)
			continue
		}
		if d := p.Email[strings.IndexByte(p.Email, '@')+1:]; !reservedDomain(d) {
			t.Errorf("Generate()[%d].Email = %q; want a reserved domain", i, p.Email)
		}
	}
}

func TestEmailFolding(t *testing.T) {
	// Some e-mail patterns use the given name only, so look at all the
	// people with a given family name: some addresses must hold the
	// ASCII-folded name, none may hold a badly folded one.
	tests := []struct{ family, folded, bad string }{
		{"Lefèvre", "lefevre", "lefvre"},
		{"Weiß", "weiss", "wei."},
		{"Müller", "mueller", "mller"},
		{"Gonçalves", "goncalves", "gonalves"},
		{"Wiśniewski", "wisniewski", "winiewski"},
		{"D'Angelo", "dangelo", "d'angelo"},
	}
	people := demo.Generate(opts(5, 20000))
	for _, tt := range tests {
		seen, folded := 0, 0
		for i, p := range people {
			if p.FamilyName != tt.family {
				continue
			}
			seen++
			if strings.Contains(p.Email, tt.folded) {
				folded++
			}
			if strings.Contains(p.Email, tt.bad) {
				t.Errorf("Generate()[%d] %s %s: Email = %q; want %q, not %q", i, p.GivenName, p.FamilyName, p.Email, tt.folded, tt.bad)
			}
		}
		if seen > 0 && folded == 0 {
			t.Errorf("Generate() e-mails of the %d people named %s = none contain %q; want some", seen, tt.family, tt.folded)
		}
		if tt.family == "Lefèvre" && seen == 0 {
			t.Errorf("Generate(20000) has no Lefèvre; want accented French family names")
		}
	}
}

func TestCountryDistribution(t *testing.T) {
	const n = 20000
	counts := map[string]int{}
	for _, p := range demo.Generate(opts(13, n)) {
		counts[p.Country]++
	}
	allowed := map[string]bool{"FR": true, "BE": true, "DE": true, "ES": true, "IT": true,
		"NL": true, "PT": true, "LU": true, "CH": true, "PL": true}
	for c, k := range counts {
		if !allowed[c] {
			t.Errorf("Generate() has %d people in Country %q; want ISO 3166-1 alpha-2 of %v", k, c, allowed)
		}
	}
	fr := float64(counts["FR"]) / n
	if fr < 0.6 || fr > 0.8 {
		t.Errorf("Generate() FR share = %.3f; want 0.6..0.8", fr)
	}
	for c, k := range counts {
		if c != "FR" && k >= counts["FR"] {
			t.Errorf("Generate() has %d people in %s, %d in FR; want FR the majority", k, c, counts["FR"])
		}
	}
	if len(counts) < 8 {
		t.Errorf("Generate() countries = %v; want at least 8", counts)
	}
}

func TestBirthDates(t *testing.T) {
	nows := []time.Time{
		refNow,
		time.Date(2024, time.February, 29, 23, 59, 0, 0, time.UTC),
		time.Date(2025, time.December, 31, 0, 0, 0, 0, time.FixedZone("CET", 3600)),
		time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, now := range nows {
		const n = 10000
		empty := 0
		minAge, maxAge := 1000, -1
		for i, p := range demo.Generate(demo.Options{Seed: 17, Count: n, Now: now}) {
			if p.BirthDate == "" {
				empty++
				continue
			}
			b, err := time.Parse(time.DateOnly, p.BirthDate)
			if err != nil {
				t.Errorf("Generate(Now: %s)[%d].BirthDate = %q; want YYYY-MM-DD: %v", now.Format(time.DateOnly), i, p.BirthDate, err)
				continue
			}
			age := now.Year() - b.Year()
			if now.Month() < b.Month() || now.Month() == b.Month() && now.Day() < b.Day() {
				age--
			}
			minAge, maxAge = min(minAge, age), max(maxAge, age)
			if age < 16 || age > 90 {
				t.Errorf("Generate(Now: %s)[%d].BirthDate = %q, age %d; want age 16..90", now.Format(time.DateOnly), i, p.BirthDate, age)
			}
		}
		if share := float64(empty) / n; share < 0.07 || share > 0.13 {
			t.Errorf("Generate(Now: %s) empty BirthDate share = %.3f; want about 0.10", now.Format(time.DateOnly), share)
		}
		if minAge > 17 || maxAge < 88 {
			t.Errorf("Generate(Now: %s) ages = %d..%d; want about 16..90", now.Format(time.DateOnly), minAge, maxAge)
		}
	}
}

func TestPhoneAndPostalFormats(t *testing.T) {
	tests := []struct {
		country      string
		phone, postl *regexp.Regexp
	}{
		{"FR", regexp.MustCompile(`^0[67]( \d{2}){4}$`), regexp.MustCompile(`^\d{5}$`)},
		{"BE", regexp.MustCompile(`^\+32 4[789]\d( \d{2}){3}$`), regexp.MustCompile(`^\d{4}$`)},
		{"DE", regexp.MustCompile(`^\+49 1[5-7]\d \d{8}$`), regexp.MustCompile(`^\d{5}$`)},
		{"ES", regexp.MustCompile(`^\+34 [67]\d{2} \d{3} \d{3}$`), regexp.MustCompile(`^\d{5}$`)},
		{"IT", regexp.MustCompile(`^\+39 3\d{2} \d{3} \d{4}$`), regexp.MustCompile(`^\d{5}$`)},
		{"NL", regexp.MustCompile(`^\+31 6 \d{8}$`), regexp.MustCompile(`^\d{4} [A-Z]{2}$`)},
		{"PT", regexp.MustCompile(`^\+351 9[1236]\d \d{3} \d{3}$`), regexp.MustCompile(`^\d{4}-\d{3}$`)},
		{"LU", regexp.MustCompile(`^\+352 6\d1 \d{3} \d{3}$|^\+352 628 \d{3} \d{3}$`), regexp.MustCompile(`^\d{4}$`)},
		{"CH", regexp.MustCompile(`^\+41 7[6-9] \d{3} \d{2} \d{2}$`), regexp.MustCompile(`^\d{4}$`)},
		{"PL", regexp.MustCompile(`^\+48 [5-7]\d{2} \d{3} \d{3}$`), regexp.MustCompile(`^\d{2}-\d{3}$`)},
	}
	people := demo.Generate(opts(19, 20000))
	for _, tt := range tests {
		seen := 0
		for i, p := range people {
			if p.Country != tt.country {
				continue
			}
			seen++
			if !tt.phone.MatchString(p.Phone) {
				t.Errorf("Generate()[%d] (%s).Phone = %q; want match %s", i, tt.country, p.Phone, tt.phone)
			}
			if !tt.postl.MatchString(p.PostalCode) {
				t.Errorf("Generate()[%d] (%s).PostalCode = %q; want match %s", i, tt.country, p.PostalCode, tt.postl)
			}
		}
		if seen == 0 {
			t.Errorf("Generate(20000) has no one in %s; want some", tt.country)
		}
	}
}

func TestFields(t *testing.T) {
	people := demo.Generate(opts(23, 20000))
	locales := map[string]int{}
	attrCounts := map[int]int{}
	for i, p := range people {
		for _, f := range []struct{ name, v string }{
			{"GivenName", p.GivenName}, {"FamilyName", p.FamilyName}, {"Street", p.Street},
			{"PostalCode", p.PostalCode}, {"City", p.City},
		} {
			if strings.TrimSpace(f.v) == "" || strings.TrimSpace(f.v) != f.v {
				t.Errorf("Generate()[%d].%s = %q; want non-empty, trimmed", i, f.name, f.v)
			}
		}
		if p.Locale != "fr" && p.Locale != "en" {
			t.Errorf("Generate()[%d].Locale = %q; want fr or en", i, p.Locale)
		}
		locales[p.Country+"/"+p.Locale]++
		if p.Attributes == nil || len(p.Attributes) > 3 {
			t.Errorf("Generate()[%d].Attributes = %v; want non-nil, 0..3 keys", i, p.Attributes)
		}
		attrCounts[len(p.Attributes)]++
		for k, v := range p.Attributes {
			if !attrKeyR.MatchString(k) || v == "" {
				t.Errorf("Generate()[%d].Attributes[%q] = %q; want lower_snake_case key, non-empty value", i, k, v)
			}
		}
	}
	if fr, en := locales["FR/fr"], locales["FR/en"]; fr < 10*en {
		t.Errorf("Generate() French customers: %d fr, %d en; want mostly fr", fr, en)
	}
	if de, fr := locales["DE/en"], locales["DE/fr"]; de < 5*fr {
		t.Errorf("Generate() German customers: %d en, %d fr; want mostly en", de, fr)
	}
	for k := range 4 {
		if attrCounts[k] == 0 {
			t.Errorf("Generate() has no person with %d attributes; want 0..3 keys represented", k)
		}
	}
}

func TestDiversity(t *testing.T) {
	people := demo.Generate(opts(29, 10000))
	family, given, cities, streets := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	accented := 0
	for _, p := range people {
		family[p.FamilyName] = true
		given[p.GivenName] = true
		cities[p.Country+" "+p.City] = true
		streets[p.Street] = true
		if strings.IndexFunc(p.GivenName+p.FamilyName, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
			accented++
		}
	}
	for _, tt := range []struct {
		what      string
		got, want int
	}{
		{"distinct family names", len(family), 300},
		{"distinct given names", len(given), 300},
		{"distinct cities", len(cities), 100},
		{"distinct streets", len(streets), 5000},
		{"people with accented names", accented, 1000},
	} {
		if tt.got < tt.want {
			t.Errorf("Generate(10000) %s = %d; want at least %d", tt.what, tt.got, tt.want)
		}
	}
}

func TestStreamMatchesGenerate(t *testing.T) {
	o := opts(31, 3000)
	want := demo.Generate(o)
	var got []demo.Person
	err := demo.Stream(o, func(i int, p demo.Person) error {
		if i != len(got) {
			t.Fatalf("Stream() index = %d; want %d", i, len(got))
		}
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatalf("Stream() = %v; want nil", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stream() people differ from Generate(); want equal")
	}
}

func TestStreamStopsOnError(t *testing.T) {
	errStop := errors.New("stop")
	for _, stopAt := range []int{0, 5, 999} {
		calls := 0
		err := demo.Stream(opts(37, 1000), func(i int, _ demo.Person) error {
			calls++
			if i == stopAt {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) {
			t.Errorf("Stream(stop at %d) = %v; want %v", stopAt, err, errStop)
		}
		if calls != stopAt+1 {
			t.Errorf("Stream(stop at %d) called fn %d times; want %d", stopAt, calls, stopAt+1)
		}
	}
}

func TestStreamEmpty(t *testing.T) {
	err := demo.Stream(opts(1, 0), func(int, demo.Person) error {
		t.Errorf("Stream(Count: 0) called fn; want no call")
		return nil
	})
	if err != nil {
		t.Errorf("Stream(Count: 0) = %v; want nil", err)
	}
}

func BenchmarkGenerate10k(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		people := demo.Generate(opts(uint64(i), 10000))
		if len(people) != 10000 {
			b.Fatalf("len(Generate()) = %d; want 10000", len(people))
		}
	}
}
