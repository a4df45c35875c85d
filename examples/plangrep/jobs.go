package main

import (
	"crypto/rand"
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
// not process them; they show scopes and tenancy at work).
type jobBoard struct {
	mu sync.Mutex
	m  map[string][]job // workspace -> jobs, oldest first
}

func newJobBoard() *jobBoard { return &jobBoard{m: make(map[string][]job)} }

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
	return j, nil
}

// list returns the workspace's jobs, newest first, never nil.
func (b *jobBoard) list(workspace string) []job {
	b.mu.Lock()
	defer b.mu.Unlock()
	jobs := b.m[workspace]
	out := make([]job, len(jobs))
	for i, j := range jobs {
		out[len(jobs)-1-i] = j
	}
	return out
}
