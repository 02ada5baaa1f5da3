/**
 * Playground client, compare prompts: up to 16 prompts embedded by /v1/embeddings, their
 * cosine-similarity matrix drawn as a heatmap with the values in the cells.
 */
export const CLIENT_COMPARE = String.raw`
var MAX_COMPARE = 16;

function cosine(a, b) {
  var dot = 0, na = 0, nb = 0;
  for (var i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / (Math.sqrt(na) * Math.sqrt(nb));
}

function comparePrompts() {
  return $("compare-prompts").value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
}

async function compare() {
  var box = clear($("heatmap"));
  showError($("compare-error"), null);
  var prompts = comparePrompts();
  if (prompts.length < 2) return showError($("compare-error"), "Enter at least two prompts, one per line.");
  if (prompts.length > MAX_COMPARE) return showError($("compare-error"), "Up to " + MAX_COMPARE + " prompts; you entered " + prompts.length + ".");
  try {
    var body = { input: prompts };
    if (state.model) body.model = state.model;
    var result = await api("/v1/embeddings", body);
    var vectors = result.data.slice().sort(function (a, b) { return a.index - b.index; }).map(function (d) { return d.embedding; });
    var head = el("tr", {}, [el("th", { class: "label", text: "" })].concat(prompts.map(function (p, j) { return el("th", { title: p, text: String(j + 1) }); })));
    var rows = prompts.map(function (p, i) {
      return el("tr", {}, [el("th", { class: "label", title: p, text: (i + 1) + ". " + p })].concat(vectors.map(function (v, j) {
        var c = cosine(vectors[i], v);
        var alpha = Math.max(0, Math.min(1, c));
        var cell = el("td", { "data-i": i, "data-j": j, "data-value": c, class: alpha > 0.55 ? "strong" : "", title: prompts[i] + " vs " + prompts[j] + ": " + c, text: fmt(c, 3) });
        cell.style.setProperty("--c", String(alpha * 0.9));
        return cell;
      })));
    });
    box.appendChild(el("table", { class: "heat" }, [el("thead", {}, [head]), el("tbody", {}, rows)]));
    box.appendChild(el("p", { class: "summary", text: "cosine similarity of " + result.model + " text embeddings (" + vectors[0].length + " dims), " + result.usage.prompt_tokens + " tokens" }));
  } catch (err) {
    showError($("compare-error"), err);
  }
}

function startCompare() {
  $("compare").addEventListener("click", function () { busy($("compare"), compare); });
}
`;
