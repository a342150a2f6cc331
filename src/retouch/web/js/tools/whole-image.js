// What every tool that acts on the whole photo at the press of a button shares: it paints nothing, keeps no
// history of its own, and Enter runs it. `tool` holds the rest (name, title, icon, panel, configure, reset,
// estimateFields: the fields a run would send, or null when it cannot run...).
export function wholeImageTool(tool, run) {
  return {
    cursorRadius: () => 0,
    pointerDown: () => false,
    pointerMove() {},
    pointerUp() {},
    pointerCancel() {},
    undoLocal: () => false,
    redoLocal: () => false,
    keydown(event) {
      if (event.key !== "Enter") return false;
      run();
      return true;
    },
    ...tool,
  };
}
