/* Live "muscles to examine" list for atlas/_suggestions.html (vanilla JS, CSP-safe).
 *
 * How it works
 *   - Every [data-atlas-suggestions] container on the page listens for the body map's bubbling
 *     "bodymap:change" event (detail.drawing = [{zone, intensity}]) and POSTs the drawing to
 *     data-endpoint (POST /api/v1/atlas/suggest) with the browser session and the CSRF token
 *     taken from <body hx-headers='{"X-CSRFToken": ...}'>. Requests are debounced, and a reply
 *     that arrives after a newer drawing was sent is dropped, so the list always matches the map.
 *   - Candidates are rendered by cloning the container's <template data-atlas-candidate-template>
 *     (the same markup the server renders in atlas/_candidate.html) and filling its data-slot parts.
 *   - With suggestions_pick=True each candidate has an "Add to note" button. Clicking it dispatches a
 *     bubbling, cancelable CustomEvent "atlas:pick" on the candidate with
 *     detail {muscle: "upper_trapezius", side: "left", name: "Upper trapezius"}.
 *     Listen for it anywhere above the list (e.g. document) to add the site to a note:
 *         document.addEventListener("atlas:pick", function (e) { addSite(e.detail.muscle, e.detail.side); });
 *     Unless a listener calls event.preventDefault(), the candidate is then shown as added.
 *
 * Public hook: window.TriggerPointSuggest = {
 *     refresh(container, drawing),            // re-rank for a drawing now
 *     setPicked(container, [{muscle, side}]), // mark what the note already holds
 *     unpick(container, muscle, side)         // e.g. after a site was removed from the note
 *   }
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;

  function csrfToken() {
    var raw = document.body && document.body.getAttribute("hx-headers");
    if (!raw) return "";
    try {
      return JSON.parse(raw)["X-CSRFToken"] || "";
    } catch (err) {
      return "";
    }
  }

  function key(muscle, side) {
    return muscle + "|" + side;
  }

  function Suggestions(root) {
    this.root = root;
    this.endpoint = root.getAttribute("data-endpoint");
    this.limit = parseInt(root.getAttribute("data-limit"), 10) || 5;
    this.muscleUrl = root.getAttribute("data-muscle-url") || "";
    this.list = root.querySelector("[data-atlas-candidates]");
    this.status = root.querySelector("[data-atlas-status]");
    this.template = root.querySelector("template[data-atlas-candidate-template]");
    this.sequence = 0;
    this.timer = null;
    this.controller = null;
    this.picked = {};
    var self = this;
    root.addEventListener("click", function (event) {
      var button = event.target.closest("[data-atlas-pick]");
      if (button && root.contains(button)) self.pick(button.closest("[data-atlas-candidate]"));
    });
    root.atlasSuggestions = this;
  }

  Suggestions.prototype.say = function (text, kind) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.classList.toggle("is-error", kind === "error");
    this.status.classList.toggle("is-busy", kind === "busy");
  };

  Suggestions.prototype.schedule = function (drawing) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.refresh(drawing); }, DEBOUNCE_MS);
  };

  Suggestions.prototype.refresh = function (drawing) {
    var self = this;
    var zones = (drawing || []).filter(function (item) { return item && item.zone; });
    var painful = zones.some(function (item) { return Number(item.intensity) > 0; });
    var sequence = ++this.sequence;
    if (this.controller) this.controller.abort();
    this.controller = null;
    if (!painful) {
      // The API refuses a drawing with no pain (422); there is nothing to rank, so do not ask.
      this.render([], {}, 0);
      this.say(zones.length ? "Every marked place is at 0: set a pain strength above 0 to see suggestions."
        : "Mark where it hurts on the body map: muscles whose referred pain matches appear here, best match first.");
      return;
    }
    this.say("Updating suggestions\u2026", "busy");
    this.root.setAttribute("aria-busy", "true");
    this.controller = window.AbortController ? new AbortController() : null;
    fetch(this.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ zones: zones, limit: this.limit }),
      signal: this.controller ? this.controller.signal : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    }).then(function (result) {
      if (sequence !== self.sequence) return; // a newer drawing is on its way
      self.root.removeAttribute("aria-busy");
      if (!result.ok) {
        var detail = result.body && result.body.detail;
        var problems = Array.isArray(detail) ? detail.join(" ") : (detail || "");
        self.say("Suggestions are unavailable (" + result.status + "). " + problems, "error");
        return;
      }
      var candidates = result.body.candidates || [];
      self.render(candidates, result.body.zone_labels || {}, candidates.length ? candidates[0].score : 0);
      self.say(candidates.length
        ? candidates.length + " muscle" + (candidates.length === 1 ? "" : "s") + " to examine, best match first."
        : "No muscle in the atlas refers pain to these places.");
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      if (sequence !== self.sequence) return;
      self.root.removeAttribute("aria-busy");
      self.say("Suggestions are unavailable: the server could not be reached.", "error");
    });
  };

  Suggestions.prototype.slot = function (node, name) {
    return node.querySelector('[data-slot="' + name + '"]');
  };

  Suggestions.prototype.render = function (candidates, labels, top) {
    var self = this;
    if (!this.list || !this.template) return;
    this.list.textContent = "";
    candidates.forEach(function (candidate) {
      var node = self.template.content.firstElementChild.cloneNode(true);
      var label = function (zone) { return labels[zone] || zone; };
      node.setAttribute("data-muscle", candidate.muscle);
      node.setAttribute("data-side", candidate.side);
      node.setAttribute("data-name", candidate.name);
      self.slot(node, "name").textContent = candidate.name;
      self.slot(node, "side").textContent = candidate.side;
      self.slot(node, "link").setAttribute("href",
        self.muscleUrl.replace("__muscle__", encodeURIComponent(candidate.muscle)) + "?side=" + encodeURIComponent(candidate.side));
      self.slot(node, "score").textContent = Number(candidate.score).toFixed(2);
      var meter = self.slot(node, "meter");
      if (meter) {
        meter.setAttribute("max", String(top > 0 ? top : 1));
        meter.setAttribute("value", String(Math.max(0, candidate.score)));
      }
      var essential = {};
      (candidate.matched_essential || []).forEach(function (zone) { essential[zone] = true; });
      var chips = self.slot(node, "matched");
      chips.textContent = "";
      candidate.matched_zones.forEach(function (zone) {
        var chip = document.createElement("li");
        chip.className = "atlas-chip" + (essential[zone] ? " atlas-chip--main" : "");
        chip.textContent = label(zone);
        var hint = document.createElement("span");
        hint.className = "sr-only";
        hint.textContent = essential[zone] ? " (main zone)" : " (spillover zone)";
        chip.appendChild(hint);
        chips.appendChild(chip);
      });
      var missing = candidate.missing_essential || [];
      self.slot(node, "missing-row").hidden = missing.length === 0;
      self.slot(node, "missing").textContent = missing.map(label).join("; ");
      var pickLabel = self.slot(node, "pick-label");
      if (pickLabel) pickLabel.textContent = " " + candidate.name + ", " + candidate.side + ",";
      self.showPicked(node);
      self.list.appendChild(node);
    });
  };

  Suggestions.prototype.showPicked = function (node) {
    var button = node.querySelector("[data-atlas-pick]");
    var picked = !!this.picked[key(node.getAttribute("data-muscle"), node.getAttribute("data-side"))];
    node.classList.toggle("is-picked", picked);
    if (!button) return;
    button.disabled = picked;
    var label = button.querySelector('[data-slot="pick-label"]');
    button.textContent = picked ? "Added" : "Add";
    if (label) button.appendChild(label);
    button.appendChild(document.createTextNode(picked ? "" : " to note"));
  };

  Suggestions.prototype.pick = function (node) {
    if (!node) return;
    var detail = {
      muscle: node.getAttribute("data-muscle"),
      side: node.getAttribute("data-side"),
      name: node.getAttribute("data-name")
    };
    var event = new CustomEvent("atlas:pick", { bubbles: true, cancelable: true, detail: detail });
    if (!node.dispatchEvent(event)) return;
    this.picked[key(detail.muscle, detail.side)] = true;
    this.showPicked(node);
    this.say(detail.name + ", " + detail.side + ": added.");
  };

  Suggestions.prototype.setPicked = function (sites) {
    var self = this;
    this.picked = {};
    (sites || []).forEach(function (site) { self.picked[key(site.muscle, site.side)] = true; });
    Array.prototype.forEach.call(this.list.querySelectorAll("[data-atlas-candidate]"), function (node) {
      self.showPicked(node);
    });
  };

  function containers() {
    return Array.prototype.map.call(document.querySelectorAll("[data-atlas-suggestions]"), function (root) {
      return root.atlasSuggestions || new Suggestions(root);
    });
  }

  function init() {
    var all = containers();
    if (!all.length) return;
    document.addEventListener("bodymap:change", function (event) {
      var drawing = event.detail && event.detail.drawing;
      containers().forEach(function (s) { s.schedule(drawing); });
    });
    // A map that starts with a stored drawing gets its suggestions once, unless the server rendered them.
    window.setTimeout(function () {
      var map = document.querySelector("[data-bodymap]");
      var drawing = map && map.bodymap ? map.bodymap.getDrawing() : [];
      all.forEach(function (s) {
        if (drawing.length && !s.list.querySelector("[data-atlas-candidate]")) s.refresh(drawing);
      });
    }, 0);
  }

  window.TriggerPointSuggest = {
    refresh: function (root, drawing) { (root.atlasSuggestions || new Suggestions(root)).refresh(drawing); },
    setPicked: function (root, sites) { (root.atlasSuggestions || new Suggestions(root)).setPicked(sites); },
    unpick: function (root, muscle, side) {
      var s = root.atlasSuggestions || new Suggestions(root);
      delete s.picked[key(muscle, side)];
      s.setPicked(Object.keys(s.picked).map(function (k) {
        var parts = k.split("|");
        return { muscle: parts[0], side: parts[1] };
      }));
    }
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
