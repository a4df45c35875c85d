package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// The Open API: every handler runs after the bearer middleware (and the
// scope check of its route), so the verified key is in the context, and
// the tenant is that key's workspace.

// project is a Plangrep project.
type project struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
}

// artifact is a file a job produced, fetched through a short-lived URL.
type artifact struct {
	ID          string   `json:"id"`
	WorkspaceID string   `json:"workspaceId"`
	ProjectID   string   `json:"projectId"`
	Name        string   `json:"name"`
	ContentType string   `json:"contentType"`
	URL         string   `json:"url"`
	ExpiresAt   wireTime `json:"expiresAt"`
}

// demoProjects are the projects of every workspace: fixed names, IDs
// derived from the workspace, so each workspace sees its own.
var demoProjects = []string{"Riverside Tower", "Harbor Bridge Retrofit", "North Campus Library"}

// demoArtifacts are the artifacts of every workspace: name and project
// index, IDs derived from the workspace.
var demoArtifacts = []struct {
	name, contentType string
	project           int
}{
	{"riverside-floorplan.pdf", "application/pdf", 0},
	{"harbor-structural-report.pdf", "application/pdf", 1},
	{"library-takeoff.csv", "text/csv", 2},
}

// demoID derives a stable ID for the i-th demo object of kind in workspace.
func demoID(kind, workspace string, i int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", kind, workspace, i)))
	return kind + "_" + hex.EncodeToString(h[:8])
}

// artifactURLLifetime is how long a returned artifact URL works.
const artifactURLLifetime = 15 * time.Minute

// callerKey returns the verified key of the request.
func callerKey(r *http.Request) *apikey.Key {
	k, _ := apikey.FromContext(r.Context())
	return k
}

// listProjects handles GET /api/open/v1/projects (any valid key).
func (a *app) listProjects(w http.ResponseWriter, r *http.Request) {
	ws := callerKey(r).Tenant
	out := make([]project, len(demoProjects))
	for i, name := range demoProjects {
		out[i] = project{ID: demoID("prj", ws, i), WorkspaceID: ws, Name: name}
	}
	kit.WriteJSON(w, http.StatusOK, struct {
		Projects []project `json:"projects"`
	}{out})
}

// listJobs handles GET /api/open/v1/jobs (jobs:read): the workspace's jobs,
// newest first.
func (a *app) listJobs(w http.ResponseWriter, r *http.Request) {
	kit.WriteEncodedJSON(w, http.StatusOK, a.jobs.listJSON(callerKey(r).Tenant))
}

// createJobRequest is the body of POST /api/open/v1/jobs.
type createJobRequest struct {
	Name      *string `json:"name"`
	ProjectID *string `json:"projectId"`
}

// maxJobNameRunes bounds a job name.
const maxJobNameRunes = 200

// createJob handles POST /api/open/v1/jobs (jobs:write) -> 201 {"job":...}.
func (a *app) createJob(w http.ResponseWriter, r *http.Request) {
	k := callerKey(r)
	var req createJobRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	name, projectID, err := checkJob(req, k.Tenant)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, err.Error())
		return
	}
	j, err := a.jobs.add(k.Tenant, job{
		Name:           name,
		ProjectID:      projectID,
		Status:         "queued",
		CreatedAt:      wireTime(a.manager.Now()),
		CreatedByKeyID: wireKeyID(k.ID),
	}, a.manager.Now())
	if err != nil {
		a.writeLibError(w, r, err)
		return
	}
	kit.WriteJSON(w, http.StatusCreated, struct {
		Job job `json:"job"`
	}{j})
}

// checkJob validates a job request for workspace ws.
func checkJob(req createJobRequest, ws string) (name, projectID string, err error) {
	if req.Name == nil {
		return "", "", errors.New(`"name" is required`)
	}
	name = *req.Name
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return "", "", errors.New(`"name" must not be empty`)
	case n > maxJobNameRunes:
		return "", "", fmt.Errorf(`"name" must be at most %d characters (got %d)`, maxJobNameRunes, n)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", "", errors.New(`"name" must not contain control characters`)
	}
	if req.ProjectID == nil {
		return name, demoID("prj", ws, 0), nil
	}
	for i := range demoProjects {
		if *req.ProjectID == demoID("prj", ws, i) {
			return name, *req.ProjectID, nil
		}
	}
	return "", "", errors.New(`"projectId" is not a project of this workspace (see GET /api/open/v1/projects)`)
}

// getArtifact handles GET /api/open/v1/artifacts/{id} (artifacts:read).
func (a *app) getArtifact(w http.ResponseWriter, r *http.Request) {
	ws := callerKey(r).Tenant
	id := r.PathValue("id")
	for i, d := range demoArtifacts {
		if id != demoID("art", ws, i) {
			continue
		}
		exp := a.manager.Now().Add(artifactURLLifetime)
		u := "https://artifacts.plangrep.example/" + url.PathEscape(ws) + "/" + id + "/" + d.name +
			"?expires=" + fmt.Sprint(exp.Unix())
		kit.WriteJSON(w, http.StatusOK, struct {
			Artifact artifact `json:"artifact"`
		}{artifact{
			ID:          id,
			WorkspaceID: ws,
			ProjectID:   demoID("prj", ws, d.project),
			Name:        d.name,
			ContentType: d.contentType,
			URL:         u,
			ExpiresAt:   wireTime(exp),
		}})
		return
	}
	writeError(w, http.StatusNotFound, codeNotFound, "no such artifact")
}
