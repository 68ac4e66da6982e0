// The trace viewer (cli/trace_page.h writes the data this reads). One canvas per trace, in
// virtual time: a lane per node core (its events as ticks, BUGGIFY firings as triangles,
// errors as red bars, fault spans as bands) and a lane per client (its operations as bars
// from invocation to completion, coloured by outcome). Only what is visible is drawn, so a
// trace of a million events stays interactive.
"use strict";

const ROW = 18, AXIS = 22, LABEL = 92;
const OUTCOME_COLOUR = ["#2e9e5b", "#d33b3b", "#e59a1c"];  // ok, fail, unknown
const OUTCOME_NAME = ["ok", "fail", "unknown"];
const FAULT_COLOUR = {
  partition: "rgba(120,90,220,0.20)", partition_oneway: "rgba(160,90,220,0.20)",
  crash: "rgba(60,60,60,0.28)", core_stall: "rgba(230,140,30,0.28)",
  disk_full: "rgba(30,140,200,0.22)", clock_skew: "rgba(200,60,140,0.20)",
  disk_corrupt: "rgba(200,40,40,0.9)", reset: "rgba(200,40,40,0.9)",
};

function fmtTime(ns) {
  const trim = (x, digits) => x.toFixed(digits).replace(/\.?0+$/, "");
  if (Math.abs(ns) >= 1e9) return trim(ns / 1e9, 6) + " s";
  if (Math.abs(ns) >= 1e6) return trim(ns / 1e6, 3) + " ms";
  if (Math.abs(ns) >= 1e3) return trim(ns / 1e3, 3) + " µs";
  return Math.round(ns) + " ns";
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

// One trace's events and operations, unpacked into typed arrays.
class TraceModel {
  constructor(d) {
    this.d = d;
    const n = d.ev.dt.length;
    this.n = n;
    this.t = new Float64Array(n);
    let t = 0;
    for (let i = 0; i < n; ++i) { t += d.ev.dt[i]; this.t[i] = t; }
    this.lane = Int32Array.from(d.ev.lane);
    this.kind = Int32Array.from(d.ev.kind);
    this.text = Int32Array.from(d.ev.text);
    this.end = Math.max(d.end_ns || 0, n ? this.t[n - 1] : 0, 1);
    this.buggifyKind = d.kinds.indexOf("Buggify");
    this.isError = new Uint8Array(n);
    for (const i of d.errors) this.isError[i] = 1;
    const o = d.ops;
    this.ops = o.client.length;
    this.opOfEvent = new Map();
    for (let k = 0; k < this.ops; ++k) this.opOfEvent.set(o.ev[k], k);
    this.clients = [...new Set(o.client)].sort((a, b) => a - b);
    // Rows: world, each node core, each client.
    this.rows = d.lanes.map((name, i) => ({ label: name, lane: i }));
    this.rowOfLane = new Int32Array(d.lanes.length);
    this.rows.forEach((r, i) => { this.rowOfLane[r.lane] = i; });
    this.rowOfClient = new Map();
    for (const c of this.clients) {
      this.rowOfClient.set(c, this.rows.length);
      this.rows.push({ label: "client " + c, client: c });
    }
    this.faultStarts = d.faults.map(f => f.start).sort((a, b) => a - b);
  }
  nodeOfLane(lane) {
    const name = this.d.lanes[lane];
    const slash = name.indexOf("/");
    return slash < 0 ? name : name.slice(0, slash);
  }
  // The first event at or after time `t`.
  lowerBound(t) {
    let lo = 0, hi = this.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.t[m] < t) lo = m + 1; else hi = m; }
    return lo;
  }
  describe(i) {
    const d = this.d;
    return "#" + i + "  t=" + fmtTime(this.t[i]) + "  " + d.lanes[this.lane[i]] + "  " +
           d.kinds[this.kind[i]] + " " + d.texts[this.text[i]];
  }
}

// The state every timeline shares: the visible window, the selection, the filter.
const view = { t0: 0, t1: 1, selected: null, filter: null, highlightKeys: new Set(), timelines: [] };

