-- The kiosk list looks up each kiosk's newest open code: an index by
-- kiosk, so that a city's register is not scanned once per kiosk.

-- +goose Up
CREATE INDEX enroll_codes_by_kiosk ON enroll_codes (kiosk, used, expires);
