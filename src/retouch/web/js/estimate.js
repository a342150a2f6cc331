// How long the open tool would take, next to its run button ("about 40 s") when that is long enough to matter.
// The server estimates from the same fields the run sends (POST /api/estimate/<tool>); a server without the
// endpoint, or one that cannot say, shows nothing. Asked again when the document, the tool or an option changes.

import { spoken } from "./duration.js";

const WORTH_SAYING_S = 3;
const SETTLE_MS = 300; // options dragged on a slider settle before asking

export class Estimate {
  constructor(app, panels) {
    this.app = app;
    this.asked = 0; // only the latest answer is shown
    const later = () => this.refresh();
    panels.addEventListener("input", later);
    panels.addEventListener("change", later);
  }

  refresh() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.ask(), SETTLE_MS);
  }

  async ask() {
    const { app } = this;
    const tool = app.tool;
    const asked = ++this.asked;
    const shown = tool.panel.querySelector("[data-estimate]");
    if (!shown) return;
    let text = "";
    try {
      const fields = app.doc && tool.estimateFields ? await tool.estimateFields() : null;
      if (fields) {
        const { seconds } = await app.api.estimate(tool.name, { ...fields, document: app.doc.id });
        if (seconds > WORTH_SAYING_S) text = `about ${spoken(seconds)}`;
      }
    } catch {
      text = ""; // no endpoint (404), fields it refuses (422), or no answer: no estimate is better than a wrong one
    }
    if (asked !== this.asked) return;
    shown.textContent = text;
    shown.hidden = text === "";
  }
}