class Timeline {
  constructor(model, container, title) {
    this.m = model;
    this.box = el("div", { class: "timeline" });
    if (title) this.box.appendChild(el("h2", {}, title));
    this.canvas = el("canvas");
    this.box.appendChild(this.canvas);
    container.appendChild(this.box);
    this.stats = { bars: 0, bands: 0, marks: 0, highlighted: 0 };
    this.bindMouse();
  }
  x(t, w) { return LABEL + (t - view.t0) / (view.t1 - view.t0) * (w - LABEL); }
  tAt(px, w) { return view.t0 + (px - LABEL) / (w - LABEL) * (view.t1 - view.t0); }
  faultRows(f) {
    const rows = [];
    const m = this.m;
    m.d.lanes.forEach((name, lane) => {
      const node = m.nodeOfLane(lane);
      const hit = f.nodes.some(id => node === "n" + id) || (f.to || []).some(id => node === "n" + id);
      const core = name.slice(name.indexOf("/c") + 2);
      if (hit && (f.kind !== "core_stall" || String(f.core) === core)) rows.push(m.rowOfLane[lane]);
    });
    return rows;
  }
  draw() {
    const m = this.m, c = this.canvas;
    const w = Math.max(300, c.clientWidth || 900);
    const h = AXIS + m.rows.length * ROW + 4;
    const ratio = window.devicePixelRatio || 1;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio); c.height = Math.round(h * ratio); c.style.height = h + "px";
    }
    const g = c.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";
    const st = { bars: 0, bands: 0, marks: 0, highlighted: 0 };
    // Row stripes and labels.
    m.rows.forEach((r, i) => {
      const y = AXIS + i * ROW;
      g.fillStyle = i % 2 ? "#f6f8fa" : "#ffffff";
      g.fillRect(0, y, w, ROW);
      g.fillStyle = "#46505a";
      g.fillText(r.label, 4, y + 13);
    });
    this.drawAxis(g, w);
    g.save();
    g.beginPath(); g.rect(LABEL, 0, w - LABEL, h); g.clip();
    // Fault spans, under everything else.
    for (const f of m.d.faults) {
      const x0 = this.x(f.start, w), x1 = this.x(f.end, w);
      if (x1 < LABEL || x0 > w) continue;
      const instant = f.end <= f.start;
      g.fillStyle = FAULT_COLOUR[f.kind] || "rgba(120,120,120,0.2)";
      for (const r of this.faultRows(f)) {
        const y = AXIS + r * ROW;
        if (instant) g.fillRect(x0 - 1, y, 3, ROW);
        else g.fillRect(x0, y + 1, Math.max(2, x1 - x0), ROW - 2);
        st.bands++;
      }
      if (!instant && x1 - x0 > 40) {
        const rows = this.faultRows(f);
        if (rows.length) {
          g.fillStyle = "#3b2a70";
          g.fillText(f.label, Math.max(x0, LABEL) + 3, AXIS + rows[0] * ROW + 12);
        }
      }
    }
    // Events: at most one tick per pixel column and lane, visible range only.
    const i0 = m.lowerBound(view.t0), i1 = m.lowerBound(view.t1 + 1);
    const last = new Float64Array(m.d.lanes.length).fill(-1);
    const f = view.filter;
    for (let i = i0; i < i1; ++i) {
      if (m.opOfEvent.has(i)) continue;  // drawn as its bar
      const lane = m.lane[i];
      const px = Math.floor(this.x(m.t[i], w));
      const err = m.isError[i], bug = m.kind[i] === m.buggifyKind;
      if (px === last[lane] && !err && !bug) continue;
      last[lane] = px;
      const y = AXIS + m.rowOfLane[lane] * ROW;
      const dim = f && !f.match(m, i);
      if (err) {
        g.fillStyle = "#d00"; g.fillRect(px - 1, y, 3, ROW); st.marks++;
      } else if (bug) {
        g.fillStyle = dim ? "#d9cdf0" : "#7b3fd0";
        g.beginPath(); g.moveTo(px, y + 3); g.lineTo(px - 4, y + 12); g.lineTo(px + 4, y + 12); g.fill();
        st.marks++;
      } else {
        g.fillStyle = dim ? "#e3e7eb" : "#59636e";
        g.fillRect(px, y + 4, 1, ROW - 8);
      }
    }
    // Client operations as bars.
    const o = m.d.ops;
    const lastBar = new Map();  // row -> the pixel its last narrow bar covered
    for (let k = 0; k < m.ops; ++k) {
      if (o.end[k] < view.t0 || o.start[k] > view.t1) continue;
      const x0 = this.x(o.start[k], w), x1 = Math.max(x0 + 2, this.x(o.end[k], w));
      const row = m.rowOfClient.get(o.client[k]);
      const y = AXIS + row * ROW;
      if (x1 - x0 <= 2 && !o.outcome[k]) {
        const px = Math.floor(x0);
        if (lastBar.get(row) === px) continue;
        lastBar.set(row, px);
      }
      const dim = f && !f.match(m, o.ev[k]);
      g.fillStyle = dim ? "#e3e7eb" : OUTCOME_COLOUR[o.outcome[k]];
      g.fillRect(x0, y + 3, x1 - x0, ROW - 6);
      st.bars++;
      const key = o.key[k] >= 0 ? m.d.keys[o.key[k]] : null;
      if (key !== null && view.highlightKeys.has(key)) {
        g.strokeStyle = "#111"; g.lineWidth = 1.5; g.strokeRect(x0 - 1, y + 2, x1 - x0 + 2, ROW - 4);
        st.highlighted++;
      }
    }
    // The failure point and the selection.
    const fail = m.d.failure;
    if (fail) {
      const px = this.x(fail.at, w);
      g.strokeStyle = "#d00"; g.lineWidth = 2; g.setLineDash([5, 3]);
      g.beginPath(); g.moveTo(px, AXIS); g.lineTo(px, h); g.stroke(); g.setLineDash([]);
    }
    if (m.divergeAt !== undefined) {
      const px = this.x(m.divergeAt, w);
      g.strokeStyle = "#c80"; g.lineWidth = 2;
      g.beginPath(); g.moveTo(px, AXIS); g.lineTo(px, h); g.stroke();
    }
    if (view.selected && view.selected.tl === this) {
      const i = view.selected.i;
      const k = m.opOfEvent.get(i);
      g.strokeStyle = "#1a6fe0"; g.lineWidth = 2;
      if (k !== undefined) {
        const x0 = this.x(o.start[k], w), x1 = Math.max(x0 + 2, this.x(o.end[k], w));
        const y = AXIS + m.rowOfClient.get(o.client[k]) * ROW;
        g.strokeRect(x0 - 2, y + 1, x1 - x0 + 4, ROW - 2);
      } else {
        const px = this.x(m.t[i], w), y = AXIS + m.rowOfLane[m.lane[i]] * ROW;
        g.strokeRect(px - 4, y, 8, ROW);
      }
    }
    g.restore();
    this.stats = st;
  }
  drawAxis(g, w) {
    const span = view.t1 - view.t0;
    let step = Math.pow(10, Math.floor(Math.log10(span / 6)));
    for (const mul of [2, 5, 10]) { if (span / step > 10) step *= mul / (mul === 2 ? 1 : mul === 5 ? 2 : 5); }
    g.fillStyle = "#46505a";
    g.strokeStyle = "#dde3e8";
    g.lineWidth = 1;
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const px = this.x(t, w);
      g.beginPath(); g.moveTo(px, AXIS - 4); g.lineTo(px, AXIS + this.m.rows.length * ROW); g.stroke();
      g.fillText(fmtTime(t), px + 2, 12);
    }
  }
  // What is under the pointer: an operation's event, else the nearest event in the row, else a fault.
  hit(px, py) {
    const m = this.m, w = this.canvas.clientWidth;
    const row = Math.floor((py - AXIS) / ROW);
    if (row < 0 || row >= m.rows.length || px < LABEL) return null;
    const r = m.rows[row];
    const t = this.tAt(px, w), slack = 4 * (view.t1 - view.t0) / (w - LABEL);
    if (r.client !== undefined) {
      const o = m.d.ops;
      let best = null;
      for (let k = 0; k < m.ops; ++k) {
        if (o.client[k] !== r.client || o.start[k] > t + slack || o.end[k] < t - slack) continue;
        best = o.ev[k];
      }
      return best === null ? null : { event: best };
    }
    let best = -1, bestD = Infinity;
    for (let i = m.lowerBound(t - slack); i < m.n && m.t[i] <= t + slack; ++i) {
      if (m.lane[i] !== r.lane) continue;
      const d = Math.abs(m.t[i] - t);
      if (d < bestD) { bestD = d; best = i; }
    }
    if (best >= 0) return { event: best };
    for (const f of m.d.faults) {
      if (t >= f.start - slack && t <= Math.max(f.end, f.start) + slack && this.faultRows(f).includes(row)) {
        return { fault: f };
      }
    }
    return null;
  }
  bindMouse() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("wheel", e => {
      e.preventDefault();
      const w = c.clientWidth, t = this.tAt(e.offsetX, w);
      zoom(e.deltaY < 0 ? 1 / 1.25 : 1.25, t);
    }, { passive: false });
    c.addEventListener("mousedown", e => { drag = { x: e.offsetX, t0: view.t0, t1: view.t1, moved: false }; });
    window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); });
    c.addEventListener("mousemove", e => {
      if (!drag || !(e.buttons & 1)) return;
      const dx = e.offsetX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const dt = dx / (c.clientWidth - LABEL) * (drag.t1 - drag.t0);
      setView(drag.t0 - dt, drag.t1 - dt);
    });
    c.addEventListener("click", e => {
      if (drag && drag.moved) return;
      const h = this.hit(e.offsetX, e.offsetY);
      if (h && h.event !== undefined) select(this, h.event, false);
      else if (h && h.fault) showFault(this, h.fault);
    });
  }
}

