package demo

// namePool is a set of names of one language.
type namePool struct {
	male, female, family []string
	doubleFamilyPct      int  // percentage of people with two family names (Spanish, Portuguese)
	slavic               bool // feminine family names: -ki becomes -ka
}

type weightedPool struct {
	pool   *namePool
	weight int
}

// city is a real city with some of its real postal codes (or their
// numeric part, see postalStyle).
type city struct {
	name   string
	weight int
	postal []string
}

type streetStyle int

const (
	streetFR   streetStyle = iota // 12 rue des Lilas
	streetLU                      // 12, rue de la Gare
	streetBEfr                    // Rue de la Loi 16
	streetCHfr                    // Chemin des Vignes 4
	streetDE                      // Hauptstraße 5
	streetCHde                    // Bahnhofstrasse 5
	streetNL                      // Kerkstraat 12
	streetES                      // Calle Mayor, 12, 2º A
	streetIT                      // Via Roma 12
	streetPT                      // Rua Augusta, 12, 2.º Esq.
	streetPL                      // ul. Długa 12/4
)

type postalStyle int

const (
	postalPlain postalStyle = iota // the code as listed
	postalNL                       // "1012" + " AB"
	postalPT                       // "1100" + "-123"
)

// region is a country, or a language area of a country, with its own
// names, cities, address and phone conventions.
type region struct {
	country        string
	weight         int // per mille of customers
	locale         string
	otherLocalePct int // percentage of customers preferring the other locale
	pools          []weightedPool
	poolTotal      int
	cities         []city
	cityTotal      int
	street         streetStyle
	postal         postalStyle
	phonePrefixes  []string
	phonePattern   string // '#' is a random digit
	domains        []string
	stores         []string
}

// domainsFor returns e-mail domains for a country code. Only names under
// example.com, example.net and example.org (reserved by RFC 2606) and the
// .test TLD (RFC 6761) are used, so no generated address can ever reach a
// real mailbox. Repeated entries weight the draw.
func domainsFor(cc string) []string {
	return []string{
		"example.com", "example.com", "example.net", "example.org",
		cc + ".example.com", cc + ".example.com", cc + ".example.net",
		"demo.fidelis.test",
	}
}

