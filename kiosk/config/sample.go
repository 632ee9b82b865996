package config

// Sample is the commented configuration `kiosk init` writes. It must parse
// to Default() (a test holds it).
const Sample = `# gatepost kiosk configuration.
# Every key is optional; what is shown is the default. Unknown keys are errors.

# This kiosk's id: unique in the fleet, 1-64 letters, digits, '-' or '_'.
kiosk = "gate-1"
# The compound (site) this gate belongs to.
site = "site-1"
# Folder holding journal.db, the record of every entry. Back it up; never
# delete it while entries are unsynced ("kiosk status" tells).
data_dir = "kiosk-data"

[mqtt]
# The hub's MQTT broker.
broker = "tcp://127.0.0.1:1883"
username = ""
password = ""
# Entries per batch, and batches sent before waiting for the hub's ack.
batch_size = 100
max_in_flight = 4
# With no ack for this long, send again from the last acknowledged entry.
ack_timeout = "10s"

[screen]
# Where the guard's touchscreen page is served. Keep it on localhost
# unless the screen is another machine.
listen = "127.0.0.1:8080"
# How long a result stays on screen before returning to idle (the next
# scan replaces it at once; an alert stays until a guard taps "seen").
result_for = "5s"
# After tapping "sign in", "sign out" or a disinfection area, how long the
# screen waits for the guard's pass before scans are residents' again.
mode_for = "30s"

[thermometer]
# The module's wire protocol: "gy-mcu90614" (9600 8N1 frames 5A 5A 45 04 ...).
driver = "gy-mcu90614"
port = "/dev/ttyUSB0"
# true: run a simulated module on a pseudo-terminal (demo, no hardware).
simulate = true
# How long to wait for a reading after a scan.
timeout = "2s"

[scanner]
# "serial": codes end in CR, LF or CRLF.
driver = "serial"
port = "/dev/ttyACM0"
baud = 9600
# true: run a simulated scanner on a pseudo-terminal that scans by itself.
simulate = true
# Mean gap between simulated scans.
simulate_every = "3s"

[rules]
# Screened temperature (°C) at or above which a person is held for a
# second reading. 37.3 is China's screening line.
fever_c = 37.3
# What a second reading still at or over the line does: "hard" turns the
# person back and reports at once; "soft" lets them in and reports at once.
fever_mode = "hard"
# After a first high reading the person rests this long, then scans again;
# a scan within recheck_within of the first counts as the second reading.
recheck_after = "2m"
recheck_within = "30m"
# false: "measure only" mode: no pass asked, temperature decides; a code
# that is not a good pass is only noted (revoked, forged and home
# observation passes still alert).
require_pass = true
# true: registered visitors may go in (the seed's gates turn them back).
visitors_admitted = false
# Returnee origins reported to the hub at once, e.g. ["湖北", "Hubei"].
key_regions = []
# Warn the guards when fewer than this are signed in (two-person post).
min_on_post = 2

[passes]
# Folder holding keys.json and status-list.json, as written by
# "hub passes export-kiosk"; empty means data_dir.
dir = ""
# Warn the guard and the hub when the revoked-pass list is older than this.
max_age = "24h"
# How far the kiosk clock may be off when judging a pass's dates.
clock_skew = "5m"

[compound]
# What the guard's screen offers to tap in the visitor form. Units are
# written building-room: floor 5, unit 2 of building 3 is 3-502.
buildings = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
floors = 6
units_per_floor = 4
# Where a visitor comes from; those among rules.key_regions are marked.
regions = ["上海", "江苏", "浙江", "安徽", "湖北", "河南", "江西", "湖南", "山东", "广东", "福建", "四川", "北京", "重庆", "境外"]
`
