// The operators' console: the sound toggle, the live feed and the open
// alerts bar. Text from entries is only ever set with textContent, never
// parsed as HTML.
"use strict";
(function () {
  var sound = document.getElementById("sound");
  if (!sound) return; // the sign-in page
  sound.checked = localStorage.getItem("gp-sound") === "on";
  sound.addEventListener("change", function () {
    localStorage.setItem("gp-sound", sound.checked ? "on" : "off");
    if (sound.checked) beep();
  });
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880;
      g.gain.value = 0.2;
      o.connect(g);
      g.connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio device: the bar still shows the alert */ }
  }
  var count = document.getElementById("open-count");
  var list = document.getElementById("open-alerts");
  var bar = document.getElementById("alertbar");
  var tbody = document.getElementById("entries");
  var live = document.getElementById("live");
  var events = new EventSource("/ops/events");
  events.addEventListener("alert", function (ev) {
    var a = JSON.parse(ev.data);
    if (a.state !== "open" || !a.kind) return;
    var n = parseInt(count.textContent, 10) + 1;
    count.textContent = String(n);
    bar.classList.add("has-open");
    var none = list.querySelector(".none");
    if (none) none.remove();
    var li = document.createElement("li");
    li.className = "alert-" + a.kind;
    li.textContent = a.kind + " " + a.kiosk + " · " + a.detail;
    list.insertBefore(li, list.firstChild);
    if (sound.checked) beep();
  });
  events.addEventListener("entry", function (ev) {
    if (!tbody || !live || !live.checked) return;
    var e = JSON.parse(ev.data);
    var tr = document.createElement("tr");
    if (e.urgent) tr.className = "urgent";
    [e.received, e.site, e.kiosk + " #" + e.seq, e.kind, e.who, "", e.unit, "", e.decision, e.reasons].forEach(function (v) {
      var td = document.createElement("td");
      td.textContent = v == null ? "" : String(v);
      tr.appendChild(td);
    });
    tbody.insertBefore(tr, tbody.firstChild);
    while (tbody.rows.length > 200) tbody.deleteRow(-1);
  });
})();