// buildRegions returns the region table. It is built per call so that the
// package holds no mutable global state.
func buildRegions() []region {
	fr := &namePool{male: frMale, female: frFemale, family: frFamily}
	de := &namePool{male: deMale, female: deFemale, family: deFamily}
	lu := &namePool{male: luMale, female: luFemale, family: luFamily}
	es := &namePool{male: esMale, female: esFemale, family: esFamily, doubleFamilyPct: 70}
	it := &namePool{male: itMale, female: itFemale, family: itFamily}
	nl := &namePool{male: nlMale, female: nlFemale, family: nlFamily}
	vl := &namePool{male: vlMale, female: vlFemale, family: vlFamily}
	pt := &namePool{male: ptMale, female: ptFemale, family: ptFamily, doubleFamilyPct: 55}
	pl := &namePool{male: plMale, female: plFemale, family: plFamily, slavic: true}

	chFrCities := []city{
		{"Genève", 20, []string{"1201", "1202", "1203", "1204", "1205", "1206", "1207", "1208"}},
		{"Lausanne", 14, []string{"1003", "1004", "1005", "1006", "1007", "1018"}},
		{"Neuchâtel", 4, []string{"2000"}},
		{"Fribourg", 4, []string{"1700"}},
		{"Sion", 3, []string{"1950"}},
		{"Montreux", 3, []string{"1820"}},
		{"Nyon", 2, []string{"1260"}},
		{"Yverdon-les-Bains", 3, []string{"1400"}},
		{"La Chaux-de-Fonds", 4, []string{"2300"}},
	}
	chDeCities := []city{
		{"Zürich", 40, []string{"8001", "8002", "8003", "8004", "8005", "8006", "8008", "8032", "8037", "8045", "8050"}},
		{"Basel", 17, []string{"4051", "4052", "4053", "4056", "4057"}},
		{"Bern", 13, []string{"3005", "3007", "3011", "3012", "3013"}},
		{"Luzern", 8, []string{"6003", "6004", "6005"}},
		{"Winterthur", 11, []string{"8400", "8404", "8406"}},
		{"St. Gallen", 7, []string{"9000", "9008"}},
	}

	regions := []region{
		{
			country: "FR", weight: 690, locale: "fr", otherLocalePct: 2,
			pools:  []weightedPool{{fr, 88}, {pt, 4}, {it, 3}, {es, 3}, {pl, 2}},
			street: streetFR, postal: postalPlain,
			cities: []city{
				{"Paris", 210, []string{
					"75001", "75002", "75003", "75004", "75005", "75006", "75007", "75008", "75009", "75010",
					"75011", "75012", "75013", "75014", "75015", "75016", "75017", "75018", "75019", "75020",
				}},
				{"Marseille", 87, []string{
					"13001", "13002", "13003", "13004", "13005", "13006", "13007", "13008",
					"13009", "13010", "13011", "13012", "13013", "13014", "13015", "13016",
				}},
				{"Lyon", 52, []string{"69001", "69002", "69003", "69004", "69005", "69006", "69007", "69008", "69009"}},
				{"Toulouse", 50, []string{"31000", "31100", "31200", "31300", "31400", "31500"}},
				{"Nice", 34, []string{"06000", "06100", "06200", "06300"}},
				{"Nantes", 32, []string{"44000", "44100", "44200", "44300"}},
				{"Montpellier", 30, []string{"34000", "34070", "34080", "34090"}},
				{"Strasbourg", 29, []string{"67000", "67100", "67200"}},
				{"Bordeaux", 26, []string{"33000", "33100", "33200", "33300", "33800"}},
				{"Lille", 23, []string{"59000", "59160", "59260", "59800"}},
				{"Rennes", 22, []string{"35000", "35200", "35700"}},
				{"Reims", 18, []string{"51100"}},
				{"Toulon", 18, []string{"83000", "83100", "83200"}},
				{"Saint-Étienne", 17, []string{"42000", "42100"}},
				{"Le Havre", 17, []string{"76600", "76610", "76620"}},
				{"Grenoble", 16, []string{"38000", "38100"}},
				{"Dijon", 16, []string{"21000"}},
				{"Angers", 16, []string{"49000", "49100"}},
				{"Villeurbanne", 15, []string{"69100"}},
				{"Nîmes", 15, []string{"30000", "30900"}},
				{"Clermont-Ferrand", 15, []string{"63000", "63100"}},
				{"Aix-en-Provence", 14, []string{"13090", "13100"}},
				{"Le Mans", 14, []string{"72000", "72100"}},
				{"Brest", 14, []string{"29200"}},
				{"Tours", 14, []string{"37000", "37100", "37200"}},
				{"Amiens", 13, []string{"80000", "80080", "80090"}},
				{"Limoges", 13, []string{"87000", "87100", "87280"}},
				{"Annecy", 13, []string{"74000", "74370", "74940"}},
				{"Perpignan", 12, []string{"66000", "66100"}},
				{"Metz", 12, []string{"57000", "57050", "57070"}},
				{"Besançon", 12, []string{"25000"}},
				{"Orléans", 12, []string{"45000", "45100"}},
				{"Rouen", 11, []string{"76000", "76100"}},
				{"Caen", 11, []string{"14000"}},
				{"Nancy", 10, []string{"54000", "54100"}},
				{"Avignon", 9, []string{"84000"}},
				{"Poitiers", 9, []string{"86000"}},
				{"La Rochelle", 8, []string{"17000"}},
				{"Pau", 8, []string{"64000"}},
				{"Colmar", 7, []string{"68000"}},
				{"Ajaccio", 7, []string{"20000", "20090"}},
				{"Chambéry", 6, []string{"73000"}},
				{"Quimper", 6, []string{"29000"}},
				{"Troyes", 6, []string{"10000"}},
				{"Valence", 6, []string{"26000"}},
				{"Bayonne", 5, []string{"64100"}},
				{"Saint-Malo", 5, []string{"35400"}},
				{"Vannes", 5, []string{"56000"}},
				{"Lorient", 5, []string{"56100"}},
				{"Arles", 5, []string{"13200"}},
			},
			phonePrefixes: []string{"06 ", "06 ", "06 ", "07 "},
			phonePattern:  "## ## ## ##",
			domains:       domainsFor("fr"),
			stores:        frStores,
		},
		{
			country: "BE", weight: 45, locale: "fr", otherLocalePct: 3,
			pools:  []weightedPool{{fr, 85}, {it, 8}, {vl, 7}},
			street: streetBEfr, postal: postalPlain,
			cities: []city{
				{"Bruxelles", 18, []string{"1000", "1020", "1030", "1040", "1050", "1060", "1070", "1080", "1180", "1190"}},
				{"Liège", 20, []string{"4000", "4020", "4030"}},
				{"Charleroi", 20, []string{"6000", "6001", "6010", "6020"}},
				{"Namur", 11, []string{"5000", "5001", "5002"}},
				{"Mons", 10, []string{"7000"}},
				{"Tournai", 7, []string{"7500"}},
				{"Wavre", 3, []string{"1300"}},
				{"Louvain-la-Neuve", 3, []string{"1348"}},
				{"Waterloo", 3, []string{"1410"}},
				{"Arlon", 3, []string{"6700"}},
				{"Verviers", 5, []string{"4800"}},
			},
			phonePrefixes: []string{"+32 47", "+32 48", "+32 49"},
			phonePattern:  "# ## ## ##",
			domains:       domainsFor("be"),
			stores:        beStores,
		},
		{
			// Flemish customers: the platform only offers fr and en, and
			// many Flemish customers would rather not get French.
			country: "BE", weight: 35, locale: "en", otherLocalePct: 40,
			pools:  []weightedPool{{vl, 92}, {nl, 3}, {fr, 5}},
			street: streetNL, postal: postalPlain,
			cities: []city{
				{"Antwerpen", 53, []string{"2000", "2018", "2060", "2100", "2140"}},
				{"Gent", 26, []string{"9000", "9030", "9040", "9050"}},
				{"Brugge", 12, []string{"8000", "8200", "8310"}},
				{"Leuven", 10, []string{"3000", "3001", "3010"}},
				{"Mechelen", 9, []string{"2800"}},
				{"Hasselt", 8, []string{"3500"}},
				{"Kortrijk", 8, []string{"8500"}},
				{"Oostende", 7, []string{"8400"}},
				{"Aalst", 9, []string{"9300"}},
				{"Sint-Niklaas", 8, []string{"9100"}},
			},
			phonePrefixes: []string{"+32 47", "+32 48", "+32 49"},
			phonePattern:  "# ## ## ##",
			domains:       domainsFor("be"),
			stores:        beStores,
		},
		{
			country: "DE", weight: 60, locale: "en", otherLocalePct: 5,
			pools:  []weightedPool{{de, 88}, {pl, 8}, {it, 4}},
			street: streetDE, postal: postalPlain,
			cities: []city{
				{"Berlin", 37, []string{"10115", "10117", "10178", "10243", "10405", "10435", "10557", "10623", "10707", "10961", "12043", "12435", "13353", "14050"}},
				{"Hamburg", 18, []string{"20095", "20144", "20249", "20354", "22041", "22765"}},
				{"München", 15, []string{"80331", "80333", "80469", "80636", "80801", "81369", "81541"}},
				{"Köln", 11, []string{"50667", "50672", "50733", "50823", "51103"}},
				{"Frankfurt am Main", 8, []string{"60311", "60313", "60318", "60486", "60594"}},
				{"Stuttgart", 6, []string{"70173", "70176", "70182"}},
				{"Düsseldorf", 6, []string{"40210", "40212", "40477"}},
				{"Leipzig", 6, []string{"04103", "04109", "04275"}},
				{"Dortmund", 6, []string{"44135", "44137"}},
				{"Essen", 6, []string{"45127", "45128"}},
				{"Bremen", 6, []string{"28195", "28203"}},
				{"Dresden", 6, []string{"01067", "01069", "01099"}},
				{"Hannover", 5, []string{"30159", "30161"}},
				{"Nürnberg", 5, []string{"90402", "90403", "90429"}},
				{"Freiburg im Breisgau", 2, []string{"79098", "79102"}},
				{"Münster", 3, []string{"48143", "48149"}},
			},
			phonePrefixes: []string{
				"+49 151 ", "+49 152 ", "+49 157 ", "+49 160 ", "+49 162 ", "+49 163 ", "+49 170 ", "+49 171 ",
				"+49 172 ", "+49 173 ", "+49 174 ", "+49 175 ", "+49 176 ", "+49 177 ", "+49 178 ", "+49 179 ",
			},
			phonePattern: "########",
			domains:      domainsFor("de"),
			stores:       deStores,
		},
		{
			country: "ES", weight: 40, locale: "en", otherLocalePct: 5,
			pools:  []weightedPool{{es, 95}, {pt, 5}},
			street: streetES, postal: postalPlain,
			cities: []city{
				{"Madrid", 33, []string{"28001", "28004", "28010", "28013", "28014", "28028", "28045"}},
				{"Barcelona", 16, []string{"08001", "08002", "08007", "08010", "08013", "08021", "08036"}},
				{"Valencia", 8, []string{"46001", "46002", "46010"}},
				{"Sevilla", 7, []string{"41001", "41003", "41004"}},
				{"Zaragoza", 7, []string{"50001", "50004"}},
				{"Málaga", 6, []string{"29001", "29005"}},
				{"Murcia", 5, []string{"30001"}},
				{"Palma", 4, []string{"07001", "07003"}},
				{"Bilbao", 3, []string{"48001", "48005"}},
				{"Alicante", 3, []string{"03001", "03002"}},
				{"Valladolid", 3, []string{"47001"}},
				{"Granada", 2, []string{"18001", "18009"}},
				{"A Coruña", 2, []string{"15001", "15003"}},
				{"San Sebastián", 2, []string{"20001", "20004"}},
			},
			phonePrefixes: []string{"+34 6", "+34 6", "+34 6", "+34 7"},
			phonePattern:  "## ### ###",
			domains:       domainsFor("es"),
			stores:        esStores,
		},
		{
			country: "IT", weight: 40, locale: "en", otherLocalePct: 5,
			pools:  []weightedPool{{it, 100}},
			street: streetIT, postal: postalPlain,
			cities: []city{
				{"Roma", 28, []string{"00184", "00185", "00186", "00187", "00192", "00197"}},
				{"Milano", 14, []string{"20121", "20122", "20123", "20124", "20135", "20144"}},
				{"Napoli", 9, []string{"80121", "80132", "80138"}},
				{"Torino", 9, []string{"10121", "10122", "10128"}},
				{"Palermo", 6, []string{"90133", "90141"}},
				{"Genova", 6, []string{"16121", "16123"}},
				{"Bologna", 4, []string{"40121", "40123", "40126"}},
				{"Firenze", 4, []string{"50122", "50123", "50129"}},
				{"Bari", 3, []string{"70121", "70122"}},
				{"Venezia", 3, []string{"30121", "30124"}},
				{"Verona", 3, []string{"37121", "37122"}},
				{"Padova", 2, []string{"35121", "35122"}},
			},
			phonePrefixes: []string{"+39 3"},
			phonePattern:  "## ### ####",
			domains:       domainsFor("it"),
			stores:        itStores,
		},
		{
			country: "NL", weight: 30, locale: "en", otherLocalePct: 3,
			pools:  []weightedPool{{nl, 95}, {de, 5}},
			street: streetNL, postal: postalNL,
			cities: []city{
				{"Amsterdam", 9, []string{"1012", "1015", "1016", "1017", "1052", "1071", "1072", "1091", "1093"}},
				{"Rotterdam", 6, []string{"3011", "3012", "3014", "3021", "3032"}},
				{"Den Haag", 5, []string{"2511", "2512", "2514", "2517", "2585"}},
				{"Utrecht", 4, []string{"3511", "3512", "3521", "3581"}},
				{"Eindhoven", 2, []string{"5611", "5612", "5615"}},
				{"Groningen", 2, []string{"9711", "9712", "9718"}},
				{"Tilburg", 2, []string{"5038", "5041"}},
				{"Almere", 2, []string{"1315", "1325"}},
				{"Breda", 2, []string{"4811", "4818"}},
				{"Nijmegen", 2, []string{"6511", "6521"}},
				{"Haarlem", 2, []string{"2011", "2012"}},
				{"Leiden", 1, []string{"2311", "2312"}},
				{"Maastricht", 1, []string{"6211", "6221"}},
			},
			phonePrefixes: []string{"+31 6 "},
			phonePattern:  "########",
			domains:       domainsFor("nl"),
			stores:        nlStores,
		},
		{
			country: "PT", weight: 20, locale: "en", otherLocalePct: 10,
			pools:  []weightedPool{{pt, 100}},
			street: streetPT, postal: postalPT,
			cities: []city{
				{"Lisboa", 10, []string{"1000", "1050", "1100", "1150", "1200", "1250", "1600", "1700"}},
				{"Porto", 5, []string{"4000", "4050", "4100", "4150", "4200", "4250"}},
				{"Braga", 2, []string{"4700", "4710"}},
				{"Coimbra", 2, []string{"3000", "3030"}},
				{"Setúbal", 1, []string{"2900", "2910"}},
				{"Aveiro", 1, []string{"3800", "3810"}},
				{"Faro", 1, []string{"8000", "8005"}},
				{"Funchal", 1, []string{"9000", "9050"}},
				{"Évora", 1, []string{"7000", "7005"}},
			},
			phonePrefixes: []string{"+351 91", "+351 92", "+351 93", "+351 96"},
			phonePattern:  "# ### ###",
			domains:       domainsFor("pt"),
			stores:        ptStores,
		},
		{
			country: "LU", weight: 15, locale: "fr", otherLocalePct: 15,
			pools:  []weightedPool{{lu, 45}, {fr, 25}, {pt, 25}, {it, 5}},
			street: streetLU, postal: postalPlain,
			cities: []city{
				{"Luxembourg", 12, []string{"1111", "1212", "1331", "1450", "1616", "1724", "2143", "2340", "2529"}},
				{"Esch-sur-Alzette", 4, []string{"4011", "4170", "4240"}},
				{"Differdange", 2, []string{"4510", "4560"}},
				{"Dudelange", 2, []string{"3440", "3462"}},
				{"Ettelbruck", 1, []string{"9010", "9080"}},
				{"Diekirch", 1, []string{"9233"}},
				{"Strassen", 1, []string{"8010", "8041"}},
				{"Mersch", 1, []string{"7520"}},
			},
			phonePrefixes: []string{"+352 621 ", "+352 628 ", "+352 661 ", "+352 671 ", "+352 691 "},
			phonePattern:  "### ###",
			domains:       domainsFor("lu"),
			stores:        luStores,
		},
		{
			country: "CH", weight: 10, locale: "fr", otherLocalePct: 5,
			pools:  []weightedPool{{fr, 85}, {it, 10}, {pt, 5}},
			street: streetCHfr, postal: postalPlain,
			cities:        chFrCities,
			phonePrefixes: []string{"+41 76 ", "+41 77 ", "+41 78 ", "+41 79 "},
			phonePattern:  "### ## ##",
			domains:       domainsFor("ch"),
			stores:        chStores,
		},
		{
			country: "CH", weight: 5, locale: "en", otherLocalePct: 10,
			pools:  []weightedPool{{de, 85}, {it, 15}},
			street: streetCHde, postal: postalPlain,
			cities:        chDeCities,
			phonePrefixes: []string{"+41 76 ", "+41 77 ", "+41 78 ", "+41 79 "},
			phonePattern:  "### ## ##",
			domains:       domainsFor("ch"),
			stores:        chStores,
		},
		{
			country: "PL", weight: 10, locale: "en", otherLocalePct: 3,
			pools:  []weightedPool{{pl, 100}},
			street: streetPL, postal: postalPlain,
			cities: []city{
				{"Warszawa", 18, []string{"00-001", "00-120", "00-510", "00-695", "01-234", "02-495", "02-786", "03-901", "04-028"}},
				{"Kraków", 8, []string{"30-001", "30-059", "31-001", "31-131", "31-542"}},
				{"Łódź", 7, []string{"90-001", "90-418", "91-065", "93-005"}},
				{"Wrocław", 6, []string{"50-001", "50-077", "51-111", "53-015"}},
				{"Poznań", 5, []string{"60-001", "60-101", "61-001", "61-888"}},
				{"Gdańsk", 5, []string{"80-001", "80-245", "80-831"}},
				{"Szczecin", 4, []string{"70-001", "70-383"}},
				{"Lublin", 3, []string{"20-001", "20-400"}},
				{"Katowice", 3, []string{"40-001", "40-101"}},
			},
			phonePrefixes: []string{"+48 5", "+48 6", "+48 7"},
			phonePattern:  "## ### ###",
			domains:       domainsFor("pl"),
			stores:        plStores,
		},
	}
	for i := range regions {
		reg := &regions[i]
		for _, p := range reg.pools {
			reg.poolTotal += p.weight
		}
		for _, c := range reg.cities {
			reg.cityTotal += c.weight
		}
	}
	return regions
}
