// Consent signature pad: draw with a finger, stylus or mouse; the PNG goes into a hidden field.
// Pointer events cover touch tablets and desks alike. No inline script (strict CSP).
(function () {
  "use strict";
  function setup(pad) {
    const canvas = pad.querySelector("canvas");
    const output = pad.querySelector("[data-signature-output]");
    const clear = pad.querySelector("[data-signature-clear]");
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let drawn = false;
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#10233f";

    function point(event) {
      const rect = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - rect.left) * canvas.width) / rect.width,
        y: ((event.clientY - rect.top) * canvas.height) / rect.height,
      };
    }
    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      const p = point(event);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + 0.1, p.y + 0.1);
      ctx.stroke();
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const p = point(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      drawn = true;
      event.preventDefault();
    });
    function finish() {
      if (!drawing) return;
      drawing = false;
      if (drawn) output.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    clear.addEventListener("click", () => {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      output.value = "";
      drawn = false;
    });
    return { clear: () => clear.click() };
  }

  function syncKind(form, pad) {
    const chosen = form.querySelector('input[name="signature_kind"]:checked');
    pad.hidden = !(chosen && chosen.value === "drawn");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("consent-sign-form");
    if (!form) return;
    const pad = form.querySelector("[data-signature-pad]");
    setup(pad);
    syncKind(form, pad);
    form.addEventListener("change", (event) => {
      if (event.target.name === "signature_kind") syncKind(form, pad);
    });
  });
})();
