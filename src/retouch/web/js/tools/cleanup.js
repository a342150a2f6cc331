// The Cleanup tool: paint over what should go; on release the server erases it (POST /api/erase with the
// strokes, which it scales to the full-resolution image). The mask eraser takes paint back off before erasing.
// Or click an object to select it (select.js) and erase or cut out the selection. With a description typed in,
// the painted region is filled with what it describes instead (a diffusion model: the prompt goes with the erase;
// without the generative extra or a model, the field is off and the notice under it says which command gets one).

import { maskBlob } from "../maskcanvas.js";
import { brushFields, createBrush } from "./brush.js";
import { fillEngines } from "./fields.js";
import { MISSING_NOTICE, showModelStatus } from "./generative.js";
import { SELECT_FIELDS, createSelection } from "./select.js";

const PANEL = `
  <h2>Cleanup</h2>
  <p>Paint over an object, a person, text or a blemish. It disappears when you release.</p>
  ${brushFields("Mode", 48)}
  <label class="check"><input type="checkbox" data-auto checked> Erase when I release</label>
  ${SELECT_FIELDS}
  <label class="field">
    <span class="field-label">Describe what to put there</span>
    <input type="text" data-prompt maxlength="1000" placeholder="Optional; empty: erase" aria-label="Describe what to put there" disabled>
  </label>
  ${MISSING_NOTICE}
  <label class="field">
    <span class="field-label">Engine</span>
    <select data-engine aria-label="Engine"><option value="auto">auto</option></select>
  </label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Erase what is painted (Enter)">Erase</button>
    <button type="button" class="btn outline" data-cutout hidden title="Keep only the selection">Cut out</button>
    <button type="button" class="btn outline" data-clear disabled title="Clear the painted mask (Esc)">Clear</button>
  </div>`;

export function createCleanup(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const autoInput = $("[data-auto]");
  const engineSelect = $("[data-engine]");
  const runButton = $("[data-run]");
  const clearButton = $("[data-clear]");
  const cutoutButton = $("[data-cutout]");
  const promptInput = $("[data-prompt]");
  const viewer = app.viewer;
  // What the erase sends besides the mask: with a description, the prompt (a diffusion model: engine auto).
  const prompt = () => (promptInput.disabled ? "" : promptInput.value.trim());
  const fillFields = () => (prompt() ? { engine: "auto", prompt: prompt() } : { engine: engineSelect.value });

  const sync = () => {
    viewer.strokes = brush.strokes;
    viewer.maskLayer = selection.mask;
    const painted = brush.strokes.some((s) => s.mode === "paint");
    runButton.disabled = !(painted || selection.mask) || app.busy;
    clearButton.disabled = (brush.strokes.length === 0 && !selection.mask) || app.busy;
    cutoutButton.hidden = !selection.active;
    cutoutButton.disabled = !selection.mask || app.busy;
    runButton.textContent = prompt() ? "Fill" : "Erase";
    engineSelect.disabled = Boolean(prompt());
    viewer.requestRender();
    app.updateControls();
  };

  const run = async () => {
    if (app.busy || !app.doc) return;
    if (selection.mask) {
      // the selection with whatever is painted beside it, so no stroke on screen is left out of the erase
      const mask = await maskBlob(app.doc.width, app.doc.height, selection.mask, brush.strokes);
      const ok = await app.runTool("erase", { mask, ...fillFields() }, prompt() ? "Filling" : "Erasing");
      if (ok) {
        selection.clear();
        brush.clear();
      }
      sync();
      return;
    }
    if (!brush.strokes.some((s) => s.mode === "paint")) return;
    const mask = {
      width: app.doc.width,
      height: app.doc.height,
      strokes: brush.strokes.map((s) => ({
        mode: s.mode,
        radius: Math.round(s.radius * 100) / 100,
        points: s.points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]),
      })),
    };
    const ok = await app.runTool("erase", { strokes: JSON.stringify(mask), ...fillFields() }, prompt() ? "Filling" : "Erasing");
    if (ok) brush.clear();
    sync();
  };

  const selection = createSelection(app, panel, sync);
  const brush = createBrush(app, panel, {
    changed: sync,
    released: (stroke) => {
      // a fill waits for its button: a diffusion run per stroke would be slow and each one different
      if (stroke.mode === "paint" && autoInput.checked && !prompt()) run();
    },
  });

  const cutout = async () => {
    if (app.busy || !selection.mask) return;
    if (await app.runTool("cutout", { clicks: selection.field() }, "Removing the background")) selection.clear();
    sync();
  };

  runButton.addEventListener("click", run);
  promptInput.addEventListener("input", sync);
  cutoutButton.addEventListener("click", cutout);
  clearButton.addEventListener("click", () => {
    brush.clear();
    selection.clear();
    sync();
  });

  return {
    name: "erase",
    title: "Cleanup",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="m5 19 4-1 10-10-3-3L6 15z"/><path d="M3 21h6M14 3l1 1M19 11l1 1M20 3l-1 1"/></svg>',
    panel,
    ...brush.handlers,
    pointerDown: (point) => (selection.active ? selection.pointerDown(point) : brush.handlers.pointerDown(point)),
    cursorRadius: () => (selection.active ? 0 : brush.handlers.cursorRadius()),

    configure(info) {
      fillEngines(engineSelect, info, "engine");
      // the description field is on once the server says a diffusion model can run (off until it answers)
      showModelStatus(app, panel).then((status) => {
        promptInput.disabled = !status.ready;
        sync();
      });
    },

    reset() {
      brush.clear();
      selection.clear();
      sync();
    },

    busyChanged: sync,

    selected: sync,

    keydown(event) {
      if (brush.keydown(event)) return true;
      if (event.key === "Enter") {
        run();
        return true;
      }
      if (event.key === "Escape" && (brush.strokes.length > 0 || selection.mask)) {
        brush.clear();
        selection.clear();
        sync();
        return true;
      }
      return false;
    },
  };
}
