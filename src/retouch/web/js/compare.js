// Before and after: the split slider, and the original shown while the button or the \ key is held.

export function bindCompare(app, slider, holdButton) {
  const viewer = app.viewer;
  slider.addEventListener("input", () => {
    viewer.split = Number(slider.value) / 100;
    viewer.requestRender();
  });
  const showBefore = (on) => {
    viewer.showBefore = on;
    viewer.requestRender();
  };
  holdButton.addEventListener("pointerdown", () => showBefore(true));
  for (const type of ["pointerup", "pointerleave", "pointercancel"]) holdButton.addEventListener(type, () => showBefore(false));
  window.addEventListener("keydown", (event) => {
    if (event.key !== "\\" || event.ctrlKey || event.metaKey || app.typing(event)) return;
    event.preventDefault();
    showBefore(true);
  });
  window.addEventListener("keyup", (event) => event.key === "\\" && showBefore(false));
  window.addEventListener("blur", () => showBefore(false));
  return {
    reset() {
      slider.value = "0";
      viewer.split = 0;
    },
  };
}
