/**
 * Playground client, conditioning: the prompt panel's prompt, syntax and weighting with a
 * preset, clip skip and negative prompt, encoded by /v1/conditioning as a safetensors or npy
 * file; shows the X-Tensor-Shapes it reports and offers the file as a download.
 */
export const CLIENT_CONDITIONING = `
var downloadUrl = null;

function conditioningBody() {
  var syntax = $("syntax").value;
  var body = {
    prompt: $("prompt").value,
    preset: $("preset").value,
    clip_skip: Number($("clip-skip").value || 0),
    long_prompt: $("long-prompt").value,
    format: $("format").value,
    weighting: syntax === "none" ? "none" : $("weighting").value,
  };
  if (syntax !== "none") body.syntax = syntax;
  var negative = $("negative").value;
  if (negative) body.negative_prompt = negative;
  if (state.model && (currentModel() || {}).presets && currentModel().presets.indexOf(body.preset) >= 0 && body.preset !== "sdxl") body.model = state.model;
  return body;
}

function shapesTable(header) {
  var rows = header.split(",").map(function (s) { return s.trim(); }).filter(Boolean).map(function (entry) {
    var eq = entry.lastIndexOf("=");
    var name = entry.slice(0, eq);
    var dims = entry.slice(eq + 1).split("x");
    return el("tr", { "data-tensor": name }, [el("td", { class: "label", text: name }), el("td", { text: "[" + dims.join(", ") + "]" })]);
  });
  return el("table", { class: "kv shapes" }, [
    el("thead", {}, [el("tr", {}, [el("th", { class: "label", text: "tensor" }), el("th", { text: "shape" })])]),
    el("tbody", {}, rows),
  ]);
}

async function encode() {
  var box = clear($("conditioning-result"));
  showError($("conditioning-error"), null);
  try {
    var body = conditioningBody();
    var file = await api("/v1/conditioning", body, "blob");
    var h = file.headers;
    var name = (/filename="([^"]+)"/.exec(h.get("content-disposition") || "") || [])[1] || "conditioning." + body.format;
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(file.blob);
    box.appendChild(shapesTable(h.get("x-tensor-shapes") || ""));
    box.appendChild(el("p", { class: "summary", text: "model " + h.get("x-model") + " | dtype " + h.get("x-tensor-dtype") + " | tokens per prompt " + h.get("x-token-counts") + " | truncated " + h.get("x-truncated") + " | cache " + (h.get("x-cache") || "-") }));
    box.appendChild(el("a", { class: "download", id: "download", href: downloadUrl, download: name, text: "Download " + name + " (" + file.blob.size.toLocaleString("en") + " bytes)" }));
  } catch (err) {
    showError($("conditioning-error"), err);
  }
}

function startConditioning() {
  $("encode").addEventListener("click", function () { busy($("encode"), encode); });
  onModelChange(function (model) {
    var select = $("preset");
    var previous = select.value;
    var presets = model && model.presets && model.presets.length ? model.presets : ["sd15"];
    clear(select);
    presets.forEach(function (p) { select.appendChild(el("option", { value: p, text: p })); });
    if (presets.indexOf(previous) >= 0) select.value = previous;
  });
}
`;
