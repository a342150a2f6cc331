// Click to select, inside the Cleanup panel: with "Click selects an object" on, a click asks the server for the
// object under it (POST /api/documents/{id}/select), Shift-click adds another object or part, Alt-click takes a
// part out. The selection is shown as a mask; Cleanup erases it (POST /api/erase with the mask), and "Cut out"
// keeps only it (POST /api/cutout with the same clicks, which the server selects again: the same clicks give the
// same mask). Relight uses the same selection for the subject its lights follow.

import { maskCanvas } from "../maskcanvas.js";

export const SELECT_FIELDS = `
  <label class="check">
    <input type="checkbox" data-click-select> Click selects an object (Shift adds, Alt takes out)
  </label>
  <p data-selected aria-live="polite"></p>`;

// The selection of one panel that holds SELECT_FIELDS; `changed` is called whenever it changes. `keepWhenOff`:
// switching clicks off keeps the selection (Relight lights it while clicks place lights again).
export function createSelection(app, panel, changed, { keepWhenOff = false } = {}) {
  const toggle = panel.querySelector("[data-click-select]");
  const note = panel.querySelector("[data-selected]");
  const held = { shift: false, alt: false }; // the pointer events carry no modifiers: the keys are watched here
  const watch = (event) => {
    held.shift = event.shiftKey;
    held.alt = event.altKey;
  };
  window.addEventListener("keydown", watch);
  window.addEventListener("keyup", watch);
  window.addEventListener("blur", () => {
    held.shift = held.alt = false;
  });

  const selection = {
    clicks: [], // [x, y, label] in image pixels: label 1 adds, 0 takes out
    mask: null, // a canvas of the photo's size, or null
    get active() {
      return toggle.checked;
    },
    field: () => selection.clicks.map(([x, y, label]) => `${x},${y},${label}`).join(";"),

    clear() {
      selection.clicks = [];
      selection.mask = null;
      note.textContent = "";
      panel.dataset.clicks = "0";
    },

    // A click on the photo while active: a new selection, or one more click on it; answers true (handled).
    pointerDown(point) {
      if (app.busy || !app.doc) return false;
      const x = Math.min(Math.max(Math.floor(point.x), 0), app.doc.width - 1);
      const y = Math.min(Math.max(Math.floor(point.y), 0), app.doc.height - 1);
      if (held.alt) {
        if (!selection.clicks.some((c) => c[2] === 1)) return true; // nothing selected to take a part out of
        selection.clicks.push([x, y, 0]);
      } else if (held.shift) {
        selection.clicks.push([x, y, 1]);
      } else {
        selection.clicks = [[x, y, 1]];
      }
      panel.dataset.clicks = String(selection.clicks.length);
      ask();
      return true;
    },
  };

  const ask = async () => {
    const doc = app.doc;
    await app.withBusy("Selecting", async () => {
      const form = new FormData();
      form.append("clicks", selection.field());
      let job = await app.api.json("POST", `/api/documents/${doc.id}/select`, { body: form });
      app.job = job;
      app.busyPill.cancellable();
      job = await app.api.waitFor(job, (j) => app.busyPill.progress(j));
      const { mask, area } = job.result;
      selection.mask = area > 0 ? await maskCanvas(mask, doc.width, doc.height) : null;
      const share = ((100 * area) / (doc.width * doc.height)).toFixed(1);
      note.textContent = area > 0 ? `${share}% of the photo selected.` : "Nothing selected: click inside the object.";
    });
    app.job = null;
    changed();
  };

  toggle.addEventListener("change", () => {
    if (!keepWhenOff) selection.clear();
    changed();
  });
  return selection;
}
