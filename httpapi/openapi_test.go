package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/privacy"
)

// docURL is the base URI the document is registered under, so that schemas can be compiled
// by JSON pointer ("openapi.json#/components/schemas/Customer").
const docURL = "https://fidelis.invalid/api/v1/openapi.json"

// apiDoc is the OpenAPI document with a JSON Schema 2020-12 compiler over it.
type apiDoc struct {
	root     map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
	paths    []pathTemplate
}

// pathTemplate is a documented path and the pattern that matches concrete paths.
type pathTemplate struct {
	template string
	re       *regexp.Regexp
	names    []string
	literal  bool
}

var templateParam = regexp.MustCompile(`\{([^}/]+)\}`)

// mustDoc parses and indexes the embedded document.
func mustDoc(t *testing.T) *apiDoc {
	t.Helper()
	raw := httpapi.OpenAPIDocument()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("openapi.json is a %T; want an object", v)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, v); err != nil {
		t.Fatalf("AddResource(openapi.json): %v", err)
	}
	d := &apiDoc{root: root, compiler: c, compiled: map[string]*jsonschema.Schema{}}
	paths, _ := root["paths"].(map[string]any)
	for _, tmpl := range slices.Sorted(maps.Keys(paths)) {
		var names []string
		expr := "^"
		last := 0
		for _, m := range templateParam.FindAllStringSubmatchIndex(tmpl, -1) {
			expr += regexp.QuoteMeta(tmpl[last:m[0]]) + "([^/]+)"
			names = append(names, tmpl[m[2]:m[3]])
			last = m[1]
		}
		expr += regexp.QuoteMeta(tmpl[last:]) + "$"
		d.paths = append(d.paths, pathTemplate{template: tmpl, re: regexp.MustCompile(expr), names: names, literal: len(names) == 0})
	}
	return d
}

// pointer escapes tokens into a JSON pointer.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/")
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// at returns the node at JSON pointer ptr ("" for the root).
func (d *apiDoc) at(ptr string) (any, error) {
	var node any = d.root
	if ptr == "" {
		return node, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("pointer %q does not start with /", ptr)
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("no index %q", tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("cannot descend into %T with %q", node, tok)
		}
	}
	return node, nil
}

// deref follows a chain of OpenAPI $ref objects (responses, parameters, headers) from ptr
// and returns the target object and its pointer.
func (d *apiDoc) deref(ptr string) (map[string]any, string, error) {
	for range 10 {
		n, err := d.at(ptr)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", ptr, err)
		}
		obj, ok := n.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%s is a %T; want an object", ptr, n)
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, ptr, nil
		}
		next, ok := strings.CutPrefix(ref, "#")
		if !ok {
			return nil, "", fmt.Errorf("%s: $ref %q is not local", ptr, ref)
		}
		ptr = next
	}
	return nil, "", fmt.Errorf("%s: $ref chain too long", ptr)
}

// schema compiles the schema at ptr (once).
func (d *apiDoc) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.compiled[ptr]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", ptr, err)
	}
	d.compiled[ptr] = s
	return s, nil
}

// operation finds the documented operation for method and a concrete path: a literal
// template wins over a templated one, as OpenAPI requires.
func (d *apiDoc) operation(method, path string) (key, opPtr string, params map[string]string, err error) {
	var match *pathTemplate
	var values []string
	for i := range d.paths {
		p := &d.paths[i]
		m := p.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		if match == nil || p.literal && !match.literal {
			match, values = p, m[1:]
		}
	}
	if match == nil {
		return "", "", nil, fmt.Errorf("no documented path matches %s", path)
	}
	opPtr = pointer("paths", match.template, strings.ToLower(method))
	if _, err := d.at(opPtr); err != nil {
		return "", "", nil, fmt.Errorf("path %s documents no %s operation", match.template, method)
	}
	params = map[string]string{}
	for i, n := range match.names {
		params[n], _ = url.PathUnescape(values[i])
	}
	return method + " " + match.template, opPtr, params, nil
}

// operations lists every documented operation as "METHOD /template".
func (d *apiDoc) operations() []string {
	var out []string
	for _, p := range d.paths {
		item, _ := d.root["paths"].(map[string]any)[p.template].(map[string]any)
		for _, m := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			if _, ok := item[m]; ok {
				out = append(out, strings.ToUpper(m)+" "+p.template)
			}
		}
	}
	return out
}

// parameters returns the operation's parameters (path-level ones included), dereferenced,
// with their pointers.
func (d *apiDoc) parameters(opPtr string) ([]map[string]any, []string, error) {
	var params []map[string]any
	var ptrs []string
	itemPtr := opPtr[:strings.LastIndex(opPtr, "/")]
	for _, base := range []string{itemPtr, opPtr} {
		n, err := d.at(base)
		if err != nil {
			return nil, nil, err
		}
		list, _ := n.(map[string]any)["parameters"].([]any)
		for i := range list {
			p, ptr, err := d.deref(base + pointer("parameters", strconv.Itoa(i)))
			if err != nil {
				return nil, nil, err
			}
			params = append(params, p)
			ptrs = append(ptrs, ptr)
		}
	}
	return params, ptrs, nil
}

// decodeJSON decodes b as the validator expects (numbers as json.Number).
func decodeJSON(b []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// validateResponse checks a response against the document: the status is documented (or
// covered by "default"), the media type is documented, the body validates against its
// schema and every required header is present and valid.
func (d *apiDoc) validateResponse(opPtr string, status int, header http.Header, body []byte) error {
	respPtr := opPtr + pointer("responses", strconv.Itoa(status))
	if _, err := d.at(respPtr); err != nil {
		respPtr = opPtr + pointer("responses", "default")
		if _, err := d.at(respPtr); err != nil {
			return fmt.Errorf("status %d is not documented", status)
		}
	}
	resp, respPtr, err := d.deref(respPtr)
	if err != nil {
		return err
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("status %d documents no body but got %d bytes", status, len(body))
		}
	} else {
		mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
		if err != nil {
			return fmt.Errorf("Content-Type %q: %v", header.Get("Content-Type"), err)
		}
		if _, ok := content[mt]; !ok {
			return fmt.Errorf("media type %s is not documented for status %d (documented: %v)", mt, status, slices.Sorted(maps.Keys(content)))
		}
		sch, err := d.schema(respPtr + pointer("content", mt, "schema"))
		if err != nil {
			return err
		}
		var v any = string(body)
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			if v, err = decodeJSON(body); err != nil {
				return fmt.Errorf("body is not JSON: %v", err)
			}
		}
		if err := sch.Validate(v); err != nil {
			return fmt.Errorf("body does not match the %s schema: %v\nbody: %s", mt, err, clip(body))
		}
	}
	hs, _ := resp["headers"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		h, hPtr, err := d.deref(respPtr + pointer("headers", name))
		if err != nil {
			return err
		}
		val := header.Get(name)
		if val == "" {
			if req, _ := h["required"].(bool); req {
				return fmt.Errorf("required header %s is missing", name)
			}
			continue
		}
		sch, err := d.schema(hPtr + "/schema")
		if err != nil {
			return err
		}
		if err := sch.Validate(val); err != nil {
			return fmt.Errorf("header %s: %q does not match its schema: %v", name, val, err)
		}
	}
	return nil
}

