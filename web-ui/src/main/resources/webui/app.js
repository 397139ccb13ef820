// jdiffusion web UI: plain JavaScript against the JSON API of docs/contracts.md, no build step.
"use strict";

(() => {
  const API = "api/v1/";
  const $ = (id) => document.getElementById(id);

  /** API request field -> id of the control that sets it, to mark the culprit of a 400. */
  const FIELD_INPUTS = {
    prompt: "prompt", negative_prompt: "negative-prompt", sampler: "sampler", schedule: "schedule",
    steps: "steps", cfg_scale: "cfg-scale", seed: "seed", width: "width", height: "height",
    batch_size: "batch-size", model: "model", clip_skip: "clip-skip",
    init_image: "init-image", strength: "strength", resize_mode: "resize-mode", mask: "mask-image", mask_blur: "mask-blur",
    depth_map: "depth-map",
    inpainting_fill: "inpainting-fill", paste_back: "paste-back",
  };

  const state = {
    samplers: [],
    lastSeed: null,
    running: false,
    lastInfoText: "",
    mode: "txt2img",    // the generation tab in front: txt2img, img2img or inpaint (one form, each adds its inputs)
    initImage: null,    // img2img, inpaint: the chosen image as a data: URL, sent as init_image
    mask: null,         // inpaint: the chosen mask as a data: URL
    maskPainted: false, // inpaint: strokes painted on the image, which then are the mask
    depthMap: null,     // depth2img: the user's depth map as a data: URL (none: the model estimates it)
    pluginsSeen: false, // the plugins tab was opened since the sampler list was loaded
  };

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(message, field, status) {
      super(message);
      this.field = field || null;
      this.status = status;
    }
  }

  /** GET or POST JSON; non-2xx answers become an ApiError carrying the server's {error, field}. */
  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (e) {
      throw new ApiError("Cannot reach the server: " + e.message, null, 0);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      if (response.ok) throw new ApiError("The server sent something that is not JSON.", null, response.status);
    }
    if (!response.ok) {
      const message = data && data.error ? data.error : (text || response.statusText || "request failed");
      throw new ApiError(message, data && data.field, response.status);
    }
    return { data, text };
  }

  // ---------------------------------------------------------------- form controls

  /** Keeps a range slider and its number input in step. */
  function pairSlider(id) {
    const number = $(id);
    const range = $(id + "-range");
    range.addEventListener("input", () => { number.value = range.value; clearInvalid(number); });
    number.addEventListener("input", () => { if (number.value !== "") range.value = number.value; });
  }

  /** Width/height snap to a multiple of 64 in 64..2048 when the field is left. */
  function snapSize(id) {
    const number = $(id);
    number.addEventListener("change", () => {
      let v = Number(number.value);
      if (!Number.isFinite(v) || number.value === "") v = 512;
      v = Math.min(2048, Math.max(64, Math.round(v / 64) * 64));
      number.value = v;
      $(id + "-range").value = v;
    });
  }

  function option(value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  async function loadSamplers() {
    const select = $("sampler");
    const previous = select.value;
    try {
      const { data } = await api("samplers");
      state.samplers = Array.isArray(data) ? data : [];
      select.replaceChildren();
      if (state.samplers.length === 0) {
        select.append(option("", "(no sampler plugins)"));
        return;
      }
      for (const s of state.samplers) select.append(option(s.id, s.label || s.id));
      // plugins come and go while the page is open: keep the choice while its sampler is still there
      const preferred = state.samplers.find((s) => s.id === previous)
        || state.samplers.find((s) => s.id === "euler") || state.samplers[0];
      select.value = preferred.id;
      renderSamplerParams();
    } catch (e) {
      select.replaceChildren(option("", "(samplers unavailable)"));
      showError(e);
    }
  }

  /** Plugins come and go while the page is open: poll the list and redraw it only when it changed. */
  async function refreshSamplersIfChanged() {
    if (document.hidden) return;
    try {
      const { data } = await api("samplers");
      const key = (list) => (Array.isArray(list) ? list : []).map((s) => s.id + "=" + s.label).join("|");
      if (key(data) !== key(state.samplers)) loadSamplers();
    } catch (e) {
      // the server may be restarting; the next poll tries again
    }
  }

  async function loadSchedules() {
    try {
      const { data } = await api("schedules");
      if (!Array.isArray(data) || data.length === 0) return;
      const select = $("schedule");
      for (const s of data) select.append(option(s.id, s.label || s.id));
      $("schedule-field").hidden = false;
    } catch (e) {
      // the sampler's own default schedule is used
    }
  }

  async function loadModels() {
    try {
      const { data } = await api("models");
      if (!Array.isArray(data) || data.length === 0) return;
      const select = $("model");
      select.replaceChildren();
      for (const m of data) {
        // family and variant come from the model's files (the server reads its configs), not its name
        const kind = [m.family, m.variant && m.variant !== "txt2img" ? m.variant : null].filter(Boolean).join(" ");
        const size = m.width && m.height ? `${m.width}\u00d7${m.height}` : "";
        const detail = [kind, size].filter(Boolean).join(", ");
        const o = option(m.id, detail ? `${m.id} (${detail})` : m.id);
        o.title = [m.path, m.dtype, m.loaded ? "loaded" : "not loaded"].filter(Boolean).join(" \u00b7 ");
        select.append(o);
      }
      const preferred = data.find((m) => m.default) || data.find((m) => m.loaded);
      if (preferred) select.value = preferred.id;
    } catch (e) {
      // keep "default"
    }
  }

  async function loadHealth() {
    const el = $("health");
    try {
      const { data } = await api("health");
      el.className = "health ok";
      el.textContent = data && data.provider ? String(data.provider) : "online";
      $("health-info").textContent = JSON.stringify(data, null, 2);
    } catch (e) {
      el.className = "health down";
      el.textContent = "offline";
      $("health-info").textContent = e.message;
    }
  }

  /** Number inputs for the parameters the selected sampler declares (e.g. eta); sent under their own names. */
  function renderSamplerParams() {
    const box = $("sampler-params");
    box.replaceChildren();
    const sampler = state.samplers.find((s) => s.id === $("sampler").value);
    for (const p of (sampler && sampler.parameters) || []) {
      const field = document.createElement("div");
      field.className = "field";
      const id = "param-" + p.name;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = p.name;
      const input = document.createElement("input");
      input.type = "number";
      input.id = id;
      input.step = "any";
      input.dataset.param = p.name;
      input.dataset.field = p.name;
      if (Number.isFinite(p.min)) input.min = p.min;
      if (Number.isFinite(p.max)) input.max = p.max;
      if (typeof p.default === "number") {
        input.value = p.default;
        input.dataset.default = p.default;
      } else {
        input.placeholder = "default";
      }
      if (p.help) { input.title = p.help; label.title = p.help; }
      field.append(label, input);
      box.append(field);
    }
  }

  // ---------------------------------------------------------------- token counter

  // one counter per prompt box, as A1111 shows them: each asks GET /api/v1/tokens for its own text
  const tokenCounters = {};
  function tokenCounter(textareaId, countId) {
    let timer = 0;
    let seq = 0;
    return function countSoon() {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++seq;
        const prompt = $(textareaId).value;
        const model = $("model").value;
        const el = $(countId);
        try {
          const q = "tokens?prompt=" + encodeURIComponent(prompt) + (model ? "&model=" + encodeURIComponent(model) : "");
          const { data } = await api(q);
          if (mine !== seq) return;
          const n = data.tokens;
          const limit = Math.max(75, Math.ceil(n / 75) * 75);
          el.textContent = n + "/" + limit;
          el.classList.toggle("over", n > 75);
        } catch (e) {
          if (mine === seq) el.textContent = "";
        }
      }, 300);
    };
  }
  tokenCounters.prompt = tokenCounter("prompt", "token-count");
  tokenCounters.negative = tokenCounter("negative-prompt", "negative-token-count");
  function countTokensSoon() {
    tokenCounters.prompt();
    tokenCounters.negative();
  }

  // ---------------------------------------------------------------- errors

  function clearInvalid(el) {
    if (el) el.classList.remove("invalid");
  }

  function clearError() {
    const box = $("error");
    box.hidden = true;
    box.replaceChildren();
    for (const el of document.querySelectorAll(".invalid")) el.classList.remove("invalid");
  }

  function showError(e) {
    const box = $("error");
    box.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = e.status === 400 ? "Please check the request" : e.status ? `Error ${e.status}` : "Error";
    const text = document.createElement("span");
    text.textContent = e.message;
    box.append(title, text);
    box.hidden = false;
    const field = e.field && (FIELD_INPUTS[e.field] ? $(FIELD_INPUTS[e.field]) : document.querySelector(`[data-param="${CSS.escape(e.field)}"]`));
    if (field) {
      field.classList.add("invalid");
      field.focus({ preventScroll: false });
    }
  }

  // ---------------------------------------------------------------- generate

  function readNumber(id) {
    const v = $(id).value.trim();
    return v === "" ? undefined : Number(v);
  }

  /** The request body, snake_case as the API wants it; empty fields are left to the server's defaults. */
  function buildRequest() {
    const body = {
      prompt: $("prompt").value,
      negative_prompt: $("negative-prompt").value,
      sampler: $("sampler").value || undefined,
      schedule: $("schedule").value || undefined,
      steps: readNumber("steps"),
      cfg_scale: readNumber("cfg-scale"),
      width: readNumber("width"),
      height: readNumber("height"),
      batch_size: readNumber("batch-size"),
      model: $("model").value || undefined,
    };
    // A1111 writes "Clip skip" only when it is not 1 (the last layer, the server's default): send it likewise
    const clipSkip = readNumber("clip-skip");
    if (clipSkip !== undefined && clipSkip !== 1) body.clip_skip = clipSkip;
    const seed = $("seed").value.trim();
    if (seed !== "") body.seed = seed; // a string keeps all 64 bits
    if (state.mode === "img2img" || state.mode === "inpaint" || state.mode === "depth2img") {
      if (state.initImage) body.init_image = state.initImage; // none: the server's 400 names init_image
      body.strength = readNumber("strength");
      body.resize_mode = Number($("resize-mode").value);
    }
    if (state.mode === "inpaint") {
      if (state.maskPainted) body.mask = maskPainter.dataUrl();
      else if (state.mask) body.mask = state.mask;
      body.mask_blur = readNumber("mask-blur");
      body.inpainting_fill = Number($("inpainting-fill").value);
      body.paste_back = $("paste-back").checked ? 1 : 0;
    }
    if (state.mode === "depth2img" && state.depthMap) body.depth_map = state.depthMap;
    // sampler parameters only where they differ from the plugin's default, as A1111's infotext lists them
    for (const input of document.querySelectorAll("#sampler-params input[data-param]")) {
      const v = input.value.trim();
      if (v !== "" && Number(v) !== Number(input.dataset.default)) body[input.dataset.param] = Number(v);
    }
    return body;
  }

  /** The seed of the first image as the server wrote it: digits from the raw JSON, so no 64-bit value is rounded. */
  function seedOf(rawText, info) {
    const seed = info ? info.seed : undefined;
    if (typeof seed === "string" && seed !== "") return seed;
    if (typeof seed === "number" && Number.isSafeInteger(seed)) return String(seed);
    const m = /"seed"\s*:\s*"?(-?\d+)/.exec(rawText);
    if (m) return m[1];
    return seed === undefined || seed === null ? null : String(seed);
  }

  let timer = 0;
  async function generate() {
    if (state.running) return;
    clearError();
    const button = $("generate");
    const status = $("status");
    state.running = true;
    button.disabled = true;
    button.classList.add("busy");
    button.querySelector(".label").textContent = "Generating\u2026";
    const started = performance.now();
    const tick = () => { status.textContent = ((performance.now() - started) / 1000).toFixed(1) + " s"; };
    tick();
    timer = setInterval(tick, 100);
    try {
      const { data, text } = await api(state.mode, buildRequest());
      showResult(data, text);
      loadHealth(); // the provider is known once a model has loaded
      status.textContent = "Done in " + ((performance.now() - started) / 1000).toFixed(1) + " s";
    } catch (e) {
      showError(e);
      status.textContent = "Failed after " + ((performance.now() - started) / 1000).toFixed(1) + " s";
    } finally {
      clearInterval(timer);
      state.running = false;
      button.disabled = false;
      button.classList.remove("busy");
      button.querySelector(".label").textContent = "Generate";
    }
  }

  /** Per-image seeds ({@code info.seeds}), digits taken from the raw JSON so no 64-bit seed is rounded. */
  function seedsOf(rawText, info, count, first) {
    const m = /"seeds"\s*:\s*\[([^\]]*)\]/.exec(rawText);
    let seeds = m ? m[1].split(",").map((x) => x.trim().replace(/^"|"$/g, "")).filter((x) => /^-?\d+$/.test(x)) : [];
    if (seeds.length === 0 && Array.isArray(info.seeds)) seeds = info.seeds.map(String);
    return Array.from({ length: count }, (_, i) => seeds[i] || (i === 0 ? first : null));
  }

  function showResult(data, rawText) {
    const images = (data && data.images) || [];
    const info = (data && data.info) || {};
    const gallery = $("gallery");
    gallery.replaceChildren();
    gallery.classList.toggle("empty", images.length === 0);
    gallery.classList.toggle("single", images.length === 1);
    if (images.length === 0) {
      const p = document.createElement("p");
      p.className = "placeholder";
      p.textContent = "The server returned no images.";
      gallery.append(p);
    }
    const seeds = seedsOf(rawText, info, images.length, seedOf(rawText, info));
    const infotexts = Array.isArray(info.infotexts) ? info.infotexts : [];
    const fallback = typeof info.infotext === "string" && info.infotext ? info.infotext : JSON.stringify(info, null, 2);
    const figures = [];

    // selecting an image (batches) shows its own parameters; the recycle button then reuses its seed
    const select = (i) => {
      figures.forEach((f, j) => f.classList.toggle("selected", i === j && figures.length > 1));
      const text = typeof infotexts[i] === "string" && infotexts[i] ? infotexts[i] : fallback;
      state.lastInfoText = text;
      $("result-info").textContent = text;
      $("copy-info").hidden = !text;
      const seed = seeds[i] !== undefined && seeds[i] !== null ? seeds[i] : seedOf(rawText, info);
      if (seed !== null) {
        state.lastSeed = seed;
        $("seed-reuse").disabled = false;
        $("seed-reuse").title = "Reuse the seed " + seed;
      }
    };

    images.forEach((b64, i) => {
      const src = "data:image/png;base64," + b64;
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      if (i === 0) img.id = "result-image";
      img.alt = "Generated image " + (i + 1);
      img.src = src;
      img.title = images.length > 1 ? "Click to see its parameters" : "Click to view full size";
      img.addEventListener("click", () => {
        if (images.length > 1 && !figure.classList.contains("selected")) select(i);
        else openViewer(src);
      });
      const tools = document.createElement("div");
      tools.className = "tools";
      const view = document.createElement("button");
      view.type = "button";
      view.textContent = "view";
      view.addEventListener("click", () => openViewer(src));
      const save = document.createElement("a");
      save.href = src;
      save.download = "jdiffusion-" + (seeds[i] || Date.now()) + (images.length > 1 ? "-" + (i + 1) : "") + ".png";
      save.textContent = "save";
      tools.append(view, save);
      figure.append(img, tools);
      gallery.append(figure);
      figures.push(figure);
    });

    if (images.length > 0) {
      select(0);
    } else {
      state.lastInfoText = fallback;
      $("result-info").textContent = fallback;
      $("copy-info").hidden = !fallback;
    }
  }

  function openViewer(src) {
    const viewer = $("viewer");
    viewer.querySelector("img").src = src;
    viewer.hidden = false;
  }

  // ---------------------------------------------------------------- tabs

  /** Tabs may share a panel (data-panel): img2img is the txt2img form plus its own inputs. */
  function selectTab(name) {
    const panelOf = (tab) => "tab-" + (tab.dataset.panel || tab.dataset.tab);
    let shown = null;
    for (const tab of document.querySelectorAll(".tab[data-tab]")) {
      const on = tab.dataset.tab === name;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", String(on));
      if (on) shown = panelOf(tab);
    }
    for (const tab of document.querySelectorAll(".tab[data-tab]")) $(panelOf(tab)).hidden = panelOf(tab) !== shown;
    if (name === "txt2img" || name === "img2img" || name === "inpaint" || name === "depth2img") {
      if (state.pluginsSeen) loadSamplers(); // back from the plugins tab: a jar may have come or gone
      state.pluginsSeen = false;
      state.mode = name;
      $("img2img-inputs").hidden = name === "txt2img";
      $("inpaint-inputs").hidden = name !== "inpaint";
      $("depth-inputs").hidden = name !== "depth2img";
      clearError();
    }
    if (name === "plugins") {
      state.pluginsSeen = true;
      loadPluginLists();
    }
  }

  // ---------------------------------------------------------------- img2img and inpaint images

  /** An image input: a drop zone with a preview, and a file picker; the file is kept as a data: URL. */
  function wireImageInput(inputId, zoneId, previewId, hintId, field, keep) {
    const zone = $(zoneId);
    const use = (file) => {
      if (!file) return;
      if (!/^image\//.test(file.type)) {
        showError(new ApiError("That file is not an image: choose a PNG, JPEG or WebP.", field, 0));
        return;
      }
      const reader = new FileReader();
      reader.onload = () => {
        const url = String(reader.result);
        keep(url);
        const preview = $(previewId);
        preview.src = url;
        preview.hidden = false;
        $(hintId).hidden = true;
        clearInvalid($(inputId));
      };
      reader.readAsDataURL(file);
    };
    $(inputId).addEventListener("change", (e) => use(e.target.files[0]));
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      use(e.dataTransfer.files[0]);
    });
    zone.addEventListener("click", () => $(inputId).click());
  }

  /**
   * Painting the inpaint mask on the init image: the visible canvas shows the image with the strokes in a
   * translucent colour; a hidden canvas of the same size holds the mask itself, white strokes on black.
   */
  const maskPainter = (() => {
    const mask = document.createElement("canvas");    // what is sent: white strokes on black
    const overlay = document.createElement("canvas"); // what is shown over the image: the same strokes in colour
    let image = null;
    let last = null;
    const view = () => $("mask-canvas");
    const redraw = () => {
      const c = view();
      const g = c.getContext("2d");
      g.clearRect(0, 0, c.width, c.height);
      if (image) g.drawImage(image, 0, 0);
      g.globalAlpha = 0.55;
      g.drawImage(overlay, 0, 0);
      g.globalAlpha = 1;
    };
    const clear = () => {
      const g = mask.getContext("2d");
      g.fillStyle = "#000";
      g.fillRect(0, 0, mask.width, mask.height);
      overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
      state.maskPainted = false;
      redraw();
    };
    const load = (url) => {
      const img = new Image();
      img.onload = () => {
        image = img;
        for (const c of [view(), mask, overlay]) { c.width = img.naturalWidth; c.height = img.naturalHeight; }
        $("mask-paint-field").hidden = false;
        clear();
      };
      img.src = url;
    };
    const point = (e) => {
      const c = view();
      const r = c.getBoundingClientRect();
      return { x: (e.clientX - r.left) * c.width / r.width, y: (e.clientY - r.top) * c.height / r.height };
    };
    const stroke = (from, to) => {
      for (const [canvas, colour] of [[mask, "#fff"], [overlay, "#ff5a1f"]]) {
        const g = canvas.getContext("2d");
        g.strokeStyle = colour;
        g.lineCap = "round";
        g.lineWidth = Number($("brush-size").value) || 48;
        g.beginPath();
        g.moveTo(from.x, from.y);
        g.lineTo(to.x, to.y);
        g.stroke();
      }
      state.maskPainted = true;
      clearInvalid($("mask-image"));
      redraw();
    };
    const wire = () => {
      const c = view();
      c.addEventListener("pointerdown", (e) => { c.setPointerCapture(e.pointerId); last = point(e); stroke(last, last); });
      c.addEventListener("pointermove", (e) => { if (last) { const p = point(e); stroke(last, p); last = p; } });
      for (const type of ["pointerup", "pointercancel"]) c.addEventListener(type, () => { last = null; });
      $("mask-clear").addEventListener("click", clear);
    };
    return { load, wire, clear, dataUrl: () => mask.toDataURL("image/png") };
  })();

  /**
   * depth2img: an optional depth map (shown in its drop zone), and a preview of what the model's depth estimator
   * reads in the init image (POST /api/v1/depth), so a person sees the layout that will be kept.
   */
  function wireDepth() {
    wireImageInput("depth-map", "depth-zone", "depth-map-preview", "depth-hint", "depth_map", (url) => {
      state.depthMap = url;
      $("depth-map-clear").hidden = false;
    });
    $("depth-map-clear").addEventListener("click", () => {
      state.depthMap = null;
      $("depth-map").value = "";
      $("depth-map-preview").hidden = true;
      $("depth-hint").hidden = false;
      $("depth-map-clear").hidden = true;
    });
    $("depth-estimate").addEventListener("click", async () => {
      clearError();
      if (!state.initImage) {
        showError(new ApiError("Choose an init image first: the depth is estimated from it.", "init_image", 0));
        return;
      }
      try {
        const { data } = await api("depth", { init_image: state.initImage, model: $("model").value || undefined });
        const preview = $("depth-estimate-preview");
        preview.src = "data:image/png;base64," + data.image;
        preview.hidden = false;
      } catch (e) {
        showError(e);
      }
    });
  }

  function wireInitImage() {
    wireImageInput("init-image", "drop-zone", "init-preview", "drop-hint", "init_image", (url) => {
      state.initImage = url;
      maskPainter.load(url);
    });
    maskPainter.wire();
    // a chosen mask file replaces what was painted
    wireImageInput("mask-image", "mask-zone", "mask-preview", "mask-hint", "mask", (url) => { state.mask = url; maskPainter.clear(); });
  }

  /**
   * GET /api/v1/plugins: one row per bundle (plugins first), its version, state and services, and in red why a
   * broken one does not work (not a bundle, an unresolved import, a wrong API version, a throwing start).
   */
  async function loadBundles() {
    const box = $("list-bundles");
    try {
      const { data } = await api("plugins");
      const bundles = (Array.isArray(data) ? data : [])
        .filter((b) => b.id !== 0)
        .sort((a, b) => Number(b.plugin) - Number(a.plugin) || Number(Boolean(b.error)) - Number(Boolean(a.error)));
      box.replaceChildren();
      for (const b of bundles) {
        const row = document.createElement("div");
        row.className = "plugin bundle" + (b.error ? " broken" : "");
        row.dataset.bundle = b.symbolic_name || b.file;
        const name = document.createElement("code");
        name.textContent = b.symbolic_name || b.file;
        const right = document.createElement("div");
        const meta = document.createElement("div");
        meta.className = "meta";
        const stateTag = document.createElement("span");
        stateTag.className = "state";
        stateTag.textContent = b.state;
        meta.append(stateTag, " \u00b7 " + [b.version, b.file, b.plugin ? "plugin" : "core",
          ...(b.services || [])].filter(Boolean).join(" \u00b7 "));
        right.append(meta);
        if (b.error) {
          const problem = document.createElement("div");
          problem.className = "problem";
          problem.textContent = b.error;
          right.append(problem);
        }
        row.append(name, right);
        box.append(row);
      }
    } catch (e) {
      box.textContent = e.message;
    }
  }

  async function loadPluginLists() {
    const fill = async (path, id, describe) => {
      const box = $(id);
      try {
        const { data } = await api(path);
        box.replaceChildren();
        if (!Array.isArray(data) || data.length === 0) {
          const p = document.createElement("div");
          p.className = "muted";
          p.textContent = "none registered";
          box.append(p);
          return;
        }
        for (const item of data) {
          const row = document.createElement("div");
          row.className = "plugin";
          const name = document.createElement("code");
          name.textContent = item.id;
          const meta = document.createElement("div");
          meta.className = "meta";
          meta.textContent = describe(item);
          row.append(name, meta);
          box.append(row);
        }
      } catch (e) {
        box.textContent = e.message;
      }
    };
    const plugin = (p) => [p.label, p.bundle && "bundle " + p.bundle,
      (p.parameters || []).map((x) => `${x.name}=${x.default} [${x.min}..${x.max}]`).join(", ")]
      .filter(Boolean).join(" \u00b7 ");
    await Promise.all([
      loadBundles(),
      fill("samplers", "list-samplers", plugin),
      fill("schedules", "list-schedules", plugin),
      fill("modes", "list-modes", plugin),
      fill("models", "list-models", (m) => [m.family, m.width && `${m.width}\u00d7${m.height}`,
        m.loaded ? "loaded" : "not loaded", m.path].filter(Boolean).join(" \u00b7 ")),
      loadHealth(),
    ]);
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    ["steps", "cfg-scale", "clip-skip", "width", "height", "batch-size", "strength", "mask-blur", "brush-size"].forEach(pairSlider);
    wireInitImage();
    wireDepth();
    ["width", "height"].forEach(snapSize);

    $("generate").addEventListener("click", generate);
    for (const id of ["prompt", "negative-prompt"]) {
      $(id).addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          generate();
        }
      });
    }
    $("prompt").addEventListener("input", tokenCounters.prompt);
    $("negative-prompt").addEventListener("input", tokenCounters.negative);
    $("model").addEventListener("change", countTokensSoon);
    $("sampler").addEventListener("change", renderSamplerParams);
    $("settings").addEventListener("input", (e) => clearInvalid(e.target));
    $("prompt").addEventListener("input", (e) => clearInvalid(e.target));

    $("seed-random").addEventListener("click", () => { $("seed").value = ""; clearInvalid($("seed")); });
    $("seed-reuse").addEventListener("click", () => {
      if (state.lastSeed !== null) { $("seed").value = state.lastSeed; clearInvalid($("seed")); }
    });
    $("swap-size").addEventListener("click", () => {
      const w = $("width").value;
      $("width").value = $("height").value;
      $("height").value = w;
      $("width-range").value = $("width").value;
      $("height-range").value = $("height").value;
    });
    $("copy-info").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(state.lastInfoText);
        $("copy-info").textContent = "copied";
      } catch (e) {
        $("copy-info").textContent = "copy failed";
      }
      setTimeout(() => { $("copy-info").textContent = "copy"; }, 1500);
    });

    for (const tab of document.querySelectorAll(".tab[data-tab]")) {
      tab.addEventListener("click", () => selectTab(tab.dataset.tab));
    }
    $("viewer").addEventListener("click", () => { $("viewer").hidden = true; });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("viewer").hidden = true; });

    loadHealth();
    loadModels().then(countTokensSoon);
    loadSamplers();
    loadSchedules();
    setInterval(refreshSamplersIfChanged, 3000);
    window.addEventListener("focus", refreshSamplersIfChanged);
  }

  init();
})();
