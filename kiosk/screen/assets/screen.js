// The guard's screen: render the state pushed by /events. EventSource
// reconnects by itself when the daemon restarts.
"use strict";
const words = {
  allow: "请通行 · Please enter",
  alert: "不能通行，已上报 · No entry: reported",
  deny: "不能通行 · Entry refused",
  remeasure: "请重新测温 · Please measure again",
  record: "已记录 · Recorded",
};
const $ = (id) => document.getElementById(id);
function render(s) {
  $("gate").textContent = s.site + " / " + s.kiosk;
  $("link").textContent = s.online ? "在线 Online" : "离线 Offline";
  $("link").className = s.online ? "online" : "offline";
  $("unsynced").textContent = "未同步 Unsynced: " + s.unsynced;
  const age = (t) => { const m = Math.round((Date.now() - new Date(t)) / 60000); return m < 1 ? "<1 min" : m + " min"; };
  $("sync").textContent = (s.oldest_unsynced ? "最早未同步 Oldest: " + age(s.oldest_unsynced) + " · " : "") +
    "上次确认 Last ack: " + (s.last_ack ? new Date(s.last_ack).toLocaleTimeString() : "—") +
    (s.downlink && s.downlink.config ? " · 配置 Config v" + s.downlink.config : "");
  const w = $("warning");
  w.hidden = !s.warning;
  w.textContent = s.warning || "";
  const p = $("problem");
  p.hidden = !s.problem;
  p.textContent = s.problem || "";
  if (!s.last) return;
  const last = s.last;
  $("result").className = last.decision;
  $("verdict").textContent = words[last.decision] || last.decision;
  $("temp").textContent = last.temperature_c != null ? last.temperature_c.toFixed(1) + " °C" : "— °C";
  $("detail").textContent = (last.say ? last.say + " · " : "") + "#" + last.seq + " · " + new Date(last.time).toLocaleTimeString() +
    (last.scan ? " · " + last.scan : "") + " · " + last.reasons.join(", ");
}
const es = new EventSource("/events");
es.addEventListener("state", (ev) => render(JSON.parse(ev.data)));
es.onerror = () => { $("link").textContent = "屏幕断开 Screen disconnected"; $("link").className = "offline"; };
setInterval(() => { $("clock").textContent = new Date().toLocaleTimeString(); }, 1000);
