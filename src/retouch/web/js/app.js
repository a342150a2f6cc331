// The editor: opens an image as a server-side document, lets the active tool paint on the view, runs the
// tool's job, and paints back only the rectangle that changed. Undo and redo walk the document's history.
import { Api } from "./api.js";
import { Busy } from "./busy.js";
import { bindCompare } from "./compare.js";
import { Estimate } from "./estimate.js";
import { Gestures } from "./gestures.js";
import { Models } from "./models.js";
import { Notice } from "./notice.js";
import { Unsaved } from "./unsaved.js";
import { Viewer } from "./viewer.js";
import { TOOL_FACTORIES } from "./tools/index.js";

const $ = (id) => document.getElementById(id);

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
    this.spaceHeld = false;
    this.notice = new Notice($("toast"), $("toast-text"), $("toast-close"));
    this.unsaved = new Unsaved($("unsaved-dialog"), () => this.viewer.strokes.length > 0);
    this.busyPill = new Busy(
      { pill: $("busy"), label: $("busy-label"), stage: $("busy-stage"), count: $("busy-count"), eta: $("busy-eta"), bar: $("busy-bar"), cancel: $("busy-cancel") },
      () => this.job && this.api.cancel(this.job.id),
    );
    this.gestures = new Gestures(this);
    this.compare = bindCompare(this, $("compare"), $("compare-hold"));
    this.tools = TOOL_FACTORIES.map((create) => create(this));
    this.tool = this.tools[0];
    this.estimate = new Estimate(this, $("tool-panels"));
    this.models = new Models(this);
    this.viewer.onChange = () => this.updateZoom();
    this.buildTools();
    this.bindToolbar();
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
      tab.title = tool.title; // the name, where a narrow rail shows only the icon
      tab.setAttribute("aria-label", tool.title);
      const title = document.createElement("span");
      title.className = "tab-name";
      title.textContent = tool.title;
      tab.append(title);
      if (tool.short) {
        // a phone's tab row gives each tab about 55 px: two long names side by side ran into each other
        const short = document.createElement("span");
        short.className = "tab-short";
        short.textContent = tool.short;
        tab.append(short);
      }
      tab.addEventListener("click", () => this.selectTool(tool, { toggle: true }));
      tool.tab = tab;
      tabs.append(tab);
      panels.append(tool.panel);
    }
    this.selectTool(this.tool);
  }

  // On a phone the panels are a sheet under the image: tapping the open tool's tab folds the sheet away, and
  // any tab unfolds it. (The sheet's fold shows only in the phone layout.)
  selectTool(tool, { toggle = false } = {}) {
    const folded = toggle && tool === this.tool && !document.body.classList.contains("sheet-folded");
    document.body.classList.toggle("sheet-folded", folded);
    this.tool = tool;
    for (const t of this.tools) {
      t.tab.setAttribute("aria-selected", String(t === tool));
      t.panel.hidden = t !== tool;
    }
    // the viewer shows the chosen tool's pending mask only (a tool that paints puts its own back)
    this.viewer.strokes = [];
    this.viewer.maskLayer = null;
    this.viewer.preview = null;
    this.viewer.marks = [];
    if (tool.selected) tool.selected();
    this.viewer.requestRender();
    this.estimate.refresh();
  }

  async loadInfo() {
    try {
      this.info = await this.api.info();
      for (const tool of this.tools) tool.configure(this.info.tools.find((t) => t.name === tool.name));
      this.estimate.refresh();
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
      if (this.viewer.isFitted()) this.viewer.zoomTo(1);
      else this.viewer.fit();
    });
  }

  bindKeys() {
    window.addEventListener("keydown", (event) => {
      if (this.typing(event)) return;
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
    const release = () => {
      this.spaceHeld = false;
      this.stage.classList.remove("pan-ready");
      this.refreshCursor();
    };
    window.addEventListener("keyup", (event) => event.key === " " && release());
    window.addEventListener("blur", release);
  }

  // Whether a key goes to a form field (or a dialog) rather than to the editor.
  typing(event) {
    return Boolean(event.target.closest && event.target.closest("input[type=password], input[type=text], textarea, select, dialog"));
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
    await this.replaceDocument("Opening", () => this.api.upload(file));
  }

  // Show the document `makeDoc` answers (an upload, a generated picture) in place of the open one, after the
  // unsaved-edits question.
  async replaceDocument(label, makeDoc) {
    if (this.busy) return;
    if (this.unsaved.dirty) {
      const choice = await this.unsaved.ask(this.doc.filename);
      if (choice === "keep") return;
      if (choice === "download") {
        await this.download();
        if (this.unsaved.editsUnsaved) return; // the download failed: the edits stay
      }
    }
    await this.withBusy(label, async () => {
      const doc = await makeDoc();
      const bitmap = await this.api.preview(doc.id, null);
      const previous = this.doc;
      this.viewer.setImage(bitmap, doc.width, doc.height, doc.has_alpha);
      bitmap.close();
      this.compare.reset();
      $("dropzone").hidden = true;
      this.stage.classList.add("has-image");
      for (const tool of this.tools) tool.reset();
      this.unsaved.opened();
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
      this.busyPill.cancellable();
      job = await this.api.waitFor(job, (j) => this.busyPill.progress(j));
      await this.applyChange(job.result, true);
      this.models.noteRun(this.tool, job.result.document);
      return true;
    });
    this.job = null;
    return ok === true;
  }

  // Run a job (inside withBusy) with the busy pill's progress and Cancel; answers the finished job.
  async runJob(name, fields) {
    const job = await this.api.runTool(name, fields);
    this.job = job;
    this.busyPill.cancellable();
    try {
      return await this.api.waitFor(job, (j) => this.busyPill.progress(j));
    } finally {
      this.job = null;
    }
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
      this.unsaved.downloaded();
    });
  }

  // A document changed on the server (an edit, or a step through its history): fetch and paint only what changed.
  async applyChange({ document: doc, changed }, edited = false) {
    const old = this.doc;
    if (doc.width !== old.width || doc.height !== old.height || doc.has_alpha !== old.has_alpha) {
      const bitmap = await this.api.preview(doc.id, null);
      this.viewer.replaceImage(bitmap, doc.width, doc.height, doc.has_alpha, doc.origin);
      bitmap.close();
    } else if (changed.width > 0 && changed.height > 0) {
      const bitmap = await this.api.preview(doc.id, changed);
      this.viewer.patch(bitmap, changed);
      bitmap.close();
    }
    this.unsaved.moved(doc, edited);
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
    this.estimate.refresh();
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
    if (on) this.busyPill.start(label);
    else this.busyPill.stop();
    for (const tool of this.tools) tool.busyChanged();
    this.refreshCursor();
    this.updateControls();
  }

  // A cancelled job is what the user asked for: a neutral notice, not an error.
  showError(error) {
    if (error && error.code === "cancelled") this.notice.notice("Cancelled");
    else this.notice.error(error);
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
    const at = this.gestures.brushAt;
    const painting = this.viewer.hasImage && at && !this.spaceHeld && !this.busy;
    this.viewer.cursor = painting ? { ...at, radius: this.tool.cursorRadius() } : null;
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
