// The Reimagine tool: variations of the photo's content and style (POST /api/reimagine). The job makes them
// without changing the photo; the panel shows them as thumbnails, and the one picked becomes the photo (POST
// /api/reimagine/{job}/choose), one undoable edit. Without the diffusion backend or a model, the panel says
// which command gets one and offers no button.

import { MISSING_NOTICE, showModelStatus } from "./generative.js";
import { wholeImageTool } from "./whole-image.js";

const PANEL = `
  <h2>Reimagine</h2>
  <p>Make variations of the photo, then pick the one to keep.</p>
  ${MISSING_NOTICE}
  <div class="variations" data-variations role="group" aria-label="Variations: pick one" hidden></div>
  <p data-pick-hint hidden>Pick the variation to keep; the photo is unchanged until you do.</p>
  <div class="field-group" data-form>
    <label class="field">
      <span class="field-label">Strength <output data-strength-value>70%</output></span>
      <input type="range" data-strength min="5" max="100" value="70" aria-label="Strength">
    </label>
    <div class="sides">
      <label class="field">
        <span class="field-label">Seed</span>
        <input type="number" data-seed min="0" max="2147483647" step="1" value="0" inputmode="numeric" aria-label="Seed">
      </label>
      <label class="field">
        <span class="field-label">Variations</span>
        <select data-count aria-label="Variations"><option>1</option><option>2</option><option selected>3</option><option>4</option></select>
      </label>
    </div>
  </div>
  <div class="row" data-actions>
    <button type="button" class="btn primary" data-run disabled title="Make the variations (Enter)">Reimagine</button>
  </div>`;

export function createReimagine(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const strength = $("[data-strength]");
  const seed = $("[data-seed]");
  const count = $("[data-count]");
  const grid = $("[data-variations]");
  const runButton = $("[data-run]");
  let ready = false;
  let made = null; // {job, version}: the run whose variations are shown, and the document version they came from

  const sync = () => {
    $("[data-strength-value]").textContent = `${strength.value}%`;
    $("[data-form]").hidden = !ready;
    $("[data-actions]").hidden = !ready;
    const current = made && app.doc && app.doc.version === made.version;
    if (!current) {
      made = null;
      grid.replaceChildren();
    }
    grid.hidden = !current;
    $("[data-pick-hint]").hidden = !current;
    for (const button of grid.querySelectorAll("button")) button.disabled = app.busy;
    runButton.disabled = !ready || !app.doc || app.busy;
  };

  const choose = async (index) => {
    if (!made || app.busy) return;
    const { job } = made;
    await app.withBusy("Applying the variation", async () => app.applyChange(await app.api.chooseVariation(job, index), true));
    sync();
  };

  const show = (job) => {
    made = { job: job.id, version: app.doc.version };
    grid.replaceChildren(
      ...job.result.variations.map((v) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "variation";
        button.title = `Keep variation ${v.index + 1} (seed ${v.seed})`;
        button.setAttribute("aria-label", button.title);
        const image = new Image();
        image.src = v.preview;
        image.alt = "";
        button.append(image);
        button.addEventListener("click", () => choose(v.index));
        return button;
      }),
    );
  };

  const run = async () => {
    if (runButton.disabled) return;
    const fields = {
      document: app.doc.id,
      strength: String(Number(strength.value) / 100),
      seed: String(Math.max(0, Math.floor(Number(seed.value) || 0))),
      count: count.value,
    };
    await app.withBusy("Reimagining", async () => show(await app.runJob("reimagine", fields)));
    sync();
    if (!grid.hidden) grid.scrollIntoView({ block: "nearest" });
  };

  strength.addEventListener("input", sync);
  runButton.addEventListener("click", run);

  const tool = {
    name: "reimagine",
    title: "Reimagine",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="3" width="8" height="8" rx="1.5"/><rect x="13" y="3" width="8" height="8" rx="1.5"/><rect x="3" y="13" width="8" height="8" rx="1.5"/><path d="M17 14v6M14 17h6"/></svg>',
    panel,
    async configure() {
      ready = (await showModelStatus(app, panel)).ready;
      sync();
    },
    estimateFields: async () => null,
    reset: sync,
    busyChanged: sync,
  };
  return wholeImageTool(tool, run);
}
