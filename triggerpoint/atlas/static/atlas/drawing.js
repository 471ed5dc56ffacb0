/* Pain-drawing sandbox (atlas/drawing.html): collects "atlas:pick" events into an exam shortlist.
 * Nothing is sent or stored; it shows how a note page consumes the event from atlas/_suggestions.html.
 */
(function () {
  "use strict";

  function init() {
    var box = document.querySelector("[data-atlas-shortlist]");
    if (!box) return;
    var list = box.querySelector("[data-atlas-shortlist-list]");
    var empty = box.querySelector("[data-atlas-shortlist-empty]");
    var suggestions = document.querySelector("[data-atlas-suggestions]");
    var sites = [];

    function render() {
      list.textContent = "";
      empty.hidden = sites.length > 0;
      sites.forEach(function (site, index) {
        var li = document.createElement("li");
        li.className = "atlas-shortlist__item";
        var link = document.createElement("a");
        link.href = site.url;
        link.textContent = site.name + ", " + site.side;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "small";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove " + site.name + ", " + site.side);
        remove.addEventListener("click", function () {
          sites.splice(index, 1);
          if (suggestions && window.TriggerPointSuggest) {
            window.TriggerPointSuggest.unpick(suggestions, site.muscle, site.side);
          }
          render();
        });
        li.appendChild(link);
        li.appendChild(remove);
        list.appendChild(li);
      });
    }

    document.addEventListener("atlas:pick", function (event) {
      var detail = event.detail || {};
      var exists = sites.some(function (s) { return s.muscle === detail.muscle && s.side === detail.side; });
      if (exists) return;
      var card = event.target.closest("[data-atlas-candidate]");
      var link = card && card.querySelector('[data-slot="link"]');
      sites.push({ muscle: detail.muscle, side: detail.side, name: detail.name, url: link ? link.getAttribute("href") : "#" });
      render();
    });
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
