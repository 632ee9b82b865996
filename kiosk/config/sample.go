package config

import "strings"

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
# The hub's MQTT broker and login for a kiosk that is not enrolled. Once
# enrolled ("kiosk enroll"), the kiosk uses the broker, login and CA the
# hub gave it (data_dir/enrollment.json) instead.
broker = "tcp://127.0.0.1:1883"
username = ""
password = ""
# Entries per batch, and batches sent before waiting for the hub's ack.
batch_size = 100
max_in_flight = 4
# With no ack for this long, send again from the last acknowledged entry.
ack_timeout = "10s"
# A batch goes out when it holds batch_size entries or its first entry has
# waited batch_wait, whichever comes first. Alerts never wait.
batch_wait = "100ms"
# Batches longer than this many bytes are gzipped (0: never).
gzip_above = 4096
# Reconnect back-off: starts at backoff_min, doubles to backoff_max, jittered.
backoff_min = "250ms"
backoff_max = "30s"

[screen]
# Where the guard's touchscreen page is served. Keep it on 127.0.0.1:
# the touchscreen's browser runs on this machine, and the page takes
# only requests from itself (a key made at each start, its own origin).
# Off loopback the daemon warns at start; the page is then reached by
# address only (http://192.168.1.20:8080/), never by a host name.
listen = "127.0.0.1:8080"
# How long a result stays on screen before returning to idle (the next
# scan replaces it at once; an alert stays until a guard taps "seen").
result_for = "5s"
# After tapping "sign in", "sign out" or a disinfection area, how long the
# screen waits for the guard's pass before scans are residents' again.
mode_for = "30s"

[thermometer]
# The module's wire protocol (docs/hardware.md has each one):
#   gy-mcu90614  GY-MCU90614, 9600 baud, frames 5A 5A 45 04 ...
#   cjmcu-90614  CJMCU-90614, 115200 baud, frames 66 66 ...
#   a4-register  register-style module at address A4, 9600 baud
#   frame        your own fixed-frame profile in [thermometer.frame]
#   modbus       Modbus RTU (RS-485), register map in [thermometer.modbus]
#   line         one reading per text line, read with "pattern"
driver = "gy-mcu90614"
# A path, a stable name such as /dev/serial/by-id/usb-..., or
# usb:VID:PID[:SERIAL] (see "kiosk ports").
port = "/dev/ttyUSB0"
# 0: the driver's usual speed.
baud = 0
# true: run a simulated module on a pseudo-terminal (a demo: its readings
# are invented; never on a gate).
simulate = false
# How long to wait for a reading after a scan.
timeout = "2s"
# How long one request waits for an answer, how many times it is sent
# again, and the least gap between requests (some RS-485 modules need one).
reply_timeout = "1s"
retries = 2
poll_interval = "0s"
# A reading outside this range (°C, after calibration) or distance window
# (cm, 0 = no bound) is "measure again", never a temperature.
body_min_c = 34.0
body_max_c = 43.0
distance_min_cm = 0.0
distance_max_cm = 0.0
# line driver: a regular expression with named groups object, ambient,
# body, distance; and a command sent before each reading ("" = none).
pattern = ""
command = ""

[thermometer.modbus]
# Slave address, function (3 holding / 4 input registers), the object
# temperature's register, 1 or 2 registers, how to read them.
address = 1
function = 3
register = 0
count = 1
signed = true
float = false
scale = 0.01
# 32-bit values: "big" = high word first (ABCD), "little" = CDAB.
word_order = "big"
# A second register holding the ambient temperature; -1: none.
ambient_register = -1

# [thermometer.frame] describes a fixed-frame module as data, for
# driver = "frame". Example (the CJMCU-90614):
#   name = "cjmcu-90614"
#   header = "66 66"
#   length = 9
#   query = "66 66 02 56"
#   checksum = "sum8"      # sum8, xor8 or none; covers checksum_from..the byte before it
#   checksum_from = 0
#   object = { offset = 4, size = 2, scale = 0.01 }
#   ambient = { offset = 6, size = 2, scale = 0.01 }

[scanner]
# "serial": RS-232 or USB CDC, codes end in CR, LF or CRLF (or idle_gap).
# "hid": keyboard mode; port is /dev/input/by-id/...-event-kbd (Linux).
# "stdin": type or pipe codes into the kiosk (development).
driver = "serial"
# serial: a path, /dev/serial/by-id/..., or usb:VID:PID[:SERIAL].
port = "/dev/ttyACM0"
baud = 9600
# Remove AIM identifier prefixes such as ]Q1 from each code.
strip_aim = true
# The scanner's "nothing read" replies, separated by |; they are ignored.
no_read = "%%NoRead|NoRead|NR"
# Serial trigger mode: "" (the scanner reads by itself), "honeywell",
# "gm65", "zkteco" or "datalogic".
trigger = ""
# End a code after this silence, for scanners that send no terminator.
idle_gap = "0s"
# The same code again within this window is the same scan; "0s": off.
duplicate_window = "2s"
# true: run a simulated scanner on a pseudo-terminal that scans by itself
# (a demo: its entries are invented; never on a gate).
simulate = false
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

[retention]
# Entries the hub has acknowledged are deleted after this long (personal
# data is kept only as long as needed). Unacknowledged entries are never
# deleted. "0s" keeps everything.
max_age = "720h0m0s"
check_every = "10m0s"
# Below this much free disk the screen warns and the hub is told.
min_free_bytes = 209715200

[compound]
# What the guard's screen offers to tap in the visitor form. Units are
# written building-room: floor 5, unit 2 of building 3 is 3-502.
buildings = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
floors = 6
units_per_floor = 4
# Where a visitor comes from; those among rules.key_regions are marked.
regions = ["上海", "江苏", "浙江", "安徽", "湖北", "河南", "江西", "湖南", "山东", "广东", "福建", "四川", "北京", "重庆", "境外"]
`

// DemoSample is Sample with both devices simulated: `kiosk init --demo`,
// for trying a kiosk with no hardware.
var DemoSample = strings.Replace(strings.Replace(Sample,
	"# are invented; never on a gate).\nsimulate = false", "# are invented; never on a gate).\nsimulate = true", 1),
	"# (a demo: its entries are invented; never on a gate).\nsimulate = false", "# (a demo: its entries are invented; never on a gate).\nsimulate = true", 1)
