package main

import (
	"net/http"
	"testing"

	"github.com/oklog/ulid/v2"
)

func TestUUIDRoundTrip(t *testing.T) {
	cases := []struct{ ulid, uuid string }{
		{"00000000000000000000000000", "00000000-0000-0000-0000-000000000000"},
		{"7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
		{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "01563e3a-b5d3-d676-4c61-efb99302bd5b"},
	}
	for _, c := range cases {
		if got := uuidOf(c.ulid); got != c.uuid {
			t.Errorf("uuidOf(%s) = %s, want %s", c.ulid, got, c.uuid)
		}
		if got, ok := ulidOfUUID(c.uuid); !ok || got != c.ulid {
			t.Errorf("ulidOfUUID(%s) = %s %v, want %s", c.uuid, got, ok, c.ulid)
		}
	}
	id := ulid.Make().String()
	if back, ok := ulidOfUUID(uuidOf(id)); !ok || back != id {
		t.Errorf("round trip of %s gave %s", id, back)
	}
}

func TestUUIDRefused(t *testing.T) {
	for _, s := range []string{
		"", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01563e3ab5d3d6764c61efb99302bd5b",
		"01563e3a-b5d3-d676-4c61-efb99302bd5", "01563e3a-b5d3-d676-4c61-efb99302bd5bb",
		"01563e3ab-5d3-d676-4c61-efb99302bd5b", "0156+e3a-b5d3-d676-4c61-efb99302bd5b",
		"g1563e3a-b5d3-d676-4c61-efb99302bd5b", "{1563e3a-b5d3-d676-4c61-efb99302bd5}",
	} {
		if got, ok := ulidOfUUID(s); ok {
			t.Errorf("ulidOfUUID(%q) accepted: %s", s, got)
		}
	}
	if got := uuidOf("not-a-ulid"); got != "" {
		t.Errorf("uuidOf(not a ULID) = %q", got)
	}
}

func TestStatusName(t *testing.T) {
	cases := map[int]string{
		http.StatusOK:                    "OK",
		http.StatusCreated:               "Created",
		http.StatusBadRequest:            "BadRequest",
		http.StatusUnauthorized:          "Unauthorized",
		http.StatusNotFound:              "NotFound",
		http.StatusMethodNotAllowed:      "MethodNotAllowed",
		http.StatusRequestEntityTooLarge: "RequestEntityTooLarge",
		http.StatusUnsupportedMediaType:  "UnsupportedMediaType",
		http.StatusServiceUnavailable:    "ServiceUnavailable",
		http.StatusNonAuthoritativeInfo:  "NonAuthoritativeInformation",
		http.StatusTeapot:                "ImATeapot",
		599:                              "Unknown",
	}
	for status, want := range cases {
		if got := statusName(status); got != want {
			t.Errorf("statusName(%d) = %q, want %q", status, got, want)
		}
	}
}
