// Questionnaire: show a question's follow-up (dates) only when "Yes" is chosen.
// Without JavaScript every follow-up stays visible, so the form still works.
(function () {
  "use strict";
  function update(form, name) {
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    const show = chosen && chosen.value === "yes";
    form.querySelectorAll(`[data-follow="${name}"]`).forEach((block) => {
      block.hidden = !show;
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form.questionnaire").forEach((form) => {
      const names = new Set(Array.from(form.querySelectorAll("[data-follow]"), (el) => el.dataset.follow));
      names.forEach((name) => update(form, name));
      form.addEventListener("change", (event) => {
        if (event.target.name && names.has(event.target.name)) {
          update(form, event.target.name);
        }
      });
    });
  });
})();
