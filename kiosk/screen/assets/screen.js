// The guard's screen. The daemon holds every piece of state that matters
// (the last entry, who is on post, the pending sign-in mode, which alert
// was seen) and pushes it by /events; this page only draws it and posts
// what the guard taps. EventSource reconnects by itself when the daemon
// restarts. Text comes only from the catalogues in /assets/i18n/, and
// everything from outside (names, units, sentences) is set with
// textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const cat = {};
let lang = localStorage.getItem("lang") || "zh-CN";
let st = null; // the last state received
let compound = null;
let shownSeq = 0; // the entry on the result screen, 0 when none
let resultTimer = 0;
let lastVisitor = null; // answers of the last visitor posted, for a re-measure

function t(key, params) {
  let s = (cat[lang] && cat[lang][key]) || (cat["zh-CN"] && cat["zh-CN"][key]) || key;
  for (const [k, v] of Object.entries(params || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
function button(text, cls, onTap) {
  const b = el("button", cls, text);
  b.type = "button";
  b.addEventListener("click", onTap);
  return b;
}
// The daemon takes a POST only with the key it put in this page when it
// started (a page of another site cannot read it). After the daemon
// restarts the key is new: read it again from a fresh copy of the page
// and try once more.
let screenKey = document.querySelector('meta[name="gatepost-screen"]').content;
async function freshKey() {
  try {
    const html = await (await fetch("/", { cache: "no-store" })).text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    screenKey = doc.querySelector('meta[name="gatepost-screen"]').content;
  } catch (e) {}
}
async function post(path, body) {
  let resp;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Gatepost-Screen": screenKey }, body: JSON.stringify(body) });
    } catch (e) {
      return { error: "err_no_daemon" };
    }
    if (resp.status !== 403 || attempt > 0) break;
    await freshKey();
  }
  try {
    return await resp.json();
  } catch (e) {
    return { error: "err_internal" };
  }
}

// ---- alarm: Web Audio, generated here (no sound files) ----
const alarm = { on: false, ctx: null, beeps: 0, timer: 0 };
window.gateAlarm = alarm; // read by the browser tests
function beep() {
  const ctx = alarm.ctx;
  const now = ctx.currentTime;
  for (const [at, freq] of [[0, 880], [0.25, 660]]) {
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.type = "square";
    o.frequency.value = freq;
    g.gain.setValueAtTime(0.4, now + at);
    g.gain.setValueAtTime(0, now + at + 0.22);
    o.connect(g).connect(ctx.destination);
    o.start(now + at);
    o.stop(now + at + 0.23);
  }
  alarm.beeps++;
}
function setAlarm(on) {
  if (on === alarm.on) return;
  alarm.on = on;
  if (on) {
    try {
      alarm.ctx = alarm.ctx || new AudioContext();
      alarm.ctx.resume();
      beep();
      alarm.timer = setInterval(beep, 1000);
    } catch (e) { /* no audio device: the red screen still stays until seen */ }
  } else {
    clearInterval(alarm.timer);
  }
}

// ---- drawing ----
function applyLang() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  $("lang").textContent = t("lang_other");
  if (st) render(st);
  if (!$("visitor").hidden) drawStep();
  if (!$("areas").hidden) openAreas();
}

function ago(time) {
  const s = Math.max(0, Math.round((Date.now() - new Date(time)) / 1000));
  if (s < 60) return t("ago_now");
  if (s < 3600) return t("ago_min", { n: Math.round(s / 60) });
  return t("ago_hour", { n: Math.floor(s / 3600) });
}

