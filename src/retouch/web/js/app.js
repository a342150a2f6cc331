// The editor: opens an image as a server-side document, lets the active tool paint on the view, runs the
// tool's job, and paints back only the rectangle that changed. Undo and redo walk the document's history.
import { Api } from "./api.js";
import { Viewer } from "./viewer.js";
import { TOOL_FACTORIES } from "./tools/index.js";

const $ = (id) => document.getElementById(id);
const BUSY_DELAY_MS = 250; // work quicker than this shows no progress pill
const TOAST_MS = 9000;

function sentence(text) {
  const s = String(text || "Something went wrong");
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
}

function megabytes(bytes) {
  return (bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}

class App {
  constructor() {
    this.stage = $("stage");
    this.viewer = new Viewer(this.stage, $("view"));
    this.api = new Api(() => this.askKey());
    this.doc = null;
    this.info = null;
    this.busy = false;
    this.job = null;
    this.drag = null;
    this.spaceHeld = false;
    this.pointer = null; // last pointer position on the stage, CSS pixels
    this.tools = TOOL_FACTORIES.map((create) => create(this));
    this.tool = this.tools[0];
    this.viewer.onChange = () => this.updateZoom();
    this.buildTools();
    this.bindToolbar();
    this.bindPointer();
    this.bindKeys();
    this.bindFiles();
    this.updateControls();
    document.body.dataset.busy = "false";
    this.loadInfo();
  }

  // --- setup --------------------------------------------------------------------------------------------------

  buildTools() {
    const tabs = $("tool-tabs");
    const panels = $("tool-panels");
    for (const tool of this.tools) {
      const tab = document.createElement("button");
      tab.className = "tool-tab";
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.innerHTML = tool.icon;
      tab.append(tool.title);
      tab.addEventListener("click", () => this.selectTool(tool));
      tool.tab = tab;
      tabs.append(tab);
      panels.append(tool.panel);
    }
    this.selectTool(this.tool);
  }

  selectTool(tool) {
    this.tool = tool;
    for (const t of this.tools) {
      t.tab.setAttribute("aria-selected", String(t === tool));
      t.panel.hidden = t !== tool;
    }
  }

  async loadInfo() {
    try {
      this.info = await this.api.info();
      for (const tool of this.tools) tool.configure(this.info.tools.find((t) => t.name === tool.name));
    } catch (error) {
      this.showError(error);
    }
  }

  bindToolbar() {
    const picker = $("file-input");
    $("open").addEventListener("click", () => picker.click());
    $("open-big").addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      const file = picker.files && picker.files[0];
      picker.value = "";
      if (file) this.open(file);
    });
    $("undo").addEventListener("click", () => this.undo());
    $("redo").addEventListener("click", () => this.redo());
    $("download").addEventListener("click", () => this.download());
    $("zoom-in").addEventListener("click", () => this.viewer.zoomBy(1.25));
    $("zoom-out").addEventListener("click", () => this.viewer.zoomBy(0.8));
    $("zoom-label").addEventListener("click", () => {
      const fit = Math.abs(this.viewer.scale - this.viewer.fitScale()) < 1e-6;
      if (fit) this.viewer.zoomTo(1);
      else this.viewer.fit();
    });
    const compare = $("compare");
    compare.addEventListener("input", () => {
      this.viewer.split = Number(compare.value) / 100;
      this.viewer.requestRender();
    });
    const hold = $("compare-hold");
    const showBefore = (on) => {
      this.viewer.showBefore = on;
      this.viewer.requestRender();
    };
    hold.addEventListener("pointerdown", () => showBefore(true));
    for (const type of ["pointerup", "pointerleave", "pointercancel"]) hold.addEventListener(type, () => showBefore(false));
    $("busy-cancel").addEventListener("click", () => this.job && this.api.cancel(this.job.id));
    $("toast-close").addEventListener("click", () => ($("toast").hidden = true));
  }

  bindPointer() {
    const canvas = this.viewer.canvas;
    canvas.addEventListener("pointerdown", (event) => {
      if (!this.viewer.hasImage) return;
      canvas.setPointerCapture(event.pointerId);
      if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
        this.drag = { kind: "pan", x: event.clientX, y: event.clientY };
        this.stage.classList.add("dragging");
        event.preventDefault();
      } else if (event.button === 0 && this.tool.pointerDown(this.viewer.toImage(event.clientX, event.clientY))) {
        this.drag = { kind: "tool" };
      }
    });
    canvas.addEventListener("pointermove", (event) => {
      this.pointer = this.viewer.toStage(event.clientX, event.clientY);
      if (this.drag && this.drag.kind === "pan") {
        this.viewer.panBy(event.clientX - this.drag.x, event.clientY - this.drag.y);
        this.drag.x = event.clientX;
        this.drag.y = event.clientY;
      } else if (this.drag && this.drag.kind === "tool") {
        const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
        for (const e of events.length ? events : [event]) this.tool.pointerMove(this.viewer.toImage(e.clientX, e.clientY));
      }
      this.refreshCursor();
    });
    const end = () => {
      if (this.drag && this.drag.kind === "tool") this.tool.pointerUp();
      this.drag = null;
      this.stage.classList.remove("dragging");
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", () => {
      this.pointer = null;
      this.refreshCursor();
    });
    canvas.addEventListener(
      "wheel",
      (event) => {
        if (!this.viewer.hasImage) return;
        event.preventDefault();
        const at = this.viewer.toStage(event.clientX, event.clientY);
        const speed = event.ctrlKey ? 0.01 : 0.0015; // pinch gestures arrive as ctrl+wheel with small deltas
        this.viewer.zoomBy(Math.exp(-event.deltaY * speed), at.x, at.y);
        this.refreshCursor();
      },
      { passive: false },
    );
  }

  bindKeys() {
    window.addEventListener("keydown", (event) => {
      if (event.target.closest && event.target.closest("input[type=password], input[type=text], textarea, select, dialog")) return;
      const key = event.key.toLowerCase();
      if (event.ctrlKey || event.metaKey) {
        const actions = {
          z: () => (event.shiftKey ? this.redo() : this.undo()),
          y: () => this.redo(),
          o: () => $("file-input").click(),
          s: () => this.download(),
        };
        if (actions[key]) {
          event.preventDefault();
          actions[key]();
        }
        return;
      }
      if (event.key === "\\") {
        event.preventDefault();
        this.viewer.showBefore = true;
        this.viewer.requestRender();
        return;
      }
      if (event.key === " ") {
        event.preventDefault();
        if (document.activeElement instanceof HTMLButtonElement) document.activeElement.blur();
        this.spaceHeld = true;
        this.stage.classList.add("pan-ready");
        this.refreshCursor();
        return;
      }
      if (!this.viewer.hasImage) return;
      const zoom = { "+": 1.25, "=": 1.25, "-": 0.8, _: 0.8 };
      if (zoom[event.key]) this.viewer.zoomBy(zoom[event.key]);
      else if (event.key === "0") this.viewer.fit();
      else if (event.key === "1") this.viewer.zoomTo(1);
      else if (!this.tool.keydown(event)) return;
      event.preventDefault();
    });
    const release = (key) => {
      if (key === "\\" || key === null) {
        this.viewer.showBefore = false;
        this.viewer.requestRender();
      }
      if (key === " " || key === null) {
        this.spaceHeld = false;
        this.stage.classList.remove("pan-ready");
        this.refreshCursor();
      }
    };
    window.addEventListener("keyup", (event) => release(event.key));
    window.addEventListener("blur", () => release(null));
  }

  bindFiles() {
    const overlay = $("drag-over");
    const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
    let depth = 0;
    window.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      overlay.hidden = false;
    });
    window.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) overlay.hidden = true;
    });
    window.addEventListener("dragover", (event) => {
      if (hasFiles(event)) event.preventDefault();
    });
    window.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      overlay.hidden = true;
      const file = event.dataTransfer.files[0];
      if (file) this.open(file);
    });
    window.addEventListener("paste", (event) => {
      const files = event.clipboardData ? Array.from(event.clipboardData.files) : [];
      const file = files.find((f) => f.type.startsWith("image/")) || files[0];
      if (file) {
        event.preventDefault();
        this.open(file);
      }
    });
  }

  // --- actions ------------------------------------------------------------------------------------------------

  async open(file) {
    if (this.busy) return;
    const limit = this.info && this.info.limits.max_upload_bytes;
    if (limit && file.size > limit) {
      this.showError(`“${file.name}” is ${megabytes(file.size)} MB; this server accepts files up to ${megabytes(limit)} MB`);
      return;
    }
    await this.withBusy("Opening", async () => {
      const doc = await this.api.upload(file);
      const bitmap = await this.api.preview(doc.id, null);
      const previous = this.doc;
      this.viewer.setImage(bitmap, doc.width, doc.height, doc.has_alpha);
      bitmap.close();
      $("compare").value = "0";
      $("dropzone").hidden = true;
      this.stage.classList.add("has-image");
      for (const tool of this.tools) tool.reset();
      this.setDoc(doc);
      if (previous) this.api.forget(previous.id);
    });
  }

  // Run a tool on the document; answers whether it succeeded.
  async runTool(name, fields, label) {
    if (!this.doc || this.busy) return false;
    const docId = this.doc.id;
    const ok = await this.withBusy(label, async () => {
      let job = await this.api.runTool(name, { ...fields, document: docId });
      this.job = job;
      $("busy-cancel").hidden = false;
      job = await this.api.waitFor(job, (j) => this.showProgress(j, label));
      await this.applyChange(job.result);
      return true;
    });
    this.job = null;
    return ok === true;
  }

  async undo() {
    if (this.busy || !this.doc) return;
    if (this.tool.undoLocal()) return;
    if (!this.doc.can_undo) return;
    await this.withBusy("Undoing", async () => this.applyChange(await this.api.undo(this.doc.id)));
  }

  async redo() {
    if (this.busy || !this.doc) return;
    if (this.tool.redoLocal()) return;
    if (!this.doc.can_redo) return;
    await this.withBusy("Redoing", async () => this.applyChange(await this.api.redo(this.doc.id)));
  }

  async download() {
    if (this.busy || !this.doc) return;
    await this.withBusy("Preparing the download", async () => {
      const { blob, name } = await this.api.download(this.doc.id, this.doc.filename);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    });
  }

  // A document changed on the server: fetch and paint only what changed.
  async applyChange({ document: doc, changed }) {
    const old = this.doc;
    if (doc.width !== old.width || doc.height !== old.height || doc.has_alpha !== old.has_alpha) {
      const bitmap = await this.api.preview(doc.id, null);
      this.viewer.replaceImage(bitmap, doc.width, doc.height, doc.has_alpha);
      bitmap.close();
    } else if (changed.width > 0 && changed.height > 0) {
      const bitmap = await this.api.preview(doc.id, changed);
      this.viewer.patch(bitmap, changed);
      bitmap.close();
    }
    this.setDoc(doc);
  }

  // --- state and feedback -------------------------------------------------------------------------------------

  setDoc(doc) {
    this.doc = doc;
    document.body.dataset.version = String(doc.version);
    document.body.dataset.document = doc.id;
    const depth = doc.bit_depth === 16 ? " · 16-bit" : "";
    $("status-file").textContent = `${doc.filename} · ${doc.width} × ${doc.height} · ${doc.format || "image"}${depth}`;
    this.updateControls();
    this.updateZoom();
  }

  async withBusy(label, work) {
    this.setBusy(true, label);
    try {
      return await work();
    } catch (error) {
      this.showError(error);
      return undefined;
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(on, label = "") {
    this.busy = on;
    document.body.dataset.busy = String(on);
    this.stage.classList.toggle("working", on);
    clearTimeout(this.busyTimer);
    const pill = $("busy");
    if (on) {
      $("busy-label").textContent = `${label}…`;
      $("busy-count").textContent = "";
      $("busy-cancel").hidden = true;
      this.setBar(null);
      this.busyTimer = setTimeout(() => (pill.hidden = false), BUSY_DELAY_MS);
    } else {
      pill.hidden = true;
    }
    for (const tool of this.tools) tool.busyChanged();
    this.refreshCursor();
    this.updateControls();
  }

  showProgress(job, label) {
    const { done, total } = job.progress;
    const queued = job.state === "queued";
    $("busy-label").textContent = queued ? "Waiting for the server…" : `${label}…`;
    $("busy-count").textContent = !queued && total > 1 ? `${done}/${total}` : "";
    this.setBar(!queued && total > 1 ? done / total : null); // single-step stages show a moving bar
  }

  setBar(fraction) {
    const bar = $("busy-bar");
    bar.parentElement.classList.toggle("indeterminate", fraction === null);
    bar.style.width = fraction === null ? "" : `${Math.round(fraction * 100)}%`;
  }

  showError(error) {
    const toast = $("toast");
    $("toast-text").textContent = sentence(error && error.message ? error.message : error);
    toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (toast.hidden = true), TOAST_MS);
  }

  updateControls() {
    const ready = Boolean(this.doc) && !this.busy;
    $("undo").disabled = !ready || !this.doc.can_undo;
    $("redo").disabled = !ready || !this.doc.can_redo;
    $("download").disabled = !ready;
    for (const id of ["zoom-in", "zoom-out", "zoom-label", "compare", "compare-hold"]) $(id).disabled = !this.doc;
  }

  updateZoom() {
    const text = this.viewer.hasImage ? `${Math.round(this.viewer.scale * 100)}%` : "–";
    $("zoom-label").textContent = text;
    $("status-zoom").textContent = this.viewer.hasImage ? `Zoom ${text}` : "";
  }

  refreshCursor() {
    const painting = this.viewer.hasImage && this.pointer && !this.spaceHeld && !this.busy && !(this.drag && this.drag.kind === "pan");
    this.viewer.cursor = painting ? { ...this.pointer, radius: this.tool.cursorRadius() } : null;
    this.viewer.requestRender();
  }

  askKey() {
    const dialog = $("key-dialog");
    const input = $("key-input");
    return new Promise((resolve) => {
      const form = $("key-form");
      const done = (value) => {
        form.onsubmit = null;
        dialog.oncancel = null;
        if (dialog.open) dialog.close();
        resolve(value);
      };
      form.onsubmit = (event) => {
        event.preventDefault();
        done(input.value.trim() || null);
      };
      dialog.oncancel = () => done(null);
      input.value = "";
      dialog.showModal();
    });
  }
}

window.retouch = new App();
