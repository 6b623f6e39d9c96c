package proof

// readme is README.md of every proof file, in French then English: what the file holds and
// how to check it offline, precisely enough for an independent implementation.
const readme = `# Preuves de conformité Fidelis / Fidelis accountability proof

*Français ci-dessous, English further down.*

## Français

Ce fichier est un export de preuves (RGPD art. 5(2) et 30) produit par Fidelis. Il ne contient
aucune donnée personnelle en clair : les clients n'y figurent que par leur identifiant
pseudonyme (` + "`cus_…`" + `), le personnel par le sien (` + "`user:usr_…`" + `, ` + "`token:…`" + `, ` + "`system:…`" + `).

### Contenu

| fichier | contenu |
|---|---|
| ` + "`manifest.json`" + ` | date de génération, auteur, version de Fidelis, date de début éventuelle, nombres d'éléments, dernier point de contrôle (taille, racine), SHA-256 et taille de chaque autre fichier |
| ` + "`audit/entries.jsonl`" + ` | le journal d'audit, une entrée par ligne, dans l'ordre des feuilles : identifiants, acteur, action, sujet, finalité, noms des champs (jamais leurs valeurs), résultat, motif, heure, code d'authentification (MAC), index et hachage de feuille |
| ` + "`audit/checkpoints.jsonl`" + ` | tous les points de contrôle signés (taille de l'arbre, racine, heure, identifiant de clé, signature Ed25519) |
| ` + "`audit/checkpoint.txt`" + ` | le dernier point de contrôle sous forme de note signée, à archiver ailleurs (` + "`fidelis audit verify --against`" + `) |
| ` + "`audit/public-key.pem`" + ` | la clé publique Ed25519 qui vérifie les signatures |
| ` + "`audit/start.json`" + ` | (export avec date de début) le point de contrôle d'où reprennent les entrées, avec la frontière de l'arbre à cette taille |
| ` + "`consent/notices.jsonl`" + `, ` + "`.csv`" + ` | toutes les versions des textes de consentement (français, anglais) avec leur SHA-256 |
| ` + "`consent/records.jsonl`" + `, ` + "`.csv`" + ` | tous les enregistrements du registre des consentements : client (pseudonyme), finalité, canal, décision, version et hachage du texte présenté, méthode, référence, dates de recueil et d'enregistrement, auteur |
| ` + "`register/register-fr.*`" + `, ` + "`register-en.*`" + ` | le registre des activités de traitement (art. 30) en JSON, Markdown et HTML, en français et en anglais |

Avec une date de début, les entrées d'audit et les consentements ne couvrent que la période à
partir de cette date (les entrées reprennent au dernier point de contrôle signé avant elle, pour
que la chaîne reste vérifiable) ; les points de contrôle, les textes et le registre sont complets.

### Vérifier

- Tout d'un coup, hors ligne, sans base de données : ` + "`fidelis proof verify FICHIER.zip`" + `
  (avec ` + "`--key CLE.pem`" + ` pour imposer une clé publique obtenue par un autre canal). La
  commande recalcule chaque feuille et chaque racine, vérifie chaque signature, les empreintes du
  manifeste, les hachages des textes de consentement et du registre ; elle s'arrête en erreur en
  nommant le premier problème.
- À la main : chaque fichier a le SHA-256 indiqué dans le manifeste (` + "`sha256sum`" + `) ; le
  format exact des feuilles et des points de contrôle est décrit ci-dessous (partie anglaise,
  qui fait foi pour les détails techniques).

Le code d'authentification (HMAC-SHA-256) de chaque entrée utilise une clé secrète de
l'installation : il ne peut pas être vérifié avec ce seul fichier, mais il fait partie de la
feuille, donc de l'arbre signé. Sur l'installation, ` + "`fidelis audit verify`" + ` le vérifie.

## English

This file is an accountability export (GDPR art. 5(2) and 30) made by Fidelis. It holds no
personal value: customers appear only by their pseudonymous ID (` + "`cus_…`" + `), staff by
theirs. See the table above for the files; with a start date, audit entries and consent
records cover that period only (the entries resume at the last signed checkpoint before it,
so that the chain stays verifiable); checkpoints, notices and the register are always whole.

### Check everything

` + "`fidelis proof verify FILE.zip [--key KEY.pem]`" + ` checks the file offline, without a
database: the manifest hashes, every leaf and Merkle root, every checkpoint signature, the
consent notice hashes and the register content hashes. It exits non-zero naming the first
problem. Pass ` + "`--key`" + ` with the public key you obtained separately: the key inside the
file proves only that the file is consistent with itself.

### Audit entries (` + "`audit/entries.jsonl`" + `)

Each line is a JSON object: ` + "`id`" + ` (storage ID), ` + "`uid`, `at`, `actor`, `action`, `subject`, `purpose`, `fields`, `outcome`, `reason`, `request_id`" + `,
` + "`mac`" + ` (standard base64), ` + "`leaf_index`" + `, ` + "`leaf_hash`" + ` (hex).

- The **content** of an entry is the compact JSON array
  ` + "`[\"fidelis-audit/v1\", uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id]`" + `
  (` + "`at`" + ` exactly as in the line, ` + "`fields`" + ` an array of strings).
- The **leaf data** of the entry at index *i* is the compact JSON array
  ` + "`[i, content, mac]`" + ` where content is embedded as is and mac is the standard base64
  string. JSON is written without spaces; ` + "`<`, `>`, `&`" + ` would be escaped as ` + "`\\u003c`, `\\u003e`, `\\u0026`" + `
  (the values are IDs and codes, which do not contain them).
- The **leaf hash** is SHA-256(0x00 ‖ leaf data) and interior nodes are
  SHA-256(0x01 ‖ left ‖ right): the Merkle tree of RFC 6962 §2.1 (split at the largest power
  of two smaller than the size). The root of the tree of the first *n* leaves must equal the
  root of the checkpoint of size *n*.

The MAC is HMAC-SHA-256 of the content under a secret key of the installation: it cannot be
checked from this file, but it is part of the leaf, hence of the signed tree.

### Checkpoints (` + "`audit/checkpoints.jsonl`" + `, ` + "`audit/checkpoint.txt`" + `)

Each line: ` + "`size`, `root`" + ` (hex), ` + "`time`, `key_id`, `signature`" + ` (standard base64). The signed
statement is the text of four lines, each ending in a line feed:

    fidelis-audit/v1
    <size in decimal>
    <root in standard base64>
    <time, RFC 3339 UTC with exactly six fractional digits, as in the line>

and ` + "`signature`" + ` is its Ed25519 signature under the key of ` + "`audit/public-key.pem`" + `
(PKIX, as OpenSSL reads it). ` + "`key_id`" + ` is the first 8 bytes, in hex, of SHA-256 of the raw
32-byte public key. ` + "`audit/checkpoint.txt`" + ` is the latest checkpoint as a signed note (the
statement, a blank line, then ` + "`— <key id> <signature>`" + `).

### Start point (` + "`audit/start.json`" + `, exports with a start date)

` + "`size`, `root`" + ` and ` + "`frontier`" + `: the roots of the perfect subtrees of the tree at that size
(one per set bit of the size, largest first). Folding them from the right,
root = SHA-256(0x01 ‖ f[k-1] ‖ root), must give the signed root at that size; the following
leaves are appended to that frontier to recompute every later checkpoint.

### Consent proofs (` + "`consent/`" + `)

A notice's ` + "`hash`" + ` is SHA-256, in hex, of the concatenation of ` + "`<length>:<part>\\n`" + ` for the
parts ` + "`fidelis-consent-notice/v1`" + `, the purpose, the version (decimal), the French text and the
English text (lengths in bytes, decimal). Each consent record names the notice version and
hash the customer was shown. In the CSV files a cell that would start a spreadsheet formula
is prefixed with an apostrophe; the JSON lines hold the exact values.

### Register of processing (` + "`register/`" + `)

Each JSON document carries ` + "`content_hash`" + `: SHA-256 of the document's compact JSON with that
member empty; the Markdown and HTML renderings of the same language end with the same hash.
`
