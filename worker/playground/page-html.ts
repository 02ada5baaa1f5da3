/**
 * The playground's HTML: one page, five panels (prompt, conditioning, compare, score, models).
 * No inline script or style: app.js and app.css come from the same worker, so the page runs
 * under a strict Content-Security-Policy (worker/routes/playground.ts).
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clip-edge playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/playground/app.css">
<script src="/playground/app.js" defer></script>
</head>
<body>
<header>
  <h1>clip-edge <span>playground</span></h1>
  <p class="lede">Your prompt as the CLIP text encoder sees it. Every panel calls this worker's API.</p>
  <div class="bar">
    <label>Model <select id="model"></select></label>
    <label>API key <input id="api-key" type="password" autocomplete="off" placeholder="only if the worker has API_KEYS"></label>
  </div>
  <p id="global-error" class="error" role="alert" hidden></p>
  <nav>
    <a href="#prompt-panel">Prompt</a><a href="#conditioning-panel">Conditioning</a><a href="#compare-panel">Compare</a><a href="#score-panel">Score images</a><a href="#models-panel">Models</a>
  </nav>
</header>
<main>
<section id="prompt-panel" class="panel" aria-busy="true">
  <h2>Prompt view <small>POST /v1/tokenize</small></h2>
  <textarea id="prompt" rows="3" spellcheck="false" aria-label="Prompt">a photo of an (astronaut:1.3) riding a [horse] BREAK on the moon</textarea>
  <div class="row">
    <label>Syntax <select id="syntax">
      <option value="a1111" selected>A1111</option>
      <option value="comfy">ComfyUI</option>
      <option value="compel">Compel</option>
      <option value="none">plain text</option>
    </select></label>
    <label>Weighting <select id="weighting">
      <option value="a1111" selected>a1111 (scale, restore mean)</option>
      <option value="a1111-no-norm">a1111-no-norm (scale only)</option>
      <option value="comfy">comfy (lerp from the empty prompt)</option>
      <option value="compel">compel (comfy + masked down-weights)</option>
    </select></label>
    <label>Long prompt <select id="long-prompt">
      <option value="truncate" selected>truncate at 75</option>
      <option value="chunk">chunk (75 per chunk)</option>
    </select></label>
  </div>
  <p id="prompt-summary" class="summary" aria-live="polite"></p>
  <div id="prompt-error" class="error" role="alert" hidden></div>
  <div id="chips" class="chips" aria-label="Tokens"></div>
</section>

<section id="conditioning-panel" class="panel">
  <h2>Conditioning <small>POST /v1/conditioning</small></h2>
  <p class="hint">Encodes the prompt above with its syntax and weighting.</p>
  <label class="wide">Negative prompt <input id="negative" type="text" value="blurry, low quality"></label>
  <div class="row">
    <label>Preset <select id="preset"><option value="sd15">sd15</option></select></label>
    <label>Clip skip <input id="clip-skip" type="number" min="0" max="11" value="0"></label>
    <label>File <select id="format">
      <option value="safetensors">safetensors (all tensors)</option>
      <option value="npy">npy (prompt_embeds)</option>
    </select></label>
    <button id="encode" type="button">Encode</button>
  </div>
  <div id="conditioning-error" class="error" role="alert" hidden></div>
  <div id="conditioning-result"></div>
</section>

<section id="compare-panel" class="panel">
  <h2>Compare prompts <small>POST /v1/embeddings</small></h2>
  <label class="wide">Prompts, one per line (up to 16)
  <textarea id="compare-prompts" rows="5" spellcheck="false">a photo of a cat
a photo of a kitten
a photo of a dog
an astronaut riding a horse</textarea></label>
  <div class="row"><button id="compare" type="button">Compare</button></div>
  <div id="compare-error" class="error" role="alert" hidden></div>
  <div id="heatmap" class="scroll"></div>
</section>

<section id="score-panel" class="panel">
  <h2>Score images <small>POST /v1/score</small></h2>
  <p id="score-origin" class="notice" hidden></p>
  <div id="drop" class="drop" tabindex="0">Drop images here or <label class="pick">pick files<input id="images" type="file" accept="image/png,image/jpeg,image/webp" multiple></label></div>
  <div id="thumbs" class="thumbs"></div>
  <label class="wide">Captions, one per line
  <textarea id="captions" rows="3" spellcheck="false">an astronaut
a photo of a dog</textarea></label>
  <div class="row">
    <label>Mode <select id="score-mode"><option value="clip_score">clip_score</option><option value="rank">rank (softmax)</option></select></label>
    <button id="score" type="button">Score</button>
  </div>
  <div id="score-error" class="error" role="alert" hidden></div>
  <div id="score-result"></div>
</section>

<section id="models-panel" class="panel">
  <h2>Models <small>GET /v1/models</small></h2>
  <div id="models-error" class="error" role="alert" hidden></div>
  <div id="model-info"></div>
</section>
</main>
<footer><a href="/openapi.json">OpenAPI document</a></footer>
</body>
</html>
`;
