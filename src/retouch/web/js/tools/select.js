// Click to select, inside the Cleanup panel: with "Click selects an object" on, a click asks the server for the
// object under it (POST /api/documents/{id}/select); the "Next click" buttons (or Shift and Alt held, on a
// keyboard) make the next clicks add another object or part, or take a part out: on a phone there are no keys. The selection is shown as a mask; Cleanup erases it (POST /api/erase with the mask), and "Cut out"
// keeps only it (POST /api/cutout with the same clicks, which the server selects again: the same clicks give the
// same mask). Relight uses the same selection for the subject its lights follow.

import { maskCanvas } from "../maskcanvas.js";

// The switch, the next click's role (shown while the switch is on) and the selection's note; `what` names what a
// click selects ("an object", "the subject").
export function selectFields(what) {
  return `
  <label class="check">
    <input type="checkbox" data-click-select> Click selects ${what}
  </label>
  <div class="field" data-click-roles hidden>
    <span class="field-label">Next click</span>
    <div class="segmented three" role="group" aria-label="Next click">
      <button type="button" data-click-role="new" aria-pressed="true" title="A new selection">New</button>
      <button type="button" data-click-role="add" aria-pressed="false" title="Add to the selection (or hold Shift)">Add</button>
      <button type="button" data-click-role="remove" aria-pressed="false" title="Take out of the selection (or hold Alt)">Take out</button>
    </div>
  </div>
  <p data-selected aria-live="polite"></p>`;
}

export const SELECT_FIELDS = selectFields("an object");

// The selection of one panel that holds selectFields(); `changed` is called whenever it changes. `keepWhenOff`:
// switching clicks off keeps the selection (Relight lights it while clicks place lights again).
export function createSelection(app, panel, changed, { keepWhenOff = false } = {}) {
  const toggle = panel.querySelector("[data-click-select]");
  const note = panel.querySelector("[data-selected]");
  const roles = panel.querySelector("[data-click-roles]");
  let role = "new"; // what the next click does without a key held: new, add or remove
  const setRole = (next) => {
    role = next;
    for (const button of roles.querySelectorAll("[data-click-role]")) {
      button.setAttribute("aria-pressed", String(button.dataset.clickRole === role));
    }
  };
  for (const button of roles.querySelectorAll("[data-click-role]")) {
    button.addEventListener("click", () => setRole(button.dataset.clickRole));
  }
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
      setRole("new");
    },

    // A click on the photo while active: a new selection, or one more click on it; answers true (handled).
    pointerDown(point) {
      if (app.busy || !app.doc) return false;
      const x = Math.min(Math.max(Math.floor(point.x), 0), app.doc.width - 1);
      const y = Math.min(Math.max(Math.floor(point.y), 0), app.doc.height - 1);
      const next = held.alt ? "remove" : held.shift ? "add" : role;
      const selected = selection.clicks.some((c) => c[2] === 1);
      if (next === "remove") {
        if (!selected) return true; // nothing selected to take a part out of
        selection.clicks.push([x, y, 0]);
      } else if (next === "add" && selected) {
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
    roles.hidden = !toggle.checked;
    if (!keepWhenOff) selection.clear();
    changed();
  });
  return selection;
}
