// What the generative panels (Generate, Uncrop, Reimagine) share: whether a diffusion model can run on the
// server (GET /api/generative), and the notice that says which command gets one when it cannot.

// Fill the panel's [data-missing] notice from the server's status and answer the status ({ready, model,
// native_size, missing}). The command is shown as code, so it can be copied as it is.
export async function showModelStatus(app, panel) {
  let status;
  try {
    status = await app.api.generative();
  } catch (error) {
    status = { ready: false, missing: error.message };
  }
  const notice = panel.querySelector("[data-missing]");
  notice.hidden = status.ready;
  const command = /run: (.+)$/.exec(status.missing || "");
  // "…not installed; run: CMD" reads as "…not installed. Get it with: CMD"
  const why = command ? `${status.missing.slice(0, command.index).replace(/[\s;,]+$/, "")}. Get it with: ` : status.missing;
  notice.querySelector("[data-why]").textContent = why || "";
  const code = notice.querySelector("code");
  code.textContent = command ? command[1] : "";
  code.hidden = !command;
  return status;
}

// The notice itself, for a panel's template.
export const MISSING_NOTICE = `<p data-missing hidden><span data-why></span><code></code></p>`;
