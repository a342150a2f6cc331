// The Relight tool: click the photo to add a light, drag it, set its colour, strength and height, and see the
// photo lit as the pointer moves (WebGL in the page, relight-gl.js, fed the server's geometry of the photo once);
// "Apply" renders it at full size on the server (POST /api/relight) with the same lights. With "Click selects the
// subject" on, a click selects the subject instead (select.js); the shape is then asked again with those clicks,
// and Apply sends them too, so the server lights the subject the preview showed.

import { fieldOf } from "./fields.js";
import { MAX_LIGHTS, RelightRenderer } from "./relight-gl.js";
import { createSelection, selectFields } from "./select.js";

const PANEL = `
  <h2>Relight</h2>
  <p>Click the photo to add a light; drag it to move it. Rim lights sit behind the subject and trace its outline.</p>
  <p data-state role="status"></p>
  ${selectFields("the subject")}
  <div class="row">
    <button type="button" class="btn outline" data-clear-selection hidden title="Light the subject found by itself">Clear selection</button>
  </div>
  <div class="row" data-light-list></div>
  <div data-light-fields hidden>
    <label class="field">
      <span class="field-label">Kind</span>
      <select data-kind aria-label="Kind">
        <option value="point">Bulb (falls off with distance)</option>
        <option value="dir">Sun (from the direction of the handle)</option>
      </select>
    </label>
    <label class="field">
      <span class="field-label">Colour</span>
      <input type="color" data-colour value="#ffb060" aria-label="Colour">
    </label>
    <label class="field">
      <span class="field-label">Strength <output data-intensity-value></output></span>
      <input type="range" data-intensity min="0" max="6" step="0.1" value="1.5" aria-label="Strength">
    </label>
    <label class="field">
      <span class="field-label">Height <output data-height-value></output></span>
      <input type="range" data-height min="0" max="100" step="1" value="40" aria-label="Height">
    </label>
    <label class="check"><input type="checkbox" data-rim> Rim light (behind the subject)</label>
    <div class="row">
      <button type="button" class="btn outline" data-remove title="Remove this light (Delete)">Remove light</button>
    </div>
  </div>
  <label class="field">
    <span class="field-label">Photo's own light <output data-ambient-value></output></span>
    <input type="range" data-ambient min="0" max="150" step="1" value="60" aria-label="Photo's own light">
  </label>
  <label class="check"><input type="checkbox" data-shadows checked> Shadows</label>
  <div class="row">
    <button type="button" class="btn primary" data-run disabled title="Relight the photo at full size (Enter)">Apply</button>
    <button type="button" class="btn outline" data-clear disabled title="Remove every light">Clear</button>
    <span class="estimate" data-estimate hidden></span>
  </div>`;

const HANDLE_PX = 14; // how near (CSS pixels) a press must be to a light's handle to grab it