function redraw() { for (const tl of view.timelines) tl.draw(); publish(); }

function setView(t0, t1) {
  const end = Math.max(...view.timelines.map(tl => tl.m.end));
  const span = Math.min(Math.max(t1 - t0, 1000), end * 1.2 + 1000);
  t0 = Math.max(-end * 0.05, Math.min(t0, end * 1.05 - span));
  view.t0 = t0; view.t1 = t0 + span;
  redraw();
}
function zoom(factor, at) {
  if (at === undefined) at = (view.t0 + view.t1) / 2;
  setView(at - (at - view.t0) * factor, at + (view.t1 - at) * factor);
}
function fit() {
  const end = Math.max(...view.timelines.map(tl => tl.m.end));
  setView(-end * 0.01, end * 1.01);
}
function centre(t) {
  if (t >= view.t0 && t <= view.t1) return;
  const half = (view.t1 - view.t0) / 2;
  setView(t - half, t + half);
}

// --- the event list (virtual: only the rows in sight exist) and the details pane
const list = { tl: null, rows: null, box: null };
function buildList(tl) {
  list.tl = tl;
  list.box = document.getElementById("list");
  list.box.innerHTML = "";
  list.spacer = el("div", { style: "position:relative" });
  list.box.appendChild(list.spacer);
  list.box.addEventListener("scroll", renderList);
  applyFilter();
}
function renderList() {
  const m = list.tl.m, rows = list.rows, box = list.box;
  const first = Math.max(0, Math.floor(box.scrollTop / 18) - 5);
  const count = Math.ceil(box.clientHeight / 18) + 10;
  list.spacer.innerHTML = "";
  list.spacer.style.height = rows.length * 18 + "px";
  for (let r = first; r < Math.min(rows.length, first + count); ++r) {
    const i = rows[r];
    const kind = m.d.kinds[m.kind[i]];
    let cls = "row";
    if (m.isError[i]) cls += " err";
    if (kind.startsWith("SimPartition") || kind === "SimNodeCrash" || kind === "SimReset" || kind === "SimHeal") cls += " fault";
    if (view.selected && view.selected.tl === list.tl && view.selected.i === i) cls += " sel";
    const row = el("div", { class: cls, style: "top:" + r * 18 + "px", "data-event": i }, m.describe(i));
    row.addEventListener("click", () => select(list.tl, i, true));
    list.spacer.appendChild(row);
  }
}
function scrollListTo(i) {
  const rows = list.rows;
  let lo = 0, hi = rows.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (rows[mid] < i) lo = mid + 1; else hi = mid; }
  if (lo < rows.length && rows[lo] === i) {
    const top = lo * 18;
    if (top < list.box.scrollTop || top > list.box.scrollTop + list.box.clientHeight - 18) {
      list.box.scrollTop = Math.max(0, top - list.box.clientHeight / 2);
    }
  }
  renderList();
}
function select(tl, i, fromList) {
  view.selected = { tl, i };
  const m = tl.m, d = m.d;
  let text = m.describe(i) + "\n";
  const k = m.opOfEvent.get(i);
  if (k !== undefined) {
    const o = d.ops;
    text += "\noperation of client " + o.client[k] + ": " + OUTCOME_NAME[o.outcome[k]] +
            "\n  invoked   " + fmtTime(o.start[k]) + "\n  completed " + fmtTime(o.end[k]) +
            "\n  took      " + fmtTime(o.end[k] - o.start[k]);
    if (o.key[k] >= 0) text += "\n  key       " + d.keys[o.key[k]];
  }
  const active = d.faults.filter(f => m.t[i] >= f.start && m.t[i] <= Math.max(f.end, f.start));
  if (active.length) text += "\n\nunder faults:\n" + active.map(f => "  " + f.label).join("\n");
  text += "\n\nplace in the event list: " + (i + 1) + " of " + m.n;
  document.getElementById("details").textContent = text;
  if (!fromList && tl === list.tl) scrollListTo(i); else renderList();
  centre(m.t[i]);
  redraw();
}
function showFault(tl, f) {
  document.getElementById("details").textContent =
    "fault: " + f.label + "\n  from " + fmtTime(f.start) + "\n  to   " +
    (f.end > f.start ? fmtTime(f.end) : "(an instant)") + "\n  nodes " + f.nodes.join(", ");
}

