// Job page of a multi-view job: each person's 3D angle curves (scene.json's "angles", written by
// pipeline/multiview_page.py on the scene's frames), one small SVG chart per angle, for the person
// chosen in the list. A red cursor follows the 3D scene's frame (multiview.js's "scene:frame"
// event); a click on a curve moves the scene's slider there.
(function () {
  "use strict";
  const scene = document.getElementById("scene3d");
  const section = document.getElementById("angles3d");
  if (!scene || !section) return;
  const SVG = "http://www.w3.org/2000/svg";
  const W = 600, H = 130, PAD = {left: 40, right: 8, top: 8, bottom: 20};
  const select = document.getElementById("angles3d-person");
  const charts = document.getElementById("angles3d-charts");
  const slider = document.getElementById("scene3d-frame");
  let doc = null, shown = [];

  function svgEl(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function chart(info, values) {
    const present = values.filter((v) => v !== null);
    const lo = Math.floor(Math.min(...present) / 10) * 10, hi = Math.max(lo + 10, Math.ceil(Math.max(...present) / 10) * 10);
    const n = values.length, plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    const x = (i) => PAD.left + (n > 1 ? i / (n - 1) : 0.5) * plotW;
    const y = (v) => PAD.top + (hi - v) / (hi - lo) * plotH;
    const figure = document.createElement("figure");
    figure.className = "chart";
    figure.dataset.angle = info.name;
    const caption = document.createElement("figcaption");
    const strong = document.createElement("strong");
    strong.textContent = info.label;
    const value = document.createElement("span");
    value.className = "angle-value";
    const meaning = document.createElement("small");
    meaning.textContent = info.zero ? `0° = ${info.zero}; positive = ${info.positive}` : "";
    caption.append(strong, " ", value, meaning);
    figure.appendChild(caption);
    const svg = svgEl("svg", {viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img",
                              "aria-label": `${info.label} over time, degrees`}, figure);
    svgEl("rect", {x: PAD.left, y: PAD.top, width: plotW, height: plotH, class: "plot-bg"}, svg);
    for (const [v, base] of [[hi, "hanging"], [lo, "auto"]]) {
      svgEl("text", {x: PAD.left - 4, y: y(v) + (base === "hanging" ? 2 : -2), "text-anchor": "end",
                     "dominant-baseline": base, class: "axis"}, svg).textContent = v + "°";
    }
    for (const [i, anchor] of [[0, "start"], [n - 1, "end"]]) {
      svgEl("text", {x: x(i), y: H - 5, "text-anchor": anchor, class: "axis"}, svg).textContent =
        (i / doc.fps).toFixed(2) + " s";
    }
    let d = "", pen = false;
    values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
    });
    svgEl("path", {d: d, class: "line-smoothed"}, svg);
    const cursor = svgEl("line", {x1: -10, x2: -10, y1: PAD.top, y2: PAD.top + plotH, class: "cursor"}, svg);
    svg.addEventListener("click", (event) => {
      const rect = svg.getBoundingClientRect();
      const at = ((event.clientX - rect.left) / rect.width * W - PAD.left) / plotW;
      slider.value = String(Math.max(0, Math.min(n - 1, Math.round(at * (n - 1)))));
      slider.dispatchEvent(new Event("input"));
    });
    charts.appendChild(figure);
    return {values, cursor, value, x};
  }

  function follow(index) {
    for (const c of shown) {
      c.cursor.setAttribute("x1", c.x(index).toFixed(1));
      c.cursor.setAttribute("x2", c.x(index).toFixed(1));
      const v = c.values[index];
      c.value.textContent = v === null || v === undefined ? "–" : v.toFixed(1) + "°";
    }
    section.dataset.frame = String(index);
  }

  function showPerson() {
    charts.replaceChildren();
    const person = doc.angles.people.find((p) => String(p.person) === select.value);
    shown = person ? doc.angles.names.filter((info) => (person.degrees[info.name] || []).some((v) => v !== null))
      .map((info) => chart(info, person.degrees[info.name])) : [];
    section.dataset.charts = String(shown.length);
    follow(Number(slider.value));
  }

  scene.addEventListener("scene:loaded", (event) => {
    doc = event.detail;
    const people = (doc.angles && doc.angles.people) || [];
    if (!people.length) return;
    for (const p of people) {
      const option = document.createElement("option");
      option.value = String(p.person);
      option.textContent = "#" + p.person;
      select.appendChild(option);
    }
    // First the person seen the longest: the one a single-subject recording is about.
    const seen = (p) => Math.max(0, ...Object.values(p.degrees).map((vs) => vs.filter((v) => v !== null).length));
    select.value = String(people.reduce((a, b) => (seen(b) > seen(a) ? b : a)).person);
    section.hidden = false;
    showPerson();
  });
  scene.addEventListener("scene:frame", (event) => { if (doc) follow(event.detail); });
  select.addEventListener("change", showPerson);
})();
