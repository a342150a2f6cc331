// The Upscale tool: enlarge the whole photo with a super-resolution network (POST /api/upscale). No painting.
// The panel picks the model (those the server lists, the ones not installed disabled) and the factor, and
// shows the size the result will have.

import { fieldOf, fillEngines } from "./fields.js";
import { wholeImageTool } from "./whole-image.js";

const PANEL = `
  <h2>Upscale</h2>
  <p>Enlarge the photo with fine detail instead of blur.</p>
  <label class="field">
    <span class="field-label">Model</span>
    <select data-model aria-label="Model"></select>
  </label>
  <label class="field">
    <span class="field-label">Enlarge</span>
    <select data-preset aria-label="Enlarge">
      <option value="2">2×</option>
      <option value="3">3×</option>
      <option value="4" selected>4×</option>
      <option value="custom">Other…</option>
    </select>
  </label>
  <label class="field" data-custom-field hidden>
    <span class="field-label">Factor <output data-custom-value>2.5×</output></span>
    <input type="range" data-custom min="1" max="16" step="0.25" value="2.5" aria-label="Factor">
  </label>
  <label class="field" data-denoise-field hidden>
    <span class="field-label">Denoise <output data-denoise-value>50%</output></span>
    <input type="range" data-denoise min="0" max="100" value="50" aria-label="Denoise">
  </label>
  <p data-result-size role="status"></p>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Enlarge the photo (Enter)">Upscale</button>
    <span class="estimate" data-estimate hidden></span>
  </div>`;

export function createUpscale(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const modelSelect = $("[data-model]");
  const preset = $("[data-preset]");
  const customField = $("[data-custom-field]");
  const custom = $("[data-custom]");
  const customValue = $("[data-custom-value]");
  const denoiseField = $("[data-denoise-field]");
  const denoise = $("[data-denoise]");
  const denoiseValue = $("[data-denoise-value]");
  const sizeNote = $("[data-result-size]");
  const runButton = $("[data-run]");

  let denoiseModel = null; // the model the denoise strength applies to (the server's denoise field says which)

  const factor = () => Number(preset.value === "custom" ? custom.value : preset.value);

  const sync = () => {
    customField.hidden = preset.value !== "custom";
    customValue.textContent = `${Number(custom.value)}×`;
    denoiseField.hidden = modelSelect.value !== denoiseModel;
    denoiseValue.textContent = `${denoise.value}%`;
    const doc = app.doc;
    const side = (length) => Math.max(1, Math.round(length * factor()));
    sizeNote.textContent = doc ? `Result: ${side(doc.width)} × ${side(doc.height)} pixels` : "";
    const chosen = modelSelect.selectedOptions[0];
    runButton.disabled = !doc || app.busy || !chosen || chosen.disabled;
  };

  const fields = () => {
    const values = { model: modelSelect.value, scale: String(factor()) };
    if (modelSelect.value === denoiseModel) values.denoise = String(Number(denoise.value) / 100);
    return values;
  };

  const run = async () => {
    if (runButton.disabled) return;
    await app.runTool("upscale", fields(), "Upscaling");
    sync();
  };

  for (const input of [modelSelect, preset, custom, denoise]) input.addEventListener("input", sync);
  runButton.addEventListener("click", run);

  const tool = {
    name: "upscale",
    title: "Upscale",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="11" width="10" height="10" rx="1.5"/><path d="M14 3h7v7M21 3l-8 8M3 7V4a1 1 0 0 1 1-1h3"/></svg>',
    panel,

    configure(info) {
      const models = fillEngines(modelSelect, info, "model");
      const preferred = fieldOf(info, "model") ? fieldOf(info, "model").default : null;
      const denoiseWhen = fieldOf(info, "denoise") ? fieldOf(info, "denoise").when : null;
      denoiseModel = denoiseWhen ? denoiseWhen[1] : null;
      const usable = models.find((m) => m.name === preferred && m.available) || models.find((m) => m.available);
      if (usable) modelSelect.value = usable.name;
      sync();
    },

    estimateFields: async () => (modelSelect.selectedOptions[0] && !modelSelect.selectedOptions[0].disabled ? fields() : null),
    reset: sync,
    busyChanged: sync,
  };
  return wholeImageTool(tool, run);
}
