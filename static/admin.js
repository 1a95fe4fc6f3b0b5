// Admin page: "select the finished jobs on this page" for the bulk delete (static/confirm.js asks
// before it is sent), and the bulk button only while something is selected.
(function () {
  "use strict";
  const all = document.getElementById("select-finished");
  const button = document.getElementById("bulk-delete");
  if (!all || !button) return;
  const boxes = Array.from(document.querySelectorAll("input.select-job"));
  function update() {
    const chosen = boxes.filter((box) => box.checked).length;
    button.disabled = chosen === 0;
    button.textContent = chosen ? "Delete " + chosen + " selected" : "Delete selected";
    all.checked = chosen > 0 && chosen === boxes.length;
    all.indeterminate = chosen > 0 && chosen < boxes.length;
  }
  all.disabled = boxes.length === 0;
  all.addEventListener("change", () => { boxes.forEach((box) => { box.checked = all.checked; }); update(); });
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
})();
