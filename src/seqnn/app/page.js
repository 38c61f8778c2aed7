// seqnn inspect's page: draws the text from the JSON in the script element "data" (written by seqnn/app/page.py).
// Numbers come quantised: one or two letters of a 64-letter alphabet each (page.py's encode).
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const LEVEL = {};
  for (let i = 0; i < 64; i++) LEVEL[ALPHABET[i]] = i;

  function decode(s, digits) {           // letters -> numbers in [0, 1]
    const n = s.length / digits, top = Math.pow(64, digits) - 1, out = new Array(n);
    for (let i = 0; i < n; i++) {
      let q = 0;
      for (let j = 0; j < digits; j++) q = q * 64 + LEVEL[s[i * digits + j]];
      out[i] = q / top;
    }
    return out;
  }

  const text = Array.from(D.text);       // by code point, as Python counts (an emoji is one character, not two)
  const T = text.length, L = D.lags;
  const units = D.units.map(u => ({label: u.label, feature: u.feature, r: u.r, scale: u.scale,
                                   v: decode(u.values, 1).map(x => (2 * x - 1) * u.scale)}));
  const features = D.features.map(f => ({name: f.name, v: decode(f.values, 1).map(x => x * f.max), max: f.max}));
  const models = D.models.map(m => ({label: m.label, conn: m.conn, bits: decode(m.bits, 2).map(x => x * D.maxBits)}));
  const ngram = D.ngram ? D.ngram.map(s => decode(s, 2).map(x => x * D.maxBits)) : [];
  const topIds = decode(D.top.ids, 2).map(x => Math.round(x * 4095)), topP = decode(D.top.p, 2);

  // --- colours -------------------------------------------------------------------------------------------------
  const WHITE = [255, 255, 255], BLUE = [60, 110, 220], ORANGE = [235, 130, 30], RED = [210, 40, 40],
        GREEN = [40, 160, 70], PURPLE = [110, 40, 170];
  function mix(to, a) {
    a = Math.max(0, Math.min(1, a));
    return "rgb(" + WHITE.map((w, i) => Math.round(w + (to[i] - w) * a)).join(",") + ")";
  }
  function diverging(v, neg, pos) { return v >= 0 ? mix(pos, v) : mix(neg, -v); }
  function connectivity(m, t, k) {       // the shade of lag k of the prediction at t, in [0, 1], or null
    const c = models[m].conn[t * (L + 1) + k];
    return c === undefined || c === "." ? null : LEVEL[c] / 63;
  }

  // what each "colour by" choice shows: colour(m, t), its legend, whether every model gets a panel
  const modes = {};
  units.forEach((u, i) => {
    modes["unit:" + i] = {name: u.label + " (" + u.feature + ", r = " + u.r.toFixed(2) + " over this text)",
      colour: (m, t) => diverging(u.v[t] / u.scale, ORANGE, BLUE),
      legend: [ORANGE, BLUE, (-u.scale).toPrecision(2), u.scale.toPrecision(2)]};
  });
  features.forEach((f, i) => {
    modes["feature:" + i] = {name: "feature: " + f.name, colour: (m, t) => mix(GREEN, f.v[t] / f.max),
                             legend: [WHITE, GREEN, "0", f.max.toPrecision(3)]};
  });
  modes["conn"] = {name: "connectivity (hover a character)", perModel: true, colour: () => null,
                   legend: [WHITE, PURPLE, "10^-" + D.decades, "1 (the window's largest)"]};
  // a loss colours the character that was predicted: bits[t - 1] is the loss of predicting character t
  modes["loss"] = {name: "the network's loss on each character (bits)", perModel: true,
                   colour: (m, t) => t > 0 ? mix(RED, models[m].bits[t - 1] / 8) : null,
                   legend: [WHITE, RED, "0", "8+ bits"]};
  ngram.forEach((b, n) => {
    modes["gap:" + (n + 1)] = {name: "its loss minus the " + (n + 1) + "-gram's", perModel: true,
      colour: (m, t) => t > 0 ? diverging((models[m].bits[t - 1] - b[t - 1]) / 4, BLUE, RED) : null,
      legend: [BLUE, RED, "-4 bits (network better)", "+4 (worse)"]};
  });
  modes["none"] = {name: "nothing", colour: () => null, legend: null};

  // --- the text, one panel per model --------------------------------------------------------------------------
  const state = {mode: "conn", track: features.length ? 0 : -1, at: -1, pinned: false,
                 selection: null};
  const panels = models.map((m, i) => {
    const box = document.createElement("div"), title = document.createElement("h3"), pre = document.createElement("pre");
    title.textContent = m.label;
    pre.className = "text";
    pre.dataset.model = i;
    const frag = document.createDocumentFragment();
    for (let t = 0; t < T; t++) {
      const span = document.createElement("span");
      span.textContent = text[t];
      span.t = t;
      frag.appendChild(span);
    }
    pre.appendChild(frag);
    box.append(title, pre);
    document.getElementById("panels").appendChild(box);
    return {box: box, spans: pre.children};
  });

  function paint() {                     // the whole text: when the colouring or the track changes
    const mode = modes[state.mode];
    panels.forEach((p, m) => {
      p.box.hidden = m > 0 && !mode.perModel;
      if (p.box.hidden) return;
      const f = state.track >= 0 ? features[state.track] : null;
      for (let t = 0; t < T; t++) {
        const s = p.spans[t];
        s.style.background = mode.colour(m, t) || "";
        s.style.boxShadow = f ? "inset 0 -4px 0 " + mix(GREEN, f.v[t] / f.max) : "";
        s.classList.remove("at");
      }
    });
    marked = -1;
    mark(state.at);
    const legend = document.getElementById("legend");
    legend.hidden = !mode.legend;
    if (mode.legend) {
      const [lo, hi, loText, hiText] = mode.legend;
      const stops = lo === WHITE ? [WHITE, hi] : [lo, WHITE, hi];
      legend.querySelector(".bar").style.background = "linear-gradient(to right, " + stops.map(c => mix(c, 1)).join(", ") + ")";
      legend.querySelector(".lo").textContent = loText;
      legend.querySelector(".hi").textContent = hiText;
    }
  }

  let marked = -1;                       // the character outlined now (and, for connectivity, its window shaded)
  function mark(t) {                     // only the old and the new window change: a hover costs lags, not T
    const conn = state.mode === "conn";
    panels.forEach((p, m) => {
      if (p.box.hidden) return;
      if (marked >= 0) {
        p.spans[marked].classList.remove("at");
        for (let k = 0; conn && k <= L && marked - k >= 0; k++) p.spans[marked - k].style.background = "";
      }
      if (t < 0) return;
      p.spans[t].classList.add("at");
      for (let k = 0; conn && t < T - 1 && k <= L && t - k >= 0; k++) {
        const a = connectivity(m, t, k);
        if (a !== null) p.spans[t - k].style.background = mix(PURPLE, a);
      }
    });
    marked = t;
  }

  // --- the box on hover: the top-5 predictions and the losses -------------------------------------------------
  const tip = document.getElementById("tip");
  function show(t) {
    const shown = JSON.stringify(text[t]), rows = [];
    rows.push(["at " + t, shown]);
    if (state.mode.startsWith("unit:")) {
      const u = units[+state.mode.slice(5)];
      rows.push([u.label, u.v[t].toFixed(3)]);
    }
    if (state.track >= 0) rows.push([features[state.track].name, features[state.track].v[t].toFixed(2)]);
    for (let j = 0; j < 5 && j < D.tokens.length; j++) {
      rows.push([j ? "" : "next, likeliest first", JSON.stringify(D.tokens[topIds[t * 5 + j]]) + " " +
                 topP[t * 5 + j].toFixed(3)]);
    }
    if (t < T - 1) {
      rows.push(["actually next", JSON.stringify(text[t + 1])]);
      models.forEach(m => rows.push([m.label + ", bits", m.bits[t].toFixed(2)]));
      ngram.forEach((b, n) => rows.push([(n + 1) + "-gram, bits", b[t].toFixed(2)]));
    }
    const table = document.createElement("table");
    for (const [a, b] of rows) {
      const tr = table.insertRow();
      tr.insertCell().textContent = a;
      tr.insertCell().textContent = b;
    }
    tip.replaceChildren(table);
    tip.style.display = "block";
  }
  function hover(t, x, y) {
    if (state.pinned) return;
    state.at = t;
    show(t);
    if (x === undefined) {                 // no mouse (a link to #t): beside the character
      const box = panels[0].spans[t].getBoundingClientRect();
      [x, y] = [box.right, box.bottom];
    }
    tip.style.left = Math.min(x + 14, window.innerWidth - 320) + "px";
    tip.style.top = (y + 14) + "px";
    mark(t);
  }

  document.getElementById("panels").addEventListener("mouseover", e => {
    if (e.target.t !== undefined) hover(e.target.t, e.clientX, e.clientY);
  });
  document.getElementById("panels").addEventListener("mouseleave", () => {
    if (!state.pinned) tip.style.display = "none";
  });
  document.getElementById("panels").addEventListener("click", e => {
    if (e.target.t === undefined || !window.getSelection().isCollapsed) return;     // a drag selects a span
    const release = state.pinned && state.at === e.target.t;                       // a second click lets go
    state.pinned = false;
    hover(e.target.t, e.clientX, e.clientY);
    state.pinned = !release;
  });

  // --- the controls ------------------------------------------------------------------------------------------
  const colour = document.getElementById("colour"), track = document.getElementById("track");
  for (const [key, mode] of Object.entries(modes)) colour.add(new Option(mode.name, key));
  track.add(new Option("none", "-1"));
  features.forEach((f, i) => track.add(new Option(f.name, String(i))));
  colour.value = state.mode;
  track.value = String(state.track);
  colour.addEventListener("change", () => { state.mode = colour.value; paint(); });
  track.addEventListener("change", () => { state.track = +track.value; paint(); if (state.at >= 0) show(state.at); });

  // --- matching spans (LSTMVis) --------------------------------------------------------------------------------
  const unitBox = document.getElementById("units"), threshold = document.getElementById("threshold");
  const checks = units.map(u => {
    const label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox";
    label.append(box, " " + u.label + " (" + u.feature + ")");
    unitBox.appendChild(label);
    return box;
  });
  function sign(u, a, b) {
    let s = 0;
    for (let t = a; t <= b; t++) s += u.v[t];
    return s >= 0 ? 1 : -1;
  }
  function on(u, t, s) { return s * u.v[t] / u.scale >= +threshold.value; }
  function select(a, b) {                 // the span a .. b (inclusive): check the units on all through it
    [a, b] = [Math.min(a, b), Math.max(a, b)];
    state.selection = [a, b];
    units.forEach((u, i) => {
      const s = sign(u, a, b);
      let all = true;
      for (let t = a; t <= b && all; t++) all = on(u, t, s);
      checks[i].checked = all;
    });
    document.getElementById("selection").textContent =
      "selected " + JSON.stringify(text.slice(a, b + 1).join("")) + " (" + (b - a + 1) + " characters)";
  }
  function match() {                      // the runs where every checked unit is on, closest in length first
    const list = document.getElementById("matches");
    list.replaceChildren();
    for (const s of panels[0].spans) s.classList.remove("match");
    if (!state.selection) { list.textContent = "select a span of the text first"; return []; }
    const [a, b] = state.selection, chosen = units.map((u, i) => [u, sign(u, a, b)]).filter((_, i) => checks[i].checked);
    if (!chosen.length) { list.textContent = "no unit is checked: lower the threshold, or check units yourself"; return []; }
    const runs = [];
    let start = -1;
    for (let t = 0; t <= T; t++) {
      const all = t < T && chosen.every(([u, s]) => on(u, t, s));
      if (all && start < 0) start = t;
      if (!all && start >= 0) { runs.push([start, t - 1]); start = -1; }
    }
    const length = b - a + 1;
    runs.sort((x, y) => Math.abs(x[1] - x[0] + 1 - length) - Math.abs(y[1] - y[0] + 1 - length) || x[0] - y[0]);
    for (const [s, e] of runs.slice(0, 50)) {
      for (let t = s; t <= e; t++) panels[0].spans[t].classList.add("match");
      const item = document.createElement("li");
      item.textContent = s + ": " + JSON.stringify(text.slice(Math.max(0, s - 10), e + 11).join(""));
      item.addEventListener("click", () => panels[0].spans[s].scrollIntoView({block: "center"}));
      list.appendChild(item);
    }
    return runs;
  }
  document.addEventListener("mouseup", () => {
    const sel = window.getSelection();
    if (sel.isCollapsed || !sel.anchorNode || !sel.focusNode) return;
    const spanOf = n => (n.nodeType === 3 ? n.parentNode : n);
    const a = spanOf(sel.anchorNode).t, b = spanOf(sel.focusNode).t;
    if (a !== undefined && b !== undefined) select(a, b);
  });
  document.getElementById("match").addEventListener("click", match);

  paint();
  const linked = /^#(\d+)$/.exec(location.hash);        // index.html#1234 holds the character at 1234
  if (linked && +linked[1] < T) {
    panels[0].spans[+linked[1]].scrollIntoView({block: "center"});
    hover(+linked[1]);
    state.pinned = true;
  }
  window.seqnn = {state: state, modes: Object.keys(modes), select: select, match: match, hover: hover, show: show};
})();
