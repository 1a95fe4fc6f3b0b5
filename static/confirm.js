// Any page: ask before a destructive form is sent (forms carry their question in data-confirm;
// the Content-Security-Policy forbids inline onsubmit handlers).
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
