// The live page: the camera through getUserMedia, one downscaled JPEG frame at a time to the server
// (the next only once the answer is in, and always the newest picture: no queue, so the delay
// stays flat however slow the server is), the people of the newest answer drawn over the video.
// Record: MediaRecorder's WebM of the camera, uploaded as an ordinary job.
(function () {
  "use strict";
  const app = document.getElementById("live-app");
  if (!app) return;
  const $ = (id) => document.getElementById(id);
  const video = $("live-video"), canvas = $("live-canvas"), ctx = canvas.getContext("2d");
  const startBtn = $("start"), stopBtn = $("stop"), recordBtn = $("record"), modelSelect = $("model");
  const message = $("live-message"), status = $("live-status"), recordStatus = $("record-status");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const SEND_HEIGHT = 480;         // frames are sent at most this high (the network uses 256-368)
  const JPEG_QUALITY = 0.8;
  const RETRY_MS = 3000;           // after a refusal (all sessions in use, server down)
  const FRESH_MS = 3000;           // an answer older than this is not drawn (the server stopped answering)
  const FPS_WINDOW_MS = 4000;      // frames/s counts the answers of the last 4 s
  const COLORS = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
                  "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff"];
  const grab = document.createElement("canvas");
  let stream = null, running = false, sessionId = null, answer = null, answeredAt = 0;
  let answerTimes = [], recorder = null, chunks = [], recordedBytes = 0, generation = 0;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  function say(text) { message.textContent = text || ""; message.hidden = !text; }

  async function readError(response, fallback) {
    try { const body = await response.json(); return body.error || fallback; } catch (e) { return fallback; }
  }

  // --- the models the live server offers -------------------------------------------------------
  async function loadModels() {
    if (app.dataset.enabled !== "true") {
      say("Live pose is turned off on this server (LIVE_SESSIONS=0). Uploads still work.");
      startBtn.disabled = true;
      modelSelect.innerHTML = "<option>None</option>";
      return false;
    }
    let response;
    try { response = await fetch(app.dataset.statusUrl, {cache: "no-store"}); }
    catch (e) { say("Pose Studio cannot be reached. Check your connection and reload the page."); return false; }
    if (!response.ok) {
      say(await readError(response, "The live pose server is not available right now."));
      modelSelect.innerHTML = "<option>Unavailable</option>";
      return false;
    }
    const info = await response.json();
    const chosen = modelSelect.value;
    modelSelect.innerHTML = "";
    for (const model of info.models) {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.label;
      modelSelect.append(option);
    }
    modelSelect.value = info.models.some((m) => m.name === chosen) ? chosen : info.default_model;
    modelSelect.disabled = false;
    if (!running) say("");
    return true;
  }

  // --- the camera ---------------------------------------------------------------------------------
  function cameraProblem(error) {
    const name = error && error.name;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
      return "This browser gives no camera to this page: open Pose Studio over https or on localhost, in a current browser.";
    if (name === "NotAllowedError" || name === "SecurityError")
      return "Camera access was denied. Allow the camera for this site (the camera icon in the address bar), then press Start camera again.";
    if (name === "NotFoundError" || name === "OverconstrainedError")
      return "No camera was found. Connect one, then press Start camera again.";
    if (name === "NotReadableError" || name === "AbortError")
      return "The camera could not be started: another application may be using it. Close it, then press Start camera again.";
    return "The camera could not be started (" + (error && error.message || name || "unknown error") + ").";
  }

  async function start() {
    say("");
    startBtn.disabled = true;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no mediaDevices");
      stream = await navigator.mediaDevices.getUserMedia({audio: false, video: {height: {ideal: 480}}});
    } catch (error) {
      say(cameraProblem(error));
      status.dataset.state = "camera-error";
      startBtn.disabled = false;
      return;
    }
    for (const track of stream.getVideoTracks()) {
      track.addEventListener("ended", () => {
        if (!running) return;
        stop();
        say("The camera stopped (it was closed, unplugged, or taken by the browser or another application). Press Start camera to try again.");
        status.dataset.state = "camera-error";
      });
    }
    video.srcObject = stream;
    try { await video.play(); } catch (e) { /* autoplay of a muted stream is allowed; the loop waits for frames */ }
    running = true;
    stopBtn.disabled = false;
    recordBtn.disabled = typeof MediaRecorder === "undefined";
    status.dataset.state = "running";
    loop(++generation);
    requestAnimationFrame(draw);
  }

  function stop() {
    running = false;
    if (recorder && recorder.state !== "inactive") recorder.stop();
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    closeSession();
    answer = null;
    answerTimes = [];
    showStatus();
    status.dataset.state = "stopped";
    startBtn.disabled = false;
    stopBtn.disabled = true;
    recordBtn.disabled = true;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
  }

  // --- sessions and frames -------------------------------------------------------------------------
  function closeSession() {
    if (!sessionId) return;
    fetch(app.dataset.sessionsUrl + "/" + sessionId, {method: "DELETE", keepalive: true,
                                                       headers: {"X-CSRF-Token": csrf}}).catch(() => {});
    sessionId = null;
  }

  async function openSession() {
    const response = await fetch(app.dataset.sessionsUrl, {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({model: modelSelect.value || undefined})});
    if (response.status === 201) { sessionId = (await response.json()).id; say(""); return true; }
    say(await readError(response, "The live session could not be started (" + response.status + ")."));
    status.dataset.state = response.status === 503 ? "unavailable" : "error";
    return false;
  }

  function grabFrame() {
    const scale = Math.min(1, SEND_HEIGHT / video.videoHeight);
    grab.width = Math.round(video.videoWidth * scale);
    grab.height = Math.round(video.videoHeight * scale);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    return new Promise((resolve) => grab.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  }

  async function loop(mine) {
    while (running && mine === generation) {  // a Stop then Start leaves one loop, not two
      try {
        if (!sessionId && !(await openSession())) { await sleep(RETRY_MS); continue; }
        if (video.readyState < 2 || !video.videoWidth) { await sleep(50); continue; }
        const blob = await grabFrame();
        if (!running || !blob) { await sleep(50); continue; }
        const sent = performance.now(), id = sessionId;
        const response = await fetch(app.dataset.sessionsUrl + "/" + id + "/frames", {
          method: "POST", headers: {"Content-Type": "image/jpeg", "X-CSRF-Token": csrf}, body: blob});
        if (response.ok) {
          const body = await response.json();
          if (!running || id !== sessionId) continue;
          answer = body;
          answer.scale = video.videoHeight / body.height;
          answeredAt = performance.now();
          answerTimes.push(answeredAt);
          status.dataset.latencyMs = String(Math.round(answeredAt - sent));
          if (status.dataset.state !== "running") { status.dataset.state = "running"; say(""); }
          showStatus();
        } else if (response.status === 404) {
          sessionId = null;  // expired (the tab slept) or the live server restarted: a new one
        } else if (response.status === 400 || response.status === 413) {
          say(await readError(response, "The server could not use this frame."));
          status.dataset.state = "error";
          await sleep(RETRY_MS);
        } else {
          say(await readError(response, "The live server did not answer (" + response.status + ")."));
          status.dataset.state = "unavailable";
          await sleep(RETRY_MS);
        }
      } catch (error) {
        say("Lost the connection to Pose Studio; trying again…");
        status.dataset.state = "unavailable";
        await sleep(RETRY_MS);
      }
    }
  }

  function showStatus() {
    const now = performance.now();
    answerTimes = answerTimes.filter((t) => now - t < FPS_WINDOW_MS);
    const fps = answerTimes.length > 1 ? (answerTimes.length - 1) * 1000 / (answerTimes[answerTimes.length - 1] - answerTimes[0]) : 0;
    const people = answer ? answer.people.length : 0;
    status.dataset.people = String(people);
    status.dataset.fps = fps.toFixed(1);
    $("live-people").textContent = String(people);
    $("live-people-label").textContent = people === 1 ? "person" : "people";
    $("live-fps").textContent = fps.toFixed(1);
    $("live-latency").textContent = status.dataset.latencyMs || "–";
  }

  // --- drawing -------------------------------------------------------------------------------------
  function draw() {
    if (!running) return;
    if (video.videoWidth && (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight)) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
    }
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (answer && performance.now() - answeredAt < FRESH_MS) drawPeople(answer);
    requestAnimationFrame(draw);
  }

  function drawPeople(frame) {
    const s = frame.scale, line = Math.max(2, canvas.height / 160);
    ctx.lineWidth = line;
    ctx.lineCap = "round";
    for (const person of frame.people) {
      const color = person.id == null ? "#c0c0c0" : COLORS[(person.id - 1) % COLORS.length];
      const k = person.keypoints;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      for (const [a, b] of frame.limbs) {
        if (k[a][2] <= 0 || k[b][2] <= 0) continue;
        ctx.beginPath();
        ctx.moveTo(k[a][0] * s, k[a][1] * s);
        ctx.lineTo(k[b][0] * s, k[b][1] * s);
        ctx.stroke();
      }
      let top = null;
      for (const [x, y, c] of k) {
        if (c <= 0) continue;
        ctx.beginPath();
        ctx.arc(x * s, y * s, line * 1.2, 0, 2 * Math.PI);
        ctx.fill();
        if (top === null || y < top[1]) top = [x, y];
      }
      if (top && person.id != null) {
        const label = "#" + person.id, size = Math.max(14, canvas.height / 24);
        ctx.font = "bold " + size + "px system-ui, sans-serif";
        const w = ctx.measureText(label).width + size * 0.5;
        const x = top[0] * s - w / 2, y = Math.max(0, top[1] * s - size * 1.9);
        ctx.fillStyle = "rgba(0,0,0,.7)";
        ctx.fillRect(x, y, w, size * 1.3);
        ctx.fillStyle = color;
        ctx.fillText(label, x + size * 0.25, y + size * 1.02);
      }
    }
  }

  // --- recording into a job ------------------------------------------------------------------------
  function recordType() {
    for (const type of ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"])
      if (MediaRecorder.isTypeSupported(type)) return type;
    return "";
  }

  function toggleRecord() {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); return; }
    if (!stream) return;
    const type = recordType();
    recorder = new MediaRecorder(stream, type ? {mimeType: type} : {});
    chunks = [];
    recordedBytes = 0;
    const limit = Number(app.dataset.maxUploadBytes) * 0.95;
    recorder.addEventListener("dataavailable", (event) => {
      if (!event.data.size) return;
      chunks.push(event.data);
      recordedBytes += event.data.size;
      if (recordedBytes > limit && recorder.state === "recording") recorder.stop();
    });
    recorder.addEventListener("stop", upload);
    recorder.start(1000);
    recordBtn.textContent = "Stop recording";
    recordBtn.setAttribute("aria-pressed", "true");
    recordStatus.textContent = "Recording… the recording becomes a job when you stop it.";
  }

  async function upload() {
    recordBtn.textContent = "Record";
    recordBtn.setAttribute("aria-pressed", "false");
    const blob = new Blob(chunks, {type: (recorder && recorder.mimeType) || "video/webm"});
    chunks = [];
    if (!blob.size) { recordStatus.textContent = "Nothing was recorded."; return; }
    const name = "live-" + new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19) + ".webm";
    const form = new FormData();
    form.append("video", blob, name);
    recordStatus.textContent = "Uploading the recording (" + Math.round(blob.size / 1024) + " KiB)…";
    try {
      const response = await fetch(app.dataset.jobsUrl, {method: "POST", body: form, headers: {"X-CSRF-Token": csrf}});
      if (response.status !== 202) {
        recordStatus.textContent = "The recording could not become a job: " + await readError(response, String(response.status));
        return;
      }
      const job = await response.json();
      recordStatus.textContent = "The recording is a job now: ";
      const link = document.createElement("a");
      link.id = "record-job";
      link.href = job.url;
      link.textContent = "open " + name;
      recordStatus.append(link);
    } catch (e) {
      recordStatus.textContent = "The recording could not be uploaded: the connection to Pose Studio failed.";
    }
  }

  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
  recordBtn.addEventListener("click", toggleRecord);
  modelSelect.addEventListener("change", () => { if (running) closeSession(); });
  window.addEventListener("pagehide", closeSession);
  loadModels().then((ok) => { if (!ok && app.dataset.enabled === "true") setTimeout(function retry() {
    loadModels().then((again) => { if (!again) setTimeout(retry, RETRY_MS * 2); });
  }, RETRY_MS * 2); });
})();
