// Mask strokes as the brush records them, in image pixels: {mode: "paint" | "erase", radius, points: [[x, y], ...]}.

// Draw one stroke's path on a 2D context in image pixels: a dot for a single point, else a round-capped line
// of the stroke's width. The caller sets the colour and compositing.
export function traceStroke(ctx, stroke) {
  const [first, ...rest] = stroke.points;
  ctx.beginPath();
  if (rest.length === 0) {
    ctx.arc(first[0], first[1], stroke.radius, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = stroke.radius * 2;
  ctx.moveTo(first[0], first[1]);
  for (const [x, y] of rest) ctx.lineTo(x, y);
  ctx.stroke();
}