// --- filters: node, key, event kind, text (case-insensitive)
function readFilter() {
  const node = document.getElementById("f-node").value;
  const key = document.getElementById("f-key").value.trim();
  const kind = document.getElementById("f-kind").value;
  const text = document.getElementById("f-text").value.trim().toLowerCase();
  if (!node && !key && !kind && !text) return null;
  return {
    node, key, kind, text,
    match(m, i) {
      const d = m.d;
      if (node) {
        const k = m.opOfEvent.get(i);
        const ok = node === "clients" ? k !== undefined : m.nodeOfLane(m.lane[i]) === node;
        if (!ok) return false;
      }
      if (kind && d.kinds[m.kind[i]] !== kind) return false;
      if (key) {
        const k = m.opOfEvent.get(i);
        const opKey = k !== undefined && d.ops.key[k] >= 0 ? d.keys[d.ops.key[k]] : null;
        if (opKey !== key && !d.texts[m.text[i]].includes('"' + key + '"')) return false;
      }
      if (text && !(d.kinds[m.kind[i]] + " " + d.texts[m.text[i]]).toLowerCase().includes(text)) return false;
      return true;
    },
  };
}
function applyFilter() {
  view.filter = readFilter();
  const m = list.tl.m;
  const out = [];
  for (let i = 0; i < m.n; ++i) if (!view.filter || view.filter.match(m, i)) out.push(i);
  list.rows = Int32Array.from(out);
  document.getElementById("shown").textContent = out.length + " of " + m.n + " events";
  renderList();
  redraw();
}

