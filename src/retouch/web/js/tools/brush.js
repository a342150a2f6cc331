// The mask brush that Cleanup and Remove text share: brush and mask-eraser modes, the size slider, strokes
// recorded in image pixels as the pointer moves, their own undo and redo, and the keys [ ] B E. The panel holds
// the [data-mode] buttons, the [data-size] slider and its [data-size-value] output.

const MIN_SIZE = 4;
const MAX_SIZE = 400;
const MIN_STEP = 2; // CSS pixels between recorded stroke points

// The markup of the mode buttons and the size slider, for a panel to include.
export function brushFields(label, size) {
  return `
  <div class="field">
    <span class="field-label">${label}</span>
    <div class="segmented" role="group" aria-label="Mode">
      <button type="button" data-mode="paint" aria-pressed="true" title="Brush (B)">
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20c3 0 5-1 6-4l8-10 2 2-10 8c-1 .8-2.5 1-3 1"/></svg>Brush</button>
      <button type="button" data-mode="erase" aria-pressed="false" title="Mask eraser (E)">
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="m7 21-4-4L14 6l6 6-9 9zM10 10l6 6M7 21h13"/></svg>Mask eraser</button>
    </div>
  </div>
  <label class="field">
    <span class="field-label">Brush size <output data-size-value>${size} px</output></span>
    <input type="range" data-size min="${MIN_SIZE}" max="${MAX_SIZE}" value="${size}" aria-label="Brush size">
  </label>`;
}

// `changed()` after every change of the strokes; `released(stroke)` when a stroke ends.
export function createBrush(app, panel, { changed, released = () => {} }) {
  const sizeInput = panel.querySelector("[data-size]");
  const sizeValue = panel.querySelector("[data-size-value]");
  const viewer = app.viewer;
  let mode = "paint";
  let size = Number(sizeInput.value);
  let current = null;
  let last = null; // last recorded point, in image pixels
  const brush = { strokes: [], undone: [] };

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

  panel.querySelectorAll("[data-mode]").forEach((button) => button.addEventListener("click", () => setMode(button.dataset.mode)));
  sizeInput.addEventListener("input", () => setSize(Number(sizeInput.value)));

  return Object.assign(brush, {
    clear() {
      brush.strokes = [];
      brush.undone = [];
      current = null;
    },

    // The tool methods the app calls while this brush's tool is open.
    handlers: {
      cursorRadius: () => size / 2,

      pointerDown(point) {
        if (app.busy || !app.doc) return false;
        current = { mode, radius: size / 2 / viewer.scale, points: [[point.x, point.y]] };
        last = point;
        brush.strokes.push(current);
        brush.undone = [];
        changed();
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
        brush.strokes.splice(brush.strokes.indexOf(current), 1);
        current = null;
        changed();
      },

      pointerUp() {
        if (!current) return;
        const finished = current;
        current = null;
        changed();
        released(finished);
      },

      // Pending strokes are undone first, then the document's edits.
      undoLocal() {
        if (current || brush.strokes.length === 0) return false;
        brush.undone.push(brush.strokes.pop());
        changed();
        return true;
      },

      redoLocal() {
        if (brush.undone.length === 0) return false;
        brush.strokes.push(brush.undone.pop());
        changed();
        return true;
      },
    },

    // The brush's keys; answers whether the key was one of them.
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
        default:
          return false;
      }
    },
  });
}
