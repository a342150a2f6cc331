// The Models panel (a dialog opened from the top bar): every model with its task, size, license and state;
// Install runs a server job whose download progress fills the row's bar; Remove deletes the files. An opt-in
// license is named and linked, and its box must be ticked before Install works (as --accept-license on the CLI).
// Each tool's panel also says what the last run used, and offers the better model of its task when it is missing.

const $ = (id) => document.getElementById(id);

// The task of an operation recorded in the document ("erase (engine=patch)", "cutout (model=u2netp)", ...).
const TASK_OF_OPERATION = { erase: "erase", detext: "erase", cutout: "cutout", replace: "cutout" };

function mebibytes(bytes) {
  if (bytes === null || bytes === undefined) return "size unknown";
  const mib = bytes / (1024 * 1024);
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(mib < 10 ? 1 : 0)} MiB`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Models {
  constructor(app) {
    this.app = app;
    this.dialog = $("models-dialog");
    this.list = $("models-list");
    this.rows = null; // the last answer of GET /api/models
    this.better = {};
    this.following = new Map(); // model name -> its install job, while this page follows it
    $("models").addEventListener("click", () => this.open());
    this.dialog.querySelector("[data-close]").addEventListener("click", () => this.dialog.close());
  }

  // Show the panel; with a name, scroll to that model and mark it.
  async open(name = null) {
    if (!this.dialog.open) this.dialog.showModal();
    await this.refresh();
    if (!name) return;
    const item = this.list.querySelector(`[data-model="${CSS.escape(name)}"]`);
    if (!item) return;
    for (const other of this.list.querySelectorAll(".model.wanted")) other.classList.remove("wanted");
    item.classList.add("wanted");
    item.scrollIntoView({ block: "center" });
  }

  async refresh() {
    try {
      const answer = await this.app.api.json("GET", "/api/models");
      this.rows = answer.models;
      this.better = answer.better;
    } catch (error) {
      this.app.showError(error);
      return;
    }
    this.render();
    for (const row of this.rows) {
      if (row.install_job && !this.following.has(row.name)) this.follow(row.name, { id: row.install_job, state: "queued", progress: {} });
    }
  }

  render() {
    const wanted = this.list.querySelector(".model.wanted");
    this.list.replaceChildren(...this.rows.map((row) => this.item(row)));
    for (const [name, job] of this.following) this.showProgress(name, job);
    if (wanted) this.list.querySelector(`[data-model="${CSS.escape(wanted.dataset.model)}"]`)?.classList.add("wanted");
  }

  item(row) {
    const item = element("li", "model");
    item.dataset.model = row.name;
    item.dataset.state = this.following.has(row.name) ? "installing" : row.installed ? "installed" : "missing";

    const main = element("div", "model-main");
    const title = element("div", "model-name", row.name);
    title.append(element("span", "tag", row.task));
    const meta = element("div", "model-meta");
    meta.append(`${mebibytes(row.size)} · `);
    const license = element(row.license_url ? "a" : "span", "license", row.license + (row.permissive ? "" : " (opt-in)"));
    if (row.license_url) {
      license.href = row.license_url;
      license.target = "_blank";
      license.rel = "noopener noreferrer";
    }
    meta.append(license, " · ");
    const state = element("span", "model-state", row.installed ? "Installed" : "Not installed");
    meta.append(state);
    main.append(title, meta, element("div", "model-desc", row.description));

    let accept = null;
    if (!row.permissive && !row.installed) {
      const label = element("label", "check");
      accept = document.createElement("input");
      accept.type = "checkbox";
      accept.dataset.accept = "";
      label.append(accept, ` I have read and accept the ${row.license} license`);
      main.append(label);
    }
    const progress = element("div", "model-progress");
    progress.hidden = true;
    const bar = element("div", "bar");
    bar.append(element("div", "bar-fill"));
    progress.append(bar, element("span", "progress-text"));
    main.append(progress);

    const actions = element("div", "model-actions");
    const install = element("button", "btn primary small", "Install");
    install.type = "button";
    install.dataset.install = "";
    install.hidden = row.installed;
    install.disabled = accept !== null;
    if (accept) accept.addEventListener("change", () => (install.disabled = !accept.checked));
    install.addEventListener("click", () => this.install(row, accept !== null && accept.checked));
    const remove = element("button", "btn outline small", "Remove");
    remove.type = "button";
    remove.hidden = !row.removable; // a model an installed Python package ships stays
    remove.addEventListener("click", () => this.remove(row));
    const cancel = element("button", "btn outline small", "Cancel");
    cancel.type = "button";
    cancel.hidden = true;
    cancel.addEventListener("click", () => {
      const job = this.following.get(row.name);
      if (job) this.app.api.cancel(job.id);
    });
    actions.append(install, remove, cancel);
    item.append(main, actions);
    item.parts = { state, progress, bar: bar.firstChild, text: progress.lastChild, install, remove, cancel };
    return item;
  }

  itemOf(name) {
    return this.list.querySelector(`[data-model="${CSS.escape(name)}"]`);
  }

  async install(row, accepted) {
    let job;
    try {
      const form = new FormData();
      if (accepted) form.append("accept_license", "true");
      job = await this.app.api.json("POST", `/api/models/${encodeURIComponent(row.name)}/install`, { body: form });
    } catch (error) {
      this.app.showError(error);
      return;
    }
    await this.follow(row.name, job);
  }

  // Show an install job's progress in its row until it ends, then the new state of every model.
  async follow(name, job) {
    this.following.set(name, job);
    this.showProgress(name, job);
    try {
      await this.app.api.waitFor(job, (j) => {
        this.following.set(name, j);
        this.showProgress(name, j);
      });
      this.app.notice.notice(`${name} is installed`);
    } catch (error) {
      this.app.showError(error);
    } finally {
      this.following.delete(name);
    }
    await this.changed();
  }

  showProgress(name, job) {
    const item = this.itemOf(name);
    if (!item) return;
    const { state, progress, bar, text, install, remove, cancel } = item.parts;
    item.dataset.state = "installing";
    progress.hidden = false;
    install.hidden = true;
    remove.hidden = true;
    cancel.hidden = false;
    const { stage, done, total } = job.progress || {};
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const percent = Math.round(share * 100);
    bar.style.width = `${share * 100}%`;
    item.dataset.percent = String(percent);
    if (!stage || job.state === "queued") text.textContent = "Waiting to start…";
    else if (stage.startsWith("verify")) text.textContent = `Checking sha256 · ${percent}%`;
    else if (stage.startsWith("download")) text.textContent = `${mebibytes(done)} of ${mebibytes(total)} · ${percent}%`;
    else text.textContent = `${stage} · ${percent}%`; // a wheel or an npm package being unpacked
    state.textContent = "Installing";
  }

  async remove(row) {
    try {
      await this.app.api.json("DELETE", `/api/models/${encodeURIComponent(row.name)}`);
    } catch (error) {
      this.app.showError(error);
    }
    await this.changed();
  }

  // Models changed: the list, and the engines the tools offer (an engine is available once its model is here).
  async changed() {
    if (this.dialog.open) await this.refresh();
    else this.rows = null;
    await this.app.loadInfo();
  }

  // After a run: tell the tool's panel what ran, and offer its task's better model when it is not installed.
  async noteRun(tool, doc) {
    const operation = doc.operations[doc.operations.length - 1];
    if (!operation || !tool.panel) return;
    let note = tool.panel.querySelector(".ran-with");
    if (!note) {
      note = element("div", "ran-with");
      const intro = tool.panel.querySelector("h2 + p"); // near the top: the run row sticks to the bottom
      if (intro) intro.after(note);
      else tool.panel.append(note);
    }
    note.replaceChildren(element("span", "", `Last run: ${operation}`));
    const task = TASK_OF_OPERATION[operation.split(" ")[0]];
    if (!task || operation.includes("engine=model")) return; // a fill from a prompt: no erase engine would do it better
    if (this.rows === null) {
      try {
        const answer = await this.app.api.json("GET", "/api/models");
        this.rows = answer.models;
        this.better = answer.better;
      } catch {
        return; // the note stays without an offer
      }
    }
    const better = this.rows.find((row) => row.name === this.better[task]);
    if (!better || better.installed || operation.includes(better.name) || operation.includes(better.architecture)) return;
    note.append(element("span", "", `better with ${better.name}`));
    const offer = element("button", "btn outline small", `Get it (${mebibytes(better.size)})`);
    offer.type = "button";
    offer.title = `Open the Models panel at ${better.name}`;
    offer.dataset.better = better.name;
    offer.addEventListener("click", () => this.open(better.name));
    note.append(offer);
  }
}
