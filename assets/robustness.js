/* Robustness panels (vertint.robustness.panel): builds each panel's Vega-Lite spec in the page from
   a compact descriptor, so a chapter with many claims ships its grids, not twenty copies of the same
   spec. Descriptor: {id, n: number of specifications (formatted), q: values are numbers, nd:
   specifications the data decide, col and cfg: verdict colours and the house chart config (in a
   page's first panel only; later panels reuse them), ch: [{l: label, o: value labels,
   d: default index}], rows: [[verdict index, value, base-36 choice indices], ...] in curve order}.
   The specification curve and decision matrix show the decided specifications; the dropdowns
   (Vega-Lite parameters) pick any combination, and the readout names its verdict. In the whole-book
   print document (vertint pdf: body.vertint-print) the panel is the specification curve alone, its
   default specification ringed: no decision matrix, readout or dropdowns (assets/print.css hides
   the rest of the panel). */
(function () {
  var V = ["supported", "partly supported", "not supported", "not reproducible from public data"];
  var SHAPES = ["circle", "square", "triangle-up", "diamond"];
  var INK = "#222222";  // charts.INK; the registry swaps it for the dark-mode ink

  function spec(d) {
    var print = !!(document.body && document.body.classList.contains("vertint-print"));
    var cfg = d.cfg || window.vertintRobustnessConfig || {};
    var col = d.col || window.vertintRobustnessColours;
    window.vertintRobustnessConfig = cfg;
    window.vertintRobustnessColours = col;
    d = Object.assign({}, d, {col: col, t: d.id + ": " + d.n + " specifications",
                              x: "Decided specification, sorted by " + (d.q ? "reproduced value" : "verdict")});
    var keys = d.ch.map(function (_, j) { return "c" + j; });
    var derived = [{ calculate: JSON.stringify(V) + "[datum.k]", as: "verdict" }];
    keys.forEach(function (k, j) {
      derived.push({ calculate: "parseInt(substring(datum.c, " + j + ", " + (j + 1) + "), 36)", as: k });
    });
    keys.forEach(function (k, j) {
      derived.push({ calculate: JSON.stringify(d.ch[j].o) + "[datum." + k + "]", as: k + "_t" });
    });
    var shown = d.q ? "format(datum.v, ',.4~g')" : "datum.v";
    derived.push({ calculate: "'This combination: ' + datum.verdict + (datum.v != null ? ' (reproduced ' + " + shown + " + ')' : '')", as: "text" });
    var chosen = keys.map(function (k) { return "datum." + k + " == " + k + "_sel"; }).join(" && ") || "true";
    var decided = "datum.k != 3";
    var dom = [0, Math.max(d.nd, 1) + 1];
    var colour = { field: "verdict", type: "nominal", title: "Verdict", scale: { domain: V, range: d.col }, legend: { orient: "top", columns: 2 } };
    var x = { field: "r", type: "quantitative", title: d.x, scale: { domain: dom, nice: false }, axis: { tickMinStep: 1, format: "d" } };
    var y = d.q ? { field: "v", type: "quantitative", title: "Reproduced value", scale: { zero: false } }
                : { field: "verdict", type: "nominal", title: null, sort: V };
    var tooltip = [{ field: "verdict", type: "nominal", title: "Verdict" },
                   { field: "v", type: d.q ? "quantitative" : "nominal", title: "Reproduced" }]
      .concat(keys.map(function (k, j) { return { field: k + "_t", type: "nominal", title: d.ch[j].l }; }));
    var panels = [{
      layer: [
        { transform: [{ filter: decided }], mark: { type: "point", filled: true, size: 36, opacity: 0.9 },
          encoding: { x: x, y: y, color: colour, tooltip: tooltip,
                      shape: { field: "verdict", type: "nominal", scale: { domain: V, range: SHAPES }, legend: null } } },
        { transform: [{ filter: "(" + chosen + ") && " + decided }],
          mark: { type: "point", size: 220, strokeWidth: 2, filled: false, color: INK },
          encoding: { x: { field: "r", type: "quantitative" }, y: y } }
      ],
      width: 380, height: d.q ? 150 : 90
    }];
    if (keys.length && !print) {
      var byKey = {}, order = [];
      keys.forEach(function (k, j) {
        byKey[k] = d.ch[j].o.map(function (t) { return d.ch[j].l + ": " + t; });
        order = order.concat(byKey[k]);
      });
      panels.push({
        transform: [{ filter: decided }, { fold: keys, as: ["ck", "ci"] },
                    { calculate: JSON.stringify(byKey) + "[datum.ck][datum.ci]", as: "row" }],
        mark: { type: "tick", thickness: 2, size: 10 },
        encoding: {
          x: { field: "r", type: "quantitative", title: null, scale: { domain: dom, nice: false }, axis: { labels: false, ticks: false } },
          y: { field: "row", type: "nominal", title: null, sort: order, axis: { labelLimit: 190 } },
          color: { field: "verdict", type: "nominal", scale: { domain: V, range: d.col }, legend: null }
        },
        width: 380, height: Math.max(40, 14 * order.length)
      });
      panels.push({
        transform: [{ filter: chosen }],
        mark: { type: "text", align: "left", baseline: "middle", fontSize: 14, fontWeight: "bold", color: INK },
        encoding: { x: { value: 0 }, y: { value: 10 }, text: { field: "text", type: "nominal" } },
        width: 380, height: 20
      });
    }
    return {
      config: cfg,
      data: { values: d.rows.map(function (r) { return { k: r[0], v: r[1], c: r[2] }; }) },
      transform: [{ window: [{ op: "row_number", as: "r" }] }].concat(derived),
      params: keys.map(function (k, j) {
        var p = { name: k + "_sel", value: d.ch[j].d };
        if (!print) {
          p.bind = { input: "select", options: d.ch[j].o.map(function (_, i) { return i; }), labels: d.ch[j].o, name: d.ch[j].l + ": " };
        }
        return p;
      }),
      title: { text: d.t, anchor: "start" },
      spacing: 6,
      vconcat: panels
    };
  }

  window.vertintRobustnessSpec = spec;
  // drawn through the page's chart registry (vertint-charts.js): light or dark mode, redrawn on a switch
  window.vertintRobustness = function (selector, d) {
    window.vertintCharts.add(selector.replace(/^#/, ""), spec(d));
  };
})();
