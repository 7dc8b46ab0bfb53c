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

  // as format.ts formatPercent: "+12.3 %", "0 %" when it rounds to nothing
  function pct(v) {
    if (v === null || !isFinite(v)) return '—';
    var r = Number(v.toFixed(1));
    return r === 0 ? '0 %' : (r > 0 ? '+' : '') + r.toFixed(1) + ' %';
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

  function table(headers, rows) {
    var t = el('table', null, 'data');
    var tr = el('tr');
    headers.forEach(function (h) { tr.appendChild(el('th', h)); });
    t.appendChild(el('thead')).appendChild(tr);
    var body = t.appendChild(el('tbody'));
    rows.forEach(function (r) {
      var row = body.appendChild(el('tr'));
      r.forEach(function (cell) {
        if (cell && cell.nodeType) row.appendChild(el('td')).appendChild(cell);
        else row.appendChild(el('td', cell));
      });
    });
    return t;
  }

  function render(a, b, ja, jb) {
    var result = document.getElementById('result');
    result.textContent = '';
    var head = result.appendChild(el('p', null, 'lead'));
    var la = el('a', 'A: ' + ja.host + ' · ' + ja.scenario + ' · ' + ja.sweepId); la.href = ja.page;
    var lb = el('a', 'B: ' + jb.host + ' · ' + jb.scenario + ' · ' + jb.sweepId); lb.href = jb.page;
    head.appendChild(la); head.appendChild(document.createTextNode('  vs  ')); head.appendChild(lb);
    [a, b].forEach(function (d) { Object.keys(d.units || {}).forEach(function (u) { families[u] = d.units[u]; }); });
    var ga = groups(a.samples), gb = groups(b.samples);
    var ids = Object.keys(ga).concat(Object.keys(gb).filter(function (k) { return !ga[k]; })).sort();
    var minRel = index.minRelativeChange;
    var rows = ids.map(function (id) {
      var x = ga[id], y = gb[id], g = x || y;
      var ma = x ? mean(x.values) : null, mb = y ? mean(y.values) : null;
      var delta = ma !== null && mb !== null && ma !== 0 ? (mb - ma) / Math.abs(ma) * 100 : null;
      var verdict = ma === null || mb === null ? 'missing' : delta === null || Math.abs(delta) < minRel * 100 || g.better === 'none' ? 'same' : (delta > 0) === (g.better === 'higher') ? 'better' : 'worse';
      return [g.metric, g.labels, fmt(ma, g.unit), fmt(mb, g.unit), pct(delta), el('span', verdict, 'verdict verdict-' + verdict)];
    });
    result.appendChild(el('h2', 'Metrics'));
    result.appendChild(el('p', 'Δ is (B − A) / A; a change under ' + (minRel * 100).toFixed(0) + ' % is "same". The pre-rendered pairs below also test significance.', 'small muted'));
    result.appendChild(table(['Metric', 'Labels', 'A', 'B', 'Δ', 'Verdict'], rows));
    result.appendChild(el('h2', 'Environment'));
    var envRows = Object.keys(a.env).map(function (k) {
      var same = a.env[k] === b.env[k];
      return [k + (same ? '' : ' (differs)'), a.env[k], b.env[k]];
    });
    result.appendChild(table(['Field', 'A', 'B'], envRows));
    var names = Object.keys(a.packages).concat(Object.keys(b.packages).filter(function (n) { return !(n in a.packages); })).sort();
    var pkgRows = names.filter(function (n) { return a.packages[n] !== b.packages[n]; }).map(function (n) {
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
