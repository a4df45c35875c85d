package main

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// job is a Plangrep processing job.
type job struct {
	ID             string   `json:"id"`
	ProjectID      string   `json:"projectId"`
	Name           string   `json:"name"`
	Status         string   `json:"status"`
	CreatedAt      wireTime `json:"createdAt"`
	CreatedByKeyID string   `json:"createdByKeyId"`
}

// maxJobsPerWorkspace bounds the in-memory job list of one workspace; the
// oldest jobs are forgotten beyond it.
const maxJobsPerWorkspace = 1000

// jobBoard holds the jobs of every workspace in memory (this example does
// not process them; they show scopes and tenancy at work). Jobs never
// change once added, so the board keeps each workspace's list answer
// encoded, rebuilt when a job is added: GET /api/open/v1/jobs, the busiest
// read, writes bytes instead of encoding JSON on every request.
type jobBoard struct {
	mu     sync.Mutex
	m      map[string][]job  // workspace -> jobs, oldest first
	bodies map[string][]byte // workspace -> {"jobs":[...]} newest first
}

func newJobBoard() *jobBoard {
	return &jobBoard{m: make(map[string][]job), bodies: make(map[string][]byte)}
}

// emptyJobList is the list answer of a workspace without jobs.
var emptyJobList = []byte("{\"jobs\":[]}\n")

// jobList is the JSON answer of GET /api/open/v1/jobs.
type jobList struct {
	Jobs []job `json:"jobs"`
}

// add assigns j an ID stamped with now and stores it under workspace.
func (b *jobBoard) add(workspace string, j job, now time.Time) (job, error) {
	id, err := ulid.New(ulid.Timestamp(now), rand.Reader)
	if err != nil {
		return job{}, err
	}
	j.ID = "job_" + strings.ToLower(id.String())
	b.mu.Lock()
	defer b.mu.Unlock()
	jobs := append(b.m[workspace], j)
	if len(jobs) > maxJobsPerWorkspace {
		jobs = append([]job(nil), jobs[len(jobs)-maxJobsPerWorkspace:]...)
	}
	b.m[workspace] = jobs
	body, err := json.Marshal(jobList{newestFirst(jobs)})
	if err != nil {
		return job{}, err
	}
	b.bodies[workspace] = append(body, '\n') // as json.Encoder ends it
	return j, nil
}

// listJSON returns the workspace's list answer, {"jobs":[...]} newest
// first, encoded. The caller must not modify it.
func (b *jobBoard) listJSON(workspace string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if body := b.bodies[workspace]; body != nil {
		return body
	}
	return emptyJobList
}

// newestFirst returns a reversed copy of jobs, never nil.
func newestFirst(jobs []job) []job {
	out := make([]job, len(jobs))
	for i, j := range jobs {
		out[len(jobs)-1-i] = j
	}
	return out
}
