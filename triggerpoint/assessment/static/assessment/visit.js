/* Assessment visit page behaviour (CSP-safe: no inline code).
 * - A suggested muscle fills the exam form's muscle and side in one click.
 * - After a finding is recorded (htmx "exam-recorded" event) the entry form is cleared for the next muscle.
 * - After a diagnosis is added the search box and results are cleared.
 * - Enter in a [data-no-submit] field never submits the whole visit form.
 */
(function () {
  "use strict";

  function examForm() {
    return document.getElementById("exam-entry");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-examine-muscle]");
    if (!button) return;
    var form = examForm();
    if (!form) return;
    var select = form.querySelector("#exam_muscle");
    select.value = button.getAttribute("data-examine-muscle");
    var side = form.querySelector("input[name=exam_side][value='" + button.getAttribute("data-examine-side") + "']");
    if (side) side.checked = true;
    form.classList.add("prefilled");
    window.setTimeout(function () { form.classList.remove("prefilled"); }, 1200);
    form.scrollIntoView({ behavior: "smooth", block: "nearest" });
    var first = form.querySelector(".finding-checks input");
    if (first) first.focus({ preventScroll: true });
  });

  document.body.addEventListener("exam-recorded", function () {
    var form = examForm();
    if (!form) return;
    form.querySelectorAll("[data-exam-input]").forEach(function (input) {
      if (input.type === "checkbox") input.checked = false;
      else input.value = "";
    });
    form.querySelectorAll("input[name=exam_side]").forEach(function (input) { input.checked = false; });
    form.querySelector("#exam_muscle").value = "";
  });

  document.body.addEventListener("diagnosis-changed", function () {
    var search = document.getElementById("dx-q");
    var results = document.getElementById("dx-results");
    if (search && results && results.children.length) {
      search.value = "";
      results.innerHTML = "";
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-no-submit], #exam-entry input, .bodymap input")) {
      event.preventDefault();
    }
  });
})();
