// A tool's options as the server describes them (GET /api/info: tools[].fields, made from the tool's option
// specs): their captions, choices and defaults, so the panels repeat none of them.

export function fieldOf(info, name) {
  return info && info.fields ? info.fields.find((field) => field.name === name) : undefined;
}

// The caption of one value of a field (an engine, a model, a choice); the value itself when it has none.
function labelOf(info, name, value) {
  const field = fieldOf(info, name);
  return (field && field.labels[value]) || value;
}

// Fill every <select data-field="NAME"> of the panel with that field's choices (or its labelled values), keeping
// the current value when it is still offered, else the field's default.
export function fillChoices(panel, info) {
  for (const select of panel.querySelectorAll("select[data-field]")) {
    const field = fieldOf(info, select.dataset.field);
    if (!field) continue;
    const values = field.choices.length ? field.choices : Object.keys(field.labels);
    const current = select.value;
    select.innerHTML = "";
    for (const value of values) select.append(new Option(field.labels[value] || value, value));
    select.value = values.includes(current) ? current : String(field.default);
  }
}

// Fill a <select> with the engines or models the server lists for the tool (captions from the field `name`),
// those not installed disabled; answers the list. "auto" is left out when it has nothing to use, and says which
// one it uses when only one is installed ("Auto: Patch (built in)").
export function fillEngines(select, info, name) {
  const engines = info && info.engines ? info.engines : [];
  const installed = engines.filter((engine) => engine.available && engine.name !== "auto");
  select.innerHTML = "";
  for (const engine of engines) {
    let caption = labelOf(info, name, engine.name);
    if (engine.name === "auto") {
      if (!engine.available) continue;
      if (installed.length === 1) caption = `Auto: ${labelOf(info, name, installed[0].name)}`;
    } else if (!engine.available) {
      caption += " (not installed)";
    }
    const option = new Option(caption, engine.name);
    option.disabled = !engine.available;
    select.append(option);
  }
  return engines;
}
