// adshift plan review: renders every change and device from the embedded
// data, one page of rows at a time, and filters them. No network access.
(function () {
  "use strict";
  var t0 = performance.now();
  var raw = JSON.parse(document.getElementById("plan-data").textContent);
  var S = raw.s, C = raw.c, D = raw.d, R = raw.r === 1;
  var PAGE = 100, VALUES = 20;
  var MARK = { replace: "~", add: "+", "delete": "\u2212" };

  function s(i) { return i < 0 ? "" : S[i]; }
  function esc(x) {
    return String(x).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Lower-case search keys, built once, on the first search.
  var ckeys = null, dkeys = null;
  function buildKeys() {
    ckeys = new Array(C.length);
    for (var i = 0; i < C.length; i++) {
      var c = C[i];
      ckeys[i] = (s(c[1]) + "\n" + s(c[2]) + "\n" + s(c[4]) + "\n" + s(c[5]) + "\n" + s(c[6])).toLowerCase();
    }
    dkeys = new Array(D.length);
    for (var j = 0; j < D.length; j++) {
      var d = D[j];
      dkeys[j] = (s(d[0]) + "\n" + s(d[2]) + "\n" + s(d[3]) + "\n" + d[4] + "\n" + d[6].map(s).join("\n") + "\n" + s(d[8]) + "\n" +
        d[5].map(s).join("\n") + "\n" + d[10].map(s).join("\n")).toLowerCase();
    }
  }

  var el = function (id) { return document.getElementById(id); };
  var f = { q: el("f-q"), kind: el("f-kind"), action: el("f-action"), wave: el("f-wave"), ready: el("f-ready") };
  // view: the filtered rows and the page shown, for the changes ("changes")
  // and for each wave's devices ("dev:" + wave).
  var view = { changes: { rows: [], page: 0 } };
  var waves = Array.prototype.slice.call(document.querySelectorAll(".devices-live"));

  function filter() {
    var t1 = performance.now();
    var q = f.q.value.trim().toLowerCase();
    if (q && !ckeys) buildKeys();
    var kind = f.kind.value, action = f.action.value, wave = f.wave.value, ready = f.ready.value;
    var rows = [];
    for (var i = 0; i < C.length; i++) {
      var c = C[i];
      if (kind && s(c[2]) !== kind) continue;
      if (action && c[3] !== action) continue;
      if (q && ckeys[i].indexOf(q) < 0) continue;
      rows.push(i);
    }
    view.changes = { rows: rows, page: 0 };
    var ndev = 0;
    waves.forEach(function (w) { view["dev:" + w.getAttribute("data-wave")] = { rows: [], page: 0 }; });
    for (var j = 0; j < D.length; j++) {
      var d = D[j];
      if (wave && s(d[1]) !== wave) continue;
      if (ready && d[4] !== ready) continue;
      if (q && dkeys[j].indexOf(q) < 0) continue;
      var v = view["dev:" + s(d[1])];
      if (v) { v.rows.push(j); ndev++; }
    }
    waves.forEach(function (w) { w.hidden = !!wave && w.getAttribute("data-wave") !== wave; });
    el("f-count").textContent = rows.length.toLocaleString("en") + " of " + C.length.toLocaleString("en") + " changes, " +
      ndev.toLocaleString("en") + " of " + D.length.toLocaleString("en") + " devices";
    render();
    var root = document.documentElement;
    root.setAttribute("data-filtered", String(+(root.getAttribute("data-filtered") || 0) + 1));
    root.setAttribute("data-filtered-q", q);
    root.setAttribute("data-filter-ms", String(Math.round(performance.now() - t1)));
  }

  function values(ids) {
    var out = "", n = Math.min(ids.length, VALUES);
    for (var i = 0; i < n; i++) out += '<div class="v">' + esc(s(ids[i])) + "</div>";
    if (ids.length > n) out += '<div class="more">\u2026 and ' + (ids.length - n) + ' more <button type="button" class="all">show all</button></div>';
    return out;
  }

  // renderChange writes what ui/html.go's change writes.
  function renderChange(i, full) {
    var c = C[i], h = '<div class="change" data-i="' + i + '"><div class="ch-head"><span class="act act-' + c[3] + '">' + c[3] +
      '</span> <code class="addr">' + esc(s(c[1])) + '</code> <span class="kind">' + esc(s(c[2])) + '</span> <span class="dn">' +
      esc(s(c[4])) + (c[5] >= 0 ? " \u2192 " + esc(s(c[5])) : "") + "</span>" +
      (c[6] >= 0 ? ' <span class="reason">(' + esc(s(c[6])) + ")</span>" : "") + "</div>";
    var attrs = c[7];
    if (attrs.length) {
      h += '<table class="attrs"><thead><tr><th></th><th>attribute</th><th>before</th><th>after</th></tr></thead><tbody>';
      for (var k = 0; k < attrs.length; k++) {
        var a = attrs[k];
        h += '<tr class="op-' + a[1] + '"><td class="op">' + (c[3] === "create" ? "+" : MARK[a[1]]) + '</td><td class="name">' + esc(s(a[0])) +
          '</td><td class="before">' + (full ? a[2].map(function (x) { return '<div class="v">' + esc(s(x)) + "</div>"; }).join("") : values(a[2])) +
          '</td><td class="after">' + (full ? a[3].map(function (x) { return '<div class="v">' + esc(s(x)) + "</div>"; }).join("") : values(a[3])) + "</td></tr>";
      }
      h += "</tbody></table>";
    }
    return h + "</div>";
  }

  function list(ids) {
    return ids.length ? "<ul>" + ids.map(function (x) { return "<li>" + esc(s(x)) + "</li>"; }).join("") + "</ul>" : "";
  }

  // renderDevice writes what ui/html.go's device writes.
  function renderDevice(j) {
    var d = D[j], h = '<tr class="st-' + d[4] + '"><td>' + esc(s(d[2])) + "</td><td>" + esc(s(d[3])) +
      '</td><td><span class="badge ' + d[4] + '">' + d[4] + '</span></td><td class="agent">' + esc(s(d[8])) +
      '</td><td class="job">' + (d[9] ? '<span class="badge rollback">rollback</span> ' : "") + list(d[5]) +
      '</td><td class="blockers">' + list(d[6]);
    if (R) {
      var rs = d[10], r = "";
      for (var k = 0; k + 1 < rs.length; k += 2) r += '<li class="res-' + esc(s(rs[k])) + '">' + esc(s(rs[k + 1])) + "</li>";
      h += '</td><td class="results">' + (r ? "<ul>" + r + "</ul>" : "");
    }
    return h + "</td></tr>";
  }

  function pager(name) {
    var v = view[name], pages = Math.max(1, Math.ceil(v.rows.length / PAGE));
    var from = v.rows.length ? v.page * PAGE + 1 : 0, to = Math.min(v.rows.length, (v.page + 1) * PAGE);
    var h = '<button type="button" data-go="prev"' + (v.page === 0 ? " disabled" : "") + '>\u2039 previous</button>' +
      "<span>" + from.toLocaleString("en") + "\u2013" + to.toLocaleString("en") + " of " + v.rows.length.toLocaleString("en") +
      " (page " + (v.page + 1) + " of " + pages + ")</span>" +
      '<button type="button" data-go="next"' + (v.page >= pages - 1 ? " disabled" : "") + ">next \u203a</button>";
    var ps = document.querySelectorAll(".pager");
    for (var i = 0; i < ps.length; i++) if (ps[i].getAttribute("data-for") === name) ps[i].innerHTML = h;
  }

  function render() {
    var v = view.changes, h = "";
    var end = Math.min(v.rows.length, (v.page + 1) * PAGE);
    for (var i = v.page * PAGE; i < end; i++) h += renderChange(v.rows[i], false);
    el("changes-body").innerHTML = h || '<p class="note">No change matches the filters.</p>';
    pager("changes");
    waves.forEach(function (w) {
      var key = "dev:" + w.getAttribute("data-wave"), v = view[key], dh = "";
      var dend = Math.min(v.rows.length, (v.page + 1) * PAGE);
      for (var j = v.page * PAGE; j < dend; j++) dh += renderDevice(v.rows[j]);
      w.querySelector("tbody").innerHTML = dh || '<tr><td colspan="' + (R ? 7 : 6) + '" class="note">No device of this wave matches the filters.</td></tr>';
      pager(key);
    });
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b) return;
    var p = b.closest(".pager");
    if (p) {
      var v = view[p.getAttribute("data-for")];
      v.page += b.getAttribute("data-go") === "next" ? 1 : -1;
      render();
      return;
    }
    if (b.classList.contains("all")) {
      var ch = b.closest(".change");
      ch.outerHTML = renderChange(+ch.getAttribute("data-i"), true);
    }
  });
  var timer = 0;
  f.q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(filter, 150); });
  [f.kind, f.action, f.wave, f.ready].forEach(function (x) { x.addEventListener("change", filter); });

  // Scripts run: the interactive tables replace the static ones.
  var st = document.querySelectorAll(".static");
  for (var k = 0; k < st.length; k++) st[k].remove();
  el("filters").hidden = false;
  el("changes-live").hidden = false;
  waves.forEach(function (w) { w.hidden = false; });
  filter();
  document.documentElement.setAttribute("data-ready", String(Math.round(performance.now() - t0)));
})();
