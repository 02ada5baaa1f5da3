/**
 * Playground client, score images: dropped or picked images (sent as base64 through the worker
 * to the origin) against captions with /v1/score: the score table, the torchmetrics-style
 * aggregate and per-image bars. Says plainly when the worker has no image origin.
 */
export const CLIENT_SCORE = String.raw`
var images = [];

function readAsBase64(file) {
  return new Promise(function (resolve, reject) {
    var reader = new FileReader();
    reader.onload = function () { resolve(String(reader.result).split(",")[1] || ""); };
    reader.onerror = function () { reject(new Error("could not read " + file.name)); };
    reader.readAsDataURL(file);
  });
}

function addImages(files) {
  Array.prototype.forEach.call(files, function (file) {
    if (!/^image\//.test(file.type)) return;
    images.push({ name: file.name, file: file, url: URL.createObjectURL(file) });
  });
  renderThumbs();
}

function renderThumbs() {
  var box = clear($("thumbs"));
  images.forEach(function (img, i) {
    var remove = el("button", { type: "button", class: "remove", title: "remove " + img.name, text: "x" });
    remove.addEventListener("click", function () { URL.revokeObjectURL(img.url); images.splice(i, 1); renderThumbs(); });
    box.appendChild(el("figure", {}, [el("img", { src: img.url, alt: img.name }), el("figcaption", {}, [img.name + " ", remove])]));
  });
}

function captions() {
  return $("captions").value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
}

async function score() {
  var box = clear($("score-result"));
  showError($("score-error"), null);
  var texts = captions();
  if (images.length === 0) return showError($("score-error"), "Drop or pick at least one image.");
  if (texts.length === 0) return showError($("score-error"), "Enter at least one caption.");
  try {
    var encoded = await Promise.all(images.map(function (img) { return readAsBase64(img.file); }));
    var body = { images: encoded.map(function (b64) { return { b64: b64 }; }), prompts: texts, mode: $("score-mode").value };
    if (state.model) body.model = state.model;
    var result = await api("/v1/score", body);
    box.appendChild(el("p", { class: "aggregate", id: "aggregate", "data-value": result.aggregate.clip_score }, [
      "CLIP score (torchmetrics CLIPScore over " + (result.aggregate.pairs === "diagonal" ? "image i with caption i" : "every image-caption pair") + "): ",
      el("strong", { text: fmt(result.aggregate.clip_score, 2) }),
    ]));
    var head = el("tr", {}, [el("th", { class: "label", text: "image" })].concat(texts.map(function (t) { return el("th", { class: "label", text: t }); })));
    var rows = result.scores.map(function (row, i) {
      var best = result.images[i].best_prompt;
      return el("tr", {}, [el("td", { class: "label" }, [el("img", { src: images[i].url, alt: images[i].name }), images[i].name])].concat(row.map(function (s, j) {
        var prob = result.images[i].probabilities;
        return el("td", { "data-i": i, "data-j": j, "data-value": s, title: "cosine " + result.images[i].cosines[j], text: fmt(s, 2) + (prob ? " (p " + fmt(prob[j], 3) + ")" : "") + (j === best ? " *" : "") });
      })));
    });
    box.appendChild(el("div", { class: "scroll" }, [el("table", { class: "scores" }, [el("thead", {}, [head]), el("tbody", {}, rows)])]));
    box.appendChild(el("p", { class: "summary", text: "CLIP score = 100 * max(cosine, 0); * marks each image's best caption; model " + result.model }));
    result.scores.forEach(function (row, i) {
      var bars = el("div", { class: "bars", "data-image": i }, [el("strong", { text: images[i].name })]);
      row.forEach(function (s, j) {
        var fill = el("div", { class: "fill" + (j === result.images[i].best_prompt ? " best" : "") });
        fill.style.width = Math.max(0, Math.min(100, s)) + "%";
        bars.appendChild(el("div", { class: "bar-row" }, [el("span", { text: texts[j] }), el("div", { class: "track" }, [fill]), el("span", { text: fmt(s, 2) })]));
      });
      box.appendChild(bars);
    });
  } catch (err) {
    showError($("score-error"), err);
  }
}

function startScore() {
  var drop = $("drop");
  $("images").addEventListener("change", function () { addImages($("images").files); $("images").value = ""; });
  drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (e) { e.preventDefault(); drop.classList.remove("over"); addImages(e.dataTransfer.files); });
  $("score").addEventListener("click", function () { busy($("score"), score); });
  onModelChange(function (model) {
    var served = !!model && model.serves.indexOf("/v1/score") >= 0;
    var notice = $("score-origin");
    notice.hidden = served || !model;
    notice.textContent = served ? "" : "No image origin is configured on this worker, so images cannot be scored here. Set ORIGIN_URL and ORIGIN_SECRET, or run npm start -- --origin.";
    $("score").disabled = !served;
  });
}
`;
