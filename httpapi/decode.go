package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/fidelis/fidelis"
)

// MaxBodyBytes bounds request bodies: a customer record is a few kilobytes.
const MaxBodyBytes = 64 << 10

func malformed(format string, args ...any) error {
	return &fidelis.Error{Code: fidelis.EINVALID, Reason: "malformed_body", Message: fmt.Sprintf(format, args...)}
}

// readBody reads the request body: JSON media type when a body is sent, size limit.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &fidelis.Error{Code: fidelis.ETOOLARGE, Reason: "body_too_large", Message: fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes)}
		}
		return nil, malformed("the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || mt != "application/json" {
				return nil, &fidelis.Error{Code: fidelis.EUNSUPPORTED, Reason: "unsupported_media_type", Message: "the request body must be application/json"}
			}
		}
	}
	return body, nil
}

// readObject reads a JSON object body strictly: JSON media type, size limit, a single
// object, no duplicate keys, nothing after it. Field-level checks are the caller's.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	body, err := readObjectBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeObject(body, "the request body")
}

// readObjectBody reads the body readObject decodes, with the same checks but the decoding:
// JSON media type, size limit, not empty.
func readObjectBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &fidelis.Error{Code: fidelis.EUNSUPPORTED, Reason: "unsupported_media_type", Message: "the request body must be application/json"}
		}
	}
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("the request body is empty; a JSON object is expected")
	}
	return body, nil
}

// decodeObject decodes one JSON object strictly: no duplicate member, nothing after it.
// what names the value in error messages.
func decodeObject(body []byte, what string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, malformed("%s must be a JSON object", what)
	}
	obj := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, malformed("%s is not valid JSON", what)
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed("%s is not valid JSON", what)
		}
		if _, dup := obj[k]; dup {
			return nil, malformed("%s has a member twice: %s", what, memberName(k))
		}
		obj[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("%s is not valid JSON", what)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("%s has data after the JSON object", what)
	}
	return obj, nil
}

// memberName returns a member name fit to repeat in an error: names are caller-chosen text,
// which could be anything, personal data included, so only identifier-like names are echoed.
func memberName(k string) string {
	if len(k) > 0 && len(k) <= 40 && strings.IndexFunc(k, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) < 0 {
		return k
	}
	return "(a member whose name is not a field name)"
}

// stringOrNull decodes a member that must be a string or null. ok is false for null.
func stringOrNull(raw json.RawMessage) (s string, isNull bool, err error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return "", true, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, errors.New("must be a string or null")
	}
	return s, false, nil
}