// --- jumps: the next error (or the failure), the next fault, the next event the filter shows
function cursorTime() {
  return view.selected ? view.selected.tl.m.t[view.selected.i] : view.t0;
}
function nextError(dir) {
  const tl = list.tl, m = tl.m, now = cursorTime();
  const marks = m.d.errors.slice();
  if (m.d.failure && m.d.failure.event >= 0) marks.push(m.d.failure.event);
  marks.sort((a, b) => a - b);
  const cur = view.selected ? view.selected.i : -1;
  const next = dir > 0 ? marks.find(i => i > cur && m.t[i] >= now) : marks.reverse().find(i => i < cur);
  if (next !== undefined) select(tl, next, false);
}
function nextFault(dir) {
  const m = list.tl.m, now = cursorTime();
  const starts = m.faultStarts;
  const t = dir > 0 ? starts.find(s => s > now + 1) : starts.slice().reverse().find(s => s < now - 1);
  if (t === undefined) return;
  const i = Math.min(m.n - 1, m.lowerBound(t));
  select(list.tl, i, false);
  const span = view.t1 - view.t0;
  setView(t - span * 0.2, t + span * 0.8);
}
function nextShown(dir) {
  const rows = list.rows;
  if (!rows.length) return;
  const cur = view.selected ? view.selected.i : -1;
  let r = 0;  // the first listed event after the selection
  while (r < rows.length && rows[r] <= cur) ++r;
  if (dir > 0 && r < rows.length) select(list.tl, rows[r], false);
  const before = r > 0 && rows[r - 1] === cur ? r - 2 : r - 1;
  if (dir < 0 && before >= 0) select(list.tl, rows[before], false);
}

