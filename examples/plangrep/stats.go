package main

import "context"

// usageStatsMsg is the message of the log line logUsageStats writes; the
// load test (examples/loadtest) looks for it.
const usageStatsMsg = "usage tracker stats"

// logUsageStats logs the usage tracker's counters at INFO: how many store
// writes (RecordUsage batches) and records usage tracking made over the
// process's life, and how many uses were dropped or failed. main runs it
// after shutdown (which flushes the tracker), so it shows the coalescing at
// work: one record per key per interval, however many requests. Its
// signature is that of a kit.Serve shutdown function; it never fails.
func (a *app) logUsageStats(context.Context) error {
	st := a.tracker.Stats()
	a.log.Info(usageStatsMsg,
		"writes", st.Writes,
		"records", st.Records,
		"dropped", st.Dropped,
		"failures", st.Failures,
		"pending", st.Pending,
	)
	return nil
}
