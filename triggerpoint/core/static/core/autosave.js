/* Autosave for a draft editor, shared by the procedure note and the assessment visit (CSP-safe: no inline code).
 *
 * One place for the behaviour clinicians rely on in both editors:
 *  - a change is saved after a short pause in typing, and every few seconds while anything is unsaved;
 *  - each save carries the version the page last saved or read; the server answers with the new version;
 *  - 409 (someone else saved first, or the record was signed) raises the conflict banner and stops saving,
 *    so nothing is written over the other person's work, and what is on screen stays there;
 *  - 422 lists the problems and keeps the text (the same content is not resent until it changes);
 *  - any other failure (offline, server fault, signed out) keeps the text, says so, and retries: on a timer,
 *    when the connection returns, or at once from the Retry button;
 *  - the status line (role=status, aria-live=polite) says "Saved hh:mm:ss · version n" after each save.
 *
 * Usage: TriggerpointAutosave.start({url, version, snapshot, request, elements..., onSaved, onConflict})
 * returns {changed, save, isDirty, inConflict, isInvalid, version, hold}.
 */
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function conflictSentence(data) {
    if (data.reason === "signed" || !data.saved_by) return data.detail;
    return data.saved_by + " saved version " + data.current_version + " at " + data.saved_at +
      (data.your_version ? " (this page had version " + data.your_version + ")." : ".");
  }

  /*
   * options:
   *   url          where to POST
   *   version      the version the page was read at
   *   snapshot()   the editor's content as a string (compared to tell "unsaved" from "saved")
   *   request(snapshot, version) -> {body, contentType?}   the POST body for that content and version
   *   root         element whose data-state is dirty | saving | saved | error (tests and styles read it)
   *   status       the status line; conflict, conflictDetail: the banner and its sentence;
   *   problems     where a 422's list goes; retry: a button shown while a save failed
   *   onSaved(version), onConflict(data), onProblems(list)   optional hooks
   */
  function start(options) {
    var SAVE_DELAY_MS = options.delay || 1200;
    var SAVE_INTERVAL_MS = options.interval || 5000;
    var version = options.version;
    var lastSaved = options.snapshot();
    var saving = null;
    var conflict = false;
    var invalid = false;
    var held = false;
    var saveTimer = null;

    function setStatus(text, kind, state) {
      if (options.root) options.root.dataset.state = state || (kind === "error" ? "error" : "saved");
      options.status.textContent = text;
      options.status.className = "save-status" + (kind ? " " + kind : "");
      if (options.retry) options.retry.hidden = !(kind === "error" && !conflict && !invalid);
    }

    function isDirty() { return options.snapshot() !== lastSaved; }

    function showProblems(list) {
      var box = options.problems;
      if (!box) return;
      box.textContent = "";
      var strong = document.createElement("strong");
      strong.textContent = "Not saved yet: ";
      box.appendChild(strong);
      var ul = document.createElement("ul");
      [].concat(list).forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = typeof p === "string" ? p : (p && p.msg) || JSON.stringify(p);
        ul.appendChild(li);
      });
      box.appendChild(ul);
      box.hidden = false;
    }

    function save() {
      if (conflict || held) return Promise.resolve(false);
      if (saving) return saving.then(save);
      window.clearTimeout(saveTimer);
      var snapshot = options.snapshot();
      if (snapshot === lastSaved) return Promise.resolve(!invalid);
      setStatus("Saving…", "saving", "saving");
      var req = options.request(snapshot, version);
      var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
      if (req.contentType) headers["Content-Type"] = req.contentType;
      saving = fetch(options.url, {
        method: "POST", credentials: "same-origin", headers: headers, body: req.body
      }).then(function (response) {
        if (response.redirected) return { status: "signed-out", data: {} };
        return response.json().then(
          function (data) { return { status: response.status, data: data }; },
          function () { return { status: response.status, data: {} }; }
        );
      }).then(function (result) {
        saving = null;
        if (result.status === 200) {
          version = result.data.version;
          lastSaved = snapshot;
          invalid = false;
          if (options.problems) options.problems.hidden = true;
          if (options.onSaved) options.onSaved(version);
          setStatus("Saved " + result.data.saved_at + " · version " + version, "", "saved");
          if (isDirty()) setStatus("Unsaved changes…", "saving", "dirty");
          return true;
        }
        if (result.status === 409) {
          conflict = true;
          if (options.conflict) options.conflict.hidden = false;
          if (options.conflictDetail) options.conflictDetail.textContent = conflictSentence(result.data);
          setStatus(result.data.reason === "signed" ? "Not saved — the record was signed" : "Not saved — conflict", "error");
          if (options.onConflict) options.onConflict(result.data);
          return false;
        }
        if (result.status === 422) {
          showProblems(result.data.detail || "the server refused this draft");
          lastSaved = snapshot; // do not resend the same invalid content until it changes
          invalid = true;
          if (options.onProblems) options.onProblems(result.data.detail);
          setStatus("Not saved — see the problems above", "error");
          return false;
        }
        if (result.status === "signed-out") {
          setStatus("Not saved — you were signed out. Sign in again in a new tab; this page keeps your text and retries.", "error");
        } else if (result.status === 403) {
          setStatus("Not saved — your role may not edit this record. Your text is still on this page.", "error");
        } else {
          setStatus("Not saved (" + result.status + ") — your text is kept; retrying", "error");
        }
        return false;
      }).catch(function () {
        saving = null;
        setStatus("Offline — not saved yet. Your text stays here and is saved when the connection returns.", "error");
        return false;
      });
      return saving;
    }

    function changed() {
      if (conflict || held) return;
      if (isDirty()) setStatus("Unsaved changes…", "saving", "dirty");
      window.clearTimeout(saveTimer);
      saveTimer = window.setTimeout(save, SAVE_DELAY_MS);
    }

    window.setInterval(function () { if (!saving && !conflict && !held && isDirty()) save(); }, SAVE_INTERVAL_MS);
    window.addEventListener("online", function () { if (isDirty()) save(); });
    window.addEventListener("beforeunload", function (event) {
      if (isDirty() && !conflict && !held) { save(); event.preventDefault(); event.returnValue = ""; }
    });
    if (options.retry) options.retry.addEventListener("click", function () { save(); });
    if (options.root) options.root.dataset.state = "saved";

    return {
      changed: changed,
      save: save,
      isDirty: isDirty,
      isSaving: function () { return !!saving; },
      inConflict: function () { return conflict; },
      isInvalid: function () { return invalid; },
      version: function () { return version; },
      /* Stop saving in the background: the page is being left by a form submit that carries everything. */
      hold: function () { held = true; window.clearTimeout(saveTimer); },
      setVersion: function (value) { version = value; }
    };
  }

  window.TriggerpointAutosave = { start: start };
})();