// --- the linearizability window, drawn as Porcupine draws it: a row per client, each
// operation a bar with its arguments and result, the longest linearization numbered, and the
// point where no order works marked.
function drawWindow(win, box) {
  box.appendChild(el("h2", {}, "key " + win.key + ": no order of these operations works"));
  const lo = Math.min(...win.ops.map(o => o.start));
  const hi = Math.max(...win.ops.map(o => (o.end >= 0 ? o.end : o.start)), lo + 1);
  // A row per client; a history whose every operation has its own process is packed instead
  // (an operation goes in the first row free by its invocation).
  const procs = [...new Set(win.ops.map(o => o.process))].sort((a, b) => a - b);
  const packed = procs.length > 8 && procs.length === win.ops.length;
  const rowOf = new Map(), rowEnds = [];
  for (const o of win.ops.slice().sort((a, b) => a.start - b.start)) {
    let r = packed ? rowEnds.findIndex(end => end < o.start) : procs.indexOf(o.process);
    if (packed && r < 0) { r = rowEnds.length; rowEnds.push(0); }
    if (packed) rowEnds[r] = o.end >= 0 ? o.end : Infinity;
    rowOf.set(o, r);
  }
  const rows = packed ? rowEnds.length : procs.length;
  const W = Math.max(600, box.clientWidth || 900), H = 26 + rows * 34;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("height", H);
  const X = t => (packed ? 10 : 90) + (t - lo) / (hi - lo) * (W - (packed ? 30 : 110));
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  if (!packed) procs.forEach((p, r) => add("text", { x: 4, y: 30 + r * 34, "font-size": 11 }, "client " + p));
  let culpritEnd = null;
  for (const o of win.ops) {
    const r = rowOf.get(o), y = 16 + r * 34;
    const x0 = X(o.start), x1 = o.end >= 0 ? Math.max(x0 + 3, X(o.end)) : W - 10;
    const fill = o.culprit ? "#f3b0b0" : o.order > 0 ? "#cfe8d6" : "#e6e9ed";
    const rect = add("rect", { x: x0, y, width: x1 - x0, height: 22, rx: 3, fill,
                               stroke: o.culprit ? "#d00" : "#7a8690", "stroke-width": o.culprit ? 2 : 1,
                               "stroke-dasharray": o.end >= 0 ? "" : "4 3", class: "window-op" });
    add("title", {}, o.op + (o.state ? "  => " + o.state : ""));
    rect.appendChild(svg.lastChild);
    add("text", { x: x0 + 3, y: y + 15, "font-size": 11 }, (o.order > 0 ? "#" + o.order + " " : "") + o.op);
    if (o.culprit && o.end >= 0) culpritEnd = X(o.end);
  }
  if (culpritEnd !== null) {
    add("line", { x1: culpritEnd, y1: 4, x2: culpritEnd, y2: H, stroke: "#d00", "stroke-width": 2,
                  "stroke-dasharray": "5 3", class: "no-order" });
    const right = culpritEnd > W - 160;
    add("text", { x: right ? culpritEnd - 4 : culpritEnd + 4, y: 12, "font-size": 11, fill: "#d00",
                  "text-anchor": right ? "end" : "start" }, "no order works past here");
  }
  box.appendChild(svg);
  const lin = win.ops.filter(o => o.order > 0).sort((a, b) => a.order - b.order);
  box.appendChild(el("div", { class: "linearized" },
    "starts as " + win.initial.join(" or ") + "; longest linearization found (" + lin.length + "): " +
    (lin.length ? lin.map(o => o.op + " => " + o.state).join(", ") : "none") +
    (win.note ? " — " + win.note : "")));
}

// --- the DOM facts a test (or a user's script) reads once the page has run
function publish() {
  const b = document.body.dataset;
  const sum = k => view.timelines.reduce((a, tl) => a + tl.stats[k], 0);
  b.lanes = view.timelines.reduce((a, tl) => a + tl.m.rows.length, 0);
  b.bars = sum("bars"); b.bands = sum("bands"); b.marks = sum("marks"); b.highlighted = sum("highlighted");
  b.shown = list.rows ? list.rows.length : 0;
  b.namedKeys = view.highlightKeys.size;
  b.selected = view.selected ? view.selected.i : -1;
  b.view = Math.round(view.t0) + ".." + Math.round(view.t1);
}

