// Package console is the operators' web console, HTTP only, everything
// under /ops/: sign-in, the entries table and its CSV export, alerts to
// acknowledge and close, the one map and the month, the fleet (with each
// kiosk's state in the kiosk register, sites in transition, and the
// admins' enroll and retire, through hub/enroll as the CLI), the live
// feed (server-sent events), the admins' pages (users, kiosk
// configuration, retention, passes, audit), and the read API under
// /ops/api/ that scripts call with an API token. Pages are html/template,
// assets are embedded: the console needs no network beyond the hub
// itself. Codes (reasons, kinds, decisions, areas) are shown in the
// reader's language from protocol/text.
//
// Who may use each route, and which compounds and buildings a user sees
// there (a scoped operator's compounds, a building lead's buildings), is
// decided in one place, access.go: routes register with the roles they
// admit, and handlers read through the scope in the request's context.
// Sign-in lockout (lockout.go) limits by address and slows, never locks,
// a guessed name.
//
// The console raises no alerts and purges nothing: hub/alerts and
// hub/retention do, whether or not the console runs; it reads their
// results from the console store (hub/operators), which its caller opens.
//
// console may import protocol, internal/clock, the hub's stores
// (hub/records, hub/operators, hub/passes, hub/registry, hub/downlink),
// hub/pki and hub/enroll; hub/server imports it, and tests.
package console
