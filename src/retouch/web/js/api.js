// The HTTP API as the page uses it: every failure becomes an ApiError carrying the server's
// {"error": {"code", "message"}}; the API key (when the server has one) is asked for once and remembered.

const KEY_STORAGE = "retouch.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function toError(response) {
  try {
    const body = await response.json();
    if (body && body.error) return new ApiError(response.status, body.error.code, body.error.message);
  } catch {
    // not JSON: fall through to a generic message
  }
  return new ApiError(response.status, `http_${response.status}`, `the server answered ${response.status} ${response.statusText}`);
}

function query(params) {
  const entries = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null);
  return entries.length ? "?" + new URLSearchParams(entries).toString() : "";
}

function filenameFrom(disposition, fallback) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition || "");
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="([^"]+)"/i.exec(disposition || "");
  return plain ? plain[1] : fallback;
}

function formOf(fields) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== "") form.append(name, value);
  }
  return form;
}

export class Api {
  // askKey: async () => string | null, called when the server answers 401.
  constructor(askKey) {
    this.key = localStorage.getItem(KEY_STORAGE);
    this.askKey = askKey;
  }

  async request(method, path, { body, params } = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = this.key ? { "X-API-Key": this.key } : {};
      let response;
      try {
        response = await fetch(path + query(params), { method, body, headers });
      } catch {
        throw new ApiError(0, "network", "cannot reach the Retouch server: is it still running?");
      }
      if (response.status === 401 && attempt < 3 && this.askKey) {
        const key = await this.askKey();
        if (key) {
          this.key = key;
          localStorage.setItem(KEY_STORAGE, key);
          continue;
        }
      }
      if (!response.ok) throw await toError(response);
      return response;
    }
  }

  async json(method, path, options) {
    return (await this.request(method, path, options)).json();
  }

  info() {
    return this.json("GET", "/api/info");
  }

  upload(file) {
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image.png");
    return this.json("POST", "/api/documents", { body: form });
  }

  forget(docId) {
    return this.request("DELETE", `/api/documents/${docId}`).catch(() => undefined);
  }

  // The current pixels of a rectangle (the whole image when region is null), decoded for drawing.
  async preview(docId, region) {
    const params = region ? { x: region.x, y: region.y, width: region.width, height: region.height } : {};
    const blob = await (await this.request("GET", `/api/documents/${docId}/preview`, { params })).blob();
    return createImageBitmap(blob);
  }

  undo(docId) {
    return this.json("POST", `/api/documents/${docId}/undo`);
  }

  redo(docId) {
    return this.json("POST", `/api/documents/${docId}/redo`);
  }

  async download(docId, fallbackName) {
    const response = await this.request("GET", `/api/documents/${docId}/download`);
    const name = filenameFrom(response.headers.get("Content-Disposition"), fallbackName);
    return { blob: await response.blob(), name };
  }

  // Start a tool on a document: answers the queued job.
  runTool(tool, fields) {
    return this.json("POST", `/api/${tool}`, { body: formOf(fields) });
  }

  // Find a document's text without erasing it: answers the queued job, whose result holds the mask.
  findText(docId, fields) {
    return this.json("POST", `/api/documents/${docId}/text`, { body: formOf(fields) });
  }

  // How long the same run would take: {seconds, basis}.
  estimate(tool, fields) {
    return this.json("POST", `/api/estimate/${tool}`, { body: formOf(fields) });
  }

  // Whether a diffusion model can run here: {ready, model, missing}.
  generative() {
    return this.json("GET", "/api/generative");
  }

  // Make variation `index` of a finished reimagine job the document's new state: {document, changed}.
  chooseVariation(jobId, index) {
    return this.json("POST", `/api/reimagine/${jobId}/choose`, { body: formOf({ index: String(index) }) });
  }

  job(jobId) {
    return this.json("GET", `/api/jobs/${jobId}`);
  }

  cancel(jobId) {
    return this.json("DELETE", `/api/jobs/${jobId}`).catch(() => undefined);
  }

  // Poll until the job is done (answers it), failed or cancelled (throws its error; code "cancelled" for a
  // cancelled job).
  relightGeometry(docId, fields) {
    return this.json("POST", `/api/documents/${docId}/relight-geometry`, { body: formOf(fields) });
  }

  async waitFor(job, onProgress) {
    while (job.state === "queued" || job.state === "running") {
      onProgress(job);
      await sleep(job.state === "queued" ? 250 : 120);
      job = await this.job(job.id);
    }
    if (job.state === "cancelled") throw new ApiError(0, "cancelled", job.error ? job.error.message : "the job was cancelled");
    if (job.state !== "done") throw new ApiError(0, job.error.code, job.error.message);
    return job;
  }
}
