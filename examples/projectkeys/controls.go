package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/apikit/apikey"
)

// wireRateLimit is one entry of "ratelimits".
type wireRateLimit struct {
	Name       string `json:"name"`
	Limit      int64  `json:"limit"`
	DurationMS int64  `json:"duration_ms"`
	Shared     bool   `json:"shared"`
}

// wireCredits is "credits" (null: unlimited).
type wireCredits struct {
	Remaining             int64  `json:"remaining"`
	RefillAmount          *int64 `json:"refill_amount"`
	RefillIntervalSeconds *int64 `json:"refill_interval_seconds"`
}

// controlsRequest holds the control fields of a create or PATCH body.
// Credits is raw so that an explicit null (unlimited) differs from absent.
type controlsRequest struct {
	Enabled     *bool            `json:"enabled"`
	RateLimits  *[]wireRateLimit `json:"ratelimits"`
	Credits     json.RawMessage  `json:"credits"`
	IPAllowlist *[]string        `json:"ip_allowlist"`
}

// controls are the parsed control fields; a nil field was absent.
type controls struct {
	enabled    *bool
	rateLimits *[]apikey.RateLimit
	credits    **apikey.Credits
	ips        *[]netip.Prefix
}

// parseControls validates the control fields, naming the JSON field of the
// first bad value.
func parseControls(req controlsRequest) (controls, error) {
	var c controls
	c.enabled = req.Enabled
	if req.RateLimits != nil {
		limits := make([]apikey.RateLimit, 0, len(*req.RateLimits))
		for i, l := range *req.RateLimits {
			if l.DurationMS < 1 || l.DurationMS > int64(apikey.MaxRateWindow/time.Millisecond) {
				return c, fmt.Errorf("ratelimits[%d].duration_ms must be 1 to %d", i, int64(apikey.MaxRateWindow/time.Millisecond))
			}
			limits = append(limits, apikey.RateLimit{Name: l.Name, Limit: l.Limit, Window: time.Duration(l.DurationMS) * time.Millisecond, Shared: l.Shared})
		}
		if err := apikey.CheckRateLimits(limits); err != nil {
			return c, errors.New(wireField(err))
		}
		c.rateLimits = &limits
	}
	if len(req.Credits) > 0 {
		var cr *apikey.Credits
		if !bytes.Equal(bytes.TrimSpace(req.Credits), []byte("null")) {
			var w wireCredits
			dec := json.NewDecoder(bytes.NewReader(req.Credits))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&w); err != nil {
				return c, errors.New("credits must be null or {\"remaining\", \"refill_amount\", \"refill_interval_seconds\"} with integers")
			}
			cr = &apikey.Credits{Remaining: w.Remaining}
			if w.RefillAmount != nil {
				cr.RefillAmount = *w.RefillAmount
			}
			if s := w.RefillIntervalSeconds; s != nil {
				if *s < 1 || *s > int64(apikey.MaxRefillInterval/time.Second) {
					return c, fmt.Errorf("credits.refill_interval_seconds must be 1 to %d", int64(apikey.MaxRefillInterval/time.Second))
				}
				cr.RefillInterval = time.Duration(*s) * time.Second
				if w.RefillAmount == nil {
					cr.RefillAmount = w.Remaining
				}
			}
			if err := apikey.CheckCredits(cr); err != nil {
				return c, errors.New(wireField(err))
			}
		}
		c.credits = &cr
	}
	if req.IPAllowlist != nil {
		if len(*req.IPAllowlist) > apikey.MaxIPAllowlist {
			return c, fmt.Errorf("ip_allowlist: at most %d entries", apikey.MaxIPAllowlist)
		}
		for i, s := range *req.IPAllowlist {
			if len(s) > 64 {
				return c, fmt.Errorf("ip_allowlist[%d] is not a CIDR", i)
			}
		}
		ips, err := apikey.ParseIPAllowlist(*req.IPAllowlist...)
		if err != nil {
			return c, errors.New(wireField(err))
		}
		c.ips = &ips
	}
	return c, nil
}

// wireField turns a library validation message into the JSON field names.
func wireField(err error) string {
	msg := libMessage(err, apikey.ErrInvalid)
	for _, r := range [][2]string{
		{"rateLimits", "ratelimits"}, {".window", ".duration_ms"}, {"refillAmount", "refill_amount"},
		{"refillInterval", "refill_interval_seconds"}, {"ipAllowlist", "ip_allowlist"},
	} {
		msg = replaceAll(msg, r[0], r[1])
	}
	return msg
}

