// Image job page: captions (file name, people count) from keypoints.json, and a larger view of
// one photo with the angles of the person chosen (numbered as drawn on the photo).
(function () {
  "use strict";
  const section = document.getElementById("photos");
  if (!section) return;
  const detail = document.getElementById("photo-detail");
  const large = document.getElementById("photo-large");
  const title = document.getElementById("photo-title");
  const select = document.getElementById("photo-person");
  const tbody = document.querySelector("#photo-angles tbody");
  let doc = null;

  function peopleOf(name) {
    return doc.annotations.filter((a) => a.file_name === name).sort((a, b) => a.person - b.person);
  }

  function showAngles(person) {
    tbody.replaceChildren();
    const angles = person ? person.angles : {};
    for (const [angle, degrees] of Object.entries(angles)) {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = angle.replace(/_/g, " ");
      const value = document.createElement("td");
      value.textContent = degrees === null ? "–" : degrees.toFixed(1);
      row.append(name, value);
      tbody.append(row);
    }
  }

  function open(index) {
    const record = doc.images[index];
    const thumb = section.querySelector('.photo-thumb[data-index="' + index + '"] img');
    large.src = thumb.src;
    large.alt = record.file_name + " with skeletons";
    title.textContent = record.file_name + " · " + record.people + (record.people === 1 ? " person" : " people");
    const people = peopleOf(record.file_name);
    select.replaceChildren();
    people.forEach((p, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = "Person " + (p.person + 1) + " (score " + p.score.toFixed(2) + ")";
      select.append(option);
    });
    select.disabled = people.length === 0;
    showAngles(people[0]);
    select.onchange = () => showAngles(people[Number(select.value)]);
    detail.hidden = false;
    detail.scrollIntoView({block: "start"});
  }

  document.getElementById("photo-close").addEventListener("click", () => { detail.hidden = true; });
  fetch(section.dataset.keypoints, {headers: {Accept: "application/json"}})
    .then((r) => r.json())
    .then((body) => {
      doc = body;
      section.querySelectorAll(".photo-item").forEach((item) => {
        const record = doc.images[Number(item.dataset.index)];
        item.querySelector(".photo-name").textContent = record.file_name;
        item.querySelector(".photo-people").textContent = record.error ? "· " + record.error
          : "· " + record.people + (record.people === 1 ? " person" : " people");
        item.dataset.people = record.people === null ? "" : String(record.people);
      });
      section.querySelectorAll(".photo-thumb").forEach((button) =>
        button.addEventListener("click", () => open(Number(button.dataset.index))));
      section.dataset.ready = "1";
    });
})();
