// Refreshes the console's tables every 2 s from the hub's JSON API. Text
// goes in with textContent only, never innerHTML: an entry's scan is
// whatever a QR code said.
"use strict";
(function () {
  const fleetBody = document.getElementById("fleet");
  const entriesBody = document.getElementById("entries");
  const status = document.getElementById("status");
  const maxGapsShown = 10;

  function row(cells) {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    return tr;
  }

  function empty(cols, text) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = cols;
    td.className = "empty";
    td.textContent = text;
    tr.appendChild(td);
    return tr;
  }

  // "2026-02-01T08:31:12.5+08:00" -> "2026-02-01 08:31:12+08:00"
  function clock(s) {
    return s ? s.replace("T", " ").replace(/\.\d+/, "") : "";
  }

  function gaps(list) {
    if (!list || list.length === 0) return "none";
    const parts = list.slice(0, maxGapsShown).map(g => g.from === g.to ? String(g.from) : g.from + "\u2013" + g.to);
    if (list.length > maxGapsShown) parts.push("\u2026 " + (list.length - maxGapsShown) + " more");
    return parts.join(", ");
  }

  function renderFleet(kiosks) {
    if (kiosks.length === 0) {
      fleetBody.replaceChildren(empty(8, "No kiosk has sent entries yet."));
      return;
    }
    fleetBody.replaceChildren(...kiosks.map(k => row([
      [k.kiosk], [k.site], [String(k.contiguous), "num"], [String(k.highest), "num"],
      [gaps(k.gaps), k.gaps && k.gaps.length ? "warn" : ""], [clock(k.last_seen)],
      [String(k.batches), "num"], [String(k.conflicts), k.conflicts ? "num alert" : "num"],
    ])));
  }

  function renderEntries(entries) {
    if (entries.length === 0) {
      entriesBody.replaceChildren(empty(9, "No entries yet."));
      return;
    }
    entriesBody.replaceChildren(...entries.map(e => row([
      [e.kiosk], [String(e.seq), "num"], [clock(e.time)], [e.kind], [e.scan || "", "scan"],
      [e.temperature ? e.temperature.screened_c.toFixed(1) + " \u00b0C" : "", "num"],
      [e.decision, "decision " + e.decision], [(e.reasons || []).join(", ")], [clock(e.received)],
    ])));
  }

  async function refresh() {
    try {
      const [er, kr] = await Promise.all([fetch("api/entries?limit=100"), fetch("api/kiosks")]);
      if (!er.ok || !kr.ok) throw new Error("HTTP " + er.status + " / " + kr.status);
      const [entries, kiosks] = await Promise.all([er.json(), kr.json()]);
      renderFleet(kiosks);
      renderEntries(entries);
      status.textContent = "updated " + new Date().toLocaleTimeString();
      status.className = "";
    } catch (err) {
      status.textContent = "hub unreachable, retrying (" + err.message + ")";
      status.className = "stale";
    }
  }

  setInterval(refresh, 2000);
})();
