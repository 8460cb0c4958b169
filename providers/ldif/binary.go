package ldif

import (
	"strings"

	"github.com/adshift/adshift/adid"
)

// IsBinaryIdentity reports whether the lower-cased attribute name holds a
// GUID or SID that Discover decodes to its string form.
func IsBinaryIdentity(lowerName string) bool {
	switch lowerName {
	case "objectguid", "objectsid", "sidhistory":
		return true
	}
	return false
}

// parseIdentity reads a value of objectGUID (lower-cased name
// "objectguid") or objectSid and sIDHistory: the binary form (16 bytes; a
// binary SID) or a string form ("S-1-…"; a GUID with or without braces).
func parseIdentity(lowerName, v string) (guid adid.GUID, sid adid.SID, err error) {
	if lowerName == "objectguid" {
		if len(v) == len(guid) {
			guid, err = adid.DecodeGUID([]byte(v))
			return guid, sid, err
		}
		if len(v) == 38 && v[0] == '{' && v[37] == '}' {
			v = v[1:37]
		}
		guid, err = adid.ParseGUID(v)
		return guid, sid, err
	}
	if strings.HasPrefix(v, "S-") || strings.HasPrefix(v, "s-") {
		sid, err = adid.ParseSID(v)
		return guid, sid, err
	}
	err = sid.UnmarshalBinary([]byte(v))
	return guid, sid, err
}

// DecodeIdentity returns the string form (package adid) of a value of
// objectGUID, objectSid or sIDHistory (lower-cased name), accepting the
// binary form or a value already in string form. Other attributes are
// returned unchanged.
func DecodeIdentity(lowerName, v string) (string, error) {
	return convertIdentity(lowerName, v, false)
}

// EncodeIdentity is the inverse of DecodeIdentity: string GUIDs and SIDs
// become their binary form (binary input is kept); other attributes are
// returned unchanged.
func EncodeIdentity(lowerName, v string) (string, error) {
	return convertIdentity(lowerName, v, true)
}

func convertIdentity(lowerName, v string, toBinary bool) (string, error) {
	if !IsBinaryIdentity(lowerName) {
		return v, nil
	}
	guid, sid, err := parseIdentity(lowerName, v)
	switch {
	case err != nil:
		return "", err
	case lowerName == "objectguid" && toBinary:
		return string(guid[:]), nil
	case lowerName == "objectguid":
		return guid.String(), nil
	case toBinary:
		b, _ := sid.MarshalBinary() // never fails
		return string(b), nil
	}
	return sid.String(), nil
}
