import { traceStroke } from "./strokes.js";

// A mask the server sends (a PNG, white on black) as a canvas of the photo's size, opaque only where it is white,
// for drawing over the photo.
export async function maskCanvas(dataUrl, width, height) {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(image, 0, 0);
  const pixels = ctx.getImageData(0, 0, width, height);
  for (let i = 0; i < pixels.data.length; i += 4) pixels.data[i + 3] = pixels.data[i];
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}

// The mask to erase at the photo's full size, white on black: `base` (a canvas from maskCanvas, or null), then
// the strokes in order (the brush adds, the mask eraser takes away).
export function maskBlob(width, height, base, strokes) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, width, height);
  if (base) ctx.drawImage(base, 0, 0);
  for (const stroke of strokes) {
    ctx.strokeStyle = ctx.fillStyle = stroke.mode === "paint" ? "#fff" : "#000";
    traceStroke(ctx, stroke);
  }
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}