// validateRequest checks an accepted request against the document: every required
// parameter is present, every parameter and the body validate. A request the server
// accepted must be one the document accepts: the document may not be stricter than the
// handlers.
func (d *apiDoc) validateRequest(opPtr string, pathParams map[string]string, query url.Values, header http.Header, body []byte) error {
	params, ptrs, err := d.parameters(opPtr)
	if err != nil {
		return err
	}
	for i, p := range params {
		name, _ := p["name"].(string)
		var val string
		var present bool
		switch p["in"] {
		case "path":
			val, present = pathParams[name]
		case "query":
			present = query.Has(name)
			val = query.Get(name)
		case "header":
			val = header.Get(name)
			present = val != ""
		}
		if !present {
			if req, _ := p["required"].(bool); req {
				return fmt.Errorf("required %s parameter %s is missing", p["in"], name)
			}
			continue
		}
		schemaPtr := ptrs[i] + "/schema"
		s, err := d.schema(schemaPtr)
		if err != nil {
			return err
		}
		var v any = val
		if raw, _ := d.at(schemaPtr); raw != nil {
			if typ, _ := raw.(map[string]any)["type"].(string); typ == "integer" || typ == "number" {
				v = json.Number(val)
			}
		}
		if err := s.Validate(v); err != nil {
			return fmt.Errorf("%s parameter %s = %q does not match its schema: %v", p["in"], name, val, err)
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	rb, rbPtr, err := d.deref(opPtr + "/requestBody")
	if err != nil {
		return fmt.Errorf("a body was accepted but none is documented: %v", err)
	}
	if _, ok := rb["content"].(map[string]any)["application/json"]; !ok {
		return errors.New("a JSON body was accepted but application/json is not documented")
	}
	s, err := d.schema(rbPtr + pointer("content", "application/json", "schema"))
	if err != nil {
		return err
	}
	v, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("request body is not JSON: %v", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("accepted request body does not match the documented schema: %v\nbody: %s", err, clip(body))
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 800 {
		return string(b[:800]) + "…"
	}
	return string(b)
}

// walk calls fn for every JSON value in v with its pointer.
func walk(v any, ptr string, fn func(ptr string, v any)) {
	fn(ptr, v)
	switch n := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(n)) {
			walk(n[k], ptr+pointer(k), fn)
		}
	case []any:
		for i, e := range n {
			walk(e, ptr+pointer(strconv.Itoa(i)), fn)
		}
	}
}

// duplicateKeys reports members that appear twice in one object of a JSON text: parsers
// keep one silently, so the document would say something other than what it shows.
func duplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walkValue func(path string) error
	walkValue = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if seen[k] {
					return fmt.Errorf("member %q appears twice in %s", k, path)
				}
				seen[k] = true
				if err := walkValue(path + pointer(k)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walkValue(path + pointer(strconv.Itoa(i))); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	return walkValue("")
}

// TestOpenAPI_Document checks the document is well-formed OpenAPI 3.1: served as embedded,
// every reference resolves, every operation has responses, every schema compiles under
// JSON Schema 2020-12 and every example matches its schema.
func TestOpenAPI_Document(t *testing.T) {
	raw := httpapi.OpenAPIDocument()
	if err := duplicateKeys(raw); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	d := mustDoc(t)

	t.Run("served", func(t *testing.T) {
		a := fidelistest.MustApp(t, fidelistest.Backends(t)[0])
		base := fidelistest.MustServe(t, a)
		r := fidelistest.NewClient(t, base, "").Do("GET", "/api/v1/openapi.json", "", nil).MustStatus(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q; want application/json", ct)
		}
		if !bytes.Equal(r.Body, raw) {
			t.Errorf("GET /api/v1/openapi.json served %d bytes that differ from the embedded %d bytes", len(r.Body), len(raw))
		}
		if !json.Valid(r.Body) {
			t.Error("GET /api/v1/openapi.json is not valid JSON")
		}
	})

	t.Run("root", func(t *testing.T) {
		if got := d.root["openapi"]; got != "3.1.0" {
			t.Errorf("openapi = %v; want 3.1.0", got)
		}
		info, _ := d.root["info"].(map[string]any)
		for _, k := range []string{"title", "version", "description"} {
			if s, _ := info[k].(string); s == "" {
				t.Errorf("info.%s is empty", k)
			}
		}
		if _, ok := info["contact"]; ok {
			t.Error("info.contact is set; the document is contact-free")
		}
		desc, _ := info["description"].(string)
		for _, w := range []string{"GDPR", "French", "CNIL"} {
			if !strings.Contains(desc, w) {
				t.Errorf("info.description does not mention %q", w)
			}
		}
		servers, _ := d.root["servers"].([]any)
		if len(servers) != 1 || servers[0].(map[string]any)["url"] != "/" {
			t.Errorf("servers = %v; want [{url: /}]", servers)
		}
		bearer, err := d.at("/components/securitySchemes/bearerAuth")
		if b, _ := bearer.(map[string]any); err != nil || b["type"] != "http" || b["scheme"] != "bearer" {
			t.Errorf("components.securitySchemes.bearerAuth = %v (%v); want an HTTP bearer scheme", bearer, err)
		}
		// OpenAPI 3.1 §4.8.1: tag names are unique; operation IDs are unique in the document.
		tags := map[string]bool{}
		for _, tg := range d.root["tags"].([]any) {
			name, _ := tg.(map[string]any)["name"].(string)
			if tags[name] {
				t.Errorf("tag %q is declared twice", name)
			}
			tags[name] = true
		}
		ops := map[string]string{}
		walk(d.root["paths"], "/paths", func(ptr string, v any) {
			obj, ok := v.(map[string]any)
			if !ok {
				return
			}
			id, ok := obj["operationId"].(string)
			if !ok {
				return
			}
			if other, dup := ops[id]; dup {
				t.Errorf("operationId %q is used by %s and %s", id, other, ptr)
			}
			ops[id] = ptr
			opTags, _ := obj["tags"].([]any)
			for _, tg := range opTags {
				if name, _ := tg.(string); !tags[name] {
					t.Errorf("%s: tag %v is not declared", ptr, tg)
				}
			}
		})
		for k := range d.root {
			if !slices.Contains([]string{"openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags", "externalDocs"}, k) && !strings.HasPrefix(k, "x-") {
				t.Errorf("unknown top-level member %q", k)
			}
		}
	})

	t.Run("refs", func(t *testing.T) {
		walk(d.root, "", func(ptr string, v any) {
			obj, ok := v.(map[string]any)
			if !ok {
				return
			}
			ref, ok := obj["$ref"].(string)
			if !ok {
				return
			}
			target, ok := strings.CutPrefix(ref, "#")
			if !ok {
				t.Errorf("%s: $ref %q is not local", ptr, ref)
				return
			}
			if _, err := d.at(target); err != nil {
				t.Errorf("%s: $ref %q does not resolve: %v", ptr, ref, err)
			}
		})
	})

	t.Run("operations", func(t *testing.T) {
		ids := map[string]string{}
		for _, op := range d.operations() {
			method, tmpl, _ := strings.Cut(op, " ")
			opPtr := pointer("paths", tmpl, strings.ToLower(method))
			n, _ := d.at(opPtr)
			o := n.(map[string]any)
			id, _ := o["operationId"].(string)
			if id == "" {
				t.Errorf("%s has no operationId", op)
			} else if other, dup := ids[id]; dup {
				t.Errorf("%s and %s share operationId %q", op, other, id)
			}
			ids[id] = op
			for _, k := range []string{"summary", "description"} {
				if s, _ := o[k].(string); s == "" {
					t.Errorf("%s has no %s", op, k)
				}
			}
			resps, _ := o["responses"].(map[string]any)
			if len(resps) == 0 {
				t.Errorf("%s has no responses", op)
			}
			hasSuccess := false
			for _, code := range slices.Sorted(maps.Keys(resps)) {
				if strings.HasPrefix(code, "2") {
					hasSuccess = true
				}
				if _, err := strconv.Atoi(code); err != nil && code != "default" {
					t.Errorf("%s: response key %q is not a status code", op, code)
				}
				resp, respPtr, err := d.deref(opPtr + pointer("responses", code))
				if err != nil {
					t.Errorf("%s %s: %v", op, code, err)
					continue
				}
				if s, _ := resp["description"].(string); s == "" {
					t.Errorf("%s %s has no description", op, code)
				}
				content, _ := resp["content"].(map[string]any)
				for _, mt := range slices.Sorted(maps.Keys(content)) {
					if _, err := d.schema(respPtr + pointer("content", mt, "schema")); err != nil {
						t.Errorf("%s %s %s: %v", op, code, mt, err)
					}
				}
				if code >= "400" && code != "default" {
					if _, ok := content["application/problem+json"]; !ok {
						t.Errorf("%s %s is not documented as application/problem+json", op, code)
					}
				}
			}
			if !hasSuccess {
				t.Errorf("%s documents no 2xx response", op)
			}
			params, ptrs, err := d.parameters(opPtr)
			if err != nil {
				t.Errorf("%s: %v", op, err)
				continue
			}
			var pathParams []string
			hasPurpose := false
			for i, p := range params {
				if _, err := d.schema(ptrs[i] + "/schema"); err != nil {
					t.Errorf("%s parameter %v: %v", op, p["name"], err)
				}
				if p["in"] == "path" {
					pathParams = append(pathParams, p["name"].(string))
					if p["required"] != true {
						t.Errorf("%s: path parameter %v is not required", op, p["name"])
					}
				}
				if p["in"] == "header" && p["name"] == httpapi.PurposeHeader {
					hasPurpose = p["required"] == true
				}
			}
			var want []string
			for _, m := range templateParam.FindAllStringSubmatch(tmpl, -1) {
				want = append(want, m[1])
			}
			slices.Sort(pathParams)
			slices.Sort(want)
			if !slices.Equal(pathParams, want) {
				t.Errorf("%s declares path parameters %v; the template has %v", op, pathParams, want)
			}
			// P-1: every operation on customers names its purpose.
			if strings.HasPrefix(tmpl, "/api/v1/customers") && !hasPurpose {
				t.Errorf("%s does not require the %s header (P-1)", op, httpapi.PurposeHeader)
			}
			if rb, rbPtr, err := d.deref(opPtr + "/requestBody"); err == nil {
				content, _ := rb["content"].(map[string]any)
				if len(content) == 0 {
					t.Errorf("%s: requestBody has no content", op)
				}
				for _, mt := range slices.Sorted(maps.Keys(content)) {
					if _, err := d.schema(rbPtr + pointer("content", mt, "schema")); err != nil {
						t.Errorf("%s request %s: %v", op, mt, err)
					}
				}
			}
		}
	})

	t.Run("components", func(t *testing.T) {
		comps, _ := d.root["components"].(map[string]any)
		schemas, _ := comps["schemas"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(schemas)) {
			ptr := pointer("components", "schemas", name)
			s, err := d.schema(ptr)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			examples, _ := schemas[name].(map[string]any)["examples"].([]any)
			for i, ex := range examples {
				if err := s.Validate(ex); err != nil {
					t.Errorf("schema %s: examples[%d] does not validate: %v", name, i, err)
				}
			}
		}
		for _, kind := range []string{"parameters", "headers"} {
			group, _ := comps[kind].(map[string]any)
			for _, name := range slices.Sorted(maps.Keys(group)) {
				ptr := pointer("components", kind, name)
				s, err := d.schema(ptr + "/schema")
				if err != nil {
					t.Errorf("%s %s: %v", kind, name, err)
					continue
				}
				if ex, ok := group[name].(map[string]any)["example"]; ok {
					if err := s.Validate(ex); err != nil {
						t.Errorf("%s %s: example does not validate: %v", kind, name, err)
					}
				}
			}
		}
	})

	// The schemas are precise: each of these bodies breaks one documented rule and must be
	// refused (a schema that accepted everything would pass every conformance check).
	t.Run("refuses", func(t *testing.T) {
		const customer = `"id": "cus_06h0a1kn2vk7k81ma000a4gne8", "version": 1, "created_at": "2026-03-14T09:26:53.589793Z", "updated_at": "2026-03-14T09:26:53.589793Z"`
		for _, tt := range []struct{ schema, body string }{
			{"Customer", `{` + customer + `, "visible_fields": ["given_name", "email"], "given_name": "A"}`},                                  // visible field missing
			{"Customer", `{` + customer + `, "visible_fields": ["given_name"], "given_name": "A", "email": null}`},                            // P-2: invisible field present
			{"Customer", `{` + customer + `, "visible_fields": ["given_name"], "given_name": "A", "nickname": "B"}`},                          // unknown member
			{"Customer", `{` + customer + `, "visible_fields": ["country"], "country": "fr"}`},                                                // not canonical
			{"Customer", `{` + customer + `, "visible_fields": ["attributes"], "attributes": {"Tier": "gold"}}`},                              // attribute name
			{"Customer", `{"id": "42", "version": 1, "created_at": "x", "updated_at": "x", "visible_fields": []}`},                            // id and timestamps
			{"CustomerInput", `{"given_name": "A", "nickname": "B"}`},                                                                         // unknown member
			{"CustomerInput", `{"given_name": "` + strings.Repeat("a", 101) + `"}`},                                                           // too long
			{"CustomerInput", `{"city": "Paris"}`},                                                                                            // D-1: not identifiable
			{"CustomerInput", `{"given_name": "A", "country": "FRA"}`},                                                                        // country
			{"CustomerInput", `{"given_name": "A", "locale": "de"}`},                                                                          // locale
			{"CustomerInput", `{"given_name": "A", "birth_date": "01/04/1990"}`},                                                              // date
			{"CustomerInput", `{"given_name": "A", "attributes": {"1tier": "gold"}}`},                                                         // attribute name
			{"CustomerInput", `{"given_name": "A", "version": 2}`},                                                                            // version is for patches
			{"CustomerPatch", `{"version": 0}`},                                                                                               // version
			{"CustomerPatch", `{"given_name": 42}`},                                                                                           // type
			{"SearchQuery", `{}`},                                                                                                             // one of email, phone
			{"SearchQuery", `{"email": "a@b.fr", "phone": "+33612345678"}`},                                                                   // not both
			{"Problem", `{"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "", "code": "invalid"}`},                    // type
			{"Problem", `{"type": "urn:fidelis:problem:invalid", "title": "", "status": 400, "detail": "", "code": "oops"}`},                  // code
			{"Problem", `{"type": "urn:fidelis:problem:invalid", "title": "", "status": 400, "detail": "", "code": "invalid", "value": "x"}`}, // echo
			{"ErasureReceipt", `{"receipt_id": "era_06h0a1kn324wvcja1scmsh3qhm"}`},                                                            // required members
		} {
			s, err := d.schema(pointer("components", "schemas", tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			v, err := decodeJSON([]byte(tt.body))
			if err != nil {
				t.Fatalf("%s: %v", tt.body, err)
			}
			if err := s.Validate(v); err == nil {
				t.Errorf("schema %s accepts %s; want it refused", tt.schema, tt.body)
			}
		}
	})

	// The enums the document publishes must be the ones the code uses.
	t.Run("enums", func(t *testing.T) {
		strs := func(ptr string) []string {
			n, err := d.at(ptr)
			if err != nil {
				t.Errorf("%s: %v", ptr, err)
				return nil
			}
			var out []string
			for _, v := range n.([]any) {
				out = append(out, v.(string))
			}
			return out
		}
		var fields []string
		for _, f := range fidelis.CustomerFields() {
			fields = append(fields, string(f))
		}
		if got := strs("/components/schemas/Field/enum"); !slices.Equal(got, fields) {
			t.Errorf("Field enum = %v; want fidelis.CustomerFields() = %v", got, fields)
		}
		var purposes []string
		for _, p := range privacy.DefaultPurposes() {
			purposes = append(purposes, string(p.Name))
		}
		if got := strs("/components/schemas/PurposeName/enum"); !slices.Equal(got, purposes) {
			t.Errorf("PurposeName enum = %v; want the default purposes %v", got, purposes)
		}
		codes := []string{}
		for _, c := range []fidelis.Code{fidelis.EINVALID, fidelis.ENOTFOUND, fidelis.ECONFLICT, fidelis.EUNAUTHORIZED, fidelis.EFORBIDDEN,
			fidelis.ETOOLARGE, fidelis.EUNAVAILABLE, fidelis.EINTERNAL, fidelis.EUNSUPPORTED, fidelis.ETOOMANY, fidelis.EGONE, fidelis.EPRECONDITION, fidelis.EMETHOD} {
			codes = append(codes, string(c))
		}
		if got := strs("/components/schemas/Problem/properties/code/enum"); !slices.Equal(got, codes) {
			t.Errorf("Problem code enum = %v; want %v", got, codes)
		}
		n, _ := d.at("/components/parameters/Limit/schema/maximum")
		if fmt.Sprint(n) != "200" {
			t.Errorf("limit maximum = %v; want customer.MaxPageSize 200", n)
		}
	})
}

// conformance drives a server and checks every response against the document.
type conformance struct {
	t    *testing.T
	doc  *apiDoc
	seen map[string]map[string]bool // operation -> statuses observed
}

// call sends a request, requires status want, and validates the exchange against the
// document. body is sent as JSON (a string or []byte as is); header holds name/value pairs.
func (cf *conformance) call(c *fidelistest.Client, method, target string, purpose fidelis.Purpose, body any, want int, header ...string) *fidelistest.Response {
	cf.t.Helper()
	r := c.Do(method, target, purpose, body, header...)
	u, err := url.Parse(target)
	if err != nil {
		cf.t.Fatal(err)
	}
	key, opPtr, params, err := cf.doc.operation(method, u.Path)
	if err != nil {
		cf.t.Fatalf("%s %s: %v", method, target, err)
	}
	if r.Status != want {
		cf.t.Fatalf("%s (%s %s) = %d; want %d\nbody: %s", key, method, target, r.Status, want, clip(r.Body))
	}
	if cf.seen[key] == nil {
		cf.seen[key] = map[string]bool{}
	}
	cf.seen[key][strconv.Itoa(r.Status)] = true
	if err := cf.doc.validateResponse(opPtr, r.Status, r.Header, r.Body); err != nil {
		cf.t.Errorf("%s → %d (%s %s): %v", key, r.Status, method, target, err)
	}
	if r.Status < 300 {
		h := http.Header{}
		if purpose != "" {
			h.Set(httpapi.PurposeHeader, string(purpose))
		}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		var raw []byte
		switch b := body.(type) {
		case nil:
		case string:
			raw = []byte(b)
		case []byte:
			raw = b
		default:
			if raw, err = json.Marshal(b); err != nil {
				cf.t.Fatal(err)
			}
		}
		if err := cf.doc.validateRequest(opPtr, params, u.Query(), h, raw); err != nil {
			cf.t.Errorf("%s → %d (%s %s): the server accepted a request the document refuses: %v", key, r.Status, method, target, err)
		}
	}
	return r
}

// problemReason returns the problem's reason.
func problemReason(t *testing.T, r *fidelistest.Response) string {
	t.Helper()
	reason, _ := r.JSON(t)["reason"].(string)
	return reason
}

// deadDB is a database that does not answer.
type deadDB struct{}

func (deadDB) Ping(context.Context) error { return errors.New("connection refused") }

// TestOpenAPI_Conformance drives a real server through every documented operation,
// provoking each documented status, and validates every response against the schema the
// document declares for its operation, status and media type. It fails when an operation
// or a status is documented but never observed, so the document cannot drift from the
// handlers silently.
func TestOpenAPI_Conformance(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		d := mustDoc(t)
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		cf := &conformance{t: t, doc: d, seen: map[string]map[string]bool{}}
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
		sales := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSales))
		marketing := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleMarketing))
		support := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
		anon := fidelistest.NewClient(t, base, "")
		forged := fidelistest.NewClient(t, base, "tok_00000000000000000000000000.not-a-secret")
		const cs, dp = fidelis.PurposeCustomerService, fidelis.PurposeDataProtection
		huge := `{"given_name": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
		crossSite := []string{"Sec-Fetch-Site", "cross-site"}
		textPlain := []string{"Content-Type", "text/plain"}
		expectReason := func(r *fidelistest.Response, want string) {
			t.Helper()
			if got := problemReason(t, r); got != want {
				t.Errorf("problem reason = %q; want %q (body %s)", got, want, clip(r.Body))
			}
		}

		// System.
		cf.call(anon, "GET", "/healthz", "", nil, http.StatusOK)
		cf.call(anon, "GET", "/metrics", "", nil, http.StatusOK)
		doc := cf.call(anon, "GET", "/api/v1/openapi.json", "", nil, http.StatusOK)
		if !bytes.Equal(doc.Body, httpapi.OpenAPIDocument()) {
			t.Error("the served document differs from the embedded one")
		}
		cf.call(admin, "GET", "/api/v1/purposes", "", nil, http.StatusOK)
		expectReason(cf.call(anon, "GET", "/api/v1/purposes", "", nil, http.StatusUnauthorized), "no_token")
		expectReason(cf.call(forged, "GET", "/api/v1/purposes", "", nil, http.StatusUnauthorized), "bad_token")

		// Create.
		const customers = "/api/v1/customers"
		full := map[string]any{
			"given_name": "Camille", "family_name": "Martin", "email": "Camille.Martin@Example.fr", "phone": "06 12 34 56 78",
			"birth_date": "1990-04-01", "street": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "fr",
			"locale": "FR", "attributes": map[string]any{"tier": "gold", "dropped": nil},
		}
		created := cf.call(admin, "POST", customers, cs, full, http.StatusCreated).JSON(t)
		id, _ := created["id"].(string)
		other := cf.call(sales, "POST", customers, fidelis.PurposeSales, map[string]any{"email": "someone@example.com"}, http.StatusCreated).JSON(t)
		cf.call(admin, "POST", customers, cs, `{"given_name": "A", "given_name": "B"}`, http.StatusBadRequest)
		cf.call(admin, "POST", customers, cs, `{"given_name": "A"} []`, http.StatusBadRequest)
		cf.call(admin, "POST", customers, cs, `{"given_name": "A"}`, http.StatusUnsupportedMediaType, textPlain...)
		cf.call(admin, "POST", customers, cs, huge, http.StatusRequestEntityTooLarge)
		cf.call(admin, "POST", customers, cs, map[string]any{"nickname": "Cam"}, http.StatusUnprocessableEntity)
		cf.call(admin, "POST", customers, cs, map[string]any{"email": "not an address", "country": "France", "birth_date": "01/04/1990"}, http.StatusUnprocessableEntity)
		cf.call(admin, "POST", customers, cs, map[string]any{"city": "Paris"}, http.StatusUnprocessableEntity) // D-1: not identifiable
		expectReason(cf.call(admin, "POST", customers, "", map[string]any{"given_name": "A"}, http.StatusForbidden), "purpose_missing")
		expectReason(cf.call(admin, "POST", customers, "curiosity", map[string]any{"given_name": "A"}, http.StatusForbidden), "purpose_unknown")
		expectReason(cf.call(marketing, "POST", customers, cs, map[string]any{"given_name": "A"}, http.StatusForbidden), "purpose_not_granted")
		expectReason(cf.call(marketing, "POST", customers, fidelis.PurposeMarketingEmail, map[string]any{"given_name": "A"}, http.StatusForbidden), "action_not_covered")
		expectReason(cf.call(sales, "POST", customers, fidelis.PurposeSales, map[string]any{"given_name": "A", "birth_date": "1990-04-01"}, http.StatusForbidden), "field_not_allowed")
		cf.call(admin, "POST", customers, cs, map[string]any{"given_name": "A"}, http.StatusForbidden, crossSite...)
		cf.call(anon, "POST", customers, cs, map[string]any{"given_name": "A"}, http.StatusUnauthorized)

		// List.
		page := cf.call(admin, "GET", customers+"?limit=1", cs, nil, http.StatusOK).JSON(t)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			t.Fatalf("GET %s?limit=1 with 2 customers: next_cursor = %v; want a cursor", customers, page["next_cursor"])
		}
		cf.call(admin, "GET", customers+"?limit=1&cursor="+url.QueryEscape(next), cs, nil, http.StatusOK)
		cf.call(admin, "GET", customers, cs, nil, http.StatusOK)
		cf.call(admin, "GET", customers+"?limit=0", cs, nil, http.StatusUnprocessableEntity)
		cf.call(admin, "GET", customers+"?limit=201", cs, nil, http.StatusUnprocessableEntity)
		cf.call(admin, "GET", customers+"?cursor=42", cs, nil, http.StatusUnprocessableEntity)
		cf.call(support, "GET", customers, fidelis.PurposeAnalytics, nil, http.StatusForbidden)
		cf.call(marketing, "GET", customers, fidelis.PurposeMarketingSMS, nil, http.StatusOK)
		cf.call(marketing, "GET", customers, fidelis.PurposeAnalytics, nil, http.StatusOK)
		cf.call(forged, "GET", customers, cs, nil, http.StatusUnauthorized)

		// Search.
		const search = "/api/v1/customers/search"
		cf.call(admin, "POST", search, cs, map[string]any{"email": "camille.martin@example.FR"}, http.StatusOK)
		cf.call(admin, "POST", search, cs, map[string]any{"phone": "+33612345678"}, http.StatusOK)
		cf.call(marketing, "POST", search, fidelis.PurposeMarketingSMS, map[string]any{"phone": "+33 6 12 34 56 78"}, http.StatusOK)
		cf.call(admin, "POST", search, cs, map[string]any{"email": "nobody@example.com"}, http.StatusOK)
		cf.call(admin, "POST", search, cs, map[string]any{}, http.StatusUnprocessableEntity)
		cf.call(admin, "POST", search, cs, map[string]any{"name": "Camille"}, http.StatusUnprocessableEntity)
		cf.call(admin, "POST", search, cs, map[string]any{"phone": "12"}, http.StatusUnprocessableEntity)
		cf.call(admin, "POST", search, cs, `"camille"`, http.StatusBadRequest)
		cf.call(admin, "POST", search, cs, `{"email": "a@b.fr"}`, http.StatusUnsupportedMediaType, textPlain...)
		cf.call(admin, "POST", search, cs, huge, http.StatusRequestEntityTooLarge)
		expectReason(cf.call(marketing, "POST", search, fidelis.PurposeMarketingSMS, map[string]any{"email": "camille.martin@example.fr"}, http.StatusForbidden), "field_not_allowed")
		cf.call(admin, "POST", search, cs, map[string]any{"email": "a@b.fr"}, http.StatusForbidden, crossSite...)
		cf.call(anon, "POST", search, cs, map[string]any{"email": "a@b.fr"}, http.StatusUnauthorized)

		// Consents and privacy state (C-1..C-5, R-10, R-12, R-13).
		const notices = "/api/v1/consent-notices"
		otherID, _ := other["id"].(string)
		consents, privacyOf := customers+"/"+id+"/consents", customers+"/"+otherID+"/privacy"
		expectReason(cf.call(marketing, "GET", customers+"/"+id, fidelis.PurposeMarketingSMS, nil, http.StatusForbidden), "consent_missing")
		texts := func(fr, en string) map[string]any { return map[string]any{"fr": fr, "en": en} }
		nSMS := cf.call(dpo, "POST", notices, "", map[string]any{"purpose": "marketing_sms", "text": texts("J'accepte les SMS.", "I accept text messages.")}, http.StatusCreated).JSON(t)
		nMail := cf.call(dpo, "POST", notices, "", map[string]any{"purpose": "marketing_email", "text": texts("J'accepte les courriels.", "I accept e-mails.")}, http.StatusCreated).JSON(t)
		expectReason(cf.call(dpo, "POST", notices, "", map[string]any{"purpose": "marketing_sms", "text": texts("J'accepte les SMS.", "I accept text messages.")}, http.StatusConflict), "notice_unchanged")
		cf.call(dpo, "POST", notices, "", map[string]any{"purpose": "loyalty", "text": texts("", "x")}, http.StatusUnprocessableEntity)
		cf.call(dpo, "POST", notices, "", `{"purpose": "loyalty"`, http.StatusBadRequest)
		expectReason(cf.call(marketing, "POST", notices, "", map[string]any{"purpose": "marketing_sms", "text": texts("a", "b")}, http.StatusForbidden), "action_not_permitted")
		cf.call(anon, "POST", notices, "", map[string]any{}, http.StatusUnauthorized)
		cf.call(sales, "GET", notices, "", nil, http.StatusOK)
		cf.call(sales, "GET", notices+"?purpose=marketing_sms", "", nil, http.StatusOK)
		cf.call(sales, "GET", notices+"?sort=desc", "", nil, http.StatusUnprocessableEntity)
		cf.call(anon, "GET", notices, "", nil, http.StatusUnauthorized)
		grant := func(purpose, channel string, n map[string]any) map[string]any {
			return map[string]any{"purpose": purpose, "channel": channel, "decision": "granted", "notice_version": n["version"], "notice_hash": n["hash"], "method": "back_office"}
		}
		cf.call(support, "POST", consents, cs, grant("marketing_sms", "sms", nSMS), http.StatusCreated)
		cf.call(support, "POST", consents, cs, map[string]any{"purpose": "marketing_email", "channel": "email", "decision": "granted", "notice_version": nMail["version"], "reference": "FORM-2026/114", "collected_at": "2026-01-05T10:00:00Z", "method": "paper"}, http.StatusCreated)
		cf.call(support, "POST", consents, cs, map[string]any{"purpose": "marketing_email", "channel": "email"}, http.StatusUnprocessableEntity) // C-5: no default decision
		cf.call(support, "POST", consents, cs, `{"purpose": "marketing_email"} x`, http.StatusBadRequest)
		expectReason(cf.call(marketing, "POST", consents, fidelis.PurposeMarketingSMS, grant("marketing_sms", "sms", nSMS), http.StatusForbidden), "action_not_covered")
		cf.call(anon, "POST", consents, cs, grant("marketing_sms", "sms", nSMS), http.StatusUnauthorized)
		cf.call(support, "POST", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/consents", cs, grant("marketing_sms", "sms", nSMS), http.StatusNotFound)
		cf.call(support, "GET", consents, cs, nil, http.StatusOK)
		cf.call(support, "GET", consents+"?limit=1", cs, nil, http.StatusOK)
		cf.call(support, "GET", consents+"?cursor=nope", cs, nil, http.StatusUnprocessableEntity)
		cf.call(anon, "GET", consents, cs, nil, http.StatusUnauthorized)
		expectReason(cf.call(marketing, "GET", consents, cs, nil, http.StatusForbidden), "purpose_not_granted")
		cf.call(support, "GET", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/consents", cs, nil, http.StatusNotFound)
		restrictOther, unrestrictOther := customers+"/"+otherID+"/restrict", customers+"/"+otherID+"/unrestrict"
		cf.call(dpo, "POST", restrictOther, dp, map[string]any{"ground": "accuracy_contested", "reference": "RR-12"}, http.StatusOK)
		expectReason(cf.call(sales, "GET", customers+"/"+otherID, fidelis.PurposeSales, nil, http.StatusForbidden), "restricted")
		expectReason(cf.call(dpo, "POST", restrictOther, dp, map[string]any{"ground": "accuracy_contested"}, http.StatusConflict), "already_restricted")
		cf.call(dpo, "POST", restrictOther, dp, map[string]any{"ground": "because"}, http.StatusUnprocessableEntity)
		cf.call(dpo, "POST", restrictOther, dp, `[]`, http.StatusBadRequest)
		cf.call(anon, "POST", restrictOther, dp, map[string]any{"ground": "legal_claims"}, http.StatusUnauthorized)
		expectReason(cf.call(sales, "POST", restrictOther, dp, map[string]any{"ground": "legal_claims"}, http.StatusForbidden), "purpose_not_granted")
		cf.call(dpo, "POST", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/restrict", dp, map[string]any{"ground": "legal_claims"}, http.StatusNotFound)
		cf.call(dpo, "GET", privacyOf, dp, nil, http.StatusOK)
		cf.call(anon, "GET", privacyOf, dp, nil, http.StatusUnauthorized)
		expectReason(cf.call(marketing, "GET", privacyOf, dp, nil, http.StatusForbidden), "purpose_not_granted")
		cf.call(dpo, "GET", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/privacy", dp, nil, http.StatusNotFound)
		cf.call(dpo, "POST", unrestrictOther, dp, map[string]any{"reason": "accuracy_verified"}, http.StatusOK)
		expectReason(cf.call(dpo, "POST", unrestrictOther, dp, map[string]any{"reason": "accuracy_verified"}, http.StatusPreconditionFailed), "not_restricted")
		cf.call(dpo, "POST", unrestrictOther, dp, map[string]any{"reason": "bored"}, http.StatusUnprocessableEntity)
		cf.call(dpo, "POST", unrestrictOther, dp, `{`, http.StatusBadRequest)
		cf.call(anon, "POST", unrestrictOther, dp, map[string]any{"reason": "accuracy_verified"}, http.StatusUnauthorized)
		expectReason(cf.call(sales, "POST", unrestrictOther, dp, map[string]any{"reason": "accuracy_verified"}, http.StatusForbidden), "purpose_not_granted")
		cf.call(dpo, "POST", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/unrestrict", dp, map[string]any{"reason": "accuracy_verified"}, http.StatusNotFound)
		objections := customers + "/" + otherID + "/objections"
		cf.call(sales, "POST", objections, fidelis.PurposeSales, map[string]any{"scope": "sales", "reference": "CALL-7"}, http.StatusOK)
		expectReason(cf.call(sales, "GET", customers+"/"+otherID, fidelis.PurposeSales, nil, http.StatusForbidden), "objection_upheld")
		cf.call(sales, "POST", objections, fidelis.PurposeSales, map[string]any{"scope": "customer_service"}, http.StatusUnprocessableEntity)
		cf.call(sales, "POST", objections, fidelis.PurposeSales, `"sales"`, http.StatusBadRequest)
		cf.call(anon, "POST", objections, fidelis.PurposeSales, map[string]any{"scope": "sales"}, http.StatusUnauthorized)
		expectReason(cf.call(marketing, "POST", objections, fidelis.PurposeMarketingEmail, map[string]any{"scope": "direct_marketing"}, http.StatusForbidden), "action_not_covered")
		cf.call(sales, "POST", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/objections", fidelis.PurposeSales, map[string]any{"scope": "sales"}, http.StatusNotFound)
		override := objections + "/sales/override"
		cf.call(dpo, "POST", override, dp, map[string]any{"ground": "compelling_grounds", "reference": "DEC-2026-3"}, http.StatusOK)
		cf.call(sales, "GET", customers+"/"+otherID, fidelis.PurposeSales, nil, http.StatusOK)
		expectReason(cf.call(dpo, "POST", override, dp, map[string]any{"ground": "compelling_grounds", "reference": "DEC-2026-3"}, http.StatusConflict), "already_overridden")
		expectReason(cf.call(dpo, "POST", objections+"/analytics/override", dp, map[string]any{"ground": "legal_claims", "reference": "DEC-4"}, http.StatusPreconditionFailed), "no_objection")
		cf.call(dpo, "POST", objections+"/direct_marketing/override", dp, map[string]any{"ground": "legal_claims", "reference": "DEC-4"}, http.StatusUnprocessableEntity)
		cf.call(dpo, "POST", override, dp, `{"ground": 1`, http.StatusBadRequest)
		cf.call(anon, "POST", override, dp, map[string]any{"ground": "legal_claims", "reference": "DEC-4"}, http.StatusUnauthorized)
		expectReason(cf.call(sales, "POST", override, fidelis.PurposeSales, map[string]any{"ground": "legal_claims", "reference": "DEC-4"}, http.StatusForbidden), "purpose_not_applicable")
		cf.call(dpo, "POST", customers+"/"+string(fidelis.NewCustomerID(time.Now()))+"/objections/sales/override", dp, map[string]any{"ground": "legal_claims", "reference": "DEC-4"}, http.StatusNotFound)

		// Read.
		one := customers + "/" + id
		unknown := customers + "/" + string(fidelis.NewCustomerID(time.Now()))
		cf.call(admin, "GET", one, cs, nil, http.StatusOK)
		cf.call(marketing, "GET", one, fidelis.PurposeMarketingSMS, nil, http.StatusOK)
		cf.call(marketing, "GET", one, fidelis.PurposeAnalytics, nil, http.StatusOK)
		cf.call(dpo, "GET", one, fidelis.PurposeLegalClaims, nil, http.StatusOK)
		cf.call(admin, "GET", unknown, cs, nil, http.StatusNotFound)
		expectReason(cf.call(admin, "GET", customers+"/42", cs, nil, http.StatusNotFound), "bad_id")
		expectReason(cf.call(marketing, "GET", one, cs, nil, http.StatusForbidden), "purpose_not_granted")
		cf.call(anon, "GET", one, cs, nil, http.StatusUnauthorized)

		// Update.
		cf.call(admin, "PATCH", one, cs, map[string]any{"city": "Lyon", "attributes": map[string]any{"tier": "platinum"}}, http.StatusOK, "If-Match", `"v1"`)
		cf.call(admin, "PATCH", one, cs, map[string]any{"street": nil, "postal_code": "", "version": 2}, http.StatusOK)
		cf.call(admin, "PATCH", one, cs, map[string]any{}, http.StatusOK)
		cf.call(sales, "PATCH", one, fidelis.PurposeSales, map[string]any{"phone": "+33 6 98 76 54 32"}, http.StatusOK)
		expectReason(cf.call(admin, "PATCH", one, cs, map[string]any{"city": "Nice"}, http.StatusPreconditionFailed, "If-Match", `"v1"`), "version_mismatch")
		expectReason(cf.call(admin, "PATCH", one, cs, map[string]any{"city": "Nice", "version": 1}, http.StatusPreconditionFailed), "version_mismatch")
		expectReason(cf.call(admin, "PATCH", one, cs, map[string]any{"city": "Nice"}, http.StatusPreconditionFailed, "If-Match", `W/"v4"`), "bad_if_match")
		cf.call(admin, "PATCH", one, cs, map[string]any{"city": "Nice", "version": 3}, http.StatusUnprocessableEntity, "If-Match", `"v4"`)
		cf.call(admin, "PATCH", one, cs, map[string]any{"locale": "de", "version": "4"}, http.StatusUnprocessableEntity)
		cf.call(admin, "PATCH", one, cs, map[string]any{"given_name": nil, "family_name": nil, "email": nil, "phone": nil}, http.StatusUnprocessableEntity)
		cf.call(admin, "PATCH", one, cs, ``, http.StatusBadRequest)
		cf.call(admin, "PATCH", one, cs, `{"city": "Nice"}`, http.StatusUnsupportedMediaType, "Content-Type", "application/merge-patch+json")
		cf.call(admin, "PATCH", one, cs, huge, http.StatusRequestEntityTooLarge)
		cf.call(admin, "PATCH", unknown, cs, map[string]any{"city": "Nice"}, http.StatusNotFound)
		expectReason(cf.call(sales, "PATCH", one, fidelis.PurposeSales, map[string]any{"birth_date": nil}, http.StatusForbidden), "field_not_allowed")
		cf.call(admin, "PATCH", one, cs, map[string]any{"city": "Nice"}, http.StatusForbidden, crossSite...)
		cf.call(anon, "PATCH", one, cs, map[string]any{"city": "Nice"}, http.StatusUnauthorized)

		// History.
		cf.call(admin, "GET", one+"/history", cs, nil, http.StatusOK)
		cf.call(marketing, "GET", one+"/history", fidelis.PurposeMarketingSMS, nil, http.StatusOK)
		cf.call(admin, "GET", unknown+"/history", cs, nil, http.StatusNotFound)
		cf.call(admin, "GET", one+"/history", "", nil, http.StatusForbidden)
		cf.call(anon, "GET", one+"/history", cs, nil, http.StatusUnauthorized)

		// Access log.
		logPage := cf.call(dpo, "GET", one+"/access-log?limit=2", dp, nil, http.StatusOK).JSON(t)
		logNext, _ := logPage["next_cursor"].(string)
		if logNext == "" {
			t.Fatalf("access log with limit=2: next_cursor = %v; want a cursor", logPage["next_cursor"])
		}
		cf.call(dpo, "GET", one+"/access-log?limit=2&cursor="+logNext, dp, nil, http.StatusOK)
		cf.call(admin, "GET", one+"/access-log", fidelis.PurposeAudit, nil, http.StatusOK)
		cf.call(dpo, "GET", unknown+"/access-log", dp, nil, http.StatusOK)
		cf.call(dpo, "GET", one+"/access-log?cursor=cus_x", dp, nil, http.StatusUnprocessableEntity)
		cf.call(dpo, "GET", one+"/access-log?limit=1000", dp, nil, http.StatusUnprocessableEntity)
		cf.call(dpo, "GET", customers+"/nope/access-log", dp, nil, http.StatusNotFound)
		expectReason(cf.call(support, "GET", one+"/access-log", cs, nil, http.StatusForbidden), "action_not_covered")
		cf.call(anon, "GET", one+"/access-log", dp, nil, http.StatusUnauthorized)

		// Export.
		cf.call(dpo, "GET", one+"/export", dp, nil, http.StatusOK)
		cf.call(dpo, "GET", one+"/export", fidelis.PurposeLegalClaims, nil, http.StatusOK)
		cf.call(dpo, "GET", unknown+"/export", dp, nil, http.StatusNotFound)
		expectReason(cf.call(admin, "GET", one+"/export", cs, nil, http.StatusForbidden), "action_not_covered")
		cf.call(anon, "GET", one+"/export", dp, nil, http.StatusUnauthorized)

		// Erase.
		erase := one + "/erase"
		cf.call(dpo, "POST", erase, dp, map[string]any{"reason": "request"}, http.StatusUnprocessableEntity)
		cf.call(dpo, "POST", erase, dp, `{"reason": `, http.StatusBadRequest)
		cf.call(dpo, "POST", erase, dp, `{}`, http.StatusUnsupportedMediaType, textPlain...)
		cf.call(dpo, "POST", erase, dp, huge, http.StatusRequestEntityTooLarge)
		expectReason(cf.call(support, "POST", erase, cs, nil, http.StatusForbidden), "action_not_covered")
		cf.call(dpo, "POST", erase, dp, nil, http.StatusForbidden, crossSite...)
		cf.call(anon, "POST", erase, dp, nil, http.StatusUnauthorized)
		cf.call(dpo, "POST", unknown+"/erase", dp, nil, http.StatusNotFound)
		cf.call(dpo, "POST", erase, dp, nil, http.StatusOK)
		cf.call(dpo, "POST", customers+"/"+other["id"].(string)+"/erase", dp, `{}`, http.StatusOK)
		// an erased customer is gone everywhere but in the access log.
		cf.call(dpo, "POST", erase, dp, nil, http.StatusNotFound)
		cf.call(dpo, "GET", one, dp, nil, http.StatusNotFound)
		cf.call(dpo, "PATCH", one, dp, map[string]any{"city": "Nice"}, http.StatusNotFound)
		cf.call(dpo, "GET", one+"/history", dp, nil, http.StatusNotFound)
		cf.call(dpo, "GET", one+"/export", dp, nil, http.StatusNotFound)
		cf.call(dpo, "GET", one+"/access-log", dp, nil, http.StatusOK)

		// Register of processing (D-2) and the public privacy notice.
		auditor := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAuditor))
		cf.call(admin, "GET", "/api/v1/register", "", nil, http.StatusOK)
		cf.call(dpo, "GET", "/api/v1/register?format=md&lang=en", "", nil, http.StatusOK)
		cf.call(auditor, "GET", "/api/v1/register?format=html&lang=fr", "", nil, http.StatusOK)
		cf.call(admin, "GET", "/api/v1/register?format=pdf", "", nil, http.StatusUnprocessableEntity)
		expectReason(cf.call(support, "GET", "/api/v1/register", "", nil, http.StatusForbidden), "action_not_permitted")
		cf.call(anon, "GET", "/api/v1/register", "", nil, http.StatusUnauthorized)
		cf.call(anon, "GET", "/privacy", "", nil, http.StatusOK)
		cf.call(anon, "GET", "/privacy?lang=en", "", nil, http.StatusOK, "Accept-Language", "fr")
		cf.call(anon, "GET", "/privacy?lang=es", "", nil, http.StatusUnprocessableEntity)
		cf.call(anon, "GET", "/privacy.json", "", nil, http.StatusOK, "Accept-Language", "en-GB,en;q=0.8")
		cf.call(anon, "GET", "/privacy.json?lang=xx", "", nil, http.StatusUnprocessableEntity)
		rightsConformance(t, cf, a, admin, dpo, support, anon)
		exerciseLoyalty(t, cf, a, base)
		exerciseRewards(t, cf, a, base)

		// 503: a server whose database does not answer.
		down := httptest.NewServer((&httpapi.Server{DB: deadDB{}, Logger: slog.New(slog.DiscardHandler)}).Handler())
		t.Cleanup(down.Close)
		cf.call(fidelistest.NewClient(t, down.URL, ""), "GET", "/healthz", "", nil, http.StatusServiceUnavailable)

		exerciseRecipients(t, cf, b)
		exerciseRetention(t, cf, b)
		exerciseProof(t, cf, b)

		// Every documented operation, and every status it documents (but "default"), was
		// observed.
		for _, op := range d.operations() {
			if len(cf.seen[op]) == 0 {
				t.Errorf("%s is documented but was never exercised", op)
				continue
			}
			method, tmpl, _ := strings.Cut(op, " ")
			n, _ := d.at(pointer("paths", tmpl, strings.ToLower(method), "responses"))
			for _, code := range slices.Sorted(maps.Keys(n.(map[string]any))) {
				if code != "default" && !cf.seen[op][code] {
					t.Errorf("%s documents status %s, which was never observed", op, code)
				}
			}
			// "default" documents unexpected failures (409, 5xx); a client error must be
			// documented by its status.
			for _, code := range slices.Sorted(maps.Keys(cf.seen[op])) {
				if _, ok := n.(map[string]any)[code]; !ok {
					t.Errorf("%s answered %s, which is not documented (only \"default\" covers it)", op, code)
				}
			}
		}
	})
}
