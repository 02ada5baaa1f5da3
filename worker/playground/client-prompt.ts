/**
 * Playground client, prompt view: debounced /v1/tokenize, tokens as chips (weight as colour,
 * id on hover), chunk boundaries, BREAKs, Compel parts, the 75-token cut (the dropped tokens
 * come from a second, chunk-mode tokenization) and parse errors marked at their character.
 */
export const CLIENT_PROMPT = String.raw`
/** The weighting whose parser is each syntax (/v1/tokenize picks the parser from it). */
var SYNTAX_WEIGHTING = { a1111: "a1111", comfy: "comfy", compel: "compel", none: "none" };
var tokenSeq = 0;

function tokenizeBody(longPrompt) {
  var body = { prompt: $("prompt").value, weighting: SYNTAX_WEIGHTING[$("syntax").value], long_prompt: longPrompt || $("long-prompt").value };
  if (state.model) body.model = state.model;
  return body;
}

var tokenTimer = null;

/** aria-busy stays "true" from an edit until the tokens of the latest prompt are shown. */
function promptBusy(busy) { $("prompt-panel").setAttribute("aria-busy", busy ? "true" : "false"); }

function scheduleTokens() {
  promptBusy(true);
  clearTimeout(tokenTimer);
  tokenTimer = setTimeout(refreshTokens, 250);
}

async function refreshTokens() {
  clearTimeout(tokenTimer);
  tokenTimer = null;
  promptBusy(true);
  var seq = ++tokenSeq;
  var prompt = $("prompt").value;
  try {
    var result = await api("/v1/tokenize", tokenizeBody());
    var full = result.truncated ? await api("/v1/tokenize", tokenizeBody("chunk")) : null;
    if (seq !== tokenSeq) return;
    showError($("prompt-error"), null);
    renderTokens(result, full);
  } catch (err) {
    if (seq !== tokenSeq) return;
    renderPromptError(prompt, err);
  }
  if (tokenTimer === null) promptBusy(false);
}

/** Where a parser error points: pyparsing's "(at char N)", or A1111's unparsable weight. */
function errorPosition(prompt, message) {
  var at = /\(at char (\d+)\)/.exec(message);
  if (at) return Number(at[1]);
  var weight = /could not convert string to float: '([^']*)'/.exec(message);
  if (weight) {
    var i = prompt.indexOf(":" + weight[1]);
    if (i >= 0) return i + 1;
    i = prompt.indexOf(weight[1]);
    if (i >= 0) return i;
  }
  return -1;
}

function renderPromptError(prompt, err) {
  var box = $("prompt-error");
  showError(box, err);
  clear($("chips"));
  $("prompt-summary").textContent = "No tokens: the API did not tokenize this prompt.";
  var pos = err instanceof ApiError ? errorPosition(prompt, err.message) : -1;
  if (pos < 0) return;
  var shown = pos < prompt.length ? prompt.charAt(pos) : " ";
  box.appendChild(el("span", { class: "at", "data-at": pos }, [
    prompt.slice(0, pos),
    el("mark", { title: "character " + (pos + 1), text: shown }),
    prompt.slice(pos + 1),
    el("span", { class: "where", text: "  <- character " + (pos + 1) }),
  ]));
}

function tokenLabel(token) { return token.replace(/<\/w>$/, ""); }

function chip(token, dropped) {
  var w = token.weight;
  var strength = Math.min(Math.abs(w - 1), 1);
  var alpha = 0.05 + 0.8 * strength;
  var node = el("span", {
    class: "chip" + (w < 1 ? " down" : "") + (alpha > 0.5 ? " strong" : "") + (dropped ? " dropped" : ""),
    "data-id": token.id,
    "data-weight": w,
    title: "id " + token.id + " | weight " + w + (dropped ? " | past the window: dropped" : " | chunk " + (token.chunk + 1)),
  }, [tokenLabel(token.token), w !== 1 ? el("sub", { text: String(Math.round(w * 1000) / 1000) }) : null]);
  node.style.setProperty("--w", dropped ? "0" : String(alpha));
  return node;
}

/** Chips of one member's tokens, with chunk boundaries and BREAKs between them. */
function chipRun(box, tokens, fragments, window) {
  var prev = null;
  tokens.forEach(function (t) {
    if (prev) {
      for (var f = prev.fragment + 1; f < t.fragment; f++) {
        if (fragments[f].text === "BREAK" && fragments[f].weight === -1) box.appendChild(el("span", { class: "marker break", text: "BREAK" }));
      }
      if (t.chunk !== prev.chunk) box.appendChild(el("span", { class: "marker boundary", text: "chunk " + (t.chunk + 1) + " (next " + window + " tokens)" }));
    }
    box.appendChild(chip(t, false));
    prev = t;
  });
}

function sameMember(p, m) {
  return function (t) { return (t.part === undefined ? 0 : t.part) === p && (t.member === undefined ? 0 : t.member) === m; };
}

function appendCut(box, full, kept, p, m, window) {
  if (!full) return;
  var all = full.tokens.filter(sameMember(p, m));
  if (all.length <= kept) return;
  var dropped = all.slice(kept);
  box.appendChild(el("span", { class: "marker cut", "data-dropped": dropped.length, text: "cut: " + dropped.length + " token" + (dropped.length === 1 ? "" : "s") + " past the " + window + "-token window are dropped" }));
  dropped.forEach(function (t) { box.appendChild(chip(t, true)); });
}

function renderTokens(result, full) {
  var chips = clear($("chips"));
  var summary = result.token_count + " token" + (result.token_count === 1 ? "" : "s") + " | window " + result.window + " | " + result.chunk_count + " chunk" + (result.chunk_count === 1 ? "" : "s") + " of 77";
  if (result.truncated) summary += " | truncated: " + result.dropped_tokens + " dropped (\"" + result.dropped_text + "\")";
  summary += " | parsed as " + $("syntax").selectedOptions[0].textContent + ", weighted by " + $("weighting").value + " in /v1/conditioning";
  $("prompt-summary").textContent = summary;
  if (!result.parts) {
    chipRun(chips, result.tokens, result.fragments, result.window);
    appendCut(chips, full, result.tokens.length, 0, 0, result.window);
    return;
  }
  result.parts.forEach(function (part, p) {
    var partBox = el("div", { class: "part", "data-part": p }, [
      el("h3", { text: "part " + (p + 1) + " | " + part.kind + " | .and() weight " + part.weight + (part.kind === "blend" ? " | normalize " + part.normalize : "") }),
    ]);
    part.members.forEach(function (member, m) {
      var tokens = result.tokens.filter(sameMember(p, m));
      var run = el("div", { class: "chips" });
      chipRun(run, tokens, result.fragments, result.window);
      appendCut(run, full, tokens.length, p, m, result.window);
      partBox.appendChild(el("div", { class: "member", "data-member": m }, [
        el("h4", { text: (part.kind === "blend" ? "blend member " + (m + 1) + " | weight " + member.weight + " | " : "") + member.token_count + " tokens" + (member.truncated ? " | truncated" : "") }),
        run,
      ]));
    });
    chips.appendChild(partBox);
  });
}

function startPrompt() {
  $("prompt").addEventListener("input", scheduleTokens);
  $("long-prompt").addEventListener("change", refreshTokens);
  $("syntax").addEventListener("change", function () {
    var syntax = $("syntax").value;
    $("weighting").disabled = syntax === "none";
    if (syntax !== "none") $("weighting").value = SYNTAX_WEIGHTING[syntax];
    refreshTokens();
  });
  $("weighting").addEventListener("change", refreshTokens);
  onModelChange(function () { refreshTokens(); });
}
`;
