// Job page, "People": the chosen person's 3D pose (models with world coordinates: BlazePose) on a
// canvas, at the video's current time. Drag (or the arrow keys on it) turns the view; Home
// resets it. Plain JS, no library, no build step: an orthographic projection after two
// rotations, drawn with the 2D canvas. people.js announces each chosen person with a
// "person-series" event on #people: {detail: {doc, person, series}}; series.world holds, per
// frame, the K parts' x, y, z in metres (hip-centred; x right, y down, z away from the camera).
// As the video plays, people.js's "person-frame" events say which of those frames is showing:
// {detail: {index}}, -1 when the person is not seen at that moment.
(function () {
  "use strict";
  const section = document.getElementById("people");
  const figure = document.getElementById("pose3d");
  if (!section || !figure) return;
  const canvas = figure.querySelector("canvas");
  const caption = document.getElementById("pose3d-status");
  const ctx = canvas.getContext("2d");
  const LEFT = "rgb(255,140,0)", RIGHT = "rgb(0,170,255)", CENTRE = "rgb(200,200,200)";
  let doc = null, series = null, index = -1, yaw = -0.6, pitch = -0.25, drag = null, lastIndex = -2;

  function side(name) { return name.startsWith("left_") ? LEFT : name.startsWith("right_") ? RIGHT : CENTRE; }
  // World (x right, y down, z away) -> screen: turn about the vertical axis (yaw), then tilt
  // about the horizontal one (pitch); orthographic, 1 m = scale px, hips at the canvas centre.
  function project(x, y, z, scale) {
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    const x1 = cy * x + sy * z, z1 = -sy * x + cy * z;
    const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
    return [canvas.width / 2 + x1 * scale, canvas.height * 0.45 + y2 * scale, z2];
  }

  function draw(force) {
    if (!series) return;
    const i = index;
    if (!force && i === lastIndex) return;
    lastIndex = i;
    const dpr = window.devicePixelRatio || 1, width = canvas.clientWidth || 320, height = canvas.clientHeight || 320;
    if (canvas.width !== Math.round(width * dpr)) { canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr); }
    ctx.fillStyle = "#14161a";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const scale = canvas.height / 2.4;  // about 2.4 m of height in view
    // The floor: a 2 m grid, 0.9 m below the hips (about where the feet are), to show the turn.
    ctx.strokeStyle = "rgba(255,255,255,0.12)";
    ctx.lineWidth = 1;
    for (let k = -1; k <= 1; k += 0.5) {
      for (const [a, b] of [[[k, 0.9, -1], [k, 0.9, 1]], [[-1, 0.9, k], [1, 0.9, k]]]) {
        const p = project(...a, scale), q = project(...b, scale);
        ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
      }
    }
    const flat = i >= 0 ? series.world[i] : null;
    canvas.dataset.frame = String(i);
    if (!flat) {
      caption.textContent = "Not seen at this moment of the video. Drag to turn the view.";
      return;
    }
    const points = doc.parts.map((_, k) => project(flat[3 * k], flat[3 * k + 1], flat[3 * k + 2], scale));
    // Far limbs first, so that near ones are drawn over them.
    const limbs = doc.limbs.slice().sort((l, m) => (points[m[0]][2] + points[m[1]][2]) - (points[l[0]][2] + points[l[1]][2]));
    ctx.lineCap = "round";
    ctx.lineWidth = Math.max(2, 3 * dpr);
    for (const [a, b] of limbs) {
      const colour = side(doc.parts[a]) === side(doc.parts[b]) ? side(doc.parts[a]) : CENTRE;
      ctx.strokeStyle = colour;
      ctx.beginPath(); ctx.moveTo(points[a][0], points[a][1]); ctx.lineTo(points[b][0], points[b][1]); ctx.stroke();
    }
    for (let k = 0; k < points.length; k++) {
      ctx.fillStyle = side(doc.parts[k]);
      ctx.beginPath(); ctx.arc(points[k][0], points[k][1], 2.5 * dpr, 0, 2 * Math.PI); ctx.fill();
    }
    caption.textContent = "3D pose at " + (series.time_s[i] - doc.start_s).toFixed(2) + " s (metres, hip-centred; " +
      "orange = their left). Drag, or use the arrow keys, to turn it; Home resets.";
  }

  function turn(dYaw, dPitch) {
    yaw += dYaw;
    pitch = Math.max(-1.4, Math.min(1.4, pitch + dPitch));
    canvas.dataset.yaw = yaw.toFixed(3);
    draw(true);
  }

  canvas.addEventListener("pointerdown", (event) => {
    drag = {x: event.clientX, y: event.clientY};
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    turn((event.clientX - drag.x) * 0.01, -(event.clientY - drag.y) * 0.01);
    drag = {x: event.clientX, y: event.clientY};
  });
  for (const name of ["pointerup", "pointercancel"]) canvas.addEventListener(name, () => { drag = null; });
  canvas.addEventListener("keydown", (event) => {
    const step = {ArrowLeft: [-0.15, 0], ArrowRight: [0.15, 0], ArrowUp: [0, 0.15], ArrowDown: [0, -0.15]}[event.key];
    if (step) { event.preventDefault(); turn(...step); }
    if (event.key === "Home") { event.preventDefault(); yaw = -0.6; pitch = -0.25; turn(0, 0); }
  });

  section.addEventListener("person-series", (event) => {
    doc = event.detail.doc;
    series = event.detail.series.world ? event.detail.series : null;
    figure.hidden = !series;
    index = -1;
    lastIndex = -2;
    draw(true);
  });
  section.addEventListener("person-frame", (event) => {
    index = event.detail.index;
    draw(false);
  });
  window.addEventListener("resize", () => draw(true));
})();
