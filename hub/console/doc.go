// Package console is the operators' web page: the latest entries across
// the fleet, and per kiosk how far the hub holds its entries and which
// ranges it lacks. Pages are html/template, assets are embedded: the
// console needs no network beyond the hub itself.
//
// console may import protocol and hub/records; only the hub's wiring and
// tests import console.
package console
