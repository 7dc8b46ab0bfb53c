// Progressive enhancement for the report site (no inline script anywhere: the pages' CSP
// allows only files from the site). Replaces the pre-rendered SVG charts with interactive
// vega-embed views, and makes the sweeps table sortable and filterable with its state in
// the URL hash. Host text is only ever set with textContent.
(function () {
  'use strict';

  // A chart's rows as charts.js carries them, by column (encode.ts, columnRows), back as the
  // rows themselves: the same fields, values and order the builder made.
  function expandRows(columns) {
    var rows = [];
    for (var i = 0; i < columns.n; i++) rows.push({});
    columns.c.forEach(function (column) {
      var field = column[0];
      var byIndex = column[1] === 1;
      var data = column[2];
      var absent = {};
      (column[3] || []).forEach(function (row) { absent[row] = true; });
      for (var i = 0; i < columns.n; i++) {
        if (absent[i]) continue;
        var value = byIndex ? data[0][data[1][i]] : data[i];
        // defineProperty: a field named __proto__ is a field, never the row's prototype
        Object.defineProperty(rows[i], field, { value: value, writable: true, enumerable: true, configurable: true });
      }
    });
    return rows;
  }

  // Every `data: { siteRows }` in a spec (at any depth) as `data: { values }`, in place.
  function expandSpec(node) {
    if (Array.isArray(node)) { node.forEach(expandSpec); return; }
    if (!node || typeof node !== 'object') return;
    Object.keys(node).forEach(function (key) {
      var value = node[key];
      if (key === 'data' && value && value.siteRows) {
        value.values = expandRows(value.siteRows);
        delete value.siteRows;
      } else {
        expandSpec(value);
      }
    });
  }

  function embedCharts() {
    var store = (window.__site && window.__site.charts) || {};
    if (typeof window.vegaEmbed !== 'function') return;
    var figures = document.querySelectorAll('figure.chart[data-chart]');
    figures.forEach(function (figure) {
      var spec = store[figure.getAttribute('data-chart')];
      var view = figure.querySelector('.chart-view');
      if (!spec || !view) return;
      expandSpec(spec);
      var live = document.createElement('div');
      live.className = 'chart-live';
      var options = {
        renderer: 'svg',
        actions: { export: true, source: false, compiled: false, editor: false },
        ast: true,
        tooltip: { theme: 'light' },
      };
      if (window.vegaInterpreter) options.expr = window.vegaInterpreter.expressionInterpreter;
      view.parentNode.insertBefore(live, view);
      live.hidden = true;
      window.vegaEmbed(live, spec, options).then(function () {
        view.remove();
        live.hidden = false;
        figure.classList.add('interactive');
      }).catch(function (error) {
        live.remove();
        console.warn('chart stays static:', error && error.message);
      });
    });
  }

  function readHash() {
    var state = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      if (!part) return;
      var i = part.indexOf('=');
      var key = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      state[key] = i < 0 ? '' : decodeURIComponent(part.slice(i + 1));
    });
    return state;
  }

  function writeHash(state) {
    var parts = Object.keys(state).filter(function (k) { return state[k] !== '' && state[k] !== undefined; }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(state[k]);
    });
    history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search);
  }

  function enhanceSweeps() {
    var table = document.getElementById('sweeps');
    var controls = document.getElementById('sweep-controls');
    if (!table || !controls) return;
    controls.hidden = false;
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var filter = document.getElementById('filter');
    var statusFilter = document.getElementById('status-filter');
    var regressedOnly = document.getElementById('regressed-only');
    var count = document.getElementById('row-count');
    var headers = table.querySelectorAll('th[data-sort]');
    var state = readHash();

    function apply() {
      var q = (state.q || '').toLowerCase();
      var st = state.status || '';
      var reg = state.regressed === '1';
      var shown = 0;
      rows.forEach(function (row) {
        var ok = (!q || row.getAttribute('data-text').indexOf(q) >= 0) && (!st || row.getAttribute('data-status') === st) && (!reg || Number(row.getAttribute('data-regressions')) > 0);
        row.hidden = !ok;
        if (ok) shown++;
      });
      var key = state.sort || 'date';
      var dir = state.dir === 'asc' ? 1 : -1;
      var header = table.querySelector('th[data-sort="' + key + '"]');
      var numeric = header && header.getAttribute('data-type') === 'number';
      var sorted = rows.slice().sort(function (a, b) {
        var x = a.getAttribute('data-' + key) || '';
        var y = b.getAttribute('data-' + key) || '';
        var c = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
        return c * dir;
      });
      sorted.forEach(function (row) { tbody.appendChild(row); });
      headers.forEach(function (h) {
        if (h.getAttribute('data-sort') === key) h.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        else h.removeAttribute('aria-sort');
      });
      count.textContent = shown + ' of ' + rows.length + ' sweep(s)';
      writeHash(state);
    }

    filter.value = state.q || '';
    statusFilter.value = state.status || '';
    regressedOnly.checked = state.regressed === '1';
    filter.addEventListener('input', function () { state.q = filter.value; apply(); });
    statusFilter.addEventListener('change', function () { state.status = statusFilter.value; apply(); });
    regressedOnly.addEventListener('change', function () { state.regressed = regressedOnly.checked ? '1' : ''; apply(); });
    headers.forEach(function (h) {
      h.tabIndex = 0;
      function sort() {
        var key = h.getAttribute('data-sort');
        if ((state.sort || 'date') === key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
        else { state.sort = key; state.dir = 'desc'; }
        apply();
      }
      h.addEventListener('click', sort);
      h.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
    apply();
  }

  // a link to a chart in a folded section (a matrix cell, a detected change) unfolds it
  function revealTarget() {
    var id = decodeURIComponent(location.hash.replace(/^#/, ''));
    var target = id && document.getElementById(id);
    if (!target) return;
    var folded = false;
    for (var el = target.parentElement; el; el = el.parentElement) {
      if (el.tagName === 'DETAILS' && !el.open) { el.open = true; folded = true; }
    }
    if (folded) target.scrollIntoView();
  }

  embedCharts();
  revealTarget();
  window.addEventListener('hashchange', revealTarget);
  enhanceSweeps();
})();