function header(model, box) {
  const h = model.d.header;
  const hd = el("header");
  const title = el("h1", {}, h.scenario + " seed " + h.seed + " — ");
  title.appendChild(el("span", { class: h.outcome === "PASS" ? "pass" : "fail" },
                       h.outcome === "PASS" ? "PASS" : "FAIL " + h.property));
  hd.appendChild(title);
  hd.appendChild(el("div", { class: "meta" }, "build " + h.build + " · trace hash " + h.hash + " · " +
                    h.events + " events · " + fmtTime(model.end) + " simulated" + (h.branch ? " · " + h.branch : "")));
  const det = el("details");
  det.appendChild(el("summary", {}, "fault plan"));
  det.appendChild(el("pre", {}, h.plan));
  hd.appendChild(det);
  box.appendChild(hd);
}

function controls(model) {
  const box = document.getElementById("controls");
  const nodes = [...new Set(model.d.lanes.map((_, i) => model.nodeOfLane(i)))];
  const sel = (id, label, options) => {
    const s = el("select", { id });
    s.appendChild(el("option", { value: "" }, label));
    for (const o of options) s.appendChild(el("option", { value: o }, o));
    s.addEventListener("change", applyFilter);
    box.appendChild(s);
  };
  sel("f-node", "every node", nodes.concat(model.ops ? ["clients"] : []));
  sel("f-kind", "every event kind", model.d.kinds.slice().sort());
  for (const [id, ph] of [["f-key", "key"], ["f-text", "text"]]) {
    const i = el("input", { id, placeholder: ph, type: "search" });
    i.addEventListener("input", applyFilter);
    box.appendChild(i);
  }
  const button = (label, fn, title) => {
    const b = el("button", { title: title || "" }, label);
    b.addEventListener("click", fn);
    box.appendChild(b);
  };
  button("fit", fit, "0");
  button("+", () => zoom(1 / 1.6), "+");
  button("−", () => zoom(1.6), "-");
  button("next error", () => nextError(1), "e");
  button("next fault", () => nextFault(1), "f");
  box.appendChild(el("span", { id: "shown" }));
  box.appendChild(el("span", { class: "help" },
    "keys: e/E next/previous error · f/F fault · n/p next/previous listed event · +/− zoom · ←/→ pan · 0 fit · / text"));
  const legend = el("span", { class: "legend" });
  const sw = (colour, label) => { const s = el("span"); const i = el("i", { style: "background:" + colour }); s.appendChild(i); s.appendChild(document.createTextNode(label)); legend.appendChild(s); };
  sw(OUTCOME_COLOUR[0], "ok"); sw(OUTCOME_COLOUR[1], "fail"); sw(OUTCOME_COLOUR[2], "unknown");
  sw(FAULT_COLOUR.partition, "partition"); sw(FAULT_COLOUR.crash, "down"); sw(FAULT_COLOUR.core_stall, "stall");
  sw("#7b3fd0", "BUGGIFY"); sw("#d00", "error");
  box.appendChild(legend);
}

function keys() {
  window.addEventListener("keydown", e => {
    if (e.target.tagName === "INPUT") { if (e.key === "Escape") e.target.blur(); return; }
    const span = view.t1 - view.t0;
    switch (e.key) {
      case "e": nextError(1); break;
      case "E": nextError(-1); break;
      case "f": nextFault(1); break;
      case "F": nextFault(-1); break;
      case "n": nextShown(1); break;
      case "p": nextShown(-1); break;
      case "+": case "=": zoom(1 / 1.6); break;
      case "-": zoom(1.6); break;
      case "0": fit(); break;
      case "ArrowLeft": setView(view.t0 - span * 0.2, view.t1 - span * 0.2); break;
      case "ArrowRight": setView(view.t0 + span * 0.2, view.t1 + span * 0.2); break;
      case "/": document.getElementById("f-text").focus(); e.preventDefault(); break;
      default: return;
    }
  });
}

// Filters from the address: #node=n0&key=k1&kind=KvClientOp&text=evict
function filterFromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const [k, v] of p) {
    const e = document.getElementById("f-" + k);
    if (e) e.value = v;
  }
}

