// Job page: poll the JSON API while the job runs; then the screenshot lightbox with keyboard navigation.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function formatEta(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) return h + " h " + m + " min";
    if (m) return m + " min " + s + " s";
    return s + " s";
  }

  const panel = document.getElementById("progress-panel");
  if (panel) {
    const bar = document.getElementById("job-progress");
    const inner = document.getElementById("job-progress-bar");
    // The server renders the fraction as data (the CSP forbids inline style attributes).
    inner.style.width = (parseFloat(inner.dataset.progress || "0") * 100).toFixed(1) + "%";
    const live = document.getElementById("job-live");
    const unreachable = document.getElementById("job-unreachable");
    const cancelForm = document.getElementById("cancel-form");
    const cancelButton = document.getElementById("cancel-button");
    let lastAnnounced = -1;
    let lastStage = null;

    function render(job) {
      const pct = Math.round((job.progress || 0) * 100);
      inner.style.width = ((job.progress || 0) * 100).toFixed(1) + "%";
      bar.setAttribute("aria-valuenow", String(pct));
      document.getElementById("job-percent").textContent = pct + "%";
      document.getElementById("job-stage").textContent = job.stage || (job.state === "queued" ? "waiting for a worker" : job.state);
      document.getElementById("job-frames").textContent = job.frames_done + (job.frames_total ? " / " + job.frames_total : "");
      document.getElementById("job-fps").textContent = job.fps ? job.fps.toFixed(1) + " fps" : "–";
      document.getElementById("job-eta").textContent = formatEta(job.eta_s);
      document.getElementById("job-stalled").hidden = !job.stalled;
      if (job.stalled && job.cancel_requested && cancelButton.disabled) {
        // Its worker is gone, so nobody saw the flag: offer the cancel again (it acts at once now).
        cancelButton.disabled = false;
        cancelButton.textContent = "Cancel job";
      }
      const badge = document.querySelector("#job-state .badge");
      if (badge && !badge.classList.contains("badge-" + job.state)) {
        badge.className = "badge badge-" + job.state;
        badge.textContent = job.state === "running" ? "Running" : "Queued";
      }
      // Announce to screen readers on stage changes and every 10%, not on every poll.
      if (job.stage !== lastStage || Math.floor(pct / 10) !== Math.floor(lastAnnounced / 10)) {
        live.textContent = (job.stage || job.state) + ": " + pct + "% done";
        lastAnnounced = pct;
        lastStage = job.stage;
      }
    }

    async function poll() {
      try {
        const response = await fetch(panel.dataset.api, {headers: {Accept: "application/json"}, cache: "no-store"});
        if (response.status === 404) {  // deleted by an admin meanwhile: stop polling
          document.getElementById("job-stage").textContent = "deleted";
          live.textContent = "This job was deleted.";
          cancelButton.disabled = true;
          return;
        }
        if (response.ok) {
          unreachable.hidden = true;
          const job = await response.json();
          if (!["queued", "running"].includes(job.state)) {
            window.location.reload();  // the server renders the finished page
            return;
          }
          render(job);
        } else if (response.status === 503) {  // the job database is away for now
          unreachable.textContent = "The job database is unreachable just now, so this page cannot show the " +
            "job's progress. Nothing is lost: the job goes on, and this page updates once the database is back.";
          unreachable.hidden = false;
        }
      } catch (e) { /* network hiccup: try again */ }
      setTimeout(poll, 1000);
    }
    setTimeout(poll, 500);

    cancelForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      cancelButton.disabled = true;
      cancelButton.textContent = "Cancelling…";
      let ok = false;
      try {
        const response = await fetch(panel.dataset.cancel, {method: "POST", headers: {"X-CSRF-Token": csrf, Accept: "application/json"}});
        ok = response.ok;
      } catch (e) { /* network down: offer the button again */ }
      if (!ok) { cancelButton.disabled = false; cancelButton.textContent = "Cancel job"; }
    });
  }

  const dialog = document.getElementById("lightbox");
  if (dialog) {
    const thumbs = Array.from(document.querySelectorAll("#gallery .thumb"));
    // The gallery shows one page of the job's screenshots: number them within the whole job.
    const gallery = document.getElementById("gallery");
    const offset = parseInt(gallery.dataset.offset || "0", 10);
    const total = parseInt(gallery.dataset.total || String(thumbs.length), 10);
    const image = document.getElementById("lightbox-image");
    const caption = document.getElementById("lightbox-caption");
    const download = document.getElementById("lightbox-download");
    let current = 0;
    let opener = null;

    function show(index) {
      current = (index + thumbs.length) % thumbs.length;
      const thumb = thumbs[current];
      image.src = thumb.dataset.full;
      const label = thumb.querySelector(".thumb-time").textContent;
      image.alt = "Screenshot at " + label;
      caption.textContent = "Screenshot " + (offset + current + 1) + " of " + total + " · " + label;
      download.href = thumb.dataset.full + "?download=1";
    }
    thumbs.forEach((thumb, i) => thumb.addEventListener("click", () => {
      opener = thumb;
      show(i);
      dialog.showModal();
    }));
    document.getElementById("lightbox-prev").addEventListener("click", () => show(current - 1));
    document.getElementById("lightbox-next").addEventListener("click", () => show(current + 1));
    document.getElementById("lightbox-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft") { event.preventDefault(); show(current - 1); }
      if (event.key === "ArrowRight") { event.preventDefault(); show(current + 1); }
      // Escape closes a modal <dialog> natively.
    });
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
    dialog.addEventListener("close", () => { if (opener) opener.focus(); });
  }
})();
