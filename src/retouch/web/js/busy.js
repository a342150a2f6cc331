// The progress pill over the image while the server works: what it does (the tool, then the job's stage), how
// far (done/total), about how long is left, a bar, and Cancel. Quick work shows nothing.
import { spoken } from "./duration.js";

const SHOW_AFTER_MS = 250;
const BAR_CAP = 0.97; // an estimate that runs out before the job does leaves the bar just short of full

// The job's elapsed time and time left as of the server's answer (it keeps both moving between the reports of
// a long step); null where a server gives none (an older one, or nothing to estimate from).
function timing(progress) {
  const number = (value) => (typeof value === "number" ? value : null);
  return { elapsed: number(progress.elapsed_s), left: number(progress.eta_s) };
}

export class Busy {
  // elements: {pill, label, stage, count, eta, bar, cancel}; onCancel: called once when Cancel is pressed.
  constructor(elements, onCancel) {
    this.el = elements;
    this.el.cancel.addEventListener("click", () => {
      this.el.cancel.disabled = true;
      this.el.cancel.textContent = "Cancelling…";
      onCancel();
    });
  }

  start(label) {
    const { pill, cancel } = this.el;
    this.label = label;
    this.text("label", `${label}…`);
    for (const part of ["stage", "count", "eta"]) this.text(part, "");
    cancel.hidden = true;
    cancel.disabled = false;
    cancel.textContent = "Cancel";
    this.setBar(null);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (pill.hidden = false), SHOW_AFTER_MS);
  }

  // A job was queued: it can be cancelled from now on.
  cancellable() {
    this.el.cancel.hidden = false;
  }

  progress(job) {
    const progress = job.progress || {};
    const running = job.state === "running";
    const { done = 0, total = 0 } = progress;
    const { elapsed, left } = timing(progress);
    this.text("label", running ? `${this.label}…` : "Waiting for the server…");
    this.text("stage", running && progress.stage ? progress.stage : "");
    this.text("count", running && total > 1 ? `${done}/${total}` : "");
    let eta = "";
    if (running && left !== null) eta = left < 3 ? "almost done" : `about ${spoken(left)} left`;
    this.text("eta", eta);
    if (running && left !== null && elapsed !== null && elapsed + left > 0) this.setBar(Math.min(BAR_CAP, elapsed / (elapsed + left)));
    else if (running && total > 1 && done > 0) this.setBar(done / total);
    else this.setBar(null); // nothing measured yet: a bar that slides
  }

  stop() {
    clearTimeout(this.timer);
    this.el.pill.hidden = true;
  }

  text(part, value) {
    this.el[part].textContent = value;
    this.el[part].hidden = value === "";
  }

  setBar(fraction) {
    const bar = this.el.bar;
    bar.parentElement.classList.toggle("indeterminate", fraction === null);
    bar.style.width = fraction === null ? "" : `${Math.round(fraction * 100)}%`;
  }
}
