// The Uncrop tool: extend the photo beyond its frame (POST /api/uncrop); its own pixels stay as they were. The
// panel offers aspect presets (the short way grown, split evenly) or pixels per side, and shows the size the
// result will have. Without a diffusion model the built-in patch engine extends the photo's own textures, and
// the panel says so and which command gets a model.

import { fillEngines } from "./fields.js";
import { MISSING_NOTICE, showModelStatus } from "./generative.js";
import { wholeImageTool } from "./whole-image.js";

const PRESETS = ["16:9", "4:3", "3:2", "1:1", "4:5", "9:16"];
const SIDES = ["left", "right", "top", "bottom"];

const PANEL = `
  <h2>Uncrop</h2>
  <p>Extend the photo beyond its frame. Its own pixels stay exactly as they were.</p>
  <div class="field">
    <span class="field-label">New frame</span>
    <div class="chips" data-presets role="group" aria-label="New frame">
      ${PRESETS.map((p) => `<button type="button" class="chip" data-preset="${p}" aria-pressed="false">${p}</button>`).join("")}
      <button type="button" class="chip" data-preset="pixels" aria-pressed="false">Pixels</button>
    </div>
  </div>
  <div class="sides" data-sides hidden>
    ${SIDES.map((s) => `<label class="field"><span class="field-label">${s}</span><input type="number" data-side="${s}" min="0" max="20000" step="8" value="0" inputmode="numeric" aria-label="Pixels to add: ${s}"></label>`).join("")}
  </div>
  <label class="field">
    <span class="field-label">Engine</span>
    <select data-engine aria-label="Engine"></select>
  </label>
  <label class="field" data-prompt-field hidden>
    <span class="field-label">Prompt (optional)</span>
    <input type="text" data-prompt maxlength="1000" placeholder="what the new border shows" aria-label="Prompt">
  </label>
  <p data-patch-note hidden>Without a diffusion model, the built-in patch engine extends the photo's own textures
    (skies, walls, grass). A model gives more.</p>
  ${MISSING_NOTICE}
  <p data-result-size role="status"></p>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Extend the photo (Enter)">Uncrop</button>
  </div>`;

// The pixels per side that bring a width x height photo to the ratio "W:H" (as the server computes them).
function borderFor(width, height, ratioText) {
  const [w, h] = ratioText.split(":").map(Number);
  const ratio = w / h;
  const [newW, newH] = width / height < ratio ? [Math.round(height * ratio), height] : [width, Math.round(width / ratio)];
  const wide = newW - width;
  const tall = newH - height;
  return { left: Math.floor(wide / 2), right: Math.ceil(wide / 2), top: Math.floor(tall / 2), bottom: Math.ceil(tall / 2) };
}

export function createUncrop(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const presets = Array.from(panel.querySelectorAll("[data-preset]"));
  const sideInputs = Object.fromEntries(SIDES.map((s) => [s, $(`[data-side="${s}"]`)]));
  const engine = $("[data-engine]");
  const prompt = $("[data-prompt]");
  const sizeNote = $("[data-result-size]");
  const runButton = $("[data-run]");
  let preset = "16:9";
  let modelReady = false;

  const border = () => {
    const doc = app.doc;
    if (!doc) return null;
    if (preset !== "pixels") return borderFor(doc.width, doc.height, preset);
    return Object.fromEntries(SIDES.map((s) => [s, Math.max(0, Math.floor(Number(sideInputs[s].value) || 0))]));
  };

  const usesModel = () => engine.value === "model" || (engine.value === "auto" && modelReady);

  const sync = () => {
    for (const button of presets) button.setAttribute("aria-pressed", String(button.dataset.preset === preset));
    $("[data-sides]").hidden = preset !== "pixels";
    $("[data-prompt-field]").hidden = !usesModel();
    $("[data-patch-note]").hidden = usesModel();
    $("[data-missing]").hidden = modelReady || engine.value === "patch";
    const doc = app.doc;
    const b = border();
    const grows = b && SIDES.some((s) => b[s] > 0);
    if (!doc) sizeNote.textContent = "";
    else if (!grows) sizeNote.textContent = preset === "pixels" ? "Give the pixels to add on a side." : `The photo is already ${preset}.`;
    else sizeNote.textContent = `Result: ${doc.width + b.left + b.right} × ${doc.height + b.top + b.bottom} pixels`;
    const chosen = engine.selectedOptions[0];
    runButton.disabled = !doc || app.busy || !grows || !chosen || chosen.disabled;
  };

  const fields = () => {
    const values = { engine: engine.value };
    if (preset === "pixels") for (const [side, count] of Object.entries(border())) values[side] = String(count);
    else values.to = preset;
    if (usesModel() && prompt.value.trim()) values.prompt = prompt.value.trim();
    return values;
  };

  const run = async () => {
    if (runButton.disabled) return;
    await app.runTool("uncrop", fields(), "Extending");
    sync();
  };

  for (const button of presets) {
    button.addEventListener("click", () => {
      preset = button.dataset.preset;
      sync();
    });
  }
  for (const input of [engine, prompt, ...Object.values(sideInputs)]) input.addEventListener("input", sync);
  runButton.addEventListener("click", run);

  const tool = {
    name: "uncrop",
    title: "Uncrop",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="7" y="7" width="10" height="10" rx="1"/><path d="M3 9V4a1 1 0 0 1 1-1h5M15 3h5a1 1 0 0 1 1 1v5M21 15v5a1 1 0 0 1-1 1h-5M9 21H4a1 1 0 0 1-1-1v-5"/></svg>',
    panel,
    async configure(info) {
      fillEngines(engine, info, "engine");
      modelReady = (await showModelStatus(app, panel)).ready;
      engine.value = "auto";
      sync();
    },
    estimateFields: async () => null,
    reset: sync,
    busyChanged: sync,
  };
  return wholeImageTool(tool, run);
}
