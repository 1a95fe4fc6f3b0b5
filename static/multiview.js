// Job page of a multi-view job: every person in 3D (scene.json, written by
// pipeline/multiview_page.py: per time-line frame, each person's parts in metres, world frame, Z up)
// on a canvas. The drawing follows pose3d.js (the BlazePose viewer: an orthographic projection
// after two rotations, far limbs first, drag or arrow keys to turn, Home to reset), but for the
// whole scene: centred on where the people are, a floor grid at Z = 0, one colour per person.
// The slider and Play move through the frames. Events on the section tell angles3d.js (the angle
// curves): "scene:loaded" (detail: scene.json) and "scene:frame" (detail: the frame shown).
(function () {
  "use strict";
  const section = document.getElementById("scene3d");
  if (!section) return;
  const canvas = section.querySelector("canvas");
  const caption = document.getElementById("scene3d-status");
  const slider = document.getElementById("scene3d-frame");
  const play = document.getElementById("scene3d-play");
  const ctx = canvas.getContext("2d");
  const COLORS = ["rgb(255,200,0)", "rgb(0,120,255)", "rgb(80,220,80)", "rgb(220,80,220)", "rgb(255,80,0)", "rgb(0,220,255)"];
  let scene = null, centre = [0, 0, 0], extent = 2, yaw = -0.6, pitch = 0.35, drag = null, timer = null;

  // World (x, y, Z up) -> screen: turn about Z (yaw), then tilt (pitch); orthographic.
  function project(p, scale) {
    const x = p[0] - centre[0], y = p[1] - centre[1], z = p[2] - centre[2];
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    const x1 = cy * x - sy * y, y1 = sy * x + cy * y;
    const up = cp * z - sp * y1, depth = sp * z + cp * y1;
    return [canvas.width / 2 + x1 * scale, canvas.height * 0.55 - up * scale, depth];
  }

  function draw() {
    if (!scene) return;
    const dpr = window.devicePixelRatio || 1, width = canvas.clientWidth || 640, height = canvas.clientHeight || 480;
    if (canvas.width !== Math.round(width * dpr)) { canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr); }
    ctx.fillStyle = "#14161a";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const scale = Math.min(canvas.width, canvas.height) / (extent + 1);
    ctx.strokeStyle = "rgba(255,255,255,0.14)";
    ctx.lineWidth = 1;
    const half = Math.ceil(extent / 2) + 1;
    for (let k = -half; k <= half; k += 1) {  // the floor (Z = 0): a 1 m grid
      for (const [a, b] of [[[centre[0] + k, centre[1] - half, 0], [centre[0] + k, centre[1] + half, 0]],
                            [[centre[0] - half, centre[1] + k, 0], [centre[0] + half, centre[1] + k, 0]]]) {
        const p = project(a, scale), q = project(b, scale);
        ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
      }
    }
    const index = Number(slider.value);
    const people = scene.frames[index] || [];
    canvas.dataset.frame = String(index);
    canvas.dataset.people = String(people.length);
    ctx.lineCap = "round";
    ctx.lineWidth = Math.max(2, 3 * dpr);
    const segments = [];
    for (const person of people) {
      const pts = person.points.map((p) => (p ? project(p, scale) : null));
      for (const [a, b] of scene.limbs) {
        if (pts[a] && pts[b]) segments.push([pts[a], pts[b], COLORS[person.person % COLORS.length]]);
      }
    }
    segments.sort((s, t) => (t[0][2] + t[1][2]) - (s[0][2] + s[1][2]));
    for (const [p, q, color] of segments) {
      ctx.strokeStyle = color;
      ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
    }
    section.dispatchEvent(new CustomEvent("scene:frame", {detail: index}));
    const seconds = (index / scene.fps).toFixed(2);
    caption.textContent = people.length
      ? `${people.length} ${people.length === 1 ? "person" : "people"} at ${seconds} s (people ${people.map((p) => "#" + p.person).join(", ")}). Drag to turn the view.`
      : `Nobody in 3D at ${seconds} s. Drag to turn the view.`;
  }

  function frame(step) {
    const next = (Number(slider.value) + step + scene.frames.length) % scene.frames.length;
    slider.value = String(next);
    draw();
  }

  fetch(section.dataset.scene).then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  }).then((doc) => {
    scene = doc;
    const all = [];
    let best = 0, most = -1;
    doc.frames.forEach((people, i) => {
      let n = 0;
      for (const person of people) for (const p of person.points) if (p) { all.push(p); n += 1; }
      if (n > most) { most = n; best = i; }
    });
    if (all.length) {
      for (let d = 0; d < 3; d += 1) {
        const values = all.map((p) => p[d]).sort((a, b) => a - b);
        centre[d] = values[Math.floor(values.length / 2)];
      }
      centre[2] = Math.max(centre[2], 0.9);
      extent = Math.max(2, ...[0, 1].map((d) => Math.max(...all.map((p) => Math.abs(p[d] - centre[d]))) * 2));
      extent = Math.min(extent, 12);
    }
    slider.max = String(Math.max(0, doc.frames.length - 1));
    slider.value = String(best);
    section.dataset.ready = "1";
    section.dispatchEvent(new CustomEvent("scene:loaded", {detail: doc}));
    draw();
  }).catch((err) => { caption.textContent = `The 3D scene could not be loaded (${err.message}).`; });

  slider.addEventListener("input", draw);
  play.addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
    if (!scene) return;
    timer = setInterval(() => frame(1), 1000 / Math.min(30, scene.fps));
    play.textContent = "Pause";
  });
  canvas.addEventListener("pointerdown", (e) => { drag = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    yaw += (e.clientX - drag[0]) * 0.01;
    pitch = Math.max(-0.2, Math.min(1.5, pitch + (e.clientY - drag[1]) * 0.01));
    drag = [e.clientX, e.clientY];
    draw();
  });
  canvas.addEventListener("pointerup", () => { drag = null; });
  canvas.addEventListener("keydown", (e) => {
    const turns = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
    if (e.key === "Home") { yaw = -0.6; pitch = 0.35; } else if (turns[e.key]) {
      yaw += turns[e.key][0]; pitch = Math.max(-0.2, Math.min(1.5, pitch + turns[e.key][1]));
    } else return;
    e.preventDefault();
    draw();
  });
  window.addEventListener("resize", draw);
})();
