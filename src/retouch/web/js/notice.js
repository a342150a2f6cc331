// The one message over the editor: an error (red: what went wrong and how to fix it) or a notice (neutral: what a
// tool did, a cancelled job). A new one replaces the old; each hides itself after a while or when dismissed.

const ERROR_MS = 9000;
const NOTICE_MS = 6000;
const READING_MS_PER_CHAR = 60; // long reports stay up long enough to read

function sentence(text) {
  const s = String(text || "Something went wrong");
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
}

export class Notice {
  constructor(box, text, close) {
    this.box = box;
    this.text = text;
    close.addEventListener("click", () => this.hide());
  }

  error(error) {
    this.show(sentence(error && error.message ? error.message : error), "error", ERROR_MS);
  }

  notice(text) {
    const message = sentence(text);
    this.show(message, "notice", Math.max(NOTICE_MS, message.length * READING_MS_PER_CHAR));
  }

  show(message, kind, ms) {
    this.text.textContent = message;
    this.box.className = `toast ${kind}`;
    this.box.setAttribute("role", kind === "error" ? "alert" : "status");
    this.box.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hide(), ms);
  }

  hide() {
    clearTimeout(this.timer);
    this.box.hidden = true;
  }
}
