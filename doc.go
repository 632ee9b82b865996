// Package gatepost is the root of the gatepost module: the software that
// runs the gates of residential compounds. It holds no code, only the test
// that keeps the module's import graph pointing one way.
//
// The programs are kiosk (./kiosk) and hub (./hub); the shared libraries
// are protocol (./protocol) and hardware (./hardware); ./demo runs a whole
// system on one machine.
package gatepost
