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
# A batch goes out when it holds batch_size entries or its first entry has
# waited batch_wait, whichever comes first. Alerts never wait.
batch_wait = "100ms"
# Batches longer than this many bytes are gzipped (0: never).
gzip_above = 4096
# Reconnect back-off: starts at backoff_min, doubles to backoff_max, jittered.
backoff_min = "250ms"
backoff_max = "30s"

[screen]
# Where the guard's touchscreen page is served. Keep it on localhost
# unless the screen is another machine.
listen = "127.0.0.1:8080"

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

[retention]
# Entries the hub has acknowledged are deleted after this long (personal
# data is kept only as long as needed). Unacknowledged entries are never
# deleted. "0s" keeps everything.
max_age = "720h0m0s"
check_every = "10m0s"
# Below this much free disk the screen warns and the hub is told.
min_free_bytes = 209715200
`