// Opens the view on the failure: the operations on the keys it names, else its last moments.
function openOnFailure(model) {
  const fail = model.d.failure;
  if (!fail) { fit(); return; }
  for (const k of fail.keys) view.highlightKeys.add(k);
  const o = model.d.ops;
  let lo = Infinity, hi = -Infinity;
  if (fail.window && fail.window.ops.length) {
    for (const op of fail.window.ops) { lo = Math.min(lo, op.start); hi = Math.max(hi, op.end >= 0 ? op.end : op.start); }
  } else {
    const named = [];
    for (let k = 0; k < model.ops; ++k) {
      if (o.key[k] >= 0 && view.highlightKeys.has(model.d.keys[o.key[k]])) named.push(k);
    }
    for (const k of named.slice(-12)) { lo = Math.min(lo, o.start[k]); hi = Math.max(hi, o.end[k]); }
  }
  // Nothing named (a check at the end of the run, say): the whole run, the failure at its end.
  if (!(hi > lo)) { lo = 0; hi = model.end; }
  const pad = (hi - lo) * 0.08 + 1000;
  setView(lo - pad, Math.max(hi, fail.at) + pad);
  if (fail.event >= 0) select(list.tl, fail.event, false);
}

function main(data, started) {
  const models = data.traces.map(t => new TraceModel(t));
  const top = document.getElementById("top");
  header(models[0], top);
  const f = models[0].d.failure;
  if (f) {
    const box = document.getElementById("failure");
    box.appendChild(el("b", {}, "property " + models[0].d.header.property + " failed"));
    box.appendChild(el("pre", {}, models[0].d.header.detail));
    box.hidden = false;
  }
  if (data.divergence) {
    const box = document.getElementById("divergence");
    box.appendChild(el("b", {}, data.divergence.title));
    box.appendChild(el("pre", {}, data.divergence.text));
    box.hidden = false;
    models[0].divergeAt = data.divergence.a_ns;
    models[1].divergeAt = data.divergence.b_ns;
  }
  controls(models[0]);
  const area = document.getElementById("timelines");
  models.forEach((m, i) => view.timelines.push(new Timeline(m, area, models.length > 1 ? m.d.label : "")));
  if (f && f.window) drawWindow(f.window, document.getElementById("window"));
  buildList(view.timelines[0]);
  filterFromHash();
  keys();
  window.addEventListener("resize", redraw);
  applyFilter();
  if (data.divergence) {
    const t = Math.min(data.divergence.a_ns, data.divergence.b_ns);
    setView(t - 5e6, t + 5e6);
    if (data.divergence.a >= 0) select(view.timelines[0], data.divergence.a, false);
  } else {
    openOnFailure(models[0]);
  }
  // #view=all: the whole run, whatever the failure names (its keys stay outlined).
  if (new URLSearchParams(location.hash.slice(1)).get("view") === "all") fit();
  document.body.dataset.renderMs = Math.round(performance.now() - started);
  // From the start of navigation: reading the file and the page included.
  document.body.dataset.openMs = Math.round(performance.now());
  document.body.dataset.ready = "1";
}

// A page of one linearizability check of a recorded history (no trace): the window only.
function mainHistory(data) {
  const top = document.getElementById("top");
  const hd = el("header");
  hd.appendChild(el("h1", {}, data.history.title));
  hd.appendChild(el("div", { class: "meta" }, data.history.summary));
  top.appendChild(hd);
  if (data.history.window) drawWindow(data.history.window, document.getElementById("window"));
  if (data.history.detail) {
    const box = document.getElementById("failure");
    box.appendChild(el("pre", {}, data.history.detail));
    box.hidden = false;
  }
  document.body.dataset.ready = "1";
}

window.addEventListener("error", e => { document.body.dataset.error = String(e.message); });
window.addEventListener("DOMContentLoaded", () => {
  try {
    const started = performance.now();
    const holder = document.getElementById("data");
    const data = JSON.parse(holder.textContent);
    holder.remove();  // the parsed copy is all the page needs (a large trace's text is big)
    if (data.mode === "history") mainHistory(data); else main(data, started);
  } catch (err) {
    document.body.dataset.error = String(err && err.stack || err);
    throw err;
  }
});
