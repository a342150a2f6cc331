// The image view: a canvas the size of the window (never of the photo) that paints the visible part of the
// image at the current zoom, the before/after split, the pending mask strokes and the brush outline.
// Large photos stay smooth because each frame draws from the smallest pre-scaled copy that is still sharp.

import { traceStroke } from "./strokes.js";

const MIN_SCALE = 0.01;
const MAX_SCALE = 32;
const MIP_LIMIT = 1024; // keep halving until the longest side is at most this
const MASK_COLOR = "#7c6cff";
const MASK_ALPHA = 0.55;

function makeCanvas(width, height) {
  const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(width, height) : document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// A full-resolution image and its halvings, kept in step when a rectangle of it changes.
class Layer {
  constructor(source, width, height) {
    this.width = width;
    this.height = height;
    const full = makeCanvas(width, height);
    full.getContext("2d").drawImage(source, 0, 0);
    this.levels = [{ canvas: full, factor: 1 }];
    let factor = 1;
    while (Math.max(width, height) * factor > MIP_LIMIT) {
      factor /= 2;
      const canvas = makeCanvas(Math.max(1, Math.ceil(width * factor)), Math.max(1, Math.ceil(height * factor)));
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(this.levels[this.levels.length - 1].canvas, 0, 0, canvas.width, canvas.height);
      this.levels.push({ canvas, factor });
    }
  }

  patch(source, x, y) {
    const full = this.levels[0].canvas.getContext("2d");
    full.clearRect(x, y, source.width, source.height);
    full.drawImage(source, x, y);
    for (let i = 1; i < this.levels.length; i++) {
      const { canvas, factor } = this.levels[i];
      const parent = this.levels[i - 1];
      // The changed rectangle at this level, widened by a pixel so resampling leaves no seam.
      const x0 = Math.max(0, Math.floor(x * factor) - 1);
      const y0 = Math.max(0, Math.floor(y * factor) - 1);
      const x1 = Math.min(canvas.width, Math.ceil((x + source.width) * factor) + 1);
      const y1 = Math.min(canvas.height, Math.ceil((y + source.height) * factor) + 1);
      const ratio = parent.factor / factor;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.clearRect(x0, y0, x1 - x0, y1 - y0);
      ctx.drawImage(parent.canvas, x0 * ratio, y0 * ratio, (x1 - x0) * ratio, (y1 - y0) * ratio, x0, y0, x1 - x0, y1 - y0);
    }
  }

  // Draw the image rectangle (sx, sy, sw, sh) into (dx, dy, dw, dh) from the cheapest sharp level.
  draw(ctx, deviceScale, sx, sy, sw, sh, dx, dy, dw, dh) {
    let level = this.levels[0];
    for (const candidate of this.levels) if (candidate.factor >= deviceScale) level = candidate;
    const f = level.factor;
    ctx.drawImage(level.canvas, sx * f, sy * f, sw * f, sh * f, dx, dy, dw, dh);
  }
}

export class Viewer {
  constructor(stage, canvas) {
    this.stage = stage;
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.overlay = makeCanvas(1, 1);
    this.after = null;
    this.before = null;
    this.width = 0;
    this.height = 0;
    this.hasAlpha = false;
    this.scale = 1; // CSS pixels per image pixel
    this.ox = 0; // CSS position of the image's top-left corner in the stage
    this.oy = 0;
    this.split = 0; // share of the image, from the left, that shows the original
    this.showBefore = false;
    this.strokes = []; // pending mask strokes, in image pixels
    this.maskLayer = null; // a found mask (a canvas of the image's size, opaque where set), under the strokes
    this.preview = null; // a tool's live rendering of the whole image (a canvas of any size), shown instead of it
    this.marks = []; // a tool's handles: {x, y} in image pixels, colour, selected
    this.cursor = null; // {x, y, radius} in CSS pixels
    this.onChange = () => {};
    this.pending = false;
    this.viewWidth = 1;
    this.viewHeight = 1;
    new ResizeObserver(() => this.resize()).observe(stage);
    this.resize();
  }

  get hasImage() {
    return this.after !== null;
  }

  setImage(bitmap, width, height, hasAlpha) {
    this.width = width;
    this.height = height;
    this.hasAlpha = hasAlpha;
    this.after = new Layer(bitmap, width, height);
    this.before = new Layer(bitmap, width, height);
    this.origin = [0, 0, width, height];
    this.strokes = [];
    this.maskLayer = null;
    this.split = 0;
    this.fit();
  }

  // The whole current image changed (its size too, possibly): the original stays for comparison, its rectangle
  // `origin` ([x, y, width, height] in the original's pixels: all of it, or what a crop kept) drawn over the new
  // extent.
  replaceImage(bitmap, width, height, hasAlpha, origin) {
    const sizeChanged = width !== this.width || height !== this.height;
    this.width = width;
    this.height = height;
    this.hasAlpha = hasAlpha;
    this.origin = origin;
    this.after = new Layer(bitmap, width, height);
    if (sizeChanged) this.fit();
    else this.requestRender();
  }

  patch(bitmap, region) {
    this.after.patch(bitmap, region.x, region.y);
    this.requestRender();
  }

  resize() {
    const rect = this.stage.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const oldW = this.viewWidth;
    const oldH = this.viewHeight;
    const fitted = this.hasImage && this.isFitted();
    this.viewWidth = Math.max(1, rect.width);
    this.viewHeight = Math.max(1, rect.height);
    this.canvas.width = Math.round(this.viewWidth * dpr);
    this.canvas.height = Math.round(this.viewHeight * dpr);
    this.overlay.width = this.canvas.width;
    this.overlay.height = this.canvas.height;
    // A fitted photo stays fitted (a phone turned, its tool sheet folded); else the point at the centre of the
    // view stays where it was.
    if (fitted) {
      this.fit();
    } else {
      this.ox += (this.viewWidth - oldW) / 2;
      this.oy += (this.viewHeight - oldH) / 2;
    }
    this.render();
  }

  isFitted() {
    return Math.abs(this.scale - Math.max(MIN_SCALE, this.fitScale())) < 1e-9;
  }

  fitScale() {
    const margin = 32;
    return Math.min((this.viewWidth - margin) / this.width, (this.viewHeight - margin) / this.height, 1);
  }

  fit() {
    if (!this.hasImage) return;
    this.scale = Math.max(MIN_SCALE, this.fitScale());
    this.ox = (this.viewWidth - this.width * this.scale) / 2;
    this.oy = (this.viewHeight - this.height * this.scale) / 2;
    this.changed();
  }

  // Zoom to `scale`, keeping the image point under (cx, cy) (CSS pixels in the stage) in place.
  zoomTo(scale, cx = this.viewWidth / 2, cy = this.viewHeight / 2) {
    if (!this.hasImage) return;
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    const ix = (cx - this.ox) / this.scale;
    const iy = (cy - this.oy) / this.scale;
    this.scale = next;
    this.ox = cx - ix * next;
    this.oy = cy - iy * next;
    this.changed();
  }

  zoomBy(factor, cx, cy) {
    this.zoomTo(this.scale * factor, cx, cy);
  }

  panBy(dx, dy) {
    this.ox += dx;
    this.oy += dy;
    this.changed();
  }

  // Client (event) coordinates to image pixels.
  toImage(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: (clientX - rect.left - this.ox) / this.scale, y: (clientY - rect.top - this.oy) / this.scale };
  }

  toStage(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: clientX - rect.left, y: clientY - rect.top };
  }

  changed() {
    this.onChange();
    this.requestRender();
  }

  requestRender() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.hasImage) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

    const s = this.scale;
    const w = this.width * s;
    const h = this.height * s;
    ctx.save();
    ctx.shadowColor = "rgba(0, 0, 0, 0.5)";
    ctx.shadowBlur = 24;
    ctx.fillStyle = this.hasAlpha ? this.checkerboard(ctx) : "#000";
    ctx.fillRect(this.ox, this.oy, w, h);
    ctx.restore();

    // The visible part of the image, in image pixels.
    const x0 = Math.max(0, -this.ox / s);
    const y0 = Math.max(0, -this.oy / s);
    const x1 = Math.min(this.width, (this.viewWidth - this.ox) / s);
    const y1 = Math.min(this.height, (this.viewHeight - this.oy) / s);
    if (x1 > x0 && y1 > y0) {
      ctx.imageSmoothingEnabled = s * dpr < 2;
      ctx.imageSmoothingQuality = "medium";
      // The original's rectangle that the current image shows (all of it after an upscale or an enlarge, the
      // kept part after a crop) is stretched over the current image's extent, so that before and after line up
      // wherever the split is.
      const draw = (layer, [left, top, across, down]) => {
        const kx = across / this.width;
        const ky = down / this.height;
        layer.draw(ctx, (s * dpr) / Math.min(kx, ky), left + x0 * kx, top + y0 * ky, (x1 - x0) * kx, (y1 - y0) * ky,
          this.ox + x0 * s, this.oy + y0 * s, (x1 - x0) * s, (y1 - y0) * s);
      };
      const splitX = this.showBefore ? this.ox + w : this.ox + w * this.split;
      draw(this.preview ? this.previewLayer() : this.after, [0, 0, this.width, this.height]);
      if (splitX > this.ox) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(this.ox, this.oy, splitX - this.ox, h);
        ctx.clip();
        ctx.clearRect(this.ox, this.oy, splitX - this.ox, h);
        ctx.fillStyle = this.hasAlpha ? this.checkerboard(ctx) : "#000";
        ctx.fillRect(this.ox, this.oy, splitX - this.ox, h);
        draw(this.before, this.origin);
        ctx.restore();
        if (!this.showBefore && this.split < 1) this.drawSplit(ctx, splitX);
      }
    }
    if ((this.strokes.length || this.maskLayer) && !this.showBefore) this.drawStrokes(dpr);
    if (this.marks.length && !this.showBefore) this.drawMarks(ctx);
    if (this.cursor) this.drawCursor(ctx);
  }

  // The preview canvas as a layer: its pixels stretched over the image's extent.
  previewLayer() {
    const canvas = this.preview;
    const kx = canvas.width / this.width;
    const ky = canvas.height / this.height;
    return {
      draw: (ctx, deviceScale, sx, sy, sw, sh, dx, dy, dw, dh) => ctx.drawImage(canvas, sx * kx, sy * ky, sw * kx, sh * ky, dx, dy, dw, dh),
    };
  }

  drawMarks(ctx) {
    ctx.save();
    for (const mark of this.marks) {
      const x = this.ox + mark.x * this.scale;
      const y = this.oy + mark.y * this.scale;
      ctx.beginPath();
      ctx.arc(x, y, mark.selected ? 11 : 9, 0, Math.PI * 2);
      ctx.fillStyle = mark.colour;
      ctx.fill();
      ctx.lineWidth = mark.selected ? 3 : 2;
      ctx.strokeStyle = mark.selected ? "#fff" : "rgba(0, 0, 0, 0.7)";
      ctx.stroke();
    }
    ctx.restore();
  }

  drawSplit(ctx, x) {
    ctx.save();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 2;
    ctx.shadowColor = "rgba(0,0,0,.6)";
    ctx.shadowBlur = 4;
    ctx.beginPath();
    ctx.moveTo(x, Math.max(0, this.oy));
    ctx.lineTo(x, Math.min(this.viewHeight, this.oy + this.height * this.scale));
    ctx.stroke();
    ctx.font = "600 11px system-ui, sans-serif";
    ctx.fillStyle = "#fff";
    const top = Math.max(0, this.oy) + 18;
    ctx.textAlign = "right";
    ctx.fillText("BEFORE", x - 8, top);
    ctx.textAlign = "left";
    ctx.fillText("AFTER", x + 8, top);
    ctx.restore();
  }

  // Strokes are drawn opaque on their own layer (so overlaps do not darken and mask-eraser strokes cut
  // through), then laid over the image translucent.
  drawStrokes(dpr) {
    const octx = this.overlay.getContext("2d");
    octx.setTransform(1, 0, 0, 1, 0, 0);
    octx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    octx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.ox, dpr * this.oy);
    octx.lineCap = "round";
    octx.lineJoin = "round";
    if (this.maskLayer) {
      // the found mask in the mask colour: drawn, then coloured where it is opaque
      octx.drawImage(this.maskLayer, 0, 0);
      octx.globalCompositeOperation = "source-in";
      octx.fillStyle = MASK_COLOR;
      octx.fillRect(0, 0, this.width, this.height);
      octx.globalCompositeOperation = "source-over";
    }
    octx.strokeStyle = MASK_COLOR;
    octx.fillStyle = MASK_COLOR;
    for (const stroke of this.strokes) {
      octx.globalCompositeOperation = stroke.mode === "erase" ? "destination-out" : "source-over";
      traceStroke(octx, stroke);
    }
    const ctx = this.ctx;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = MASK_ALPHA;
    ctx.drawImage(this.overlay, 0, 0);
    ctx.restore();
  }

  drawCursor(ctx) {
    const { x, y, radius } = this.cursor;
    ctx.save();
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(0, 0, 0, 0.55)";
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, Math.PI * 2);
    ctx.stroke();
    ctx.lineWidth = 1.25;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    ctx.restore();
  }

  checkerboard(ctx) {
    if (!this.pattern) {
      const tile = makeCanvas(16, 16);
      const t = tile.getContext("2d");
      t.fillStyle = "#3a3b40";
      t.fillRect(0, 0, 16, 16);
      t.fillStyle = "#2c2d31";
      t.fillRect(0, 0, 8, 8);
      t.fillRect(8, 8, 8, 8);
      this.pattern = ctx.createPattern(tile, "repeat");
    }
    return this.pattern;
  }
}
