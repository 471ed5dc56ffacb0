/* Assessment visit page behaviour (CSP-safe: no inline code).
 * - A suggested muscle fills the exam form's muscle and side in one click.
 * - After a finding is recorded (htmx "exam-recorded" event) the entry form is cleared for the next muscle.
 * - After a diagnosis is added the search box and results are cleared.
 * - Enter in a [data-no-submit] field never submits the whole visit form.
 * - The visit autosaves as it is typed (core/autosave.js, shared with the procedure note): the same form
 *   fields "Save draft" posts, with the version the page holds; a stale version raises the conflict banner
 *   and nothing is overwritten. Without scripts the form and its Save draft button work as before.
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

  // ------------------------------------------------------------------ autosave

  var form = document.getElementById("visit-form");
  if (!form || !form.dataset.autosaveUrl || !window.TriggerpointAutosave) return;
  var versionInput = document.getElementById("visit-version");
  var buttons = form.querySelectorAll("button[type=submit]");
  // Not visit fields: the exam entry (recorded on its own), the code search, and what the server sets itself.
  var NOT_SAVED = /^(csrfmiddlewaretoken|version|action|dx_q|exam_.*)$/;

  function snapshot() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (!NOT_SAVED.test(name) && typeof value === "string") params.append(name, value);
    });
    return params.toString();
  }

  var autosave = window.TriggerpointAutosave.start({
    url: form.dataset.autosaveUrl,
    version: Number(versionInput.value),
    snapshot: snapshot,
    request: function (content, version) {
      var params = new URLSearchParams(content);
      params.set("version", String(version));
      return { body: params.toString(), contentType: "application/x-www-form-urlencoded" };
    },
    root: form,
    status: document.getElementById("save-status"),
    conflict: document.getElementById("conflict"),
    conflictDetail: document.getElementById("conflict-detail"),
    problems: document.getElementById("save-problems"),
    retry: document.getElementById("save-retry"),
    onSaved: function (version) { versionInput.value = version; },
    onConflict: function (data) {
      if (data.by_you) {
        document.getElementById("conflict-title").textContent = "Not saved: this visit was saved from another tab or window.";
      }
      if (data.reason === "signed") {
        document.getElementById("conflict-title").textContent = "Not saved: this visit has been signed.";
        if (data.summary_url) {
          var link = document.getElementById("conflict-reload");
          link.href = data.summary_url;
          link.textContent = "Open the signed visit";
        }
      }
      buttons.forEach(function (button) {
        button.disabled = true;
        button.title = "Load the saved version first: saving or signing this page would go over it";
      });
    }
  });

  var status = document.getElementById("save-status");
  status.textContent = "Saved · version " + versionInput.value + " · changes save as you type";

  form.addEventListener("input", function (event) { if (!NOT_SAVED.test(event.target.name || "")) autosave.changed(); });
  form.addEventListener("change", function (event) { if (!NOT_SAVED.test(event.target.name || "")) autosave.changed(); });
  document.body.addEventListener("bodymap:change", function () { autosave.changed(); });
  // A recorded or withdrawn finding re-draws the planned sites (pre-ticking an active trigger point).
  document.body.addEventListener("htmx:afterSettle", function () { if (autosave.isDirty()) autosave.changed(); });

  // Withdrawing a planned site saved the visit from this page's version: carry on from the new one.
  document.body.addEventListener("visit-version", function (event) {
    var detail = event.detail || {};
    if (!autosave.inConflict() && !autosave.isSaving() && autosave.version() === detail.from) {
      autosave.setVersion(detail.to);
      versionInput.value = detail.to;
    }
  });

  // Save draft / Save and sign post the whole form with the version: wait for a save under way, then go,
  // and stop background saves so none races the submit (which would make the page's version stale).
  var proceeding = false;
  form.addEventListener("submit", function (event) {
    if (proceeding) return;
    if (autosave.inConflict()) { event.preventDefault(); return; }
    var submitter = event.submitter;
    if (!autosave.isSaving()) { autosave.hold(); return; }
    event.preventDefault();
    autosave.save().then(function () {
      if (autosave.inConflict()) return;
      versionInput.value = autosave.version();
      autosave.hold();
      proceeding = true;
      if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
    });
  });
})();
