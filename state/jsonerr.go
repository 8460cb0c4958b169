package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// describeJSONError says in words where and how a state document is
// broken: the line and column, and what was expected, instead of Go's
// "cannot unmarshal number -5 into Go value of type uint64".
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		if len(bytes.TrimSpace(data)) == 0 {
			return errors.New("the file is empty (a full disk, or a copy cut short)")
		}
		line, col := lineCol(data, syn.Offset)
		if syn.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))) {
			return fmt.Errorf("the file ends at line %d, column %d, in the middle of the document: it was truncated (a full disk, or a copy cut short)", line, col)
		}
		return fmt.Errorf("line %d, column %d: invalid JSON (%v)", line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "the document"
		} else {
			field = "field " + field
		}
		return fmt.Errorf("line %d, column %d: %s holds %s, but must be %s", line, col, field, valueWords(typ.Value), kindWords(typ.Type))
	}
	return err
}

// valueWords is encoding/json's description of a value in words.
func valueWords(v string) string {
	switch v {
	case "string":
		return "a string"
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "bool":
		return "true or false"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return "the number " + n
	}
	return v
}

func kindWords(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
