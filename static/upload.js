// Upload page: drag-and-drop or file picker, several files, one XHR per file with its own progress bar.
// Without JavaScript the form still works (a plain multipart post to the same page).
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("video-input");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("file-list");
  const status = document.getElementById("upload-status");
  const button = document.getElementById("upload-button");
  const maxBytes = Number(form.dataset.maxBytes);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let entries = [];  // {file, item, bar, state, done}
  let busy = false;

  function formatBytes(n) {
    const units = ["bytes", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  // One line of the list: name, state and progress bar; the entry kinds differ only in what they carry.
  function newItem(label) {
    const item = document.createElement("li");
    item.className = "file-item";
    const row = document.createElement("div");
    row.className = "file-row";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = label;
    const state = document.createElement("span");
    state.className = "file-state";
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "Upload progress of " + label);
    row.append(name, state);
    item.append(row, bar);
    list.append(item);
    return {item, bar, state, name};
  }

  function addFiles(files) {
    if (busy) return;
    for (const file of files) {
      const {item, bar, state} = newItem(file.name);
      const entry = {file, item, bar, state, done: false};
      if (file.size > maxBytes) {
        fail(entry, "Too large: " + formatBytes(file.size) + "; the limit is " + form.dataset.limitText + ".");
      } else {
        state.textContent = formatBytes(file.size) + " · ready";
      }
      entries.push(entry);
    }
    input.value = "";
  }

  // All the photos chosen (or one ZIP) travel in one request and make one job.
  const photoInput = document.getElementById("image-input");
  const photoZone = document.getElementById("photo-dropzone");
  let photoEntry = null;

  function addPhotos(files) {
    if (busy || !files.length) return;
    if (!photoEntry || photoEntry.done) {
      photoEntry = {files: [], ...newItem(""), done: false, photos: true};  // name and label set below
      entries.push(photoEntry);
    }
    photoEntry.files.push(...files);
    const count = photoEntry.files.length;
    const size = photoEntry.files.reduce((n, f) => n + f.size, 0);
    photoEntry.name.textContent = count === 1 ? photoEntry.files[0].name : count + " photos (one job)";
    photoEntry.bar.setAttribute("aria-label", "Upload progress of " + photoEntry.name.textContent);
    photoEntry.state.textContent = formatBytes(size) + " · ready";
    if (size > maxBytes) fail(photoEntry, "Too large: " + formatBytes(size) + "; the limit is " + form.dataset.limitText + ".");
    photoInput.value = "";
  }

  // Several cameras: the videos and the calibration travel in one request and make one 3D job.
  const viewsInput = document.getElementById("views-input");
  const calibInput = document.getElementById("calibration-input");
  const viewsButton = document.getElementById("multiview-add");

  function addViews() {
    if (busy) return;
    const videos = Array.from(viewsInput.files), calibration = calibInput.files[0];
    const {item, bar, state, name} = newItem(videos.length + " views and " + (calibration ? calibration.name : "no calibration") + " (one 3D job)");
    const offsets = document.getElementById("offsets-input").value.trim();
    const entry = {videos, calibration, offsets, item, bar, state, name, done: false, views: true};
    const size = videos.reduce((n, f) => n + f.size, 0) + (calibration ? calibration.size : 0);
    if (videos.length < 2 || videos.length > 8) fail(entry, "Choose 2 to 8 videos, one per camera.");
    else if (!calibration) fail(entry, "Choose the cameras' calibration file too.");
    else if (size > maxBytes) fail(entry, "Too large: " + formatBytes(size) + "; the limit is " + form.dataset.limitText + ".");
    else state.textContent = formatBytes(size) + " · ready";
    entries.push(entry);
    viewsInput.value = "";
    calibInput.value = "";
    document.getElementById("offsets-input").value = "";
  }

  function fail(entry, message) {
    entry.done = true;
    entry.item.classList.add("is-error");
    entry.state.textContent = message;
    entry.bar.hidden = true;
  }

  function optionsData() {
    const data = new FormData();
    for (const [key, value] of new FormData(form).entries()) {
      if (!["video", "image", "view", "calibration", "offsets", "csrf_token"].includes(key)) data.append(key, value);
    }
    return data;
  }

  function uploadOne(entry) {
    return new Promise((resolve) => {
      const data = optionsData();
      if (entry.views) {
        for (const file of entry.videos) data.append("video", file, file.name);
        data.append("calibration", entry.calibration, entry.calibration.name);
        if (entry.offsets) data.append("offsets", entry.offsets);
      } else if (!entry.photos) {
        data.append("video", entry.file, entry.file.name);
      } else if (entry.files.length === 1 && /\.zip$/i.test(entry.files[0].name)) {
        data.append("archive", entry.files[0], entry.files[0].name);
      } else {
        for (const file of entry.files) data.append("image", file, file.name);
      }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.api);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const pct = Math.round((event.loaded / event.total) * 100);
        entry.bar.value = pct;
        entry.state.textContent = pct < 100 ? "Uploading… " + pct + "%" : (entry.photos ? "Checking the photos…" : entry.views ? "Checking the views and the calibration…" : "Checking the video…");
      });
      xhr.addEventListener("load", () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: handled below */ }
        if (xhr.status === 202 && body.url) {
          entry.done = true;
          entry.item.classList.add("is-done");
          entry.bar.value = 100;
          entry.state.textContent = "";
          const link = document.createElement("a");
          link.href = body.url;
          link.textContent = "Queued · open job";
          entry.state.append(link);
          resolve(body);
        } else {
          const why = body.error || (xhr.status === 413 ? "Too large for this server." : "Upload failed (HTTP " + xhr.status + ").");
          fail(entry, why);
          resolve(null);
        }
      });
      xhr.addEventListener("error", () => {
        fail(entry, "The connection was lost (file too large, or the server is down).");
        resolve(null);
      });
      entry.state.textContent = "Uploading… 0%";
      xhr.send(data);
    });
  }

  async function uploadAll() {
    const pending = entries.filter((e) => !e.done);
    if (pending.length === 0) {
      status.textContent = entries.length ? "Nothing left to upload: choose more videos." : "Choose at least one video first.";
      input.focus();
      return;
    }
    busy = true;
    button.disabled = true;
    const jobs = [];
    for (const [i, entry] of pending.entries()) {
      status.textContent = "Uploading " + (i + 1) + " of " + pending.length + ": " + (entry.photos || entry.views ? entry.name.textContent : entry.file.name);
      const job = await uploadOne(entry);
      if (job) jobs.push(job);
    }
    busy = false;
    button.disabled = false;
    const failed = pending.length - jobs.length;
    status.textContent = jobs.length + " uploaded" + (failed ? ", " + failed + " failed." : ".");
    if (jobs.length === 1 && pending.length === 1) window.location.assign(jobs[0].url);
  }

  input.addEventListener("change", () => addFiles(input.files));
  viewsButton.addEventListener("click", addViews);
  photoInput.addEventListener("change", () => addPhotos(Array.from(photoInput.files)));
  // A drop zone highlights while files hover over it and hands the dropped ones to add.
  function dropZone(target, add) {
    ["dragenter", "dragover"].forEach((type) => target.addEventListener(type, (event) => {
      event.preventDefault();
      target.classList.add("is-dragover");
    }));
    ["dragleave", "drop"].forEach((type) => target.addEventListener(type, () => target.classList.remove("is-dragover")));
    target.addEventListener("drop", (event) => {
      event.preventDefault();
      add(event.dataTransfer.files);
    });
  }
  dropZone(photoZone, (files) => addPhotos(Array.from(files)));
  dropZone(zone, addFiles);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!busy) uploadAll();
  });
})();
