package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/legacy"
)

// Columns of the input. The first row names them, in any order; id, tenant,
// scopes and sha256 are required, the others optional.
const (
	colID        = "id"         // the old system's key ID: kept as the ID if it is a ULID, else in metadata
	colTenant    = "tenant"     // the owning tenant
	colScopes    = "scopes"     // space-separated scopes
	colSHA256    = "sha256"     // SHA-256 of the token, hex or base64
	colName      = "name"       // optional human label
	colPrefix    = "prefix"     // optional display prefix (never secret characters)
	colCreatedAt = "created_at" // optional RFC 3339 time
	colExpiresAt = "expires_at" // optional RFC 3339 time; empty means never
)

// legacyIDKey is the metadata key that keeps an old ID that is not a ULID.
const legacyIDKey = "legacy_id"

// row is one parsed line of the input.
type row struct {
	line   int
	params apikey.ImportParams
}

// readRows parses the CSV in r into import parameters under hashVersion.
// It stops at the first malformed line (bad digest, scope or time): the file
// is checked whole before anything is imported. What only the manager can
// judge (tenant, catalogue, times against its clock) is checked per key by
// Import.
func readRows(r io.Reader, hashVersion string) ([]row, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range []string{colID, colTenant, colScopes, colSHA256} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("the header has no %q column", c)
		}
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, err
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p, err := params(get, hashVersion)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, row{line: line, params: p})
	}
}

// params builds the import parameters of one row.
func params(get func(string) string, hashVersion string) (apikey.ImportParams, error) {
	p := apikey.ImportParams{
		Tenant:      get(colTenant),
		Name:        get(colName),
		Scopes:      strings.Fields(get(colScopes)),
		Prefix:      get(colPrefix),
		HashVersion: hashVersion,
		Hash:        []byte(get(colSHA256)),
	}
	if _, err := legacy.DecodeDigest(p.Hash); err != nil {
		return p, fmt.Errorf("%s: %w", colSHA256, err)
	}
	if _, err := apikey.NormalizeScopes(p.Scopes); err != nil {
		return p, fmt.Errorf("%s: %w", colScopes, err)
	}
	id := get(colID)
	if u, err := ulid.ParseStrict(id); err == nil {
		p.ID = u.String()
	} else if id != "" {
		p.Metadata = map[string]string{legacyIDKey: id}
	}
	var err error
	if p.CreatedAt, err = parseTime(get(colCreatedAt)); err != nil {
		return p, fmt.Errorf("%s: %w", colCreatedAt, err)
	}
	if p.ExpiresAt, err = parseTime(get(colExpiresAt)); err != nil {
		return p, fmt.Errorf("%s: %w", colExpiresAt, err)
	}
	return p, nil
}

// parseTime parses an optional RFC 3339 time; empty gives the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
