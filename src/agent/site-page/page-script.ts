// The site page's script (served as /site.js), plain ES2017 for any phone's browser. It listens to
// /api/site/events (server-sent events; each event is the whole document of site-document.ts),
// falls back to polling /api/site every 2 s when the stream is refused, and redraws the page from
// the last document, once a second at least, so that ages keep counting and silence shows.
// Everything from ZooKeeper is untrusted text (any program may write a command): it reaches the
// page through textContent and attributes, never as HTML.
//
// Kept as a string (String.raw: backslashes stay as written; so it has no backtick and no
// dollar-brace) so that the build ships it inside dist/ with no copy step; test/agent/site-page.test.ts
// compiles it.
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';

  // The agent pushes at least once a second: this long without a word, it is called unreachable.
  var SILENT_AFTER_MS = 5000;
  // Polling period when the event stream is refused (too many pages open) or unavailable.
  var POLL_MS = 2000;
  // The site view is called old after this many of its refresh periods (plus 2 s).
  var VIEW_OLD_PERIODS = 3;
  // A device's values are called stale after this many poll intervals (plus 2 s) without a good poll.
  var STALE_POLLS = 3;
  // The agent stamps and ages everything by ZooKeeper's clock; its gateway's own clock further off
  // than this (ms, CLOCK_OFF_WARN_MS of clock.ts) is said in the banner.
  var CLOCK_OFF_MS = 2000;
  var SVG = 'http://www.w3.org/2000/svg';
  var CHART_W = 140, CHART_H = 32, CHART_PAD = 2;

  var doc = null;
  var receivedAt = 0;          // Date.now() when doc came: only differences of this clock are used
  var history = {};            // device -> { t: [ms], points: { name: [value or null] } }
  var sampleMs = 5000;
  var windowMs = 15 * 60 * 1000;
  var transport = 'connecting';
  var contactError = null;

  // ---- small DOM helpers ----------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      node.setAttribute(k, v === true ? '' : String(v));
    });
  }

  function append(node, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
  }

  // Replaces a section's content. Tables scrolled sideways (on a phone) stay where the reader put
  // them: the new tables have the same order as the old ones.
  function fill(sectionId, content) {
    var body = document.querySelector('#' + sectionId + ' .body');
    var scrolled = Array.prototype.map.call(body.querySelectorAll('.table-wrap'), function (w) { return w.scrollLeft; });
    body.replaceChildren.apply(body, Array.isArray(content) ? content : [content]);
    Array.prototype.forEach.call(body.querySelectorAll('.table-wrap'), function (w, i) {
      if (scrolled[i]) w.scrollLeft = scrolled[i];
    });
  }

  function table(headings, rows) {
    if (rows.length === 0) return el('p', { class: 'empty' }, 'none');
    var head = el('tr', null, headings.map(function (h) { return el('th', null, h); }));
    return el('div', { class: 'table-wrap' }, el('table', null, [el('thead', null, head), el('tbody', null, rows)]));
  }

  function pill(word, extra) {
    return el('span', { class: 'pill ' + word + (extra ? ' ' + extra : '') }, word);
  }

  function str(v) {
    if (v === null || v === undefined) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  function isObject(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  }

  // ---- time -----------------------------------------------------------------------------------

  // The agent's clock now: its generatedAt plus the time since the document came. The agent's clock
  // is ZooKeeper-corrected, the one every time in the document is stamped by, so ages and "stale"
  // are right whatever this browser's clock or the gateway's own says.
  function agentNow() {
    return Date.parse(doc.generatedAt) + (Date.now() - receivedAt);
  }

  function sinceIso(iso) {
    var t = typeof iso === 'string' ? Date.parse(iso) : NaN;
    return isFinite(t) ? Math.max(0, agentNow() - t) : null;
  }

  function duration(ms) {
    var s = Math.max(0, ms) / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
    if (s < 172800) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' days';
  }

  function ago(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return 'never';
    return duration(ms) + ' ago';
  }

  function clockTime(ms) {
    var d = new Date(ms);
    return isFinite(d.getTime()) ? d.toLocaleTimeString() : '?';
  }

  // ---- values ---------------------------------------------------------------------------------

  function formatNumber(v) {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }

  function valueNode(v, unit) {
    if (v === null) return el('span', { class: 'not-implemented' }, 'not implemented');
    if (typeof v === 'number') return el('span', { class: 'value' }, formatNumber(v) + (unit ? ' ' + unit : ''));
    if (typeof v === 'boolean') return el('span', { class: 'value' }, v ? 'true' : 'false');
    return el('span', { class: 'value' }, str(v));
  }

  // ---- history --------------------------------------------------------------------------------

  // The agent's history (point-history.ts): per device, base64 of n little-endian float64 sample
  // times, then n little-endian float32 values for each of its points in order (NaN: no value).
  function decodeHistory(devices) {
    var out = {};
    Object.keys(devices).forEach(function (id) {
      var d = devices[id];
      var n = d.n;
      var bin = atob(d.data);
      var view = new DataView(new ArrayBuffer(bin.length));
      for (var i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
      var t = new Array(n);
      for (var k = 0; k < n; k++) t[k] = view.getFloat64(k * 8, true);
      var points = {};
      d.points.forEach(function (p, j) {
        var column = new Array(n);
        for (var k2 = 0; k2 < n; k2++) {
          var v = view.getFloat32(n * 8 + (j * n + k2) * 4, true);
          column[k2] = isNaN(v) ? null : v;
        }
        points[p] = column;
      });
      out[id] = { t: t, points: points };
    });
    return out;
  }

  // A document without history: add each device's reading as a sample (at most one per sampleMs),
  // as the agent does for its own history.
  function appendSamples(d) {
    var devices = d.readings.devices;
    Object.keys(devices).forEach(function (id) {
      var r = devices[id];
      if (r.status !== 'ok' || typeof r.readAt !== 'string') return;
      var t = Date.parse(r.readAt);
      var h = history[id] || (history[id] = { t: [], points: {} });
      var last = h.t.length ? h.t[h.t.length - 1] : -Infinity;
      if (!(t - last >= sampleMs)) return;
      var i = h.t.length;
      h.t.push(t);
      Object.keys(h.points).forEach(function (p) { h.points[p].push(null); });
      Object.keys(r.values).forEach(function (p) {
        var v = r.values[p];
        if (typeof v !== 'number' || !isFinite(v)) return;
        if (!h.points[p]) h.points[p] = new Array(i + 1).fill(null);
        // As float32, like the agent's own history: a counter must not seem to move where the two meet.
        h.points[p][i] = Math.fround(v);
      });
    });
    var since = Date.parse(d.generatedAt) - windowMs;
    Object.keys(history).forEach(function (id) {
      var h = history[id];
      var drop = 0;
      while (drop < h.t.length && h.t[drop] < since) drop++;
      if (drop === 0) return;
      h.t.splice(0, drop);
      Object.keys(h.points).forEach(function (p) { h.points[p].splice(0, drop); });
    });
  }

  function chart(deviceId, point, unit) {
    var h = history[deviceId];
    var column = h && h.points[point];
    if (!column) return null;
    var end = agentNow();
    var since = end - windowMs;
    var min = Infinity, max = -Infinity, n = 0, first = Infinity;
    for (var i = 0; i < column.length; i++) {
      var v = column[i];
      if (v === null || h.t[i] < since) continue;
      n++;
      if (v < min) min = v;
      if (v > max) max = v;
      if (h.t[i] < first) first = h.t[i];
    }
    // Until the agent has run for the whole window, the chart spans what there is.
    var start = Math.max(since, first);
    var span = Math.max(end - start, sampleMs);
    var attrs = { class: 'chart', viewBox: '0 0 ' + CHART_W + ' ' + CHART_H, preserveAspectRatio: 'none', role: 'img', 'data-samples': n };
    if (n === 0) return svg('svg', attrs);
    var lo = min === max ? min - 1 : min;
    var hi = min === max ? max + 1 : max;
    var x = function (t) { return ((t - start) / span) * CHART_W; };
    var y = function (v) { return CHART_PAD + (1 - (v - lo) / (hi - lo)) * (CHART_H - 2 * CHART_PAD); };
    var shapes = [];
    var run = [];
    var flush = function () {
      if (run.length === 1) shapes.push(svg('circle', { cx: run[0][0].toFixed(1), cy: run[0][1].toFixed(1), r: 1.5 }));
      else if (run.length > 1) shapes.push(svg('polyline', { points: run.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join(' ') }));
      run = [];
    };
    var prevT = null;
    for (var k = 0; k < column.length; k++) {
      var value = column[k];
      var t = h.t[k];
      // A gap in the samples (device in error, agent restarted) breaks the line.
      if (value === null || t < since || (prevT !== null && t - prevT > 3 * sampleMs)) flush();
      if (value !== null && t >= since) run.push([x(t), y(value)]);
      prevT = t;
    }
    flush();
    var label = point + ' over the last ' + duration(span) + ': ' + formatNumber(min) + ' to ' + formatNumber(max) + (unit ? ' ' + unit : '') + ' (' + n + ' samples)';
    attrs['aria-label'] = label;
    return svg('svg', attrs, [svg('title', null, label)].concat(shapes));
  }

  // ---- sections -------------------------------------------------------------------------------

  function renderBanner() {
    var notes = [];
    var bad = function (t) { notes.push(el('p', { class: 'bad' }, t)); };
    var warn = function (t) { notes.push(el('p', null, t)); };
    if (doc === null) {
      if (contactError) bad('Cannot reach the agent: ' + contactError);
      var banner0 = document.getElementById('banner');
      banner0.replaceChildren.apply(banner0, notes);
      return;
    }
    var silentMs = Date.now() - receivedAt;
    if (silentMs > SILENT_AFTER_MS) {
      bad('No word from agent ' + doc.agentId + ' for ' + Math.round(silentMs / 1000) + ' s' + (contactError ? ' (' + contactError + ')' : '') +
        ': everything below is as of ' + clockTime(receivedAt) + ' and may be out of date.');
    }
    var a = doc.agent;
    var sv = doc.siteView;
    if (a.zookeeper !== 'connected') {
      bad('Agent ' + doc.agentId + ' has lost ZooKeeper (session ' + a.zookeeper + '): it keeps polling its devices (shown live below) but acts on no command' +
        (sv.view ? '; agents, lock, commands and results are from ' + ago(sv.ageMs + (Date.now() - receivedAt)) : '') + '.');
    } else if (sv.view === null) {
      warn('Reading the site from ZooKeeper' + (sv.error ? ': ' + sv.error : '') + '.');
    } else if (sv.ageMs + (Date.now() - receivedAt) > VIEW_OLD_PERIODS * sv.refreshMs + 2000) {
      warn('The site as ZooKeeper sees it is ' + duration(sv.ageMs + (Date.now() - receivedAt)) + ' old' + (sv.error ? ': ' + sv.error : '') + '.');
    }
    if (typeof a.clockOffsetMs === 'number' && Math.abs(a.clockOffsetMs) > CLOCK_OFF_MS) {
      notes.push(el('p', { class: 'clock-off', 'data-clock-offset-ms': a.clockOffsetMs },
        'The clock of the gateway running agent ' + doc.agentId + ' is ' + duration(Math.round(Math.abs(a.clockOffsetMs) / 1000) * 1000) + (a.clockOffsetMs > 0 ? ' behind' : ' ahead of') +
        ' ZooKeeper\'s (is NTP running there?). Times on this page and in ZooKeeper are by ZooKeeper\'s clock, so they are right.'));
    }
    if (a.stalled) bad('The poll loop of agent ' + doc.agentId + ' has stalled: its readings are not being refreshed.');
    if (a.duplicateOf) {
      bad('Another live agent has the id ' + doc.agentId + ' (host ' + str(a.duplicateOf.host) + ', pid ' + str(a.duplicateOf.pid) + '): this one publishes nothing until it is gone.');
    }
    var banner = document.getElementById('banner');
    banner.replaceChildren.apply(banner, notes);
  }

  function renderAgents() {
    var view = doc.siteView.view;
    var parts = [];
    var rows = [];
    if (view) {
      var lock = view.lock;
      parts.push(el('p', null, lock.holder !== null
        ? ['Lock held by ', el('strong', null, lock.holder), ' for ' + duration(sinceIso(lock.since) || 0) + ' (' + lock.node + ', fencing token ' + lock.token + ')',
          lock.waiters.length ? '; waiting: ' + lock.waiters.join(', ') : '']
        : [el('strong', null, 'Nobody holds the site lock'), ': no agent may act on commands.']));
      (view.conflicts || []).forEach(function (c) {
        var d = c.document || {};
        parts.push(el('p', { class: 'error-text' }, 'Agent id ' + str(d.agentId) + ' runs twice: ' + c.node + ' found it held by host ' + str(isObject(d.conflictsWith) ? d.conflictsWith.host : '?') + '.'));
      });
      view.agents.forEach(function (ag) {
        var d = ag.document || {};
        var leader = lock.holder === ag.agentId;
        rows.push(agentRow(ag.agentId, leader, leader ? lock.token : d.token, d.host, d.pid, d.version, d.startedAt, ag.readings));
      });
    }
    if (!rows.some(function (r) { return r.getAttribute('data-agent') === doc.agentId; })) {
      rows.unshift(agentRow(doc.agentId, doc.agent.leader, doc.agent.token, null, null, null, null, null));
    }
    parts.push(table(['Agent', 'Role', 'Fencing token', 'Host', 'PID', 'Version', 'Started', 'Readings published'], rows));
    fill('agents', parts);
  }

  function agentRow(id, leader, token, host, pid, version, startedAt, readings) {
    var me = id === doc.agentId;
    var published = readings ? ago(sinceIso(readings.publishedAt)) + (readings.seq !== undefined ? ' (#' + str(readings.seq) + ')' : '') : '';
    return el('tr', { class: me ? 'me' : null, 'data-agent': id, 'data-leader': leader ? 'true' : 'false' }, [
      el('td', null, [id, me ? el('span', { class: 'badge' }, 'this agent') : null]),
      el('td', null, leader ? pill('leader') : pill('standby')),
      el('td', { class: 'num' }, leader ? str(token) : ''),
      el('td', null, str(host)),
      el('td', { class: 'num' }, str(pid)),
      el('td', null, str(version)),
      el('td', null, startedAt ? ago(sinceIso(startedAt)) : ''),
      el('td', null, published),
    ]);
  }

  function renderDevices() {
    var view = doc.siteView.view;
    var cards = [];
    var local = doc.readings.devices;
    Object.keys(doc.devices).forEach(function (id) {
      var meta = doc.devices[id];
      var r = local[id];
      if (!r) return;
      var ageMs = meta.ageMs === null ? null : meta.ageMs + (Date.now() - receivedAt);
      var stale = r.status === 'ok' && ageMs !== null && ageMs > STALE_POLLS * meta.pollIntervalMs + 2000;
      var info = [r.kind, 'bus ' + meta.bus, 'polled every ' + formatNumber(meta.pollIntervalMs / 1000) + ' s', 'read ' + ago(ageMs)];
      var reverts = revertText(id);
      if (reverts) info.push('falls back by ' + reverts + ' unless refreshed');
      cards.push(deviceCard(id, r, meta.units, info, stale));
    });
    // Devices another agent of the site publishes and this one does not poll.
    if (view) {
      Object.keys(view.devices).sort().forEach(function (id) {
        if (doc.devices[id]) return;
        var r = view.devices[id];
        cards.push(deviceCard(id, r, {}, [str(r.kind), 'published by ' + str(r.publishedBy), 'read ' + ago(sinceIso(r.readAt))], false));
      });
    }
    fill('devices', cards.length ? el('div', { class: 'cards' }, cards) : el('p', { class: 'empty' }, 'no devices'));
  }

  function deviceCard(id, r, units, info, stale) {
    var status = str(r.status);
    var values = isObject(r.values) ? r.values : {};
    var names = Object.keys(values);
    var rows = names.map(function (name) {
      var unit = units[name] || '';
      return el('tr', { 'data-point': name }, [
        el('td', null, name),
        el('td', { class: 'num' }, valueNode(values[name], unit)),
        el('td', null, chart(id, name, unit)),
      ]);
    });
    var head = el('div', { class: 'card-head' }, [
      el('h3', null, id),
      pill(status),
      stale ? pill('stale') : null,
      el('div', { class: 'meta' }, info.join(' \u00b7 ')),
      r.error ? el('p', { class: 'error-text' }, str(r.error)) : null,
    ]);
    var body = rows.length
      ? el('div', { class: 'table-wrap' }, el('table', null, el('tbody', null, rows)))
      : el('p', { class: 'empty' }, status === 'pending' ? 'not polled yet' : 'no values');
    return el('div', { class: 'card status-' + status, 'data-device': id, 'data-status': status, 'data-stale': stale ? 'true' : 'false' }, [head, body]);
  }

  function renderSetpoints() {
    var view = doc.siteView.view;
    var list = view && Array.isArray(view.setpoints) ? view.setpoints : [];
    var section = document.getElementById('setpoints');
    // Shown only once setpoints exist in ZooKeeper (CONTRACT.md section 7).
    section.hidden = list.length === 0;
    if (list.length === 0) return;
    var rows = list.map(function (entry) {
      var s = isObject(entry.setpoint) ? entry.setpoint : {};
      return el('tr', { 'data-setpoint': entry.id }, [
        el('td', null, s.device !== undefined ? str(s.device) + '.' + str(s.point) : entry.id),
        el('td', { class: 'num' }, isObject(entry.setpoint) ? str(s.value) : str(entry.setpoint)),
        el('td', null, [str(s.command), s.issuedBy ? ' from ' + str(s.issuedBy) : '']),
        el('td', null, str(s.agentId)),
        el('td', { class: 'num' }, str(s.token)),
        el('td', null, s.setAt ? ago(sinceIso(s.setAt)) : ''),
        el('td', null, s.holdUntil ? clockTime(Date.parse(s.holdUntil)) : 'until released'),
        el('td', null, revertText(typeof s.device === 'string' ? s.device : '')),
      ]);
    });
    fill('setpoints', table(['Point', 'Value', 'Command', 'Applied by', 'Token', 'Set', 'Held until', 'Device falls back by'], rows));
  }

  // When the device falls back by itself unless the lock holder refreshes it (its revert timer):
  // this agent's own reading when it holds the lock (live), else the site view's latest refresh.
  function fallbackOf(device) {
    var local = doc.readings.devices[device];
    if (local && isObject(local.fallback)) return local.fallback;
    var view = doc.siteView.view;
    return view && isObject(view.fallbacks) && isObject(view.fallbacks[device]) ? view.fallbacks[device] : null;
  }

  function revertText(device) {
    var f = fallbackOf(device);
    var at = f ? Date.parse(f.revertsBy) : NaN;
    if (!isFinite(at)) return '';
    var left = at - agentNow();
    return clockTime(at) + (left >= 0 ? ' (in ' + duration(left) + ')' : ' (overdue by ' + duration(-left) + ')');
  }

  function commandText(c) {
    if (!isObject(c)) return str(c);
    return str(c.device) + '.' + str(c.point) + ' = ' + JSON.stringify(c.value);
  }

  function renderCommands() {
    var view = doc.siteView.view;
    var list = view ? view.pendingCommands : [];
    fill('commands', table(['Command', 'Submitted', 'What', 'Issued by'], list.map(function (c) {
      return el('tr', { 'data-command': c.id }, [
        el('td', null, c.id),
        el('td', null, ago(sinceIso(c.createdAt))),
        el('td', { class: 'wrap' }, commandText(c.command)),
        el('td', null, isObject(c.command) ? str(c.command.issuedBy) : ''),
      ]);
    })));
  }

  function renderResults() {
    var view = doc.siteView.view;
    var list = view ? view.recentResults.slice().reverse() : [];
    fill('results', table(['Command', 'Status', 'What', 'Applied by', 'Token', 'Finished', 'Read back', 'Error'], list.map(function (entry) {
      var r = isObject(entry.result) ? entry.result : {};
      var status = str(r.status) || 'unreadable';
      return el('tr', { 'data-result': entry.id, 'data-status': status }, [
        el('td', null, entry.id),
        el('td', null, pill(status)),
        el('td', { class: 'wrap' }, isObject(entry.result) ? commandText(r.command) : str(entry.result)),
        el('td', null, str(r.agentId)),
        el('td', { class: 'num' }, str(r.token)),
        el('td', null, r.finishedAt ? ago(sinceIso(r.finishedAt)) : ''),
        el('td', { class: 'num' }, str(r.readBack)),
        el('td', { class: 'wrap' }, str(r.error)),
      ]);
    })));
  }

  function render() {
    renderBanner();
    if (doc === null) return;
    document.title = doc.site + ' \u00b7 gridkeeper';
    document.getElementById('title').textContent = 'Site ' + doc.site;
    document.getElementById('subtitle').textContent = 'as seen by agent ' + doc.agentId + ' \u00b7 ZooKeeper ' + doc.agent.zookeeper +
      ' \u00b7 ' + (transport === 'poll' ? 'polling every ' + POLL_MS / 1000 + ' s' : 'live') + ' \u00b7 last update ' + clockTime(receivedAt);
    renderAgents();
    renderDevices();
    renderSetpoints();
    renderCommands();
    renderResults();
  }

  // ---- data -----------------------------------------------------------------------------------

  function onDocument(d) {
    if (d.history) {
      sampleMs = d.history.sampleMs;
      windowMs = d.history.windowMs;
      history = decodeHistory(d.history.devices);
    } else {
      appendSamples(d);
    }
    doc = d;
    receivedAt = Date.now();
    contactError = null;
    render();
  }

  function poll() {
    transport = 'poll';
    fetch('api/site', { cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(onDocument, function (err) {
        contactError = err && err.message ? err.message : String(err);
        render();
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  function stream() {
    if (typeof EventSource !== 'function') return poll();
    transport = 'stream';
    var source = new EventSource('api/site/events');
    source.addEventListener('site', function (event) {
      var d;
      try {
        d = JSON.parse(event.data);
      } catch (err) {
        contactError = 'unreadable update from the agent';
        return;
      }
      onDocument(d);
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (at most 50 streams, or not this agent's page): poll instead.
        poll();
      } else {
        contactError = 'connection to the agent lost; reconnecting';
        render();
      }
    };
  }

  // Ages and silence are redrawn once a second even when no update comes.
  setInterval(function () {
    if (Date.now() - receivedAt >= 1000) render();
  }, 1000);
  stream();
})();
`;
