// Package hardware is the root of gatepost's device drivers: serial ports
// (serialport), thermometer modules (thermometer), code scanners (scanner),
// pseudo-terminal simulators of those devices (sim), and keeping a gate's
// devices open across unplugging (device). The root package holds what they
// share: SettingError, the bad setting a Validate method names.
//
// Nothing under hardware/ imports anything else from gatepost but the leaf
// packages internal/clock and internal/backoff; packages under hardware/
// may import each other. Programs and libraries of gatepost
// may import any of them. The test in this package holds that rule.
package hardware