export function createRelight(app) {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.innerHTML = PANEL;
  const $ = (selector) => panel.querySelector(selector);
  const state = $("[data-state]");
  const list = $("[data-light-list]");
  const lightFields = $("[data-light-fields]");
  const kind = $("[data-kind]");
  const colour = $("[data-colour]");
  const intensity = $("[data-intensity]");
  const height = $("[data-height]");
  const rim = $("[data-rim]");
  const ambient = $("[data-ambient]");
  const shadows = $("[data-shadows]");
  const runButton = $("[data-run]");
  const clearButton = $("[data-clear]");
  const clearSelectionButton = $("[data-clear-selection]");
  const viewer = app.viewer;

  let lights = []; // the panel's lights: kind, x, y (fractions of the frame), z, azimuth, elevation, colour...
  let chosen = -1; // the selected light's index
  let dragging = false;
  let renderer = null; // the preview of the document version `shapeOf`
  let shapeOf = null;
  let defaults = null; // each kind's numbers, as the server fills them in
  let loading = null;
  let failedFor = null; // a version whose shape could not be had: not asked for again
  let frame = 0;

  // the selected subject's clicks, or "" for the subject the server finds by itself
  const subjectClicks = () => (selection.mask ? selection.field() : "");
  // what the preview is of: a version of the document and its subject
  const docKey = () => (app.doc ? `${app.doc.id}:${app.doc.version}:${subjectClicks()}` : null);
  const active = () => app.tool === tool;

  // The spec the server reads (retouch.tools.relight.lights): only what differs from its defaults.
  const specOf = (light) => {
    const keys = light.kind === "dir" ? ["azimuth", "elevation", "intensity", "specular"] : ["x", "y", "z", "reach", "intensity", "specular"];
    const parts = keys.map((key) => `${key}=${Number(light[key].toFixed(4))}`);
    parts.push(`color=${light.color}`);
    if (light.rim) parts.push("rim");
    return `${light.kind}:${parts.join(",")}`;
  };

  // A dir light's handle gives its azimuth: the direction from the frame's centre to the handle.
  const withDirection = (light) => {
    if (light.kind !== "dir") return light;
    const dx = (light.x - 0.5) * app.doc.width;
    const dy = (light.y - 0.5) * app.doc.height;
    return { ...light, azimuth: (Math.atan2(-dy, dx) * 180) / Math.PI };
  };
  const placed = () => lights.map(withDirection);

  const draw = () => {
    frame = 0;
    if (!active()) return;
    viewer.maskLayer = selection.active ? selection.mask : null; // shown while clicks select, over the preview
    if (renderer) {
      renderer.render(placed(), Number(ambient.value) / 100, shadows.checked);
      viewer.preview = renderer.canvas;
      viewer.marks = lights.map((light, i) => ({ x: light.x * app.doc.width, y: light.y * app.doc.height, colour: light.color, selected: i === chosen }));
    }
    viewer.requestRender();
  };
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  const syncFields = () => {
    const light = lights[chosen];
    lightFields.hidden = !light;
    list.innerHTML = "";
    lights.forEach((l, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `btn outline${i === chosen ? " selected" : ""}`;
      button.textContent = `Light ${i + 1}`;
      button.style.borderColor = l.color;
      button.addEventListener("click", () => choose(i));
      list.append(button);
    });
    if (light) {
      kind.value = light.kind;
      colour.value = light.color;
      intensity.value = String(light.intensity);
      height.value = String(light.kind === "dir" ? light.elevation : Math.round(light.z * 100));
      height.max = light.kind === "dir" ? "90" : "100";
      rim.checked = light.rim;
    }
    $("[data-intensity-value]").textContent = light ? `${Number(intensity.value).toFixed(1)}` : "";
    $("[data-height-value]").textContent = light ? (light.kind === "dir" ? `${height.value}°` : `${height.value}%`) : "";
    $("[data-ambient-value]").textContent = `${ambient.value}%`;
  };

  const sync = () => {
    syncFields();
    const ready = Boolean(app.doc) && !app.busy;
    runButton.disabled = !ready || !renderer || lights.length === 0;
    clearButton.disabled = lights.length === 0 || app.busy;
    clearSelectionButton.hidden = selection.clicks.length === 0;
    clearSelectionButton.disabled = app.busy;
    panel.dataset.lights = String(lights.length);
    panel.dataset.ready = String(Boolean(renderer) && shapeOf === docKey());
    if (active() && ready && shapeOf !== docKey() && failedFor !== docKey() && !loading) prepare();
    redraw();
  };

  const choose = (index) => {
    chosen = index;
    sync();
  };

  // Ask the server for the shape of the current version of the photo, once, and make the preview of it.
  const prepare = async () => {
    const doc = app.doc;
    const key = docKey();
    const clicks = subjectClicks();
    renderer = null;
    viewer.preview = null;
    state.textContent = "Finding the subject's shape…";
    loading = app.withBusy("Preparing the light", async () => {
      let job = await app.api.relightGeometry(doc.id, { clicks });
      app.job = job;
      app.busyPill.cancellable();
      job = await app.api.waitFor(job, (j) => app.busyPill.progress(j));
      defaults = job.result.lights;
      renderer = await RelightRenderer.create(job.result);
      shapeOf = key;
      const found = job.result.source === "none" ? "no subject found: the photo is lit as a flat plane" : "subject found";
      const subject = clicks ? "the selected subject" : found;
      state.textContent = `Ready (${subject}). Click the photo to add a light.`;
    });
    await loading;
    app.job = null;
    loading = null;
    if (!renderer) {
      failedFor = key;
      state.textContent = "The preview could not be prepared.";
    }
    sync();
  };

  const newLight = (x, y) => {
    const base = { ...(defaults ? defaults.point : {}), ...(defaults ? defaults.dir : {}) };
    return { ...base, kind: "point", x, y, z: base.z ?? 0.4, color: colour.value, intensity: Number(intensity.value), rim: false };
  };

  const nearest = (point) => {
    const reach = HANDLE_PX / viewer.scale;
    let best = -1;
    let bestDistance = reach;
    lights.forEach((light, i) => {
      const d = Math.hypot(light.x * app.doc.width - point.x, light.y * app.doc.height - point.y);
      if (d <= bestDistance) {
        best = i;
        bestDistance = d;
      }
    });
    return best;
  };

  const moveTo = (point) => {
    const light = lights[chosen];
    if (!light) return;
    const clamp = (v) => Math.min(2.5, Math.max(-1.5, v));
    lights[chosen] = { ...light, x: clamp(point.x / app.doc.width), y: clamp(point.y / app.doc.height) };
    redraw();
  };

  const edit = (change) => {
    if (!lights[chosen]) return;
    lights[chosen] = { ...lights[chosen], ...change };
    sync();
  };

  kind.addEventListener("input", () => edit({ kind: kind.value, ...(kind.value === "dir" ? { elevation: 30 } : {}) }));
  colour.addEventListener("input", () => (lights[chosen] ? edit({ color: colour.value }) : sync()));
  intensity.addEventListener("input", () => (lights[chosen] ? edit({ intensity: Number(intensity.value) }) : sync()));
  height.addEventListener("input", () =>
    edit(lights[chosen] && lights[chosen].kind === "dir" ? { elevation: Number(height.value) } : { z: Number(height.value) / 100 }),
  );
  rim.addEventListener("input", () => edit({ rim: rim.checked }));
  ambient.addEventListener("input", sync);
  shadows.addEventListener("input", sync);
  $("[data-remove]").addEventListener("click", () => remove());
  clearButton.addEventListener("click", () => {
    lights = [];
    chosen = -1;
    sync();
  });
  const selection = createSelection(app, panel, sync, { keepWhenOff: true });
  clearSelectionButton.addEventListener("click", () => {
    selection.clear();
    sync();
  });

  const remove = () => {
    if (chosen < 0) return false;
    lights.splice(chosen, 1);
    chosen = Math.min(chosen, lights.length - 1);
    sync();
    return true;
  };

  const run = async () => {
    if (runButton.disabled) return;
    const fields = {
      lights: placed().map(specOf).join(";"),
      ambient: String(Number(ambient.value) / 100),
      shadows: String(shadows.checked),
      clicks: subjectClicks(),
    };
    const ok = await app.runTool("relight", fields, "Relighting");
    if (ok) {
      lights = [];
      chosen = -1;
      selection.clear(); // the lit photo is a new version: its subject is found afresh, or clicked again
    }
    sync();
  };
  runButton.addEventListener("click", run);

  const tool = {
    name: "relight",
    title: "Relight",
    icon: '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="10" r="5"/><path d="M9.5 18h5M10.5 21h3M12 2v1M4 10H3M21 10h-1M6.3 4.3l.7.7M17.7 4.3l-.7.7"/></svg>',
    panel,
    cursorRadius: () => 0,

    configure(info) {
      const field = fieldOf(info, "ambient");
      if (field) ambient.value = String(Math.round(field.default * 100));
      const shadowField = fieldOf(info, "shadows");
      if (shadowField) shadows.checked = Boolean(shadowField.default);
      sync();
    },

    selected: sync,
    reset() {
      lights = [];
      chosen = -1;
      selection.clear();
      renderer = null;
      shapeOf = null;
      state.textContent = "";
      sync();
    },
    busyChanged: sync,

    pointerDown(point) {
      if (selection.active) return selection.pointerDown(point);
      if (!renderer || app.busy) return false;
      const hit = nearest(point);
      if (hit >= 0) {
        chosen = hit;
      } else {
        if (lights.length >= MAX_LIGHTS) return false;
        lights.push(newLight(point.x / app.doc.width, point.y / app.doc.height));
        chosen = lights.length - 1;
      }
      dragging = true;
      sync();
      return true;
    },
    pointerMove(point) {
      if (dragging) moveTo(point);
    },
    pointerUp() {
      dragging = false;
      sync();
    },
    pointerCancel() {
      dragging = false;
      sync();
    },
    undoLocal: () => false,
    redoLocal: () => false,
    keydown(event) {
      if (event.key === "Enter") {
        run();
        return true;
      }
      if (event.key === "Delete" || event.key === "Backspace") return remove();
      return false;
    },

    estimateFields: async () => (lights.length ? { lights: placed().map(specOf).join(";") } : null),

    // For tests and measurements: the preview of the lights as they are now (its RGBA pixels, top row first, in
    // base64), and its speed.
    preview: () => {
      if (!renderer) return null;
      renderer.render(placed(), Number(ambient.value) / 100, shadows.checked);
      const bytes = renderer.pixels();
      let text = "";
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return { width: renderer.width, height: renderer.height, pixels: btoa(text) };
    },
    benchmark: (frames) => (renderer && lights.length ? renderer.benchmark(placed(), Number(ambient.value) / 100, shadows.checked, frames) : null),
  };
  return tool;
}
