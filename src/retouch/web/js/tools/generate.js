// The Generate tool: a new picture from a text prompt (POST /api/generate), opened in the editor as a new
// image (with the usual question when the open one has edits not downloaded). Without the diffusion backend or
// a model, the panel says which command gets one and offers no button.

import { MISSING_NOTICE, showModelStatus } from "./generative.js";
import { wholeImageTool } from "./whole-image.js";

// Sizes near the side the model was trained at (far from it, models repeat or lose the subject), multiples of 8.
const SHAPES = [["Square", 1, 1], ["Landscape", 1.5, 1], ["Portrait", 1, 1.5], ["Wide", 1.25, 0.7]];
const side = (native, factor) => Math.max(64, Math.round((native * factor) / 8) * 8);

const PANEL = `
  <h2>Generate</h2>
  <p>Make a new picture from a description. It opens as a new image.</p>
  ${MISSING_NOTICE}
  <div class="field-group" data-form>
    <label class="field">
      <span class="field-label">Prompt</span>
      <textarea data-prompt rows="3" maxlength="1000" placeholder="a lighthouse on a cliff at sunset" aria-label="Prompt"></textarea>
    </label>
    <label class="field">
      <span class="field-label">Size</span>
      <select data-size aria-label="Size"></select>
    </label>
    <label class="field">
      <span class="field-label">Seed</span>
      <input type="number" data-seed min="0" max="2147483647" step="1" value="0" inputmode="numeric" aria-label="Seed">
    </label>
  </div>
  <div class="row" data-actions>
    <button type="button" class="btn primary" data-run disabled title="Generate the picture (Enter)">Generate</button>
  </div>`;

export function createGenerate(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const prompt = $("[data-prompt]");
  const size = $("[data-size]");
  const seed = $("[data-seed]");
  const runButton = $("[data-run]");
  let ready = false;

  const sync = () => {
    $("[data-form]").hidden = !ready;
    $("[data-actions]").hidden = !ready;
    runButton.disabled = !ready || app.busy || !prompt.value.trim();
  };

  const run = async () => {
    if (runButton.disabled) return;
    const [width, height] = size.value.split("x");
    const fields = { prompt: prompt.value.trim(), width, height, seed: String(Math.max(0, Math.floor(Number(seed.value) || 0))) };
    await app.replaceDocument("Generating", async () => (await app.runJob("generate", fields)).result.document);
    sync();
  };

  prompt.addEventListener("input", sync);
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      run();
    }
  });
  runButton.addEventListener("click", run);

  const tool = {
    name: "generate",
    title: "Generate",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3v4M12 17v4M3 12h4M17 12h4"/><path d="m6 6 2.5 2.5M15.5 15.5 18 18M18 6l-2.5 2.5M8.5 15.5 6 18"/></svg>',
    panel,
    async configure() {
      const status = await showModelStatus(app, panel);
      ready = status.ready;
      if (ready) {
        size.replaceChildren(
          ...SHAPES.map(([name, w, h]) => {
            const [width, height] = [side(status.native_size, w), side(status.native_size, h)];
            return new Option(`${name} · ${width} × ${height}`, `${width}x${height}`);
          }),
        );
      }
      sync();
    },
    estimateFields: async () => null,
    reset: sync,
    busyChanged: sync,
  };
  return wholeImageTool(tool, run);
}
