// Package rotation rotates API keys on a schedule and delivers each
// successor to its owner in a signed webhook.
//
// A key created with a RotationInterval and a RotationWebhookURL is due
// for rotation every interval. A Scheduler finds due keys, creates each
// successor, POSTs it (an Event, signed with the key's webhook secret, see
// SignWebhook) to the key's URL, and commits the rotation only after a 2xx
// answer; otherwise the successor is revoked and the key retried later.
// Receivers check deliveries with VerifyWebhook.
//
// Webhook URLs are chosen by whoever creates a key, so they are checked
// against a WebhookPolicy (https to public addresses by default) both at
// creation and at connect time, and each key's signing secret is stored
// sealed under a webhook key kept outside the database. Both come from
// Webhooks, installed on the Manager:
//
//	hooks, err := rotation.NewWebhooks(webhookKey, rotation.WebhookPolicy{})
//	m, err := apikey.New(store, apikey.WithPepper("v1", pepper), apikey.WithWebhooks(hooks))
//	s, err := rotation.NewScheduler(m)
//	if err := s.Start(ctx); err != nil { ... }
//	defer s.Stop()
package rotation
