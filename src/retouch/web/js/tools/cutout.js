// The Remove background and Replace background tools: one click each, no painting. Remove background sends
// POST /api/cutout (transparent result, optional crop to the subject); Replace background sends
// POST /api/replace-bg with a colour, "blur", "transparent", an image chosen here (sent as a data URL, scaled
// down in the page so that the form field stays under the server's size limit for fields), or a description a
// diffusion model makes the background from (without the generative extra or a model, the panel says which
// command gets one, and Replace waits).

import { fillChoices, fillEngines } from "./fields.js";
import { MISSING_NOTICE, showModelStatus } from "./generative.js";
import { wholeImageTool } from "./whole-image.js";

const MAX_FIELD_BYTES = 900 * 1024; // the server reads form fields up to 1 MB
const NO_MODEL_HINT =
  "No background-removal model is installed. Run one of: retouch models pull birefnet-general-lite · isnet-general-use · u2net · u2netp";

function modelSelect(label) {
  return `
  <label class="field" data-model-field>
    <span class="field-label">Model</span>
    <select data-model aria-label="${label}"><option value="auto">auto</option></select>
  </label>
  <p data-model-hint hidden></p>`;
}

// Fill the model menu; with no model installed the menu is hidden (it would offer nothing) and the hint says
// what to install. Answers whether a model is installed.
function configureModels(panel, info) {
  const select = panel.querySelector("[data-model]");
  const hint = panel.querySelector("[data-model-hint]");
  const engines = fillEngines(select, info, "model");
  const auto = engines.find((engine) => engine.name === "auto");
  const usable = engines.find((engine) => engine.available && engine.name !== "auto");
  if (auto && !auto.available && usable) select.value = usable.name;
  panel.querySelector("[data-model-field]").hidden = !usable;
  hint.hidden = Boolean(usable);
  hint.textContent = usable ? "" : NO_MODEL_HINT;
  return Boolean(usable);
}

// ready(panel): whether the panel's choices can run (default: always).
function oneClickTool(app, { name, title, short, icon, panelHtml, label, fields, ready = () => true }) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = panelHtml;
  const runButton = panel.querySelector("[data-run]");
  let installed = false;
  const sync = () => {
    runButton.disabled = !app.doc || app.busy || !installed || !ready(panel);
  };
  panel.addEventListener("input", sync);
  panel.addEventListener("change", sync);
  const allFields = async () => ({ model: panel.querySelector("[data-model]").value, ...(await fields(panel)) });
  const run = async () => {
    if (runButton.disabled) return;
    let values;
    try {
      values = await allFields();
    } catch (error) {
      app.showError(error);
      return;
    }
    await app.runTool(name, values, label);
    sync();
  };
  runButton.addEventListener("click", run);
  return wholeImageTool(
    {
      name,
      title,
      short,
      icon,
      panel,
      configure: (info) => {
        installed = configureModels(panel, info);
        fillChoices(panel, info);
        sync();
      },
      estimateFields: async () => (installed && ready(panel) ? allFields() : null),
      reset: sync,
      busyChanged: sync,
    },
    run,
  );
}

const CUTOUT_PANEL = `
  <h2>Remove background</h2>
  <p>Cut out the subject. Hair and soft edges are solved at full resolution.</p>
  ${modelSelect("Cutout model")}
  <label class="check"><input type="checkbox" data-crop> Crop to the subject</label>
  <label class="field">
    <span class="field-label">Margin <output data-margin-value>0 px</output></span>
    <input type="range" data-margin min="0" max="200" value="0" aria-label="Crop margin">
  </label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Remove the background (Enter)">Remove background</button>
    <span class="estimate" data-estimate hidden></span>
  </div>`;

export function createCutout(app) {
  const tool = oneClickTool(app, {
    name: "cutout",
    title: "Remove background",
    short: "Remove bg",
    label: "Removing the background",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h4M4 4v4M20 4h-4M20 4v4M4 20h4M4 20v-4M20 20h-4M20 20v-4"/><circle cx="12" cy="10" r="3"/><path d="M7 18c1-3 3-4 5-4s4 1 5 4"/></svg>',
    panelHtml: CUTOUT_PANEL,
    fields: async (panel) => ({
      crop: String(panel.querySelector("[data-crop]").checked),
      margin: panel.querySelector("[data-margin]").value,
    }),
  });
  const margin = tool.panel.querySelector("[data-margin]");
  margin.addEventListener("input", () => (tool.panel.querySelector("[data-margin-value]").textContent = `${margin.value} px`));
  return tool;
}

