package main

// usageStatsMsg is the message of the log line logUsageStats writes; the
// load test (examples/loadtest) looks for it.
const usageStatsMsg = "usage tracker stats"

// logUsageStats logs the usage tracker's counters at INFO: how many store
// writes (RecordUsage batches) and records usage tracking made over the
// process's life, and how many uses were dropped or failed. Called once the
// tracker has flushed at shutdown, it shows the coalescing at work: one
// record per key per interval, however many requests.
func (a *app) logUsageStats() {
	st := a.tracker.Stats()
	a.log.Info(usageStatsMsg,
		"writes", st.Writes,
		"records", st.Records,
		"dropped", st.Dropped,
		"failures", st.Failures,
		"pending", st.Pending,
	)
}
