/* Procedure note editor (vanilla JS + htmx; CSP-safe: no inline code, no style attributes).
 *
 * The note lives here as one JSON document (the same shape the API takes). Every change:
 *  - autosaves it with the version it was read at (core/autosave.js, the same module as the assessment
 *    editor: debounced, and every few seconds while unsaved); a 409 means someone else saved first:
 *    a banner says so and nothing is overwritten;
 *  - asks the server (htmx) for the running dose total and the codes of the note as it is on screen.
 * Muscles are added from the search box, the assessment's planned muscles, or the atlas suggestions
 * for zones clicked on the body map.
 */
(function () {
  "use strict";

  var root = document.getElementById("note-editor");
  if (!root) return;

  var SAVE_DELAY_MS = 1200;
  var SAVE_INTERVAL_MS = 5000;
  var LIVE_DELAY_MS = 300;

  function readJSON(id) { return JSON.parse(document.getElementById(id).textContent); }

  var doc = readJSON("note-document");
  var muscles = readJSON("muscle-catalog");
  var drugs = readJSON("drug-catalog");
  var version = doc.version;
  delete doc.version;
  doc.mix = doc.mix || [];
  doc.sites = doc.sites || [];

  var muscleById = {};
  muscles.forEach(function (m) { muscleById[m.id] = m; });
  var drugById = {};
  drugs.forEach(function (d) { drugById[d.id] = d; });

  var problemsEl = document.getElementById("save-problems");
  var signForm = document.getElementById("sign-form");
  var signButton = document.getElementById("sign-button");
  var livePanel = document.getElementById("live-panel");

  var liveTimer = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function numberOrNull(value) {
    if (value === "" || value === null || value === undefined) return null;
    var n = Number(value);
    return isFinite(n) ? n : null;
  }

  function intOrNull(value) {
    var n = numberOrNull(value);
    return n === null ? null : Math.round(n);
  }

  // ------------------------------------------------------------------ autosave (core/autosave.js, shared with the assessment editor)

  var autosave = window.TriggerpointAutosave.start({
    url: root.dataset.autosaveUrl,
    version: version,
    snapshot: function () { return JSON.stringify(doc); },
    request: function (snapshot, current) {
      return { body: JSON.stringify(Object.assign({ version: current }, JSON.parse(snapshot))), contentType: "application/json" };
    },
    root: root,
    status: document.getElementById("save-status"),
    conflict: document.getElementById("conflict"),
    conflictDetail: document.getElementById("conflict-detail"),
    problems: problemsEl,
    onSaved: function (current) {
      document.querySelectorAll("#sign-version, #discard-version").forEach(function (input) { input.value = current; });
    },
    onConflict: function () { updateSignButton(); }
  });

  function updateSignButton() {
    if (!signButton) return;
    signButton.disabled = autosave.inConflict();
    signButton.textContent = autosave.inConflict() ? "Resolve the conflict first" : "Sign note";
  }

  // ------------------------------------------------------------------ live dose total and codes

  function refreshLive() {
    if (!window.htmx) return;
    window.htmx.ajax("POST", root.dataset.liveUrl, {
      source: livePanel, target: "#live-panel", swap: "innerHTML",
      values: { document: JSON.stringify(doc) }
    });
  }

  function scheduleLive() {
    window.clearTimeout(liveTimer);
    liveTimer = window.setTimeout(refreshLive, LIVE_DELAY_MS);
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== livePanel) return;
    var live = livePanel.querySelector("[data-live-blocks]");
    var box = document.getElementById("override-box");
    if (live && box && live.getAttribute("data-live-blocks") === "true") box.open = true;
  });

  // Fields the note opened with from the plan: a badge says where each came from until the user
  // changes it (the server drops the mark on the next save, the same comparison as here).
  var prefilledValues = readJSON("note-prefilled");

  function prefilledComparable(name) {
    if (name === "sites") return (doc.sites || []).map(function (s) { return [s.muscle, s.side]; });
    if (name === "mix") return (doc.mix || []).map(function (c) { return c.drug; }).sort();
    if (name === "diagnosis_codes") return doc.diagnosis_codes || [];
    return doc[name] || "";
  }

  function refreshPrefilled() {
    Object.keys(prefilledValues).forEach(function (name) {
      if (JSON.stringify(prefilledComparable(name)) === JSON.stringify(prefilledValues[name])) return;
      root.querySelectorAll('[data-prefilled-for="' + name + '"]').forEach(function (badge) { badge.hidden = true; });
      delete prefilledValues[name];
    });
  }

  function changed() {
    refreshPrefilled();
    autosave.changed();
    scheduleLive();
    renderMixSummary();
  }

  // ------------------------------------------------------------------ session and outcome fields

  var fields = root.querySelectorAll("[data-field]");

  function loadFields() {
    fields.forEach(function (input) {
      var name = input.dataset.field;
      var value = doc[name];
      if (input.type === "radio") input.checked = value === input.value;
      else if (input.type === "checkbox") input.checked = (value || []).indexOf(input.value) !== -1;
      else if (name === "diagnosis_codes") input.value = (value || []).join(", ");
      else input.value = value === null || value === undefined ? "" : value;
    });
  }

  function readField(input) {
    var name = input.dataset.field;
    if (input.type === "radio") { if (input.checked) doc[name] = input.value; return; }
    if (input.type === "checkbox") {
      doc[name] = Array.prototype.filter.call(root.querySelectorAll('[data-field="' + name + '"]'), function (box) {
        return box.checked;
      }).map(function (box) { return box.value; });
      return;
    }
    if (name === "diagnosis_codes") {
      doc[name] = input.value.split(/[\s,;]+/).filter(Boolean).map(function (c) { return c.toUpperCase(); });
    } else if (["pre_nrs", "post_nrs", "observation_minutes"].indexOf(name) !== -1) {
      doc[name] = intOrNull(input.value);
    } else {
      doc[name] = input.value;
    }
  }

  fields.forEach(function (input) {
    input.addEventListener(input.type === "radio" || input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input",
      function () { readField(input); changed(); });
  });

  // ------------------------------------------------------------------ doses (mix components and per-site injectates)

  var UNIT_KEYS = { percent: "concentration_percent", mg: "concentration_mg_per_ml", units: "concentration_units_per_ml" };

  function unitOf(dose) {
    if (dose.concentration_units_per_ml !== null && dose.concentration_units_per_ml !== undefined) return "units";
    if (dose.concentration_mg_per_ml !== null && dose.concentration_mg_per_ml !== undefined) return "mg";
    if (dose.concentration_percent !== null && dose.concentration_percent !== undefined) return "percent";
    var drug = drugById[dose.drug];
    if (drug && drug.drug_class === "botulinum_toxin") return "units";
    if (drug && (drug.drug_class === "corticosteroid")) return "mg";
    return "percent";
  }

  function concentrationValue(dose) {
    var value = dose[UNIT_KEYS[unitOf(dose)]];
    return value === null || value === undefined ? "" : value;
  }

  function setConcentration(dose, unit, value) {
    Object.keys(UNIT_KEYS).forEach(function (key) { dose[UNIT_KEYS[key]] = null; });
    dose[UNIT_KEYS[unit]] = numberOrNull(value);
  }

  function drugSelect(dose, label) {
    var select = el("select", { "aria-label": label, "data-role": "drug" });
    drugs.forEach(function (d) {
      select.appendChild(el("option", { value: d.id, text: d.name, selected: d.id === dose.drug }));
    });
    return select;
  }

  /* Cells shared by a mix row and a site-injectate row: drug, concentration + unit, epinephrine. */
  function doseCells(dose, label, onChange) {
    var select = drugSelect(dose, label + " drug");
    var concInput = el("input", { type: "number", step: "any", min: "0", className: "num-in", value: concentrationValue(dose),
      "aria-label": label + " concentration", "data-role": "concentration" });
    var unit = el("select", { "aria-label": label + " concentration unit", "data-role": "unit" });
    [["percent", "%"], ["mg", "mg/mL"], ["units", "units/mL"]].forEach(function (pair) {
      unit.appendChild(el("option", { value: pair[0], text: pair[1], selected: unitOf(dose) === pair[0] }));
    });
    var epi = el("input", { type: "checkbox", "aria-label": label + " with epinephrine", checked: !!dose.with_epinephrine });
    select.addEventListener("change", function () {
      dose.drug = select.value;
      var drug = drugById[dose.drug];
      var preferred = drug.drug_class === "botulinum_toxin" ? "units" : drug.drug_class === "corticosteroid" ? "mg" : "percent";
      unit.value = preferred;
      setConcentration(dose, preferred, concInput.value);
      if (drug.drug_class.indexOf("local_anesthetic") === -1) { dose.with_epinephrine = false; epi.checked = false; }
      epi.disabled = drug.drug_class.indexOf("local_anesthetic") === -1;
      onChange();
    });
    concInput.addEventListener("input", function () { setConcentration(dose, unit.value, concInput.value); onChange(); });
    unit.addEventListener("change", function () { setConcentration(dose, unit.value, concInput.value); onChange(); });
    epi.disabled = (drugById[dose.drug] || { drug_class: "" }).drug_class.indexOf("local_anesthetic") === -1;
    epi.addEventListener("change", function () { dose.with_epinephrine = epi.checked; onChange(); });
    return [
      el("td", {}, [select]),
      el("td", {}, [el("span", { className: "conc" }, [concInput, unit])]),
      el("td", {}, [epi])
    ];
  }

  function lotCells(dose, label) {
    var lot = el("input", { type: "text", className: "lot", value: dose.lot_number || "", maxlength: "40", "aria-label": label + " lot" });
    var expiry = el("input", { type: "date", value: dose.expiry || "", "aria-label": label + " expiry" });
    lot.addEventListener("input", function () { dose.lot_number = lot.value; changed(); });
    expiry.addEventListener("change", function () { dose.expiry = expiry.value || null; changed(); });
    return [el("td", {}, [lot]), el("td", {}, [expiry])];
  }

  /* The vial's billing facts: NDC, single- or multi-dose vial, and what was discarded from a single-dose vial.
     The coder's JW/JZ lines and the NDC on the claim come from these (CODE-DRUG-WASTE-JW-JZ); "not said" stays null. */
  function vialCells(dose, label) {
    var ndc = el("input", { type: "text", className: "ndc", value: dose.ndc || "", maxlength: "13", placeholder: "NDC 5-4-2",
      inputmode: "numeric", "aria-label": label + " NDC" });
    var kind = el("select", { "aria-label": label + " vial", "data-role": "vial" });
    [["", "vial?"], ["single", "single-dose"], ["multi", "multi-dose"]].forEach(function (pair) {
      var current = dose.single_dose_vial === true ? "single" : dose.single_dose_vial === false ? "multi" : "";
      kind.appendChild(el("option", { value: pair[0], text: pair[1], selected: current === pair[0] }));
    });
    var discarded = el("input", { type: "number", step: "any", min: "0", className: "discarded",
      value: dose.discarded === null || dose.discarded === undefined ? "" : dose.discarded,
      placeholder: "discarded", "aria-label": label + " amount discarded (mg or units, 0 if none)",
      title: "Amount discarded from a single-dose vial, in the drug's dose unit (mg, or units for toxins); 0 if none" });
    function syncDiscarded() { discarded.disabled = kind.value !== "single"; }
    ndc.addEventListener("input", function () { dose.ndc = ndc.value.trim(); changed(); });
    kind.addEventListener("change", function () {
      dose.single_dose_vial = kind.value === "single" ? true : kind.value === "multi" ? false : null;
      if (kind.value !== "single") { dose.discarded = null; discarded.value = ""; }
      syncDiscarded();
      changed();
    });
    discarded.addEventListener("input", function () { dose.discarded = numberOrNull(discarded.value); changed(); });
    syncDiscarded();
    return [el("td", {}, [el("span", { className: "vial" }, [ndc, kind, discarded])])];
  }

  function removeButton(label, onClick) {
    var button = el("button", { type: "button", className: "icon-button", "aria-label": label, title: label, text: "✕" });
    button.addEventListener("click", onClick);
    return el("td", {}, [button]);
  }

  // ------------------------------------------------------------------ shared mix

  var mixBody = document.querySelector("#mix-table tbody");

  function newDose(drugId) {
    return { drug: drugId, concentration_percent: null, concentration_mg_per_ml: null, concentration_units_per_ml: null,
             with_epinephrine: false, lot_number: "", expiry: null, ndc: "", single_dose_vial: null, discarded: null };
  }

  function renderMix() {
    mixBody.textContent = "";
    doc.mix.forEach(function (component, index) {
      var label = "Mix drug " + (index + 1);
      var perSite = el("input", { type: "number", step: "any", min: "0", className: "num-in", value: component.ml_per_site === null ? "" : component.ml_per_site,
        "aria-label": label + " mL per site", "data-role": "ml-per-site" });
      perSite.addEventListener("input", function () { component.ml_per_site = numberOrNull(perSite.value); changed(); renderSitesPlaceholders(); });
      var row = el("tr", { "data-mix-index": index }, doseCells(component, label, changed)
        .concat([el("td", {}, [perSite])])
        .concat(lotCells(component, label))
        .concat([removeButton("Remove " + label, function () { doc.mix.splice(index, 1); renderMix(); renderSites(); changed(); })]));
      mixBody.appendChild(row);
      // The vial's billing facts on a line of their own under the drug (the row is full).
      var vialLine = el("div", { className: "detail-fields injectate-line" }, [el("span", { className: "hint", text: "↳ vial, for billing:" })]);
      vialCells(component, label).forEach(function (td) { while (td.firstChild) vialLine.appendChild(td.firstChild); });
      mixBody.appendChild(el("tr", { className: "sub-row" }, [el("td", { colspan: "7" }, [vialLine])]));
    });
    renderMixSummary();
  }

  function standardMixVolume() {
    return doc.mix.reduce(function (sum, c) { return sum + (c.ml_per_site || 0); }, 0);
  }

  function renderMixSummary() {
    var summary = document.getElementById("mix-summary");
    var receiving = doc.sites.filter(function (s) { return s.uses_shared_mix && s.technique === "injection"; }).length;
    if (!doc.mix.length) { summary.textContent = "No shared mix: add a drug, or give each site its own injectate."; return; }
    summary.textContent = "Standard volume per site: " + round(standardMixVolume()) + " mL · received by " + receiving +
      " site" + (receiving === 1 ? "" : "s") + ". Adjust a site's volume in its Mix mL column.";
  }

  function round(n) { return Math.round(n * 100) / 100; }

  document.getElementById("add-mix").addEventListener("click", function () {
    var dose = newDose(doc.mix.length ? "saline" : "lidocaine");
    if (!doc.mix.length) { dose.concentration_percent = 1; dose.ml_per_site = 1; } else { dose.ml_per_site = 1; }
    doc.mix.push(dose);
    renderMix();
    renderSitesPlaceholders();
    changed();
    var rows = mixBody.querySelectorAll("tr[data-mix-index]");  // not the vial line under it
    rows[rows.length - 1].querySelector("select").focus();
  });

  // ------------------------------------------------------------------ sites

  var sitesBody = document.querySelector("#sites-table tbody");

  function addSite(muscleId, side) {
    if (!muscleById[muscleId]) return;
    var existing = doc.sites.findIndex(function (s) { return s.muscle === muscleId && s.side === side; });
    if (existing !== -1) { flashRow(existing); return; }
    var previous = doc.sites[doc.sites.length - 1] || {};
    doc.sites.push({
      muscle: muscleId, side: side, technique: previous.technique || "injection", insertions: 1,
      needle_gauge: previous.needle_gauge || null, needle_length_mm: previous.needle_length_mm || null,
      local_twitch: null, trigger_point: "", immediate_response: "", uses_shared_mix: true, mix_volume_ml: null,
      injectates: []
    });
    renderSites();
    markChips();
    changed();
  }

  function flashRow(index) {
    var row = sitesBody.querySelector('tr[data-site-index="' + index + '"]');
    if (!row) return;
    row.classList.add("flash");
    row.scrollIntoView({ block: "nearest" });
    window.setTimeout(function () { row.classList.remove("flash"); }, 900);
  }

  function numberCell(site, key, label, attrs) {
    var input = el("input", Object.assign({ type: "number", className: "tiny", value: site[key] === null ? "" : site[key], "aria-label": label }, attrs || {}));
    input.addEventListener("input", function () {
      site[key] = key === "mix_volume_ml" ? numberOrNull(input.value) : intOrNull(input.value);
      changed();
    });
    return el("td", {}, [input]);
  }

  function needleCell(site, label) {
    var cell = el("td", { className: "nowrap" });
    [["needle_gauge", "gauge", "G", "18", "34"], ["needle_length_mm", "length mm", "mm", "5", "150"]].forEach(function (spec) {
      var input = el("input", { type: "number", className: "tiny", min: spec[3], max: spec[4], step: "1", placeholder: spec[2],
        value: site[spec[0]] === null ? "" : site[spec[0]], "aria-label": label + " needle " + spec[1] });
      input.addEventListener("input", function () { site[spec[0]] = intOrNull(input.value); changed(); });
      cell.appendChild(input);
    });
    return cell;
  }

  function selectCell(options, current, label, onChange) {
    var select = el("select", { "aria-label": label });
    options.forEach(function (pair) { select.appendChild(el("option", { value: pair[0], text: pair[1], selected: String(current) === String(pair[0]) })); });
    select.addEventListener("change", function () { onChange(select.value); });
    return el("td", {}, [select]);
  }

  function renderSitesPlaceholders() {
    sitesBody.querySelectorAll('input[data-role="mix-volume"]').forEach(function (input) {
      input.placeholder = doc.mix.length ? String(round(standardMixVolume())) : "—";
    });
  }

  function renderSites() {
    sitesBody.textContent = "";
    document.getElementById("no-sites").hidden = doc.sites.length > 0;
    doc.sites.forEach(function (site, index) {
      var muscle = muscleById[site.muscle] || { name: site.muscle };
      var label = (site.side === "left" ? "Left " : "Right ") + muscle.name;
      var nameCell = el("td", {}, [el("span", { className: "site-name", text: muscle.name })]);
      if (muscle.pneumothorax_risk) {
        nameCell.appendChild(document.createTextNode(" "));
        nameCell.appendChild(el("span", { className: "pill sev-review", text: "thorax", title: "Over the thorax: pneumothorax risk. " + (muscle.needle_depth || "") }));
      }
      var mixInput = el("input", { type: "number", step: "any", min: "0", className: "tiny", "data-role": "mix-volume",
        value: site.mix_volume_ml === null ? "" : site.mix_volume_ml, "aria-label": label + " mix mL",
        disabled: site.technique !== "injection" });
      mixInput.addEventListener("input", function () { site.mix_volume_ml = numberOrNull(mixInput.value); changed(); });
      var tp = el("input", { type: "text", className: "text-in", value: site.trigger_point || "", placeholder: "e.g. mid-belly, taut band", maxlength: "120", "aria-label": label + " trigger point" });
      tp.addEventListener("input", function () { site.trigger_point = tp.value; changed(); });
      var response = el("input", { type: "text", className: "text-in", value: site.immediate_response || "", placeholder: "e.g. pain eased, referral reproduced", maxlength: "200", "aria-label": label + " immediate response" });
      response.addEventListener("input", function () { site.immediate_response = response.value; changed(); });
      var addDrug = el("button", { type: "button", className: "small", text: "+ drug", title: "Add an injectate at this site only", disabled: site.technique !== "injection" });
      addDrug.addEventListener("click", function () {
        var dose = newDose("triamcinolone");
        dose.concentration_mg_per_ml = 40;
        dose.volume_ml = null;
        site.injectates.push(dose);
        renderSites();
        changed();
      });
      var remove = el("button", { type: "button", className: "icon-button", text: "✕", "aria-label": "Remove " + label, title: "Remove " + label });
      remove.addEventListener("click", function () { doc.sites.splice(index, 1); renderSites(); markChips(); changed(); });
      var row = el("tr", { className: "main-row", "data-site-index": index, "data-muscle": site.muscle, "data-side": site.side }, [
        el("td", { text: String(index + 1) }),
        nameCell,
        selectCell([["left", "Left"], ["right", "Right"]], site.side, label + " side", function (v) { site.side = v; renderSites(); markChips(); changed(); }),
        selectCell([["injection", "Injection"], ["dry_needling", "Dry needling"]], site.technique, label + " technique", function (v) {
          site.technique = v;
          if (v === "dry_needling") { site.injectates = []; site.mix_volume_ml = null; }
          renderSites();
          changed();
        }),
        numberCell(site, "insertions", label + " insertions", { min: "1", max: "50", step: "1" }),
        needleCell(site, label),
        selectCell([["", "—"], ["true", "Yes"], ["false", "No"]], site.local_twitch === null ? "" : String(site.local_twitch), label + " local twitch", function (v) {
          site.local_twitch = v === "" ? null : v === "true";
          changed();
        }),
        el("td", {}, [mixInput]),
        el("td", { className: "nowrap" }, [addDrug, remove])
      ]);
      sitesBody.appendChild(row);
      sitesBody.appendChild(el("tr", { className: "detail-row" }, [
        el("td"),
        el("td", { colspan: "7" }, [el("div", { className: "detail-fields" }, [
          el("label", {}, [document.createTextNode("Trigger point"), tp]),
          el("label", {}, [document.createTextNode("Response"), response])
        ])]),
        el("td")
      ]));
      site.injectates.forEach(function (dose, doseIndex) {
        var doseLabel = label + " injectate " + (doseIndex + 1);
        var volume = el("input", { type: "number", step: "any", min: "0", className: "tiny", value: dose.volume_ml === null ? "" : dose.volume_ml, placeholder: "mL", "aria-label": doseLabel + " volume mL" });
        volume.addEventListener("input", function () { dose.volume_ml = numberOrNull(volume.value); changed(); });
        // The same controls as a mix row, laid out in one line under the site.
        var parts = doseCells(dose, doseLabel, changed).concat([el("td", {}, [volume])]).concat(lotCells(dose, doseLabel)).concat(vialCells(dose, doseLabel));
        var line = el("div", { className: "detail-fields injectate-line" }, [el("span", { className: "hint", text: "↳ this site only:" })]);
        parts.forEach(function (td) { while (td.firstChild) line.appendChild(td.firstChild); });
        var epiBox = line.querySelector('input[type="checkbox"]');
        if (epiBox) epiBox.after(document.createTextNode("epi"));
        sitesBody.appendChild(el("tr", { className: "sub-row" }, [
          el("td"),
          el("td", { colspan: "7" }, [line]),
          removeButton("Remove " + doseLabel, function () { site.injectates.splice(doseIndex, 1); renderSites(); changed(); })
        ]));
      });
    });
    renderSitesPlaceholders();
    renderMixSummary();
  }

  // ------------------------------------------------------------------ picking muscles

  function markChips() {
    root.querySelectorAll("[data-add-muscle]").forEach(function (chip) {
      var taken = doc.sites.some(function (s) { return s.muscle === chip.dataset.addMuscle && s.side === chip.dataset.addSide; });
      chip.classList.toggle("added", taken);
    });
  }

  root.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-add-muscle]");
    if (!chip) return;
    if (chip.dataset.addSide === "both") { addSite(chip.dataset.addMuscle, "left"); addSite(chip.dataset.addMuscle, "right"); }
    else addSite(chip.dataset.addMuscle, chip.dataset.addSide);
  });

  var addAllPlanned = document.getElementById("add-all-planned");
  if (addAllPlanned) addAllPlanned.addEventListener("click", function () {
    document.querySelectorAll("#planned-chips [data-add-muscle]").forEach(function (chip) { addSite(chip.dataset.addMuscle, chip.dataset.addSide); });
  });

  var search = document.getElementById("muscle-search");
  var results = document.getElementById("muscle-results");

  function renderResults() {
    results.textContent = "";
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!terms.length) return;
    var matches = muscles.filter(function (m) {
      var haystack = (m.name + " " + m.region + " " + m.body_region + " " + m.id).toLowerCase().replace(/_/g, " ");
      return terms.every(function (t) { return haystack.indexOf(t) !== -1; });
    }).slice(0, 12);
    if (!matches.length) { results.appendChild(el("li", { className: "empty", text: "No muscle matches." })); return; }
    matches.forEach(function (m) {
      results.appendChild(el("li", {}, [
        el("span", {}, [el("strong", { text: m.name }), el("span", { className: "region", text: " " + m.region })]),
        el("span", { className: "side-buttons" }, [
          el("button", { type: "button", className: "small", "data-add-muscle": m.id, "data-add-side": "left", text: "Left" }),
          el("button", { type: "button", className: "small", "data-add-muscle": m.id, "data-add-side": "right", text: "Right" }),
          el("button", { type: "button", className: "small", "data-add-muscle": m.id, "data-add-side": "both", text: "Both" })
        ])
      ]));
    });
  }

  search.addEventListener("input", renderResults);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); var first = results.querySelector("button"); if (first) first.focus(); }
  });

  var bodymap = root.querySelector("[data-bodymap]");
  if (bodymap) {
    bodymap.addEventListener("bodymap:change", function (event) {
      var drawing = (event.detail && event.detail.drawing) || [];
      if (!window.htmx) return;
      window.htmx.ajax("POST", root.dataset.suggestUrl, {
        source: bodymap, target: "#suggestions", swap: "innerHTML",
        values: { drawing: drawing.length ? JSON.stringify(drawing) : "" }
      });
    });
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "suggestions") markChips();
  });

  // ------------------------------------------------------------------ signing waits for the last save

  if (signForm) {
    signForm.addEventListener("submit", function (event) {
      if (autosave.inConflict()) { event.preventDefault(); return; }
      if (autosave.isInvalid() && !autosave.isDirty()) { event.preventDefault(); problemsEl.scrollIntoView({ block: "center" }); return; }
      if (!autosave.isDirty() && !autosave.isSaving()) return;
      event.preventDefault();
      signButton.disabled = true;
      signButton.textContent = "Saving before signing…";
      autosave.save().then(function (ok) {
        updateSignButton();
        if (ok) signForm.submit();
      });
    });
  }

  // ------------------------------------------------------------------ ultrasound stills: shown for ultrasound guidance;
  // uploading or removing one leaves the page, so it waits for the last save first

  var imagesCard = document.getElementById("guidance-images");
  if (imagesCard) {
    root.querySelectorAll('[data-field="guidance"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (doc.guidance === "ultrasound") imagesCard.hidden = false;
        else if (!imagesCard.querySelector(".guidance-images")) imagesCard.hidden = true;
      });
    });
    imagesCard.querySelectorAll("form.image-form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented || autosave.inConflict() || (!autosave.isDirty() && !autosave.isSaving())) return;
        event.preventDefault();
        autosave.save().then(function (ok) { if (ok) form.submit(); });
      });
    });
  }

  loadFields();
  renderMix();
  renderSites();
  markChips();
  updateSignButton();
})();
