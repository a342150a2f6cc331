// The Cleanup tool: paint over what should go; on release the server erases it (POST /api/erase with the
// strokes, which it scales to the full-resolution image). The mask eraser takes paint back off before erasing.

import { fillEngines } from "./fields.js";

const MIN_SIZE = 4;
const MAX_SIZE = 400;
const MIN_STEP = 2; // CSS pixels between recorded stroke points

const PANEL = `
  <h2>Cleanup</h2>
  <p>Paint over an object, a person, text or a blemish. It disappears when you release.</p>
  <div class="field">
    <span class="field-label">Mode</span>
    <div class="segmented" role="group" aria-label="Mode">
      <button type="button" data-mode="paint" aria-pressed="true" title="Brush (B)">
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20c3 0 5-1 6-4l8-10 2 2-10 8c-1 .8-2.5 1-3 1"/></svg>Brush</button>
      <button type="button" data-mode="erase" aria-pressed="false" title="Mask eraser (E)">
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="m7 21-4-4L14 6l6 6-9 9zM10 10l6 6M7 21h13"/></svg>Mask eraser</button>
    </div>
  </div>
  <label class="field">
    <span class="field-label">Brush size <output data-size-value>48 px</output></span>
    <input type="range" data-size min="${MIN_SIZE}" max="${MAX_SIZE}" value="48" aria-label="Brush size">
  </label>
  <label class="check"><input type="checkbox" data-auto checked> Erase when I release</label>
  <label class="field">
    <span class="field-label">Engine</span>
    <select data-engine aria-label="Engine"><option value="auto">auto</option></select>
  </label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Erase what is painted (Enter)">Erase</button>
    <button type="button" class="btn outline" data-clear disabled title="Clear the painted mask (Esc)">Clear</button>
  </div>`;

export function createCleanup(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const sizeInput = $("[data-size]");
  const sizeValue = $("[data-size-value]");
  const autoInput = $("[data-auto]");
  const engineSelect = $("[data-engine]");
  const runButton = $("[data-run]");
  const clearButton = $("[data-clear]");

  let mode = "paint";
  let size = Number(sizeInput.value);
  let strokes = [];
  let undone = [];
  let current = null;
  let last = null; // last recorded point, in CSS pixels

  const viewer = app.viewer;
  const sync = () => {
    viewer.strokes = strokes;
    const painted = strokes.some((s) => s.mode === "paint");
    runButton.disabled = !painted || app.busy;
    clearButton.disabled = strokes.length === 0 || app.busy;
    viewer.requestRender();
    app.updateControls();
  };

  const setMode = (next) => {
    mode = next;
    for (const button of panel.querySelectorAll("[data-mode]")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  };

  const setSize = (next) => {
    size = Math.round(Math.min(MAX_SIZE, Math.max(MIN_SIZE, next)));
    sizeInput.value = String(size);
    sizeValue.textContent = `${size} px`;
    app.refreshCursor();
  };

  const run = async () => {
    if (app.busy || !app.doc || !strokes.some((s) => s.mode === "paint")) return;
    const mask = {
      width: app.doc.width,
      height: app.doc.height,
      strokes: strokes.map((s) => ({
        mode: s.mode,
        radius: Math.round(s.radius * 100) / 100,
        points: s.points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]),
      })),
    };
    const ok = await app.runTool("erase", { strokes: JSON.stringify(mask), engine: engineSelect.value }, "Erasing");
    if (ok) {
      strokes = [];
      undone = [];
    }
    sync();
  };

  panel.querySelectorAll("[data-mode]").forEach((button) => button.addEventListener("click", () => setMode(button.dataset.mode)));
  sizeInput.addEventListener("input", () => setSize(Number(sizeInput.value)));
  runButton.addEventListener("click", run);
  clearButton.addEventListener("click", () => {
    strokes = [];
    undone = [];
    sync();
  });

  return {
    name: "erase",
    title: "Cleanup",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="m5 19 4-1 10-10-3-3L6 15z"/><path d="M3 21h6M14 3l1 1M19 11l1 1M20 3l-1 1"/></svg>',
    panel,

    configure(info) {
      fillEngines(engineSelect, info, "engine");
    },

    cursorRadius: () => size / 2,

    pointerDown(point) {
      if (app.busy || !app.doc) return false;
      current = { mode, radius: size / 2 / viewer.scale, points: [[point.x, point.y]] };
      last = point;
      strokes.push(current);
      undone = [];
      sync();
      return true;
    },

    pointerMove(point) {
      if (!current) return;
      const dx = (point.x - last.x) * viewer.scale;
      const dy = (point.y - last.y) * viewer.scale;
      if (dx * dx + dy * dy < MIN_STEP * MIN_STEP) return;
      current.points.push([point.x, point.y]);
      last = point;
      viewer.requestRender();
    },

    // The stroke in progress was not meant as one (a second finger landed: a pinch): drop it unsent.
    pointerCancel() {
      if (!current) return;
      strokes.splice(strokes.indexOf(current), 1);
      current = null;
      sync();
    },

    pointerUp() {
      if (!current) return;
      const finished = current;
      current = null;
      sync();
      if (finished.mode === "paint" && autoInput.checked) run();
    },

    // Pending strokes are undone first, then the document's edits.
    undoLocal() {
      if (current || strokes.length === 0) return false;
      undone.push(strokes.pop());
      sync();
      return true;
    },

    redoLocal() {
      if (undone.length === 0) return false;
      strokes.push(undone.pop());
      sync();
      return true;
    },

    reset() {
      strokes = [];
      undone = [];
      current = null;
      sync();
    },

    busyChanged: sync,

    keydown(event) {
      switch (event.key) {
        case "[":
          setSize(size - Math.max(2, size * 0.15));
          return true;
        case "]":
          setSize(size + Math.max(2, size * 0.15));
          return true;
        case "b":
        case "B":
          setMode("paint");
          return true;
        case "e":
        case "E":
          setMode("erase");
          return true;
        case "Enter":
          run();
          return true;
        case "Escape":
          if (strokes.length === 0) return false;
          strokes = [];
          undone = [];
          sync();
          return true;
        default:
          return false;
      }
    },
  };
}