function render(s) {
  st = s;
  $("gate").textContent = s.site + " · " + s.kiosk;
  $("link").textContent = s.online ? t("online") : t("offline");
  $("link").className = "chip " + (s.online ? "good" : "bad");
  $("unsynced").textContent = t("unsynced", { n: s.unsynced }) + (s.oldest_unsynced ? " · " + ago(s.oldest_unsynced) : "");
  $("unsynced").className = "chip" + (s.unsynced > 0 && !s.online ? " warn" : "");
  const l = s.lists;
  $("lists").textContent = (!l ? t("lists_unknown") : l.stale ? t("lists_stale") : t("lists_fresh", { n: l.status })) +
    (s.downlink && s.downlink.config ? " · " + t("config_v", { n: s.downlink.config }) : "");
  $("lists").className = "chip " + (!l || l.stale ? "bad" : "good");
  const devs = $("devices");
  devs.replaceChildren();
  // All well: one chip. Otherwise one per device, the bad ones in red.
  const list = s.devices || [];
  if (list.length && list.every((d) => d.state === "connected")) devs.append(el("span", "chip good", t("devices_ok")));
  else for (const d of list) {
    devs.append(el("span", "chip " + (d.state === "connected" ? "good" : "bad"), t("dev_" + d.name) + " " + t("devstate_" + d.state)));
  }
  $("problem").hidden = !s.problem;
  $("problem").textContent = s.problem || "";
  $("simulated").hidden = !s.simulated;
  $("simulated").textContent = s.simulated ? t("screen_simulated") : "";
  $("warning").hidden = !s.warning;
  $("warning").textContent = s.warning || "";

  const guards = s.guards || [];
  $("post-count").textContent = t("post_count", { n: guards.length, min: s.min_on_post });
  const ul = $("guards");
  ul.replaceChildren();
  for (const g of guards) {
    const li = el("li", null, g.name || g.id);
    li.append(el("span", "since", t("since", { time: new Date(g.since).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) })));
    ul.append(li);
  }
  if (!guards.length) ul.append(el("li", "none", t("post_nobody")));
  const short = guards.length < s.min_on_post;
  $("understaffed").hidden = !short;
  $("understaffed").textContent = t("post_understaffed", { n: guards.length, min: s.min_on_post });
  $("post").classList.toggle("short", short);

  drawHeld(s);
  drawMode(s);
  const last = s.last;
  const unseen = !!(last && last.alert && last.seq > (s.seen || 0));
  setAlarm(unseen);
  if (last && last.seq !== shownSeq) {
    const fresh = Date.now() - new Date(last.time) < s.result_seconds * 1000;
    if (fresh || unseen) showResult(last);
  } else if (last && last.seq === shownSeq) {
    drawResult(last); // language or "seen" changed
  }
}

