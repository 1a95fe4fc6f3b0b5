// Job page of a multi-view job: the views' grid follows the 3D scene's time. Each view carries its
// overlays drawn at several time-line frames (data-moments: [{frame, url}], written by
// pipeline/multiview_page.py); on multiview.js's "scene:frame" event every view shows the moment
// nearest the scene's frame, so all views show the same moment as the 3D scene.
(function () {
  "use strict";
  const scene = document.getElementById("scene3d");
  const status = document.getElementById("view-grid-time");
  if (!scene) return;
  const views = [...document.querySelectorAll("#view-grid .view-item[data-moments]")]
    .map((item) => ({item, img: item.querySelector("img"), link: item.querySelector("a"),
                     moments: JSON.parse(item.dataset.moments)}))
    .filter((v) => v.img && v.moments.length);
  if (!views.length) return;
  const drawn = views.flatMap((v) => v.moments);
  let step = 1, fps = 0;

  scene.addEventListener("scene:loaded", (event) => { step = event.detail.step || 1; fps = event.detail.fps * step; });
  const nearest = (moments, frame) =>
    moments.reduce((a, b) => (Math.abs(b.frame - frame) < Math.abs(a.frame - frame) ? b : a));
  scene.addEventListener("scene:frame", (event) => {
    const frame = event.detail * step;  // the scene's frame on the time line
    // The drawn moment nearest the scene's frame; a camera that did not film it (started late,
    // stopped early) shows its own nearest moment, dimmed.
    const shown = nearest(drawn, frame).frame;
    for (const v of views) {
      const near = nearest(v.moments, shown);
      if (v.img.getAttribute("src") !== near.url) { v.img.src = near.url; if (v.link) v.link.href = near.url; }
      v.item.dataset.frame = String(near.frame);
      v.item.classList.toggle("view-elsewhere", near.frame !== shown);
      v.img.title = near.frame !== shown ? "This camera did not film this moment: its nearest one" : "";
    }
    if (status && fps) status.textContent = `Shown: ${(shown / fps).toFixed(2)} s, the drawn moment nearest the 3D scene's.`;
  });
})();