func replaceAll(s, old, new string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte(old), []byte(new)))
}

// apply sets the parsed controls on create parameters.
func (c controls) apply(p *apikey.CreateParams) {
	if c.enabled != nil {
		p.Disabled = !*c.enabled
	}
	if c.rateLimits != nil {
		p.RateLimits = *c.rateLimits
	}
	if c.credits != nil {
		p.Credits = *c.credits
	}
	if c.ips != nil {
		p.IPAllowlist = *c.ips
	}
}

// errEscalation is a key manager trying to give a key more than it has.
type errEscalation struct{ msg string }

func (e errEscalation) Error() string { return e.msg }

// withinManager checks that a key with these expiry and controls stays
// within the limits of the managing key mgr (SPEC D2): it does not outlive
// mgr, and it is under every rate limit, credit bound and IP allowlist mgr
// is under.
func withinManager(mgr *apikey.Key, expires time.Time, limits []apikey.RateLimit, credits *apikey.Credits, ips []netip.Prefix) error {
	if !mgr.ExpiresAt.IsZero() && (expires.IsZero() || expires.After(mgr.ExpiresAt)) {
		return errEscalation{"a key manager cannot create or change a key to outlive itself (expires_at after its own)"}
	}
	for _, ml := range mgr.RateLimits {
		ok := false
		for _, l := range limits {
			// Same name and scope, no larger budget, no higher rate.
			if l.Name == ml.Name && l.Shared == ml.Shared && l.Limit <= ml.Limit &&
				float64(l.Limit)/float64(l.Window) <= float64(ml.Limit)/float64(ml.Window) {
				ok = true
				break
			}
		}
		if !ok {
			return errEscalation{fmt.Sprintf("a key manager cannot lift its own rate limit %q", ml.Name)}
		}
	}
	if mc := mgr.Credits; mc != nil {
		if credits == nil || credits.Remaining > max(mc.Remaining, mc.RefillAmount) ||
			credits.RefillAmount > max(mc.RefillAmount, 0) ||
			credits.RefillInterval > 0 && mc.RefillInterval > 0 && credits.RefillInterval < mc.RefillInterval ||
			credits.RefillInterval > 0 && mc.RefillInterval == 0 {
			return errEscalation{"a key manager cannot give a key more credits than it is itself under"}
		}
	}
	if len(mgr.IPAllowlist) > 0 {
		if len(ips) == 0 {
			return errEscalation{"a key manager cannot lift its own IP allowlist"}
		}
		for _, p := range ips {
			inside := false
			for _, mp := range mgr.IPAllowlist {
				if mp.Bits() <= p.Bits() && mp.Contains(p.Addr()) {
					inside = true
					break
				}
			}
			if !inside {
				return errEscalation{fmt.Sprintf("ip_allowlist entry %s is outside the key manager's own allowlist", p)}
			}
		}
	}
	return nil
}

// recordControls renders a key's controls.
func recordControls(k *apikey.Key, r *keyRecord) {
	r.Enabled = !k.Disabled
	r.RateLimits = make([]wireRateLimit, 0, len(k.RateLimits))
	for _, l := range k.RateLimits {
		r.RateLimits = append(r.RateLimits, wireRateLimit{Name: l.Name, Limit: l.Limit, DurationMS: int64(l.Window / time.Millisecond), Shared: l.Shared})
	}
	if c := k.Credits; c != nil {
		wc := &wireCreditsOut{Remaining: c.Remaining}
		if c.RefillInterval > 0 {
			amount, secs := c.RefillAmount, int64(c.RefillInterval/time.Second)
			wc.RefillAmount, wc.RefillIntervalSeconds = &amount, &secs
		}
		r.Credits = wc
	}
	r.IPAllowlist = make([]string, 0, len(k.IPAllowlist))
	for _, p := range k.IPAllowlist {
		r.IPAllowlist = append(r.IPAllowlist, p.String())
	}
}

// wireCreditsOut is "credits" in a record.
type wireCreditsOut struct {
	Remaining             int64  `json:"remaining"`
	RefillAmount          *int64 `json:"refill_amount"`
	RefillIntervalSeconds *int64 `json:"refill_interval_seconds"`
}
