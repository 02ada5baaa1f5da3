/**
 * Playground client, models: what /v1/models says of the picked model (dims, quantisation,
 * presets, routes, the quality numbers of its quantised text graph), and the page's start.
 */
export const CLIENT_MODELS = `
function kvTable(rows) {
  return el("table", { class: "kv" }, [el("tbody", {}, rows.filter(Boolean).map(function (r) {
    return el("tr", { "data-key": r[0] }, [el("th", { class: "label", text: r[0] }), el("td", { class: "label", text: String(r[1]) })]);
  }))]);
}

function renderModel(model) {
  var box = clear($("model-info"));
  showError($("models-error"), null);
  if (!model) {
    box.appendChild(el("p", { class: "hint", text: state.models.length ? "" : "No model: /v1/models listed none (or answered an error above)." }));
    return;
  }
  if (model.error) showError($("models-error"), "model " + model.id + ": " + model.error);
  var rows = [
    ["id", model.id],
    ["owned by", model.owned_by],
    model.hash ? ["bundle hash", model.hash] : null,
  ].concat(Object.keys(model.dims).map(function (k) { return ["dims." + k, model.dims[k]]; })).concat([
    ["quantization", model.quantization.join(", ") || "-"],
    ["presets", model.presets.join(", ") || "-"],
    ["embedding inputs", model.embedding_inputs.join(", ") || "-"],
    ["serves", model.serves.join(", ") || "-"],
  ]);
  var a = model.accuracy;
  if (a) {
    rows.push(["accuracy of", a.quantization + " vs fp32"]);
    rows.push(["token cosine min", fmt(a.token_cosine_min, 5)]);
    rows.push(["token cosine mean", fmt(a.token_cosine_mean, 5)]);
    if (a.text_embeds_cosine_min !== undefined) rows.push(["text_embeds cosine min", fmt(a.text_embeds_cosine_min, 5)]);
    if (a.guard) {
      rows.push(["guard: targets met", a.guard.targets_met ? "yes" : "no"]);
      rows.push(["guard: token / embeds cosine min", fmt(a.guard.token_cosine_min, 5) + " / " + fmt(a.guard.embeds_cosine_min, 5)]);
      rows.push(["guard: fp32 linears", a.guard.fp32_linears + " of " + a.guard.linears + " (" + a.guard.calibration_prompts + " calibration prompts)"]);
    }
  } else {
    rows.push(["quality numbers", model.quantization.indexOf("fp32") >= 0 && model.quantization.length === 1 ? "fp32: the reference itself (no quantisation report)" : "none reported"]);
  }
  box.appendChild(kvTable(rows));
}

function start() {
  startCore();
  startPrompt();
  startConditioning();
  startCompare();
  startScore();
  onModelChange(renderModel);
  loadModels();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
`;
