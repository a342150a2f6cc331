// The Restore tool: one click restores the whole photo (POST /api/restore): scratches and dust, noise, faded
// colour, faces, and optionally its size. No painting. Without the face model the face options are hidden and the
// panel says how to install it. After a run a notice over the image says what was done, including warnings such
// as faces found but not restored (with the command that installs the model).

import { fieldOf, fillChoices } from "./fields.js";
import { wholeImageTool } from "./whole-image.js";

const PANEL = `
  <h2>Restore</h2>
  <p>Bring back an old or damaged photo and the faces in it.</p>
  <p data-face-model hidden>Face restoration needs the face model: <code data-pull></code>. Until then Restore
    works on noise, colour, scratches and size.</p>
  <div class="field-group" data-face-options>
    <label class="field">
      <span class="field-label">Faces</span>
      <select data-faces data-field="faces" aria-label="Faces"><option value="auto">auto</option></select>
    </label>
    <label class="field">
      <span class="field-label">Face strength <output data-strength-value>100%</output></span>
      <input type="range" data-strength min="0" max="100" value="100" aria-label="Face strength">
    </label>
  </div>
  <label class="field">
    <span class="field-label">Denoise <output data-denoise-value>30%</output></span>
    <input type="range" data-denoise min="0" max="100" value="30" aria-label="Denoise">
  </label>
  <label class="field">
    <span class="field-label">Colour correction <output data-colour-value>50%</output></span>
    <input type="range" data-colour min="0" max="100" value="50" aria-label="Colour correction">
  </label>
  <label class="check"><input type="checkbox" data-scratches> Remove scratches and dust</label>
  <label class="field">
    <span class="field-label">Enlarge</span>
    <select data-upscale data-field="upscale" aria-label="Enlarge"><option value="1">1</option></select>
  </label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Restore the photo (Enter)">Restore</button>
    <span class="estimate" data-estimate hidden></span>
  </div>`;

// "restore (a; b; c)" -> ["a", "b", "c"]
function restoreSteps(operations) {
  const last = [...(operations || [])].reverse().find((op) => op.startsWith("restore ("));
  return last ? last.slice("restore (".length, -1).split("; ") : [];
}

export function createRestore(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const faces = $("[data-faces]");
  const faceModel = $("[data-face-model]");
  const faceOptions = $("[data-face-options]");
  const scratches = $("[data-scratches]");
  const upscale = $("[data-upscale]");
  const runButton = $("[data-run]");
  const sliders = ["strength", "denoise", "colour"].map((name) => {
    const input = $(`[data-${name}]`);
    const output = $(`[data-${name}-value]`);
    input.addEventListener("input", () => (output.textContent = `${input.value}%`));
    return { name, input };
  });

  const sync = () => {
    runButton.disabled = !app.doc || app.busy;
  };

  // Without the face model, faces stay "auto" (the server then reports the faces it left) and the strength,
  // which would change nothing, is not sent.
  const fields = () => {
    const values = { faces: faces.value, scratches: String(scratches.checked), upscale: upscale.value };
    for (const { name, input } of sliders) if (!faceOptions.hidden || name !== "strength") values[name] = String(Number(input.value) / 100);
    return values;
  };

  const run = async () => {
    if (app.busy || !app.doc) return;
    const ok = await app.runTool("restore", fields(), "Restoring");
    const steps = ok ? restoreSteps(app.doc.operations) : [];
    if (steps.length) app.notice.notice(`Restored: ${steps.join("; ")}`);
    sync();
  };

  runButton.addEventListener("click", run);

  const tool = {
    name: "restore",
    title: "Restore",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3l1.8 4.2L18 9l-4.2 1.8L12 15l-1.8-4.2L6 9l4.2-1.8z"/><path d="M5 17l.9 2.1L8 20l-2.1.9L5 23l-.9-2.1L2 20l2.1-.9zM19 14l.7 1.5 1.5.7-1.5.7-.7 1.5-.7-1.5-1.5-.7 1.5-.7z"/></svg>',
    panel,

    configure(info) {
      fillChoices(panel, info);
      for (const { name, input } of sliders) {
        const field = fieldOf(info, name);
        if (field) input.value = String(Math.round(field.default * 100));
        input.dispatchEvent(new Event("input"));
      }
      // The face network is the first model the server lists for Restore, the detectors follow.
      const model = info && info.engines ? info.engines[0] : undefined;
      const missing = Boolean(model && !model.available);
      faceModel.hidden = !missing;
      faceOptions.hidden = missing;
      if (missing) $("[data-pull]").textContent = `retouch models pull ${model.name}`;
    },

    estimateFields: async () => fields(),
    reset: sync,
    busyChanged: sync,
  };
  return wholeImageTool(tool, run);
}
