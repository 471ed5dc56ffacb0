/* Body map behaviour for atlas/_bodymap.html (vanilla JS, CSP-safe: no inline code, no style attributes).
 *
 * Every element with [data-bodymap] is enhanced according to its data-mode:
 *   draw    - the patient or clinician marks zones and sets a 0-10 intensity for each.
 *             Writes JSON [{"zone": id, "intensity": n}] into the hidden [data-bodymap-input]
 *             and dispatches a "bodymap:change" CustomEvent (detail: {drawing: [...]}) on the wrapper.
 *   pattern - read-only: data-pattern {"essential": [...], "spillover": [...], "trigger_points": [...]}.
 *   heat    - read-only: data-drawing {"zone-id": n} or [{"zone": id, "intensity": n}].
 * The same zone may be drawn in both views (e.g. the side of the neck); both copies always agree.
 * Public hook: wrapper.bodymap = {getDrawing(), setDrawing(drawing), select(zoneId)}.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var MAX = 10;
  var DEFAULT_INTENSITY = 5;

  function parseJSON(text, fallback) {
    if (!text) return fallback;
    try {
      return JSON.parse(text);
    } catch (err) {
      if (window.console) window.console.warn("bodymap: ignoring malformed JSON", err);
      return fallback;
    }
  }

  function clampIntensity(value) {
    var n = Math.round(Number(value));
    if (!isFinite(n)) return null;
    return Math.min(MAX, Math.max(0, n));
  }

  /* Accepts {"zone": n} or [{"zone": id, "intensity": n}] and returns an ordered list of pairs. */
  function normaliseDrawing(raw, known) {
    var out = [];
    var seen = {};
    function add(zone, intensity) {
      var n = clampIntensity(intensity);
      if (!known[zone] || n === null || seen[zone]) return;
      seen[zone] = true;
      out.push({ zone: zone, intensity: n });
    }
    if (Array.isArray(raw)) {
      raw.forEach(function (item) {
        if (item && typeof item === "object") add(item.zone, item.intensity);
      });
    } else if (raw && typeof raw === "object") {
      Object.keys(raw).forEach(function (zone) { add(zone, raw[zone]); });
    }
    return out;
  }

  function intensityClasses(el) {
    for (var i = 0; i <= MAX; i++) el.classList.remove("int-" + i);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgEl(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function BodyMap(root) {
    this.root = root;
    this.mode = root.getAttribute("data-mode") || "draw";
    this.zones = {};      // zone id -> [path elements] (one per view that shows it)
    this.labels = {};     // zone id -> plain label from the vocabulary
    this.drawing = [];    // [{zone, intensity}] in the order the zones were chosen
    this.selected = null;
    this.lastIntensity = DEFAULT_INTENSITY;
    this.live = root.querySelector("[data-bodymap-live]");
    var self = this;
    Array.prototype.forEach.call(root.querySelectorAll(".zone[data-zone]"), function (path) {
      var id = path.getAttribute("data-zone");
      (self.zones[id] = self.zones[id] || []).push(path);
      self.labels[id] = path.getAttribute("aria-label");
    });
    this.rings = {};
    if (this.mode === "draw") this.initDraw();
    else if (this.mode === "pattern") this.initPattern();
    else if (this.mode === "heat") this.initHeat();
    root.bodymap = {
      getDrawing: function () { return self.drawing.slice(); },
      setDrawing: function (d) { self.drawing = normaliseDrawing(d, self.zones); self.refresh(false); },
      select: function (zone) { self.select(zone); }
    };
  }

  BodyMap.prototype.announce = function (message) {
    if (!this.live) return;
    // Clearing first makes screen readers repeat an identical message.
    this.live.textContent = "";
    var live = this.live;
    window.setTimeout(function () { live.textContent = message; }, 30);
  };

  BodyMap.prototype.find = function (zone) {
    for (var i = 0; i < this.drawing.length; i++) if (this.drawing[i].zone === zone) return this.drawing[i];
    return null;
  };

  /* ---------------------------------------------------------------- rings */
  BodyMap.prototype.ringLayer = function (path) {
    var svg = path.ownerSVGElement;
    return svg.querySelector(".bodymap__markers");
  };

  BodyMap.prototype.showRing = function (kind, paths) {
    var self = this;
    (this.rings[kind] || []).forEach(function (r) { r.remove(); });
    this.rings[kind] = (paths || []).map(function (path) {
      var ring = svgEl("path", { d: path.getAttribute("d"), "class": "bodymap__ring bodymap__ring--" + kind });
      var layer = self.ringLayer(path);
      layer.insertBefore(ring, layer.firstChild);
      return ring;
    });
  };

  /* ---------------------------------------------------------------- draw mode */
  BodyMap.prototype.initDraw = function () {
    var self = this;
    var root = this.root;
    this.input = root.querySelector("[data-bodymap-input]");
    this.range = root.querySelector("[data-bodymap-range]");
    this.number = root.querySelector("[data-bodymap-number]");
    this.steps = root.querySelectorAll("[data-bodymap-step]");
    this.selectedName = root.querySelector("[data-bodymap-selected]");
    this.list = root.querySelector("[data-bodymap-list]");
    this.empty = root.querySelector("[data-bodymap-empty]");
    this.renderLegend();

    var initial = parseJSON(root.getAttribute("data-initial"), null);
    if (!initial && this.input) initial = parseJSON(this.input.value, null);
    this.drawing = normaliseDrawing(initial, this.zones);

    Object.keys(this.zones).forEach(function (zone) {
      self.zones[zone].forEach(function (path) {
        // Pointer events cover mouse, pen and touch; "click" also fires for them, so only one is used.
        path.addEventListener("click", function () { self.choose(zone); });
        path.addEventListener("keydown", function (event) { self.onZoneKey(event, zone); });
        path.addEventListener("focus", function () { self.showRing("focus", [path]); });
        path.addEventListener("blur", function () { self.showRing("focus", []); });
      });
    });

    function fromControl(value) {
      if (!self.selected) return;
      var n = clampIntensity(value);
      if (n === null) return;
      self.setIntensity(self.selected, n);
    }
    if (this.range) this.range.addEventListener("input", function () { fromControl(self.range.value); });
    if (this.number) {
      this.number.addEventListener("input", function () {
        if (self.number.value !== "") fromControl(self.number.value);
      });
      this.number.addEventListener("change", function () { fromControl(self.number.value || 0); });
    }
    Array.prototype.forEach.call(this.steps, function (button) {
      button.addEventListener("click", function () {
        var item = self.selected && self.find(self.selected);
        if (item) fromControl(item.intensity + Number(button.getAttribute("data-bodymap-step")));
      });
    });
    this.refresh(false);
  };

  BodyMap.prototype.onZoneKey = function (event, zone) {
    if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
      this.choose(zone);
    } else if ((event.key === "Delete" || event.key === "Backspace") && this.find(zone)) {
      event.preventDefault();
      this.remove(zone);
    } else if (this.find(zone) && /^[0-9]$/.test(event.key)) {
      // Digits set the intensity directly for a chosen zone (0-9; "+" / "-" step, for 10).
      event.preventDefault();
      this.select(zone);
      this.setIntensity(zone, Number(event.key));
    } else if (this.find(zone) && (event.key === "+" || event.key === "=" || event.key === "-")) {
      event.preventDefault();
      this.select(zone);
      this.setIntensity(zone, this.find(zone).intensity + (event.key === "-" ? -1 : 1));
    }
  };

  /* A tap on an unmarked zone marks it (at the last intensity used); on a marked zone it selects it. */
  BodyMap.prototype.choose = function (zone) {
    if (!this.find(zone)) {
      this.drawing.push({ zone: zone, intensity: this.lastIntensity });
      this.selected = zone;
      this.refresh(true);
    } else {
      this.selected = zone;
      this.refresh(false);
    }
    this.announceZone(zone);
  };

  BodyMap.prototype.select = function (zone) {
    if (!this.find(zone)) return;
    this.selected = zone;
    this.refresh(false);
  };

  BodyMap.prototype.setIntensity = function (zone, value) {
    var item = this.find(zone);
    var n = clampIntensity(value);
    if (!item || n === null || item.intensity === n) {
      this.refresh(false);
      return;
    }
    item.intensity = n;
    this.lastIntensity = n;
    this.refresh(true);
    this.announceZone(zone);
  };

  BodyMap.prototype.remove = function (zone) {
    this.drawing = this.drawing.filter(function (item) { return item.zone !== zone; });
    if (this.selected === zone) {
      this.selected = this.drawing.length ? this.drawing[this.drawing.length - 1].zone : null;
    }
    this.refresh(true);
    this.announce(this.labels[zone] + ": removed");
  };

  BodyMap.prototype.announceZone = function (zone) {
    var item = this.find(zone);
    if (item) this.announce(this.labels[zone] + ": " + item.intensity + " of " + MAX);
  };

  BodyMap.prototype.refresh = function (changed) {
    var self = this;
    var byZone = {};
    this.drawing.forEach(function (item) { byZone[item.zone] = item.intensity; });
    Object.keys(this.zones).forEach(function (zone) {
      var value = byZone[zone];
      self.zones[zone].forEach(function (path) {
        intensityClasses(path);
        var marked = value !== undefined;
        if (marked) path.classList.add("int-" + value);
        if (self.mode === "draw") {
          path.setAttribute("aria-pressed", marked ? "true" : "false");
          path.setAttribute("aria-label", self.labels[zone] + (marked ? ": " + value + " of " + MAX : ""));
        } else if (self.mode === "heat") {
          path.setAttribute("aria-label", self.labels[zone] + (marked ? ": " + value + " of " + MAX : ": no pain marked"));
        }
      });
    });
    var zeros = [];
    this.drawing.forEach(function (item) {
      if (item.intensity === 0) zeros = zeros.concat(self.zones[item.zone]);
    });
    this.showRing("zero", zeros);
    if (this.mode !== "draw") return;

    if (this.selected && !byZone.hasOwnProperty(this.selected)) this.selected = null;
    this.showRing("selected", this.selected ? this.zones[this.selected] : []);
    var current = this.selected ? byZone[this.selected] : null;
    var disabled = current === null;
    [this.range, this.number].concat(Array.prototype.slice.call(this.steps)).forEach(function (control) {
      if (control) control.disabled = disabled;
    });
    if (!disabled) {
      if (this.range) this.range.value = String(current);
      if (this.number && document.activeElement !== this.number) this.number.value = String(current);
      if (this.range) this.range.setAttribute("aria-valuetext", current + " of " + MAX + ", " + this.labels[this.selected]);
    }
    if (this.selectedName) {
      this.selectedName.textContent = this.selected ? this.labels[this.selected] : "none yet \u2013 choose a body part";
    }
    this.renderList(byZone);
    var json = JSON.stringify(this.drawing);
    if (this.input) this.input.value = json;
    if (changed) {
      this.root.dispatchEvent(new CustomEvent("bodymap:change", {
        bubbles: true,
        detail: { drawing: this.drawing.map(function (i) { return { zone: i.zone, intensity: i.intensity }; }) }
      }));
    }
  };

  BodyMap.prototype.renderList = function (byZone) {
    var self = this;
    if (!this.list) return;
    this.list.textContent = "";
    if (this.empty) this.empty.hidden = this.drawing.length > 0;
    this.drawing.forEach(function (item) {
      var li = el("li", { "class": "bodymap__item" + (item.zone === self.selected ? " is-selected" : "") });
      var swatch = el("span", { "class": "bodymap__swatch int-" + item.intensity, "aria-hidden": "true" });
      var name = el("button", { type: "button", "class": "bodymap__item-name" }, self.labels[item.zone]);
      if (item.zone === self.selected) name.setAttribute("aria-current", "true");
      name.addEventListener("click", function () {
        self.select(item.zone);
        self.announceZone(item.zone);
        if (self.range) self.range.focus();
      });
      var score = el("span", { "class": "bodymap__item-score" }, byZone[item.zone] + " / " + MAX);
      var remove = el("button", {
        type: "button", "class": "bodymap__item-remove", "aria-label": "Remove " + self.labels[item.zone]
      }, "Remove");
      remove.addEventListener("click", function () { self.remove(item.zone); });
      li.appendChild(swatch);
      li.appendChild(name);
      li.appendChild(score);
      li.appendChild(remove);
      self.list.appendChild(li);
    });
  };

  /* ---------------------------------------------------------------- read-only modes */
  BodyMap.prototype.makeReadOnly = function (describe) {
    var self = this;
    Object.keys(this.zones).forEach(function (zone) {
      self.zones[zone].forEach(function (path) {
        path.setAttribute("role", "img");
        path.removeAttribute("aria-pressed");
        path.setAttribute("tabindex", describe(zone) ? "0" : "-1");
      });
    });
  };

  BodyMap.prototype.renderLegend = function () {
    var legend = this.root.querySelector("[data-bodymap-legend]");
    if (!legend) return;
    legend.textContent = "";
    if (this.mode === "pattern") {
      legend.appendChild(el("p", { "class": "bodymap__legend-title" }, "Key"));
      var keys = el("ul", { "class": "bodymap__keys" });
      keys.appendChild(this.keyItem("essential", "Main (essential) pain zone"));
      keys.appendChild(this.keyItem("spillover", "Spillover pain zone"));
      keys.appendChild(this.keyItem("marker", "Trigger point location"));
      legend.appendChild(keys);
      return;
    }
    legend.appendChild(el("p", { "class": "bodymap__legend-title", id: this.legendId() },
      "Pain strength: 0 = none, 10 = worst imaginable"));
    var scale = el("ol", { "class": "bodymap__scale", "aria-labelledby": this.legendId(), start: "0" });
    for (var i = 0; i <= MAX; i++) {
      var li = el("li");
      li.appendChild(el("span", { "class": "bodymap__swatch int-" + i, "aria-hidden": "true" }));
      li.appendChild(el("span", {}, String(i)));
      scale.appendChild(li);
    }
    legend.appendChild(scale);
  };

  BodyMap.prototype.legendId = function () {
    return "bodymap-legend-" + this.mode;
  };

  BodyMap.prototype.keyItem = function (kind, text) {
    var li = el("li");
    var svg = svgEl("svg", { "class": "bodymap__key-svg", viewBox: "0 0 24 16", "aria-hidden": "true" });
    if (kind === "marker") {
      svg.appendChild(this.marker(12, 8));
    } else {
      svg.appendChild(svgEl("rect", { x: 1, y: 1, width: 22, height: 14, rx: 2, "class": "zone " + kind }));
    }
    li.appendChild(svg);
    li.appendChild(el("span", {}, text));
    return li;
  };

  BodyMap.prototype.marker = function (x, y) {
    var g = svgEl("g", { "class": "tp-marker", transform: "translate(" + x + " " + y + ")" });
    g.appendChild(svgEl("circle", { r: 5 }));
    g.appendChild(svgEl("path", { d: "M-2.6 -2.6L2.6 2.6M2.6 -2.6L-2.6 2.6" }));
    return g;
  };

  BodyMap.prototype.summary = function (lines) {
    var list = this.root.querySelector("[data-bodymap-summary]");
    if (!list) return;
    list.textContent = "";
    lines.forEach(function (line) { list.appendChild(el("li", {}, line)); });
  };

  BodyMap.prototype.initPattern = function () {
    var self = this;
    var raw = parseJSON(this.root.getAttribute("data-pattern") || this.root.getAttribute("data-initial"), {});
    var known = function (list) {
      return (Array.isArray(list) ? list : []).filter(function (z) { return self.zones[z]; });
    };
    var essential = known(raw.essential);
    var spillover = known(raw.spillover).filter(function (z) { return essential.indexOf(z) < 0; });
    var points = known(raw.trigger_points);
    var role = {};
    essential.forEach(function (z) { role[z] = "essential"; });
    spillover.forEach(function (z) { role[z] = "spillover"; });
    Object.keys(role).forEach(function (zone) {
      self.zones[zone].forEach(function (path) {
        path.classList.add(role[zone]);
        path.setAttribute("aria-label", self.labels[zone] + ": " +
          (role[zone] === "essential" ? "main pain zone" : "spillover pain zone"));
      });
    });
    points.forEach(function (zone) {
      self.zones[zone].forEach(function (path) {
        var layer = self.ringLayer(path);
        layer.appendChild(self.marker(path.getAttribute("data-cx"), path.getAttribute("data-cy")));
        var label = path.getAttribute("aria-label");
        path.setAttribute("aria-label", label + ", trigger point here");
      });
    });
    this.makeReadOnly(function (zone) { return role[zone] || points.indexOf(zone) >= 0; });
    this.renderLegend();
    var name = function (z) { return self.labels[z]; };
    var lines = [];
    if (essential.length) lines.push("Main pain zones: " + essential.map(name).join("; ") + ".");
    if (spillover.length) lines.push("Spillover: " + spillover.map(name).join("; ") + ".");
    if (points.length) lines.push("Trigger point: " + points.map(name).join("; ") + ".");
    this.summary(lines);
  };

  BodyMap.prototype.initHeat = function () {
    var self = this;
    var raw = parseJSON(this.root.getAttribute("data-drawing") || this.root.getAttribute("data-initial"), []);
    this.drawing = normaliseDrawing(raw, this.zones);
    var byZone = {};
    this.drawing.forEach(function (item) { byZone[item.zone] = item.intensity; });
    this.makeReadOnly(function (zone) { return byZone.hasOwnProperty(zone); });
    this.refresh(false);
    this.renderLegend();
    var sorted = this.drawing.slice().sort(function (a, b) { return b.intensity - a.intensity; });
    this.summary(sorted.length ? [
      "Pain marked: " + sorted.map(function (i) { return self.labels[i.zone] + " " + i.intensity + "/" + MAX; }).join("; ") + "."
    ] : ["No pain marked."]);
  };

  function init(scope) {
    Array.prototype.forEach.call((scope || document).querySelectorAll("[data-bodymap]"), function (root) {
      if (!root.bodymap) new BodyMap(root); // eslint-disable-line no-new
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
  // Pages swapped in by htmx get their body maps too.
  document.addEventListener("htmx:load", function (event) { init(event.target); });
  window.TriggerPointBodyMap = { init: init };
})();
