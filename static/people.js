// Job page, "People": one row per tracked person (thumbnail, when they are seen), and for the
// selected person their angles over time as SVG charts (smoothed solid, as detected dashed), a
// cursor that follows the video, clicks and arrow keys that move the video, and a table of values.
// No library, no build step; the CSP allows no inline code, so everything is built here.
(function () {
  "use strict";
  const section = document.getElementById("people");
  if (!section) return;
  const SVG = "http://www.w3.org/2000/svg";
  const video = document.getElementById("result-video");
  const list = document.getElementById("people-list");
  const status = document.getElementById("people-status");
  const detail = document.getElementById("person-detail");
  const tableBody = document.querySelector("#person-table tbody");
  const CHART_HEIGHT = 130, PAD = {left: 46, right: 10, top: 10, bottom: 22};
  let doc = null, current = null, charts = [], lastCursor = null;

  function el(name, attrs, parent, text) {
    const node = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function svgEl(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function clock(seconds) {
    if (!isFinite(seconds)) return "–";
    const m = Math.floor(seconds / 60), s = seconds - 60 * m;
    return m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
  }
  function degrees(value) { return value === null || value === undefined ? "–" : value.toFixed(1) + "°"; }
  // The colour the video draws this track ID in (pipeline.frames.track_color: golden-ratio hues).
  function trackColor(id) {
    const h = (((id - 1) % 32) * 0.618033988749895) % 1, s = 0.85, v = 0.95;
    const i = Math.floor(h * 6), f = h * 6 - i, p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
    const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
    return "rgb(" + [r, g, b].map((c) => Math.round(c * 255)).join(",") + ")";
  }
  // Video time <-> the exports' time_s (the annotated video starts at the processed range's start).
  function videoTime() { return video ? video.currentTime + doc.start_s : doc.start_s; }
  function seek(timeS) {
    if (!video) return;
    const target = Math.max(0, timeS - doc.start_s);
    video.currentTime = isFinite(video.duration) ? Math.min(target, video.duration) : target;
    update(true);
  }
  function duration() {
    if (video && isFinite(video.duration) && video.duration > 0) return video.duration;
    return Math.max(1 / doc.fps, ...doc.people.map((p) => p.last_s + 1 / doc.fps - doc.start_s));
  }

  // A thumbnail: the person's box cropped out of a screenshot, or their skeleton drawn when no
  // screenshot shows them.
  function thumbnail(person) {
    const svg = svgEl("svg", {class: "person-thumb", "aria-hidden": "true", focusable: "false",
                              preserveAspectRatio: "xMidYMid slice"});
    const source = person.thumbnail ? person.thumbnail.box : person.pose.box;
    let [x1, y1, x2, y2] = source;
    const w = x2 - x1, h = y2 - y1, pad = 0.12 * Math.max(w, h);
    x1 -= pad; y1 -= pad; x2 += pad; y2 += pad;
    const side = Math.max(x2 - x1, (y2 - y1) * 0.75);  // a 3:4 window around the box
    const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
    svg.setAttribute("viewBox", [cx - side / 2, cy - side * 2 / 3, side, side * 4 / 3].map((v) => v.toFixed(1)).join(" "));
    if (person.thumbnail) {
      svgEl("image", {href: person.thumbnail.url, x: 0, y: 0, width: doc.video.width, height: doc.video.height}, svg);
    } else {
      svg.classList.add("silhouette");
      const points = person.pose.keypoints;
      for (const [a, b] of doc.limbs) {
        if (points[a] && points[b]) {
          svgEl("line", {x1: points[a][0], y1: points[a][1], x2: points[b][0], y2: points[b][1],
                         stroke: trackColor(person.id), "stroke-width": side / 40, "stroke-linecap": "round"}, svg);
        }
      }
    }
    return svg;
  }

  function timeline(person, total) {
    const stretches = person.spans.length;
    const svg = svgEl("svg", {class: "timeline", viewBox: "0 0 1000 12", preserveAspectRatio: "none", role: "img",
      "aria-label": "Seen from " + clock(person.first_s - doc.start_s) + " to " + clock(person.last_s - doc.start_s) +
                    " in " + stretches + (stretches === 1 ? " stretch" : " stretches")});
    svgEl("rect", {x: 0, y: 0, width: 1000, height: 12, class: "timeline-bg"}, svg);
    for (const [a, b] of person.spans) {
      const x = ((a - doc.start_s) / total) * 1000, w = Math.max(2, ((b - a) / total) * 1000);
      svgEl("rect", {x: x.toFixed(1), y: 1, width: w.toFixed(1), height: 10, fill: trackColor(person.id),
                     class: "timeline-span"}, svg);
    }
    svgEl("line", {x1: 0, x2: 0, y1: 0, y2: 12, class: "timeline-cursor"}, svg);
    return svg;
  }

  function renderList() {
    list.textContent = "";
    const total = duration();
    for (const person of doc.people) {
      const item = el("li", {}, list);
      const chosen = current !== null && current.person.id === person.id;
      const button = el("button", {type: "button", class: "person-row", "aria-pressed": String(chosen),
                                   "data-id": String(person.id)}, item);
      button.appendChild(thumbnail(person));
      const text = el("span", {class: "person-text"}, button);
      const name = el("span", {class: "person-name"}, text);
      el("span", {class: "swatch", "aria-hidden": "true"}, name).style.background = trackColor(person.id);
      name.appendChild(document.createTextNode("Person " + person.id));
      el("span", {class: "person-meta"}, text, clock(person.first_s - doc.start_s) + "–" +
         clock(person.last_s - doc.start_s) + " · " + person.frames + " frames" +
         (person.reps && person.reps.count ? " · " + person.reps.count + " reps (" +
          person.reps.angle.replace("_", " ") + ")" : ""));
      text.appendChild(timeline(person, total));
      button.addEventListener("click", () => select(person));
    }
    status.textContent = doc.people.length === 0 ? "Nobody was tracked in this video." :
      doc.people.length + (doc.people.length === 1 ? " person" : " people") + " tracked. Choose one to see their angles.";
  }

  // Min and max per pixel column, so that a long video draws fast and keeps its peaks.
  function path(times, values, x, y, width) {
    const n = times.length, step = Math.max(1, Math.floor(n / (2 * width)));
    let d = "", pen = false;
    for (let i = 0; i < n; i += step) {
      let lo = null, hi = null, ilo = i, ihi = i;
      for (let j = i; j < Math.min(n, i + step); j++) {
        const v = values[j];
        if (v === null) continue;
        if (lo === null || v < lo) { lo = v; ilo = j; }
        if (hi === null || v > hi) { hi = v; ihi = j; }
      }
      if (lo === null) { pen = false; continue; }
      for (const j of ilo <= ihi ? [ilo, ihi] : [ihi, ilo]) {
        d += (pen ? "L" : "M") + x(times[j]).toFixed(1) + " " + y(values[j]).toFixed(1);
        pen = true;
        if (ilo === ihi) break;
      }
    }
    return d;
  }

  function chart(container, series, info, summary) {
    const smoothed = series.angles[info.name].smoothed, raw = series.angles[info.name].raw;
    const box = el("figure", {class: "chart"}, container);
    const caption = el("figcaption", {}, box);
    el("strong", {}, caption, info.label);
    caption.appendChild(document.createTextNode(" · 0° = " + info.zero + "; + = " + info.positive));
    const width = Math.max(260, box.clientWidth || 600);
    const all = smoothed.concat(raw).filter((v) => v !== null);
    const label = info.label + " over time: " + (summary.frames ? "from " + degrees(summary.min) + " to " +
      degrees(summary.max) + ", mean " + degrees(summary.mean) : "no values") + ". Arrow keys move the video.";
    const t0 = series.time_s[0], t1 = Math.max(series.time_s[series.time_s.length - 1], t0 + 1 / doc.fps);
    // A slider over the video's time: its value text says the angle at the cursor.
    const svg = svgEl("svg", {viewBox: "0 0 " + width + " " + CHART_HEIGHT, width: width, height: CHART_HEIGHT,
                              role: "slider", "aria-label": label, tabindex: "0", class: "chart-svg",
                              "aria-valuemin": (t0 - doc.start_s).toFixed(2),
                              "aria-valuemax": (t1 - doc.start_s).toFixed(2),
                              "aria-valuenow": (t0 - doc.start_s).toFixed(2)}, box);
    let lo = all.length ? Math.min(...all) : -10, hi = all.length ? Math.max(...all) : 10;
    if (hi - lo < 10) { const mid = (hi + lo) / 2; lo = mid - 5; hi = mid + 5; }
    const plotW = width - PAD.left - PAD.right, plotH = CHART_HEIGHT - PAD.top - PAD.bottom;
    const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
    const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * plotH;
    svgEl("rect", {x: PAD.left, y: PAD.top, width: plotW, height: plotH, class: "plot-bg"}, svg);
    if (lo < 0 && hi > 0) svgEl("line", {x1: PAD.left, x2: PAD.left + plotW, y1: y(0), y2: y(0), class: "zero-line"}, svg);
    for (const [v, anchor] of [[hi, "hanging"], [lo, "auto"]]) {
      const t = svgEl("text", {x: PAD.left - 4, y: y(v) + (anchor === "hanging" ? 2 : -2), "text-anchor": "end",
                               "dominant-baseline": anchor, class: "axis"}, svg);
      t.textContent = Math.round(v) + "°";
    }
    for (const [t, anchor] of [[t0, "start"], [t1, "end"]]) {
      const text = svgEl("text", {x: x(t), y: CHART_HEIGHT - 6, "text-anchor": anchor, class: "axis"}, svg);
      text.textContent = clock(t - doc.start_s);
    }
    // Repetitions counted on this angle (analysis.reps): a band per rep, numbered.
    const reps = (series.reps && series.reps.by_angle[info.name]) || [];
    if (reps.length) {
      const automatic = series.reps.angle === info.name;
      caption.appendChild(document.createTextNode(" · " + reps.length + (reps.length === 1 ? " rep" : " reps") +
                                                  (automatic ? " (counted on this angle)" : "")));
      if (automatic) box.classList.add("chart-reps");
    }
    for (const rep of reps) {
      const band = svgEl("rect", {x: x(rep.start_s).toFixed(1), y: PAD.top, class: "rep-band",
                                  width: Math.max(1, x(rep.end_s) - x(rep.start_s)).toFixed(1), height: plotH,
                                  "data-rep": String(rep.rep)}, svg);
      svgEl("title", {}, band).textContent = "Rep " + rep.rep + ": " + clock(rep.start_s - doc.start_s) + "–" +
        clock(rep.end_s - doc.start_s) + ", " + degrees(rep.min_degrees) + " to " + degrees(rep.max_degrees) +
        ", tempo " + rep.tempo + " s";
      const number = svgEl("text", {x: x(rep.turn_s).toFixed(1), y: PAD.top + 10, "text-anchor": "middle",
                                    class: "rep-number"}, svg);
      number.textContent = String(rep.rep);
    }
    svgEl("path", {d: path(series.time_s, raw, x, y, plotW), class: "line-raw"}, svg);
    svgEl("path", {d: path(series.time_s, smoothed, x, y, plotW), class: "line-smoothed"}, svg);
    const cursor = svgEl("line", {x1: -10, x2: -10, y1: PAD.top, y2: PAD.top + plotH, class: "cursor"}, svg);
    const timeAt = (clientX) => {
      const rect = svg.getBoundingClientRect();
      const px = ((clientX - rect.left) / rect.width) * width;
      return t0 + Math.min(1, Math.max(0, (px - PAD.left) / plotW)) * (t1 - t0);
    };
    svg.addEventListener("click", (event) => seek(timeAt(event.clientX)));
    svg.addEventListener("keydown", (event) => {
      const step = {ArrowLeft: -1 / doc.fps, ArrowRight: 1 / doc.fps, PageDown: -1, PageUp: 1}[event.key];
      if (step !== undefined) { event.preventDefault(); seek(Math.min(t1, Math.max(t0, videoTime() + step))); }
      if (event.key === "Home") { event.preventDefault(); seek(t0); }
      if (event.key === "End") { event.preventDefault(); seek(t1); }
    });
    return {cursor, x, t0, t1, svg, smoothed, raw};
  }

  function indexAt(times, t) {  // the sample at or just before t (-1 before the first)
    let a = 0, b = times.length - 1;
    if (!times.length || t < times[0] - 0.5 / doc.fps) return -1;
    while (a < b) { const m = (a + b + 1) >> 1; if (times[m] <= t + 1e-6) a = m; else b = m - 1; }
    return a;
  }

  function update(force) {
    if (!doc) return;
    const t = videoTime();
    if (!force && lastCursor !== null && Math.abs(t - lastCursor) < 1e-3) return;
    lastCursor = t;
    const total = duration();
    for (const line of list.querySelectorAll(".timeline-cursor")) {
      const x = (((t - doc.start_s) / total) * 1000).toFixed(1);
      line.setAttribute("x1", x); line.setAttribute("x2", x);
    }
    if (!current) return;
    const i = indexAt(current.series.time_s, t);
    const seen = i >= 0 && Math.abs(current.series.time_s[i] - t) < 1.5 / doc.fps;
    // pose3d.js draws this frame of the person's 3D pose (-1: not seen at this moment).
    section.dispatchEvent(new CustomEvent("person-frame", {detail: {index: seen ? i : -1}}));
    for (const c of charts) {
      const inside = t >= c.t0 - 1e-6 && t <= c.t1 + 1e-6;
      const x = inside ? c.x(t).toFixed(1) : -10;
      c.cursor.setAttribute("x1", x); c.cursor.setAttribute("x2", x);
      c.svg.setAttribute("aria-valuenow", (t - doc.start_s).toFixed(2));
      c.svg.setAttribute("aria-valuetext", clock(t - doc.start_s) + ": " + (seen ? degrees(c.smoothed[i]) +
        " (as detected " + degrees(c.raw[i]) + ")" : "not seen"));
    }
    document.getElementById("person-now").textContent = clock(t - doc.start_s);
    for (const row of tableBody.rows) {
      const values = current.series.angles[row.dataset.angle];
      row.cells[1].textContent = seen ? degrees(values.smoothed[i]) : "not seen";
      row.cells[2].textContent = seen ? degrees(values.raw[i]) : "–";
    }
  }

  function renderPerson(person, series) {
    current = {person, series};
    detail.hidden = false;
    document.getElementById("person-title").textContent = "Person " + person.id;
    const downloads = document.getElementById("person-downloads");
    downloads.textContent = "";
    const kinds = [["report", "Report (PDF)"], ["csv", "Angles (CSV)"], ["mot", "Angles for OpenSim (.mot)"],
                   ["trc", "Keypoints for OpenSim (.trc)"]];
    for (const [kind, label] of kinds) {
      if (person.downloads[kind]) {
        el("a", {class: "button button-secondary button-small", href: person.downloads[kind], download: "",
                 "data-kind": kind}, el("li", {}, downloads), label);
      }
    }
    const joints = document.getElementById("person-charts"), segments = document.getElementById("person-segment-charts");
    joints.textContent = ""; segments.textContent = "";
    drawnWidth = joints.clientWidth;
    charts = [];
    tableBody.textContent = "";
    document.getElementById("person-table-caption").textContent =
      "Person " + person.id + "'s angles in degrees (smoothed, and as detected)";
    for (const info of doc.angles) {
      const summary = person.angles[info.name];
      charts.push(Object.assign(chart(info.kind === "joint" ? joints : segments, series, info, summary), {name: info.name}));
      const row = el("tr", {"data-angle": info.name}, tableBody);
      el("th", {scope: "row"}, row, info.label);
      el("td", {}, row, "–"); el("td", {}, row, "–");
      for (const key of ["min", "max", "range", "mean"]) el("td", {}, row, degrees(summary[key]));
    }
    renderFacing(person);
    const missing = Object.keys(doc.unavailable);
    document.getElementById("person-conventions").textContent = "Angles follow Sports2D's conventions (docs/angles.md). " +
      (missing.length ? "Not available from this skeleton: " +
        missing.map((n) => n.replace("_", " ")).join(", ") + "." : "");
    // pose3d.js draws the 3D pose of a model with world coordinates (BlazePose).
    section.dispatchEvent(new CustomEvent("person-series", {detail: {doc, person, series}}));
    update(true);
  }

  // Which way the person faces over time (a strip per stretch), and the user's override: the
  // worker derives their angles again (POST .../facing) and the page reloads their series.
  const FACING_LABELS = {left: "facing left", right: "facing right", frontal: "facing the camera",
                         back: "turned away"};
  function renderFacing(person) {
    let box = document.getElementById("person-facing");
    if (!box) {
      box = el("div", {id: "person-facing", class: "person-facing"});
      document.getElementById("person-help").after(box);
    }
    box.textContent = "";
    const runs = person.facing_runs || [];
    const t0 = person.first_s, t1 = Math.max(person.last_s, t0 + 1 / doc.fps);
    const described = runs.map(([a, b, f]) => FACING_LABELS[f] + " " + clock(a - doc.start_s) + "–" +
                                clock(b - doc.start_s)).join(", ");
    const head = el("p", {class: "facing-text"}, box);
    el("strong", {}, head, "Facing: ");
    head.appendChild(document.createTextNode(described || "unknown"));
    if (person.facing_source === "override") head.appendChild(document.createTextNode(" (set by you)"));
    if (runs.some(([, , f]) => f === "frontal" || f === "back")) {
      el("p", {class: "help facing-note"}, box, "Facing the camera or turned away, the knee, hip, shoulder and " +
         "elbow angles (measured side-on) are less reliable: angles.csv flags them (less_reliable).");
    }
    const strip = svgEl("svg", {class: "facing-strip", viewBox: "0 0 1000 14", preserveAspectRatio: "none",
                                role: "img", "aria-label": "Facing over time: " + described}, box);
    for (const [a, b, f] of runs) {
      const x = ((a - t0) / (t1 - t0)) * 1000, w = Math.max(2, ((b - a + 1 / doc.fps) / (t1 - t0)) * 1000);
      const rect = svgEl("rect", {x: x.toFixed(1), y: 1, width: w.toFixed(1), height: 12, class: "facing-" + f,
                                  "data-facing": f}, strip);
      svgEl("title", {}, rect).textContent = FACING_LABELS[f];
    }
    const form = el("form", {class: "facing-form", "aria-label": "Set which way person " + person.id + " faces"}, box);
    const label = el("label", {for: "facing-choice"}, form, "Faces ");
    const choice = el("select", {id: "facing-choice", name: "facing"}, form);
    for (const [value, text] of [["auto", "decided frame by frame"], ["left", "left (mirrored)"], ["right", "right"],
                                 ["frontal", "the camera"], ["back", "away from the camera"]]) {
      const option = el("option", {value}, choice, text);
      if ((person.facing_override || "auto") === value) option.selected = true;
    }
    el("button", {type: "submit", class: "button button-secondary button-small"}, form, "Apply");
    const said = el("span", {class: "help", role: "status", id: "facing-status"}, form);
    label.title = "Angles are mirrored for a person facing left, so that a bent knee reads the same both ways.";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      said.textContent = "Deriving the angles again…";
      try {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const response = await fetch(person.facing_url, {method: "POST", body: JSON.stringify({facing: choice.value}),
          headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf}});
        const body = await response.json();
        if (!response.ok) throw new Error(body.error || response.statusText);
        doc.people = doc.people.map((p) => (p.id === body.id ? body : p));
        await select(body);
        document.getElementById("facing-status").textContent = "Angles updated: every download follows.";
      } catch (error) {
        said.textContent = "Could not set the facing: " + error.message;
      }
    });
  }

  async function select(person) {
    for (const button of list.querySelectorAll(".person-row")) {
      button.setAttribute("aria-pressed", String(button.dataset.id === String(person.id)));
    }
    status.textContent = "Loading person " + person.id + "'s angles…";
    try {
      const response = await fetch(person.series_url, {headers: {Accept: "application/json"}});
      if (!response.ok) throw new Error((await response.json()).error || response.statusText);
      renderPerson(person, await response.json());
      status.textContent = "Showing person " + person.id + ".";
    } catch (error) {
      status.textContent = "Could not load person " + person.id + ": " + error.message;
    }
  }

  function tick() {
    update(false);
    if (video && !video.paused) requestAnimationFrame(tick);
  }

  async function load() {
    try {
      const response = await fetch(section.dataset.api, {headers: {Accept: "application/json"}});
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      doc = body;
      renderList();
      update(true);
    } catch (error) {
      status.textContent = "Could not load the people: " + error.message;
    }
  }

  if (video) {
    video.addEventListener("timeupdate", () => update(false));
    video.addEventListener("seeked", () => update(true));
    video.addEventListener("pause", () => update(true));
    video.addEventListener("play", () => requestAnimationFrame(tick));
    video.addEventListener("loadedmetadata", () => { if (doc) { renderList(); update(true); } });
  }
  // Charts are drawn at their width in pixels: redraw when that changes (not on every resize: a
  // phone's address bar or a taller window changes only the height).
  let resizeTimer = null, drawnWidth = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const width = document.getElementById("person-charts").clientWidth;
      if (current && width !== drawnWidth) renderPerson(current.person, current.series);
    }, 200);
  });
  load();
})();
