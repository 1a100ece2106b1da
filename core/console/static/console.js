// Switchyard console: small conveniences on top of pages that work without
// any script (the CSP allows only this file). Nothing here is needed to use
// the console.
(function () {
  "use strict";

  // "Select all" checkboxes: data-select-all="NAME" toggles every checkbox
  // named NAME in the same form.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.hidden = false;
    var label = document.querySelector('label[for="' + all.id + '"]');
    if (label) label.hidden = false;
    all.addEventListener("change", function () {
      all.form.querySelectorAll('input[type="checkbox"][name="' + all.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });

  // Copy buttons next to secrets shown once: data-copy="ID of an element".
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.dataset.copy);
      if (!el || !navigator.clipboard) return;
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        btn.textContent = "Copied";
      });
    });
  });
})();
