// Package csvimport reads API keys issued by another system from CSV and
// imports them with Manager.Import: the shared core of the importcsv example
// and of apikeyctl import.
//
// The first row names the columns, in any order:
//
//	id,tenant,scopes,sha256[,name][,prefix][,created_at][,expires_at]
//
// scopes are space-separated; times are RFC 3339; an id that is a ULID
// becomes the key's ID, any other is kept in the key's metadata as
// "legacy_id"; sha256 is the SHA-256 of the token, hex or base64.
package csvimport

import (
	"context"
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

// Row is one parsed line of the input.
type Row struct {
	// Line is the line number in the file.
	Line int
	// Params are the import parameters of the line.
	Params apikey.ImportParams
}

// Read parses the CSV in r into import parameters under hashVersion.
// It stops at the first malformed line (bad digest, scope or time): the file
// is checked whole before anything is imported. What only the manager can
// judge (tenant, catalogue, times against its clock) is checked per key by
// Import.
func Read(r io.Reader, hashVersion string) ([]Row, error) {
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
	var rows []Row
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
		rows = append(rows, Row{Line: line, Params: p})
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

// Report counts the outcome of an import.
type Report struct{ Imported, Skipped, Failed int }

// Import imports every row with m, skipping keys imported before
// (apikey.ErrAlreadyExists), and reports each failure by line on errw,
// prefixed with name.
func Import(ctx context.Context, m *apikey.Manager, rows []Row, name string, errw io.Writer) Report {
	var r Report
	for _, row := range rows {
		_, err := m.Import(ctx, row.Params)
		switch {
		case err == nil:
			r.Imported++
		case errors.Is(err, apikey.ErrAlreadyExists):
			r.Skipped++
		default:
			r.Failed++
			fmt.Fprintf(errw, "%s: line %d: %v\n", name, row.Line, err)
		}
	}
	return r
}