// drawHeld lists who rests before a second reading, with the time left.
function drawHeld(s) {
  const held = (s.held || []).filter((h) => new Date(h.until) > Date.now());
  $("held-box").hidden = !held.length;
  const ul = $("held");
  ul.replaceChildren();
  for (const h of held) {
    const left = Math.ceil((new Date(h.ready) - Date.now()) / 1000);
    const li = el("li", left > 0 ? "wait" : "ready", [h.unit, h.name].filter(Boolean).join(" "));
    const when = left > 0 ? t("held_wait", { t: Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") }) : t("held_ready");
    li.append(el("span", "since", when));
    ul.append(li);
  }
}

function drawMode(s) {
  const m = s.mode;
  const left = m ? Math.round((new Date(m.until) - Date.now()) / 1000) : 0;
  $("mode").hidden = !m || left <= 0; // the daemon ends it too
  if ($("mode").hidden) return;
  $("mode-text").textContent = t("mode_" + m.kind);
  $("mode-area").textContent = m.area ? t("area_" + m.area) : "";
  $("mode-left").textContent = t("mode_left", { n: left });
}

function showResult(last) {
  shownSeq = last.seq; // an open form stays underneath, answers kept
  drawResult(last);
  $("result").hidden = false;
  clearTimeout(resultTimer);
  resultTimer = setTimeout(maybeIdle, st.result_seconds * 1000);
}

function drawResult(last) {
  const unseen = last.alert && last.seq > (st.seen || 0);
  $("result").className = "overlay " + last.decision;
  $("verdict").textContent = t("dec_" + last.decision + (last.alert && last.decision !== "alert" ? "_reported" : ""));
  $("who").textContent = [last.unit, last.name].filter(Boolean).join("  ");
  $("temp").textContent = last.temperature_c != null ? last.temperature_c.toFixed(1) + " °C" : "";
  // "℃" is an empty glyph in some CJK fonts (WenQuanYi): write it as °C.
  $("say").textContent = ((lang === "en" ? last.say_en : last.say_zh) || last.say || "").replace(/℃/g, " °C");
  $("detail").textContent = t("kind_" + (last.kind || "check")) + " · #" + last.seq + " · " +
    new Date(last.time).toLocaleTimeString(lang);
  $("seen").hidden = !unseen;
  $("again").hidden = !(last.kind === "visitor" && last.decision === "remeasure" && lastVisitor);
}

function maybeIdle() {
  if (!st || !st.last || st.last.seq !== shownSeq) return;
  if (st.last.alert && st.last.seq > (st.seen || 0)) return; // an alert stays until seen
  idle();
}
function idle() {
  clearTimeout(resultTimer);
  $("result").hidden = true;
}

// ---- taps on the idle screen ----
async function setMode(kind, area) {
  const r = await post("/api/mode", { kind: kind, area: area || "" });
  if (r.error) toast(r.error);
}
let toastTimer = 0;
function toast(key) {
  const e = $("toast");
  e.hidden = false;
  e.textContent = t(key);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { e.hidden = true; }, 8000);
}
function closeForms(keepVisitor) {
  $("areas").hidden = true;
  if (!keepVisitor) lastVisitor = null;
  $("visitor").hidden = true;
}
function openAreas() {
  const list = $("area-list");
  list.replaceChildren();
  for (const a of compound ? compound.areas : []) {
    list.append(button(t("area_" + a), "choice", () => { $("areas").hidden = true; setMode("disinfect", a); }));
  }
  $("areas").hidden = false;
}
for (const b of document.querySelectorAll("[data-act]")) {
  b.addEventListener("click", async () => {
    switch (b.dataset.act) {
      case "visitor": openVisitor(); break;
      case "delivery": {
        const r = await post("/api/delivery", { count: 1 });
        if (r.error) toast(r.error);
        break;
      }
      case "sign_in": setMode("sign_in"); break;
      case "sign_out": setMode("sign_out"); break;
      case "disinfect": openAreas(); break;
    }
  });
}
for (const b of document.querySelectorAll(".cancel")) b.addEventListener("click", () => { closeForms(); draft.clear(); });
$("mode-cancel").addEventListener("click", () => setMode(""));
$("seen").addEventListener("click", async (ev) => {
  ev.stopPropagation();
  const seq = shownSeq;
  setAlarm(false);
  await post("/api/seen", { seq: seq });
  idle();
});
$("again").addEventListener("click", (ev) => { ev.stopPropagation(); submitVisitor(lastVisitor); });
$("result").addEventListener("click", () => maybeIdle()); // tap anywhere: back to idle (not an unseen alert)
$("lang").addEventListener("click", () => {
  lang = lang === "en" ? "zh-CN" : "en";
  localStorage.setItem("lang", lang);
  applyLang();
});

// ---- visitor: three questions, one tap at a time ----
// The answers live in sessionStorage until posted, so a reload mid-form
// comes back to the same question; nothing is done until the daemon has
// journaled it and pushed the result.
const draft = {
  get() { try { return JSON.parse(sessionStorage.getItem("visitor")) || null; } catch (e) { return null; } },
  set(v) { sessionStorage.setItem("visitor", JSON.stringify(v)); },
  clear() { sessionStorage.removeItem("visitor"); },
};
let v = null; // the answers so far, and the current step
const steps = ["from", "building", "floor", "room", "purpose", "returnee", "returned", "contact"];

function openVisitor(restored) {
  v = restored || { step: "from" };
  $("v-error").hidden = true;
  $("visitor").hidden = false;
  drawStep();
}
function go(step) { v.step = step; draft.set(v); drawStep(); }
function answer(key, value, next) { v[key] = value; go(next); }

function drawStep() {
  if (!v || !compound) return;
  const box = $("v-step");
  box.replaceChildren();
  $("v-question").textContent = t("q_" + v.step);
  const sum = [];
  if (v.from) sum.push(t("sum_from", { v: v.from }));
  if (v.building) sum.push(t("sum_unit", { v: v.building + (v.room ? "-" + v.room : v.floor ? "-" + v.floor + "…" : "") }));
  if (v.purpose) sum.push(t("purpose_" + v.purpose));
  if (v.returnee != null) sum.push(v.returnee ? t("sum_returnee", { v: v.returned || "…" }) : t("sum_not_returnee"));
  $("v-summary").textContent = sum.join(" · ");
  const grid = el("div", "grid");
  box.append(grid);
  switch (v.step) {
    case "from":
      for (const r of compound.regions) {
        const b = button(r.name, "choice" + (r.key ? " key" : ""), () => answer("from", r.name, "building"));
        if (r.key) b.append(el("small", null, t("key_region")));
        grid.append(b);
      }
      break;
    case "building":
      for (const b of compound.buildings) grid.append(button(t("building_n", { n: b }), "choice", () => answer("building", b, "floor")));
      break;
    case "floor":
      for (let f = 1; f <= compound.floors; f++) grid.append(button(t("floor_n", { n: f }), "choice", () => answer("floor", f, "room")));
      break;
    case "room":
      for (let u = 1; u <= compound.units_per_floor; u++) {
        const room = String(v.floor * 100 + u);
        grid.append(button(v.building + "-" + room, "choice", () => answer("room", room, "purpose")));
      }
      break;
    case "purpose":
      for (const p of compound.purposes) grid.append(button(t("purpose_" + p), "choice", () => answer("purpose", p, "returnee")));
      break;
    case "returnee":
      grid.append(button(t("returnee_no"), "choice wide", () => { v.returned = ""; answer("returnee", false, "contact"); }));
      grid.append(button(t("returnee_yes"), "choice wide key", () => answer("returnee", true, "returned")));
      break;
    case "returned": {
      const today = new Date();
      for (let d = 0; d < 15; d++) {
        const day = new Date(today.getFullYear(), today.getMonth(), today.getDate() - d);
        const iso = day.getFullYear() + "-" + String(day.getMonth() + 1).padStart(2, "0") + "-" + String(day.getDate()).padStart(2, "0");
        const label = d === 0 ? t("today") : d === 1 ? t("yesterday") : t("days_ago", { n: d });
        const b = button(label, "choice", () => answer("returned", iso, "contact"));
        b.append(el("small", null, iso.slice(5)));
        grid.append(b);
      }
      break;
    }
    case "contact": {
      grid.className = "fields";
      const name = el("input"); name.id = "v-name"; name.autocomplete = "off"; name.value = v.name || "";
      name.placeholder = t("name_hint"); name.maxLength = 32;
      const phone = el("input"); phone.id = "v-phone"; phone.type = "tel"; phone.inputMode = "tel"; phone.autocomplete = "off";
      phone.value = v.phone || ""; phone.placeholder = t("phone_hint"); phone.maxLength = 20;
      for (const [input, key] of [[name, "name"], [phone, "phone"]]) {
        input.addEventListener("input", () => { v[key] = input.value; draft.set(v); });
        const lab = el("label", null, t("field_" + key));
        lab.append(input);
        grid.append(lab);
      }
      const send = button(t("submit_visitor"), "submit", () => submitVisitor({
        from: v.from, building: v.building, room: v.room, purpose: v.purpose,
        returnee: !!v.returnee, returned: v.returned || "", name: v.name || "", phone: v.phone || "",
      }));
      send.id = "v-submit";
      grid.append(send);
      break;
    }
  }
}
$("v-back").addEventListener("click", () => {
  const back = { building: "from", floor: "building", room: "floor", purpose: "room", returnee: "purpose", returned: "returnee",
    contact: v.returnee ? "returned" : "returnee" };
  if (back[v.step]) go(back[v.step]);
  else { closeForms(); draft.clear(); }
});
const fieldStep = { from: "from", building: "building", room: "room", purpose: "purpose", returned: "returned", name: "contact", phone: "contact" };

async function submitVisitor(form) {
  $("busy").hidden = false;
  $("busy-text").textContent = t("measuring");
  const r = await post("/api/visitor", form);
  $("busy").hidden = true;
  if (r.error) {
    if (!v) { toast(r.error); return; }
    $("visitor").hidden = false;
    $("v-error").hidden = false;
    $("v-error").dataset.i18n = r.error; // so that the language toggle turns it too
    $("v-error").textContent = t(r.error);
    if (fieldStep[r.field]) go(fieldStep[r.field]);
    return;
  }
  // Journaled: the result arrives by /events; keep the answers only for
  // "measure again".
  lastVisitor = form;
  draft.clear();
  $("visitor").hidden = true;
  if (st && st.last) drawResult(st.last);
}

// ---- start ----
async function start() {
  const load = async (path) => (await fetch(path)).json();
  for (const l of ["zh-CN", "en"]) cat[l] = await load("/assets/i18n/" + l + ".json");
  applyLang();
  const connect = () => {
    const es = new EventSource("/events");
    es.addEventListener("state", (ev) => {
      $("offline").hidden = true;
      render(JSON.parse(ev.data));
      window.gateRendered = (window.gateRendered || 0) + 1; // for the tests
    });
    es.onopen = async () => {
      try { compound = await load("/api/compound"); } catch (e) { /* next reconnect */ }
      const d = draft.get();
      if (d && $("visitor").hidden && compound) openVisitor(d);
    };
    es.onerror = () => {
      $("offline").hidden = false;
      $("offline").textContent = t("screen_disconnected");
    };
  };
  connect();
}
function tick() {
  $("clock").textContent = new Date().toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  if (st) { drawMode(st); drawHeld(st); }
}
tick();
setInterval(tick, 1000);
start();
