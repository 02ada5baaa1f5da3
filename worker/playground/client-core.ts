/**
 * Playground client, shared part: DOM helpers, the API key (sessionStorage), `api()` (JSON or
 * bytes, API errors as readable messages) and the model picker. Plain browser JavaScript, no
 * template literals (this file is one), no build step; the panels' files use these names.
 */
export const CLIENT_CORE = `
"use strict";
var KEY_STORAGE = "clip-edge-api-key";
var state = { model: "", models: [] };

function $(id) { return document.getElementById(id); }

function el(tag, props, children) {
  var node = document.createElement(tag);
  Object.keys(props || {}).forEach(function (k) {
    if (k === "text") node.textContent = props[k];
    else if (k === "class") node.className = props[k];
    else if (k.indexOf("data-") === 0 || k === "title" || k === "href" || k === "download" || k === "src" || k === "alt" || k === "scope") node.setAttribute(k, String(props[k]));
    else node[k] = props[k];
  });
  (children || []).forEach(function (c) {
    if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function fmt(x, digits) { return Number(x).toFixed(digits === undefined ? 3 : digits); }

function apiKey() { return sessionStorage.getItem(KEY_STORAGE) || ""; }

/** An API error: the server's { error: { code, message } }, or a network failure, in words. */
function ApiError(status, code, message, details) {
  this.status = status; this.code = code; this.message = message; this.details = details;
}

function describeError(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  var hint = "";
  if (err.status === 401) hint = " Enter the worker's API key at the top of the page.";
  if (err.code === "origin_unavailable" || err.code === "origin_not_configured") hint = " Images need the image origin (npm start -- --origin, or ORIGIN_URL).";
  return (err.status ? "HTTP " + err.status + " " + err.code + ": " : "") + err.message + hint;
}

/** POST (body) or GET (no body) an API path; as "json" (default) or "blob". */
async function api(path, body, as) {
  var headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  var key = apiKey();
  if (key) headers.authorization = "Bearer " + key;
  var response;
  try {
    response = await fetch(path, { method: body === undefined ? "GET" : "POST", headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "network", "the worker did not answer (" + (e && e.message ? e.message : e) + ")");
  }
  if (!response.ok) {
    var text = await response.text();
    var parsed;
    try { parsed = JSON.parse(text); } catch (e) { parsed = undefined; }
    if (parsed && parsed.error) throw new ApiError(response.status, parsed.error.code, parsed.error.message, parsed.error.details);
    throw new ApiError(response.status, "http_error", text.slice(0, 300) || response.statusText);
  }
  if (as === "blob") return { blob: await response.blob(), headers: response.headers };
  return response.json();
}

function showError(box, err) {
  clear(box);
  if (err === null) { box.hidden = true; return; }
  box.appendChild(document.createTextNode(typeof err === "string" ? err : describeError(err)));
  box.hidden = false;
}

/** Disables a button while a request runs. */
async function busy(button, work) {
  button.disabled = true;
  try { return await work(); } finally { button.disabled = false; }
}

function currentModel() {
  return state.models.find(function (m) { return m.id === state.model; });
}

async function loadModels() {
  var select = $("model");
  showError($("global-error"), null);
  try {
    var list = await api("/v1/models");
    state.models = list.data;
  } catch (err) {
    state.models = [];
    showError($("global-error"), err);
  }
  var previous = state.model;
  clear(select);
  state.models.forEach(function (m) { select.appendChild(el("option", { value: m.id, text: m.id })); });
  if (state.models.some(function (m) { return m.id === previous; })) select.value = previous;
  state.model = select.value;
  modelChanged();
}

var modelListeners = [];
function onModelChange(fn) { modelListeners.push(fn); }
function modelChanged() { modelListeners.forEach(function (fn) { fn(currentModel()); }); }

function startCore() {
  var key = $("api-key");
  key.value = apiKey();
  key.addEventListener("change", function () {
    if (key.value) sessionStorage.setItem(KEY_STORAGE, key.value);
    else sessionStorage.removeItem(KEY_STORAGE);
    loadModels();
  });
  $("model").addEventListener("change", function () { state.model = $("model").value; modelChanged(); });
}
`;
