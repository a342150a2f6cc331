// Unsaved edits. Each state of the document gets a number when an edit makes it, so "saved" means the state on
// screen is one that was downloaded (or the file as opened), also after an undo and a different edit that reuse
// a version number. Strokes painted but not yet applied (`pending()`) are work too. With either, leaving the page
// asks the browser's question, and opening another image asks ours: keep editing, download first, or discard.

export class Unsaved {
  constructor(dialog, pending) {
    this.dialog = dialog;
    this.pending = pending;
    this.states = []; // state numbers by document version
    this.version = 0;
    this.saved = new Set(); // the states that are in a file
    this.made = 0;
    window.addEventListener("beforeunload", (event) => {
      if (!this.dirty) return;
      event.preventDefault();
      event.returnValue = ""; // older browsers ask only when this is set
    });
  }

  get dirty() {
    return this.editsUnsaved || this.pending();
  }

  // Edits applied to the document and not in a downloaded file (a download cannot keep unapplied strokes).
  get editsUnsaved() {
    return this.states.length > 0 && !this.saved.has(this.states[this.version]);
  }

  opened() {
    this.states = [this.made++];
    this.version = 0;
    this.saved = new Set(this.states);
  }

  // The document is at `doc.version`: after an edit (a new state) or a walk through its history (undo, redo).
  moved(doc, edited) {
    if (edited) {
      const states = this.states.slice(0, this.version + 1);
      // A full history drops its oldest states: the new version is not one more than the old.
      states.splice(0, Math.max(0, states.length - doc.version));
      states.push(this.made++);
      this.states = states;
    }
    this.version = doc.version;
  }

  downloaded() {
    this.saved.add(this.states[this.version]);
  }

  // Answers "keep", "download" or "discard".
  ask(filename) {
    const dialog = this.dialog;
    dialog.querySelector("[data-filename]").textContent = filename;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue || "keep"), { once: true });
    });
  }
}
