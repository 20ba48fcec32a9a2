package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"unicode/utf8"
)

// decodeJSONBody decodes a request body into v. encoding/json quietly turns
// bytes that are not UTF-8 into U+FFFD, so a name or an address would be
// stored changed; such a body is refused instead, naming the field that
// holds the bad bytes (field is "" when it is a key or outside any value).
func decodeJSONBody(r io.Reader, v any) (field string, err error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("the body could not be read: %w", err)
	}
	if !utf8.Valid(body) {
		return invalidUTF8Field(body), fmt.Errorf("the body is not valid UTF-8")
	}
	err = json.NewDecoder(bytes.NewReader(body)).Decode(v)
	if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) && te.Field != "" {
		// Valid JSON with a value of the wrong kind: name the member.
		return te.Field, fmt.Errorf("%s must be %s, not a JSON %s", te.Field, kindOf(te.Type), te.Value)
	}
	if err != nil {
		return "", fmt.Errorf("the body is not valid JSON: %w", err)
	}
	return "", nil
}

// kindOf names a Go type as the API documents the value it wants.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	default:
		return "a " + t.String()
	}
}

// invalidUTF8Field names the first top-level member, in name order, whose
// raw value is not UTF-8.
func invalidUTF8Field(body []byte) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return ""
	}
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !utf8.Valid(members[name]) {
			return name
		}
	}
	return ""
}
