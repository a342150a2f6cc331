// The Remove text tool: "Find text" asks the server for the text's mask (POST /api/documents/{id}/text) and
// shows it over the photo; the brush adds to it and the mask eraser takes from it; "Erase text" sends the
// corrected mask, drawn at the photo's full size here, to POST /api/erase (grow 0: the found mask is grown
// already).

import { maskBlob, maskCanvas } from "../maskcanvas.js";
import { brushFields, createBrush } from "./brush.js";
import { fillEngines } from "./fields.js";

const PANEL = `
  <h2>Remove text</h2>
  <p>Find every line of text and watermark, check the mask, correct it with the brush, then erase it.</p>
  <label class="field">
    <span class="field-label">Keep text matching</span>
    <input type="text" data-keep placeholder="e.g. ©|Copyright" aria-label="Keep text matching">
  </label>
  <div class="row">
    <button type="button" class="btn outline" data-find disabled title="Find the text">Find text</button>
  </div>
  <p data-found aria-live="polite"></p>
  ${brushFields("Correct the mask", 24)}
  <label class="field">
    <span class="field-label">Engine</span>
    <select data-engine aria-label="Engine"><option value="auto">auto</option></select>
  </label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Erase the mask (Enter)">Erase text</button>
    <button type="button" class="btn outline" data-clear disabled title="Clear the mask (Esc)">Clear</button>
  </div>`;

export function createDetext(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const keepInput = $("[data-keep]");
  const findButton = $("[data-find]");
  const foundNote = $("[data-found]");
  const engineSelect = $("[data-engine]");
  const runButton = $("[data-run]");
  const clearButton = $("[data-clear]");
  const viewer = app.viewer;

  let found = null; // the found mask: a canvas of the photo's size, white and opaque where text is

  const hasMask = () => found !== null || brush.strokes.some((s) => s.mode === "paint");
  const sync = () => {
    viewer.strokes = brush.strokes;
    viewer.maskLayer = found;
    findButton.disabled = !app.doc || app.busy;
    runButton.disabled = !hasMask() || app.busy;
    clearButton.disabled = (!found && brush.strokes.length === 0) || app.busy;
    panel.dataset.lines = found ? found.dataset.lines : "";
    viewer.requestRender();
    app.updateControls();
  };
  const brush = createBrush(app, panel, { changed: sync });

  const clear = () => {
    found = null;
    brush.clear();
    foundNote.textContent = "";
    sync();
  };

  const find = async () => {
    if (app.busy || !app.doc) return;
    const doc = app.doc;
    await app.withBusy("Finding text", async () => {
      let job = await app.api.findText(doc.id, { keep: keepInput.value });
      app.job = job;
      app.busyPill.cancellable();
      job = await app.api.waitFor(job, (j) => app.busyPill.progress(j));
      const { mask, lines, kept } = job.result;
      found = lines.length ? await maskCanvas(mask, doc.width, doc.height) : null;
      if (found) found.dataset.lines = String(lines.length);
      brush.clear();
      const spared = kept.length ? `, ${kept.length} kept` : "";
      foundNote.textContent = lines.length
        ? `${lines.length} line${lines.length === 1 ? "" : "s"} of text found${spared}: correct the mask if needed, then erase.`
        : `No text found${spared}. Paint over any that should go.`;
    });
    app.job = null;
    sync();
  };

  const run = async () => {
    if (app.busy || !app.doc || !hasMask()) return;
    const mask = await maskBlob(app.doc.width, app.doc.height, found, brush.strokes);
    const ok = await app.runTool("erase", { mask, engine: engineSelect.value, grow: 0 }, "Erasing text");
    if (ok) clear();
    sync();
  };

  findButton.addEventListener("click", find);
  runButton.addEventListener("click", run);
  clearButton.addEventListener("click", clear);

  return {
    name: "detext",
    title: "Remove text",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 6V4h12v2M10 4v14M7 18h6"/><path d="m15 13 6 6m0-6-6 6"/></svg>',
    panel,
    ...brush.handlers,

    configure(info) {
      fillEngines(engineSelect, info, "engine");
      sync();
    },

    reset: clear,

    busyChanged: sync,

    selected: sync,

    keydown(event) {
      if (brush.keydown(event)) return true;
      if (event.key === "Enter") {
        run();
        return true;
      }
      if (event.key === "Escape" && (found || brush.strokes.length > 0)) {
        clear();
        return true;
      }
      return false;
    },
  };
}
