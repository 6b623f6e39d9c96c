package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/fidelis/fidelis"
)

// MaxBodyBytes bounds request bodies: a customer record is a few kilobytes.
const MaxBodyBytes = 64 << 10

func malformed(format string, args ...any) error {
	return &fidelis.Error{Code: fidelis.EINVALID, Reason: "malformed_body", Message: fmt.Sprintf(format, args...)}
}

// readObject reads a JSON object body strictly: JSON media type, size limit, a single
// object, no duplicate keys, nothing after it. Field-level checks are the caller's.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &fidelis.Error{Code: fidelis.EUNSUPPORTED, Reason: "unsupported_media_type", Message: "the request body must be application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &fidelis.Error{Code: fidelis.ETOOLARGE, Reason: "body_too_large", Message: fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes)}
		}
		return nil, malformed("the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("the request body is empty; a JSON object is expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, malformed("the request body must be a JSON object")
	}
	obj := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, malformed("the request body is not valid JSON")
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed("the request body is not valid JSON")
		}
		if _, dup := obj[k]; dup {
			return nil, malformed("the member %q appears twice", k)
		}
		obj[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("the request body has data after the JSON object")
	}
	return obj, nil
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
