/* Claims ledger page: filters, sorting and counts in the page, offline (issue 14); and on each
   chapter page, in every claim box, a link to its row in the ledger and a "Cite this claim"
   snippet, drawn from the page's ClaimReview JSON-LD (the snippet exactly as
   vertint.claims.citation writes it; tests/test_claimreview.py compares them).
   The table is complete without this script; the script shows the controls and, as they change,
   hides rows, re-sorts them and updates the counts (in the options and in the status line).
   Filters can be preset from the address: claims_ledger.html?verdict=supported&certainty=very+low */
(function () {
  "use strict";

  function setup(root) {
    var form = root.querySelector(".ledger-controls");
    var tbody = root.querySelector("tbody");
    var status = root.querySelector(".ledger-status");
    if (!form || !tbody) { return; }
    var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr"));
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
    var search = form.querySelector("input[data-filter]");
    var sortSel = form.querySelector("#ledger-sort");
    var dirSel = form.querySelector("#ledger-dir");
    var total = rows.length;

    function wanted() {
      var w = {};
      selects.forEach(function (s) { w[s.getAttribute("data-filter")] = s.value; });
      w.q = search ? search.value.trim().toLowerCase() : "";
      return w;
    }

    function matches(row, w, skip) {
      for (var key in w) {
        if (key === skip || !w[key]) { continue; }
        if (key === "q") {
          if ((row.getAttribute("data-text") || "").indexOf(w.q) < 0) { return false; }
        } else if (row.getAttribute("data-" + key) !== w[key]) {
          return false;
        }
      }
      return true;
    }

    function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

    function update() {
      var w = wanted();
      var shown = 0;
      var byVerdict = {};
      rows.forEach(function (row) {
        var ok = matches(row, w, null);
        row.hidden = !ok;
        if (ok) {
          shown += 1;
          var v = row.getAttribute("data-verdict");
          byVerdict[v] = (byVerdict[v] || 0) + 1;
        }
      });
      // each option's count: the rows it would show, given the other filters
      selects.forEach(function (s) {
        var key = s.getAttribute("data-filter");
        var counts = {};
        var all = 0;
        rows.forEach(function (row) {
          if (matches(row, w, key)) {
            all += 1;
            var v = row.getAttribute("data-" + key);
            counts[v] = (counts[v] || 0) + 1;
          }
        });
        Array.prototype.forEach.call(s.options, function (o) {
          var n = o.value ? (counts[o.value] || 0) : all;
          o.textContent = (o.value ? o.getAttribute("data-label") : "All") + " (" + n + ")";
        });
      });
      var parts = [];
      var verdictSel = form.querySelector('select[data-filter="verdict"]');
      if (verdictSel) {
        Array.prototype.forEach.call(verdictSel.options, function (o) {
          if (o.value && byVerdict[o.value]) { parts.push(byVerdict[o.value] + " " + o.value); }
        });
      }
      if (status) {
        status.textContent = "Showing " + shown + " of " + plural(total, "claim") +
          (parts.length ? ": " + parts.join(", ") + "." : ".");
      }
    }

    function key(row, by) {
      if (by === "id" || by === "made") { return row.getAttribute("data-" + by) || ""; }
      if (by === "order") { return Number(row.getAttribute("data-order")); }
      return Number(row.getAttribute("data-rank-" + by));
    }

    function sort() {
      var by = sortSel ? sortSel.value : "order";
      var sign = dirSel && dirSel.value === "desc" ? -1 : 1;
      var sorted = rows.slice().sort(function (a, b) {
        var ka = key(a, by), kb = key(b, by);
        var c = ka < kb ? -1 : (ka > kb ? 1 : 0);
        if (c === 0) { c = Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order")); return c; }
        return c * sign;
      });
      sorted.forEach(function (row) { tbody.appendChild(row); });
    }

    selects.forEach(function (s) { s.addEventListener("change", update); });
    if (search) { search.addEventListener("input", update); }
    if (sortSel) { sortSel.addEventListener("change", sort); }
    if (dirSel) { dirSel.addEventListener("change", sort); }
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("reset", function () {
      window.setTimeout(function () { sort(); update(); }, 0);  // after the browser has reset the fields
    });

    // presets from the address (?verdict=...&chapter=...&certainty=...&robustness=...&q=...)
    var params = new URLSearchParams(window.location.search);
    selects.forEach(function (s) {
      var v = params.get(s.getAttribute("data-filter"));
      if (v !== null && Array.prototype.some.call(s.options, function (o) { return o.value === v; })) { s.value = v; }
    });
    if (search && params.get("q")) { search.value = params.get("q"); }

    // a link to one row (#ledger-<id>) always shows that row
    var target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    form.hidden = false;
    update();
    if (target && target.hidden) {
      form.reset();
      selects.forEach(function (s) { s.value = ""; });
      if (search) { search.value = ""; }
      update();
      target.scrollIntoView();
    }
  }

  /* ---------------------------------------------------------------- cite this claim */

  function bib(text) {
    return String(text).replace(/[\\{}]/g, "").replace(/([&%$#_])/g, "\\$1");
  }

  function citation(review, nodes) {
    var author = (nodes[review.author["@id"]] || {}).name || "";
    var book = nodes[review.isPartOf["@id"]] || {};
    var item = review.itemReviewed || {};
    var source = (item.author || {}).name || "";
    var made = item.datePublished || "undated";
    var verdict = review.reviewRating.alternateName;
    var id = review.identifier;
    var text = author + ". Claim " + id + ": \u201c" + review.claimReviewed + "\u201d (" + source + ", " + made + "). " +
      "Verdict: " + verdict + ". In: " + book.name + ", release " + book.version + ", " + review.datePublished + ". " + review.url;
    var bibtex = [
      "@misc{vertint:" + id + ",",
      "  title = {Claim " + id + ": " + bib(verdict) + "},",
      "  author = {{" + bib(author) + "}},",
      "  howpublished = {" + bib(book.name) + ", release " + bib(book.version) + "},",
      "  year = {" + String(review.datePublished).slice(0, 4) + "},",
      "  url = {" + review.url + "},",
      "  note = {Claim reviewed: " + bib(review.claimReviewed) + " (" + bib(source) + ", " + made + ")},",
      "}"
    ].join("\n");
    return { text: text, bibtex: bibtex };
  }

  function snippet(label, cls, body) {
    var p = document.createElement("p");
    p.className = "claim-cite-label";
    p.textContent = label;
    var pre = document.createElement("pre");
    pre.className = cls;
    pre.textContent = body;
    return [p, pre];
  }

  function cite() {
    Array.prototype.forEach.call(document.querySelectorAll('script[type="application/ld+json"]'), function (script) {
      var doc;
      try { doc = JSON.parse(script.textContent); } catch (e) { return; }
      var graph = (doc && doc["@graph"]) || [];
      var nodes = {};
      var ledger = script.getAttribute("data-ledger");
      graph.forEach(function (n) { if (n["@id"]) { nodes[n["@id"]] = n; } });
      graph.forEach(function (review) {
        if (review["@type"] !== "ClaimReview") { return; }
        var box = document.getElementById(review.identifier);
        if (!box || box.querySelector(".claim-cite")) { return; }
        if (ledger) {
          var p = document.createElement("p");
          p.className = "claim-ledger-link";
          var a = document.createElement("a");
          a.href = ledger + "#ledger-" + review.identifier;
          a.textContent = "Its row in the claims ledger";
          p.appendChild(a);
          box.appendChild(p);
        }
        var c = citation(review, nodes);
        var details = document.createElement("details");
        details.className = "claim-cite";
        var summary = document.createElement("summary");
        summary.textContent = "Cite this claim";
        details.appendChild(summary);
        snippet("Plain text", "cite-text", c.text).concat(snippet("BibTeX", "cite-bibtex", c.bibtex))
          .forEach(function (el) { details.appendChild(el); });
        box.appendChild(details);
      });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".vertint-ledger"), setup);
    cite();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
