// Pointer input on the image, with Pointer Events (the canvas has touch-action: none, so the browser leaves
// every touch to us). A mouse or pen paints with the active tool; the middle button, or Space and drag, pans.
// One finger paints (or pans, when the tool paints nothing); two fingers pinch-zoom and pan. A stroke the first
// finger began is dropped, never sent, when a second finger lands; after a pinch, nothing happens until every
// finger is up but one (two fingers down again pinch again).

const distance = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);
const middle = (a, b) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });

export class Gestures {
  constructor(app) {
    this.app = app;
    this.viewer = app.viewer;
    this.canvas = app.viewer.canvas;
    this.pointers = new Map(); // active pointers: id -> client position
    this.mode = null; // "tool" | "pan" | "pinch" | "over" (a pinch ended, fingers still down) | null
    this.last = null; // pan: the last client position; pinch: the last {span, centre}
    this.hover = null; // where the brush outline goes, stage CSS pixels
    this.bind();
  }

  // Where to draw the brush outline, or null while nothing would be painted there.
  get brushAt() {
    return this.mode === null || this.mode === "tool" ? this.hover : null;
  }

  get panning() {
    return this.mode === "pan";
  }

  bind() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    canvas.addEventListener("pointerup", (event) => this.up(event, false));
    canvas.addEventListener("pointercancel", (event) => this.up(event, true));
    canvas.addEventListener("pointerleave", () => {
      this.hover = null;
      this.app.refreshCursor();
    });
    canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
  }

  down(event) {
    if (!this.viewer.hasImage) return;
    this.canvas.setPointerCapture(event.pointerId);
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    this.hover = this.viewer.toStage(event.clientX, event.clientY);
    if (event.pointerType === "touch") this.touchDown();
    else if (this.pointers.size === 1) this.buttonDown(event);
    this.app.refreshCursor();
  }

  buttonDown(event) {
    if (event.button === 1 || (event.button === 0 && this.app.spaceHeld)) {
      this.startPan(event.clientX, event.clientY);
      event.preventDefault();
    } else if (event.button === 0 && this.app.tool.pointerDown(this.toImage(event))) {
      this.mode = "tool";
    }
  }

  touchDown() {
    const [first, second] = this.pointers.values();
    if (this.pointers.size === 1) {
      if (this.app.tool.pointerDown(this.viewer.toImage(first.x, first.y))) this.mode = "tool";
      else this.startPan(first.x, first.y);
    } else if (this.pointers.size === 2) {
      if (this.mode === "tool") this.app.tool.pointerCancel();
      this.mode = "pinch";
      this.last = { span: distance(first, second), centre: middle(first, second) };
    }
  }

  startPan(x, y) {
    this.mode = "pan";
    this.last = { x, y };
    this.app.stage.classList.add("dragging");
  }

  move(event) {
    this.hover = this.viewer.toStage(event.clientX, event.clientY);
    if (this.pointers.has(event.pointerId)) this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (this.mode === "pan") {
      this.viewer.panBy(event.clientX - this.last.x, event.clientY - this.last.y);
      this.last = { x: event.clientX, y: event.clientY };
    } else if (this.mode === "pinch") {
      this.pinch();
    } else if (this.mode === "tool") {
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) this.app.tool.pointerMove(this.toImage(e));
    }
    this.app.refreshCursor();
  }

  // Zoom by the change of the fingers' span about their old centre, then follow the centre's move.
  pinch() {
    const [first, second] = this.pointers.values();
    const span = distance(first, second);
    const centre = middle(first, second);
    const at = this.viewer.toStage(this.last.centre.x, this.last.centre.y);
    if (this.last.span > 0 && span > 0) this.viewer.zoomBy(span / this.last.span, at.x, at.y);
    this.viewer.panBy(centre.x - this.last.centre.x, centre.y - this.last.centre.y);
    this.last = { span, centre };
  }

  up(event, cancelled) {
    if (!this.pointers.delete(event.pointerId)) return;
    if (this.mode === "tool") {
      // A cancelled touch (the browser took it over) must not run the tool on half a stroke.
      if (cancelled) this.app.tool.pointerCancel();
      else this.app.tool.pointerUp();
      this.mode = null;
    } else if (this.mode === "pinch" && this.pointers.size > 0) {
      this.mode = "over";
    }
    if (this.pointers.size === 0) {
      this.mode = null;
      this.last = null;
      this.app.stage.classList.remove("dragging");
    }
    if (event.pointerType === "touch") this.hover = null; // no outline left behind where a finger lifted
    this.app.refreshCursor();
  }

  wheel(event) {
    if (!this.viewer.hasImage) return;
    event.preventDefault();
    const at = this.viewer.toStage(event.clientX, event.clientY);
    const speed = event.ctrlKey ? 0.01 : 0.0015; // trackpad pinches arrive as ctrl+wheel with small deltas
    this.viewer.zoomBy(Math.exp(-event.deltaY * speed), at.x, at.y);
    this.app.refreshCursor();
  }

  toImage(event) {
    return this.viewer.toImage(event.clientX, event.clientY);
  }
}