const REPLACE_PANEL = `
  <h2>Replace background</h2>
  <p>Put the subject on a colour, a photo, or a blurred copy of its own background.</p>
  ${modelSelect("Cutout model")}
  <label class="field">
    <span class="field-label">Background</span>
    <select data-kind data-field="background" aria-label="Background"><option value="color">color</option></select>
  </label>
  <label class="field" data-for="color">
    <span class="field-label">Colour</span>
    <input type="color" data-color value="#ffffff" aria-label="Background colour">
  </label>
  <div class="field" data-for="image" hidden>
    <button type="button" class="btn outline" data-pick>Choose an image</button>
    <span data-picked class="muted">No image chosen</span>
    <input type="file" data-image accept="image/*" hidden>
    <select data-fit data-field="fit" aria-label="Fit"><option value="fill">fill</option></select>
  </div>
  <div class="field" data-for="prompt" hidden>
    <label class="field">
      <span class="field-label">Describe the background</span>
      <input type="text" data-prompt maxlength="1000" placeholder="e.g. a beach at sunset" aria-label="Describe the background" disabled>
    </label>
    ${MISSING_NOTICE}
  </div>
  <label class="field" data-for="blur" hidden>
    <span class="field-label">Blur <output data-blur-value>auto</output></span>
    <input type="range" data-blur min="0" max="100" value="0" aria-label="Blur strength">
  </label>
  <label class="check"><input type="checkbox" data-harmonize checked> Match colour and light</label>
  <label class="check"><input type="checkbox" data-shadow> Contact shadow</label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Replace the background (Enter)">Replace background</button>
    <span class="estimate" data-estimate hidden></span>
  </div>`;

// The chosen file as a JPEG data URL, scaled down until it fits the form-field limit.
async function imageField(file, width, height) {
  const bitmap = await createImageBitmap(file);
  let scale = Math.min(1, Math.max(width / bitmap.width, height / bitmap.height));
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const url = canvas.toDataURL("image/jpeg", 0.9);
      if (url.length <= MAX_FIELD_BYTES) return url;
      scale *= 0.75;
    }
  } finally {
    bitmap.close();
  }
  throw new Error("this background image is too large to send");
}

export function createReplaceBg(app) {
  let chosen = null;
  let encoded = null; // {file, width, height, url}: the chosen file as sent for this document's size
  const backgroundField = async () => {
    const { width, height } = app.doc;
    if (!encoded || encoded.file !== chosen || encoded.width !== width || encoded.height !== height) {
      encoded = { file: chosen, width, height, url: await imageField(chosen, width, height) };
    }
    return encoded.url;
  };
  const tool = oneClickTool(app, {
    name: "replace-bg",
    title: "Replace background",
    short: "Replace bg",
    label: "Replacing the background",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="4" width="18" height="16" rx="2"/><path d="m3 16 5-5 4 4 3-3 6 6"/><circle cx="12" cy="10" r="2.5"/></svg>',
    panelHtml: REPLACE_PANEL,
    // a background from a prompt needs a description, and a diffusion model to make it
    ready: (panel) => {
      if (panel.querySelector("[data-kind]").value !== "prompt") return true;
      const input = panel.querySelector("[data-prompt]");
      return !input.disabled && input.value.trim() !== "";
    },
    fields: async (panel) => {
      const kind = panel.querySelector("[data-kind]").value;
      const fields = {
        background: kind,
        harmonize: String(panel.querySelector("[data-harmonize]").checked),
        shadow: String(panel.querySelector("[data-shadow]").checked),
      };
      if (kind === "color") fields.color = panel.querySelector("[data-color]").value;
      if (kind === "blur" && Number(panel.querySelector("[data-blur]").value) > 0) fields.blur = panel.querySelector("[data-blur]").value;
      if (kind === "prompt") fields.prompt = panel.querySelector("[data-prompt]").value.trim();
      if (kind === "image") {
        if (!chosen) throw new Error("choose a background image first");
        fields.background_image = await backgroundField();
        fields.fit = panel.querySelector("[data-fit]").value;
      }
      return fields;
    },
  });
  const panel = tool.panel;
  const kind = panel.querySelector("[data-kind]");
  const picker = panel.querySelector("[data-image]");
  const blur = panel.querySelector("[data-blur]");
  const showFields = () => {
    for (const part of panel.querySelectorAll("[data-for]")) part.hidden = part.dataset.for !== kind.value;
  };
  kind.addEventListener("change", () => {
    showFields();
    if (kind.value === "image" && !chosen) picker.click();
  });
  panel.querySelector("[data-pick]").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    chosen = picker.files && picker.files[0] ? picker.files[0] : chosen;
    panel.querySelector("[data-picked]").textContent = chosen ? chosen.name : "No image chosen";
  });
  blur.addEventListener("input", () => (panel.querySelector("[data-blur-value]").textContent = Number(blur.value) > 0 ? `${blur.value} px` : "auto"));
  showFields();
  const configure = tool.configure;
  tool.configure = (info) => {
    configure(info);
    showFields();
    // the description field is on once the server says a diffusion model can run (off until it answers)
    showModelStatus(app, panel).then((status) => {
      panel.querySelector("[data-prompt]").disabled = !status.ready;
      panel.dispatchEvent(new Event("change")); // Replace may run now
    });
  };
  return tool;
}
