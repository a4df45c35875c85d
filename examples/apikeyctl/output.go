package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apikit/apikey"
)

// keyJSON is a key as -json prints it: the record (never its hash, which
// the Key type does not marshal) and its state now.
type keyJSON struct {
	*apikey.Key
	State string `json:"state"`
}

// issuedJSON is what -json prints for a new key.
type issuedJSON struct {
	Token string  `json:"token"`
	Key   keyJSON `json:"key"`
}

// printIssued prints a new key: the token alone on standard output, the
// details on standard error; with -json, both as one object on standard
// output. This is the only place a token is printed.
func (c *cli) printIssued(is *apikey.Issued, what string) error {
	if c.json {
		return c.writeJSON(issuedJSON{Token: is.Token.Reveal(), Key: c.withState(is.Key)})
	}
	k := is.Key
	fmt.Fprintf(c.stderr, "%s key %s (%s) for %s, scopes [%s], expires %s\n",
		what, k.ID, k.Prefix, k.Tenant, strings.Join(k.Scopes, " "), orNever(k.ExpiresAt))
	fmt.Fprintln(c.stderr, "the token below is shown once: store it now")
	_, err := fmt.Fprintln(c.stdout, is.Token.Reveal())
	return err
}

// printKeys prints keys as a table, or a JSON array.
func (c *cli) printKeys(keys []*apikey.Key) error {
	if c.json {
		out := make([]keyJSON, 0, len(keys))
		for _, k := range keys {
			out = append(out, c.withState(k))
		}
		return c.writeJSON(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tSCOPES\tSTATE\tCREATED\tEXPIRES\tLAST USED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, cell(k.Name), cell(strings.Join(k.Scopes, ",")),
			c.state(k), day(k.CreatedAt), orNever(k.ExpiresAt), lastUsed(k))
	}
	return tw.Flush()
}

// printKey prints one key, a field a line, or as JSON.
func (c *cli) printKey(k *apikey.Key) error {
	if c.json {
		return c.writeJSON(c.withState(k))
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s\t%s\n", name, value)
		}
	}
	row("id", k.ID)
	row("tenant", cell(k.Tenant))
	row("name", cell(k.Name))
	row("prefix", k.Prefix)
	row("environment", k.Environment)
	row("scopes", cell(strings.Join(k.Scopes, " ")))
	row("state", c.state(k))
	row("created", stamp(k.CreatedAt))
	row("created by", cell(k.CreatedBy))
	row("expires", orNever(k.ExpiresAt))
	row("last used", lastUsed(k))
	if k.LastUsedClient != "" {
		row("last used client", cell(k.LastUsedClient))
	}
	row("revoked", stamp(k.RevokedAt))
	row("replaced by", k.ReplacedBy)
	row("grace ends", stamp(k.GraceExpiresAt))
	if k.RotationInterval > 0 {
		row("rotates every", k.RotationInterval.String())
		row("next rotation", stamp(k.NextRotationAt))
	}
	row("hash version", k.HashVersion)
	for _, l := range k.RateLimits {
		scope := "per key"
		if l.Shared {
			scope = "shared by the tenant"
		}
		row("rate limit", fmt.Sprintf("%s: %d per %s (%s)", l.Name, l.Limit, l.Window, scope))
	}
	for name, v := range k.Metadata {
		row("metadata "+name, cell(v))
	}
	return tw.Flush()
}

func (c *cli) withState(k *apikey.Key) keyJSON { return keyJSON{Key: k, State: c.state(k)} }

// state is the key's state at the manager's clock, with "grace" for a
// rotated key that still works.
func (c *cli) state(k *apikey.Key) string {
	st := k.StateAt(c.m.Now())
	if st == apikey.StateActive && k.ReplacedBy != "" {
		return "grace"
	}
	return st.String()
}

func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return stamp(t)
}

func lastUsed(k *apikey.Key) string {
	if k.LastUsedAt.IsZero() {
		return "never"
	}
	s := stamp(k.LastUsedAt)
	if k.LastUsedIP != "" {
		s += " from " + k.LastUsedIP
	}
	return s
}

// cell makes client-supplied text safe for one table cell: control
// characters (a name could hold escape sequences for the operator's
// terminal) become '?', and an empty value "-".
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
