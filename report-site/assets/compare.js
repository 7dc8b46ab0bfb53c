// compare.html: pick any two jobs and compare them in the browser. Each job's data is a
// script file (data/jobs/<sweep>/<job>.js, written by the build) loaded on demand with a
// <script> element, so it works from file:// too. Everything is put in the page with
// textContent, never as markup.
(function () {
  'use strict';
  var site = window.__site || {};
  var index = site.jobsIndex && site.jobsIndex.main;
  var picker = document.getElementById('picker');
  if (!index || !picker) return;
  picker.hidden = false;
  var jobs = index.jobs.map(function (j) { return { key: j[0], host: j[1], scenario: j[2], sweepId: j[3], at: j[4], status: j[5], data: j[6], page: j[7] }; });
  var byKey = {};
  var series = {};
  jobs.forEach(function (j) {
    byKey[j.key] = j;
    var s = j.host + ' · ' + j.scenario;
    (series[s] = series[s] || []).push(j);
  });
  var seriesNames = Object.keys(series).sort();

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function fill(select, items, label, value) {
    select.textContent = '';
    items.forEach(function (item) {
      var o = el('option', label(item));
      o.value = value(item);
      select.appendChild(o);
    });
  }

  var loaded = {};
  function load(job) {
    if (loaded[job.key]) return loaded[job.key];
    loaded[job.key] = new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = job.data;
      s.onload = function () {
        var data = window.__site && window.__site.jobs && window.__site.jobs[job.key];
        if (data) resolve(data); else reject(new Error('no data for ' + job.key));
      };
      s.onerror = function () { reject(new Error('cannot load ' + job.data)); };
      document.head.appendChild(s);
    });
    return loaded[job.key];
  }

  // Values read as on the rest of the site: each unit's family (bytes in KiB/MiB/GiB, times in
  // ns/µs/ms/s, ratios as %) comes from the build (format.ts unitFamily), written into the job's
  // data file; this is the same choice of unit and rounding as format.ts formatValue.
  var families = {};
  function round(v, digits) {
    var r = Math.abs(v) >= Math.pow(10, digits) ? Math.round(v) : Number(v.toPrecision(digits));
    return r === 0 ? 0 : r;
  }
  function fmt(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    var f = families[unit] || { base: 1, steps: [{ size: 1, label: unit || '' }], own: 0 };
    var inBase = v * f.base;
    var mag = Math.abs(inBase);
    var i = f.own;
    if (mag > 0) { i = 0; while (i + 1 < f.steps.length && f.steps[i + 1].size <= mag) i++; }
    var shown = round(inBase / f.steps[i].size, 3);
    var next = f.steps[i + 1];
    if (next && Math.abs(shown) * f.steps[i].size >= next.size) { i++; shown = round(inBase / next.size, 3); }
    var text = shown.toLocaleString('en-US', { maximumFractionDigits: 20 });
    return f.steps[i].label ? text + ' ' + f.steps[i].label : text;
  }

  // as format.ts formatPercent (analysis/change-text.ts): "+12.3 %", "+10,733.6 %", "0 %" when it rounds to nothing
  var ONE_DECIMAL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function pct(v) {
    if (v === null || !isFinite(v)) return '—';
    var r = Number(v.toFixed(1));
    return r === 0 ? '0 %' : (r > 0 ? '+' : '') + ONE_DECIMAL.format(r) + ' %';
  }

  function groups(samples) {
    var out = {};
    samples.forEach(function (s) {
      var labels = Object.keys(s.labels).sort().map(function (k) { return k + '=' + s.labels[k]; }).join(', ');
      var id = s.metric + '\u0000' + labels;
      var g = out[id] || (out[id] = { metric: s.metric, labels: labels, unit: s.unit, better: s.better, values: [] });
      g.values.push(s.value);
    });
    return out;
  }

  function mean(values) {
    return values.length ? values.reduce(function (a, b) { return a + b; }, 0) / values.length : null;
  }

  /** A cell with a class: { cell: text or node, cls }. */
  function cell(content, cls) { return { cell: content, cls: cls }; }

  function table(headers, rows, cls) {
    var t = el('table', null, 'data' + (cls ? ' ' + cls : ''));
    var tr = el('tr');
    headers.forEach(function (h) { tr.appendChild(h && h.cls !== undefined ? el('th', h.cell, h.cls) : el('th', h)); });
    t.appendChild(el('thead')).appendChild(tr);
    var body = t.appendChild(el('tbody'));
    rows.forEach(function (r) {
      var row = body.appendChild(el('tr'));
      r.forEach(function (c) {
        var cls = c && c.cls !== undefined ? c.cls : '';
        var content = c && c.cls !== undefined ? c.cell : c;
        var td = row.appendChild(el('td', null, cls));
        if (content && content.nodeType) td.appendChild(content);
        else td.textContent = content === null || content === undefined ? '' : String(content);
      });
    });
    return t;
  }

  // The verdict rule of the pair pages (analysis/compare.ts readChange), line for line. The
  // picker runs no significance test: where the sample counts could reach the threshold it says
  // so ("not tested here"); where they cannot (one sample each: p is 1 whatever the values) it
  // reads exactly as the pair page: p "—" and "worse, untested (1 sample each)".
  var pThreshold = typeof index.pValue === 'number' ? index.pValue : 0.05;
  function choose(n, k) { var r = 1; for (var i = 1; i <= k; i++) r = r * (n - k + i) / i; return Math.round(r); }
  // the smallest two-sided Mann-Whitney p these counts could give without ties (ties only raise it)
  function smallestP(n, m) { return n && m ? Math.min(1, 2 / choose(n + m, n)) : null; }
  function countText(n, m) { return n === m ? n + ' sample' + (n === 1 ? '' : 's') + ' each' : n + ' vs ' + m + ' samples'; }
  function readChange(better, nA, meanA, nB, meanB, delta, minRel) {
    if (meanA === null || meanB === null) return { call: 'missing', tested: false, text: 'missing' };
    var counts = countText(nA, nB);
    var canTest = smallestP(nA, nB) <= pThreshold;
    if (meanA === meanB || (delta !== null && Math.abs(delta) < minRel * 100)) return { call: 'same', tested: false, text: 'same', testable: canTest, counts: counts };
    var call = better === 'none' ? 'changed' : (meanB > meanA) === (better === 'higher') ? 'better' : 'worse';
    return { call: call, tested: false, text: call + (canTest ? ', not tested here (' : ', untested (') + counts + ')', testable: canTest, counts: counts };
  }
  var CALL_ORDER = { worse: 0, better: 1, changed: 2, missing: 3, same: 4 };

  // the recorded memory in its unit, as the job and pair pages say it (64 GiB, not 67108864 kB)
  var KIB = { base: 1024, steps: ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].map(function (label, i) { return { size: Math.pow(1024, i), label: label }; }), own: 1 };

  function render(a, b, ja, jb) {
    var result = document.getElementById('result');
    result.textContent = '';
    var head = result.appendChild(el('p', null, 'lead'));
    var la = el('a', 'A: ' + ja.host + ' · ' + ja.scenario + ' · ' + ja.sweepId); la.href = ja.page;
    var lb = el('a', 'B: ' + jb.host + ' · ' + jb.scenario + ' · ' + jb.sweepId); lb.href = jb.page;
    head.appendChild(la); head.appendChild(document.createTextNode('  vs  ')); head.appendChild(lb);
    [a, b].forEach(function (d) { Object.keys(d.units || {}).forEach(function (u) { families[u] = d.units[u]; }); });
    families.KiB = families.KiB || KIB;
    var ga = groups(a.samples), gb = groups(b.samples);
    var ids = Object.keys(ga).concat(Object.keys(gb).filter(function (k) { return !ga[k]; })).sort();
    var minRel = index.minRelativeChange;
    var compared = ids.map(function (id) {
      var x = ga[id], y = gb[id], g = x || y;
      var nA = x ? x.values.length : 0, nB = y ? y.values.length : 0;
      var ma = x ? mean(x.values) : null, mb = y ? mean(y.values) : null;
      var delta = ma !== null && mb !== null ? (ma !== 0 ? (mb - ma) / Math.abs(ma) * 100 : mb === 0 ? 0 : null) : null;
      return { g: g, ma: ma, mb: mb, delta: delta, reading: readChange(g.better, nA, ma, nB, mb, delta, minRel) };
    });
    compared.sort(function (p, q) { return CALL_ORDER[p.reading.call] - CALL_ORDER[q.reading.call] || (p.g.metric < q.g.metric ? -1 : p.g.metric > q.g.metric ? 1 : p.g.labels < q.g.labels ? -1 : p.g.labels > q.g.labels ? 1 : 0); });
    var rows = compared.map(function (c) {
      var r = c.reading;
      var tone = r.call === 'worse' || r.call === 'better' ? ' delta-' + r.call : '';
      var p = el('span', '—', r.call !== 'missing' ? 'p-na' : '');
      if (r.call !== 'missing') p.title = r.testable ? 'not tested here: open the pair page' : 'n/a: ' + r.counts;
      var untested = r.call !== 'same' && r.call !== 'missing' ? ' untested' : '';
      return [c.g.metric, c.g.labels, cell(fmt(c.ma, c.g.unit), 'num nowrap'), cell(fmt(c.mb, c.g.unit), 'num nowrap'), cell(pct(c.delta), 'num nowrap delta' + tone), cell(p, 'num nowrap'), el('span', r.text, 'verdict verdict-' + r.call + untested)];
    });
    result.appendChild(el('h2', 'Metrics'));
    var envKeys = Object.keys(a.env);
    var envText = function (k, v) { return k === 'memory (kB)' && /^\d+$/.test(v) ? fmt(Number(v), 'KiB') : v; };
    var envName = function (k) { return k === 'memory (kB)' ? 'memory' : k; };
    var names = Object.keys(a.packages).concat(Object.keys(b.packages).filter(function (n) { return !(n in a.packages); })).sort();
    var changedPackages = names.filter(function (n) { return a.packages[n] !== b.packages[n]; });
    var differs = envKeys.filter(function (k) { return a.env[k] !== b.env[k]; }).map(function (k) { return envName(k) + ' ' + envText(k, a.env[k]) + ' → ' + envText(k, b.env[k]); });
    if (changedPackages.length) {
      differs.push(changedPackages.length + ' package' + (changedPackages.length === 1 ? '' : 's') + ': ' + changedPackages.slice(0, 3).map(function (n) { return n + ' ' + (a.packages[n] || '(none)') + ' → ' + (b.packages[n] || '(none)'); }).join(', ') + (changedPackages.length > 3 ? ', ' + (changedPackages.length - 3) + ' more' : ''));
    }
    var line = result.appendChild(el('p', null, differs.length ? 'compare-differs' : 'compare-differs muted'));
    if (differs.length) { line.appendChild(el('strong', 'What differs:')); line.appendChild(document.createTextNode(' ' + differs.join(' · '))); }
    else line.textContent = 'Same recorded environment (build, kernel, packages).';
    result.appendChild(el('p', 'Δ is (B − A) / A; a change under ' + (minRel * 100).toFixed(0) + ' % is "same". This picker runs no significance test: with too few samples for any test (one each: p is 1 whatever the values) the verdict rests on the size and direction of the change, as on the pre-rendered pair pages below ("worse, untested"); with more, open the pair page for the test.', 'small muted'));
    result.appendChild(table(['Metric', 'Labels', cell('A', 'num'), cell('B', 'num'), cell('Δ', 'num'), cell('p', 'num'), 'Verdict'], rows, 'compare-metrics'));
    result.appendChild(el('h2', 'Environment'));
    var envRows = envKeys.map(function (k) {
      var same = a.env[k] === b.env[k];
      return [envName(k) + (same ? '' : ' (differs)'), envText(k, a.env[k]), envText(k, b.env[k])];
    });
    result.appendChild(table(['Field', 'A', 'B'], envRows));
    var pkgRows = changedPackages.map(function (n) {
      return [n, a.packages[n] || '—', b.packages[n] || '—', !(n in a.packages) ? 'added' : !(n in b.packages) ? 'removed' : 'changed'];
    });
    result.appendChild(el('h3', 'Packages'));
    result.appendChild(pkgRows.length ? table(['Package', 'A', 'B', 'Change'], pkgRows) : el('p', 'Same package versions.', 'muted'));
  }

  var sides = ['a', 'b'].map(function (side) {
    return { side: side, series: document.getElementById(side + '-series'), job: document.getElementById(side + '-job') };
  });

  function jobsOf(name) { return (series[name] || []).slice().sort(function (x, y) { return x.sweepId < y.sweepId ? 1 : -1; }); }

  function setSide(s, key) {
    var job = byKey[key];
    var name = job ? job.host + ' · ' + job.scenario : seriesNames[0];
    s.series.value = name;
    fill(s.job, jobsOf(name), function (j) { return j.sweepId + ' (' + j.status + ')'; }, function (j) { return j.key; });
    if (job) s.job.value = key;
  }

  function update() {
    var ka = sides[0].job.value, kb = sides[1].job.value;
    history.replaceState(null, '', '#a=' + encodeURIComponent(ka) + '&b=' + encodeURIComponent(kb));
    var ja = byKey[ka], jb = byKey[kb];
    if (!ja || !jb) return;
    Promise.all([load(ja), load(jb)]).then(function (d) { render(d[0], d[1], ja, jb); }).catch(function (e) {
      var result = document.getElementById('result');
      result.textContent = 'Could not load the job data: ' + e.message;
    });
  }

  /** The run of a job's host and scenario before it, if any. */
  function previousOf(key) {
    var job = byKey[key];
    if (!job) return undefined;
    var runs = jobsOf(job.host + ' · ' + job.scenario);
    var i = runs.indexOf(job);
    return i >= 0 ? runs[i + 1] : undefined;
  }

  // B picks the job; A follows it to that job's previous run (pick A yourself afterwards to compare any two)
  function followB() {
    var prev = previousOf(sides[1].job.value);
    if (prev) setSide(sides[0], prev.key);
  }

  sides.forEach(function (s) {
    fill(s.series, seriesNames, function (n) { return n; }, function (n) { return n; });
    s.series.addEventListener('change', function () {
      setSide(s, (jobsOf(s.series.value)[0] || {}).key);
      if (s.side === 'b') followB();
      update();
    });
    s.job.addEventListener('change', function () {
      if (s.side === 'b') followB();
      update();
    });
  });

  var hash = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (p) { var i = p.indexOf('='); if (i > 0) hash[p.slice(0, i)] = decodeURIComponent(p.slice(i + 1)); });
  // by default: the latest run of a job against its previous run (the newest job that has one)
  var newestFirst = jobs.slice().sort(function (x, y) { return x.sweepId < y.sweepId ? 1 : x.sweepId > y.sweepId ? -1 : (x.host + x.scenario < y.host + y.scenario ? -1 : 1); });
  var latest = newestFirst.filter(function (j) { return previousOf(j.key); })[0] || newestFirst[0];
  var b = hash.b && byKey[hash.b] ? hash.b : latest && latest.key;
  var prev = previousOf(b);
  var a = hash.a && byKey[hash.a] ? hash.a : prev ? prev.key : b;
  setSide(sides[0], a);
  setSide(sides[1], b);
  update();
})();
