// leadq first-party tracking script, served as GET /t.js (contract: issue #22).
// Without consent nothing is stored and only anonymous page views are sent; with consent a
// random visitor id in localStorage ties the visitor's events together. Plain ES2017.
(function () {
  'use strict';

  // Every entry point (listener, timer, command) goes through this: we never throw into the page.
  function safe(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) { /* swallowed on purpose */ }
    };
  }

  safe(function main() {
    // The snippet may be pasted twice (theme + tag manager): one copy must own the page.
    if (window.__leadqLoaded) return;
    window.__leadqLoaded = true;

    // == configuration from our own <script> tag
    // currentScript is set for async classic scripts; the selectors are a fallback for loaders.
    const script = document.currentScript ||
      document.querySelector('script[data-leadq-host]') ||
      document.querySelector('script[src*="/t.js"]');
    if (!script) return;
    const attr = (name) => script.getAttribute(name) || '';
    // data-leadq-host is the origin of leadq; by default the origin this script came from.
    const origin = new URL(attr('data-leadq-host') || script.src, location.href).origin;
    if (!/^https?:\/\//.test(origin)) return;
    const ENDPOINT = origin + '/api/v1/collect';
    const VID_KEY = 'leadq_vid';
    const MAX_EVENTS = 50;
    const MAX_BYTES = 32 * 1024;
    const BATCH_MS = 2000;
    const ENGAGED_MS = 10000;
    // Global Privacy Control is a standing "no": it overrides every grant, now and later.
    const gpc = navigator.globalPrivacyControl === true;

    // == small helpers
    function randomHex(bytes) {
      const b = new Uint8Array(bytes);
      if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
      else for (let i = 0; i < bytes; i++) b[i] = Math.floor(Math.random() * 256);
      return Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
    }
    // Limits count code points (as the server's len() does), so we never split a surrogate pair.
    const cut = (s, n) => Array.from(String(s || '')).slice(0, n).join('');
    const text = (v) => (typeof v === 'string' ? v.trim() : '');
    const now = () => (window.performance && performance.now ? performance.now() : Date.now());
    const utf8Size = (s) => new Blob([s]).size;

    // == consent and the visitor id
    let consent = false;
    let visitor = null;

    function grant() {
      if (gpc || consent) return;
      // Events recorded before consent go out as they were recorded: anonymous page views.
      flush();
      resetEngaged(); // time measured before the grant is not attributed to the visitor
      let vid = null;
      try {
        vid = localStorage.getItem(VID_KEY);
      } catch (e) { /* storage blocked: fall through to a fresh id */ }
      if (!/^[0-9a-f]{32}$/.test(vid || '')) {
        vid = window.crypto && crypto.randomUUID ? crypto.randomUUID().replace(/-/g, '') : randomHex(16);
        try {
          localStorage.setItem(VID_KEY, vid);
        } catch (e) { /* storage blocked: the id lives for this page only */ }
      }
      visitor = vid;
      consent = true;
    }

    function withdraw() {
      // Pending identifying events are dropped; page views may still go out anonymously.
      queue = queue.filter((e) => e.type === 'page_view');
      consent = false;
      visitor = null;
      try {
        localStorage.removeItem(VID_KEY);
      } catch (e) { /* nothing stored, or storage blocked */ }
    }

    // == events and transport
    let queue = [];
    let batchTimer = 0;

    function record(type, data, path) {
      const event = { type: type, id: randomHex(8), at: new Date().toISOString(), path: cut(path || location.pathname, 500) };
      queue.push(Object.assign(event, data));
      // Batch: the first pending event starts the clock, so we flush at most every 2 s.
      if (!batchTimer) batchTimer = setTimeout(safe(flush), BATCH_MS);
    }

    function beacon(body) {
      try {
        return !!(navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, new Blob([body], { type: 'text/plain' })));
      } catch (e) { return false; }
    }

    // fetch in cors mode first: it always sends the page's Origin, which leadq checks (a
    // beacon sends "null" under a strict Referrer-Policy). text/plain: no preflight.
    function post(body) {
      if (!window.fetch) { beacon(body); return; }
      const options = {
        method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' },
        credentials: 'omit', mode: 'cors',
      };
      // keepalive has a 64 KiB in-flight budget: past it, a plain fetch, then a beacon (event
      // ids make a repeated delivery harmless).
      fetch(ENDPOINT, options).catch(() => {
        options.keepalive = false;
        return fetch(ENDPOINT, options);
      }).catch(() => { beacon(body); });
    }

    // Sends everything pending, split into bodies of at most 50 events and 32 KiB.
    function flush() {
      clearTimeout(batchTimer);
      batchTimer = 0;
      if (!queue.length) return;
      const events = queue;
      queue = [];
      const head = '{"visitor":' + JSON.stringify(visitor) + ',"consent":' + consent +
        ',"sent":"' + new Date().toISOString() + '","events":[';
      const empty = utf8Size(head) + 2; // + "]}"
      let parts = [];
      let size = empty;
      events.forEach((event) => {
        const json = JSON.stringify(event);
        const n = utf8Size(json) + 1; // + the comma
        if (empty + n > MAX_BYTES) return; // a single event too big for any body: drop it
        if (parts.length >= MAX_EVENTS || size + n > MAX_BYTES) {
          post(head + parts.join(',') + ']}');
          parts = [];
          size = empty;
        }
        parts.push(json);
        size += n;
      });
      if (parts.length) post(head + parts.join(',') + ']}');
    }

    // == page views
    let currentPath = location.pathname;
    let booting = true;

    function pageView() {
      const params = new URLSearchParams(location.search);
      const utm = {};
      ['source', 'medium', 'campaign', 'term', 'content'].forEach((k) => {
        const v = params.get('utm_' + k);
        if (v) utm[k] = cut(v, 500);
      });
      record('page_view', { title: cut(document.title, 300), referrer: cut(document.referrer, 500), utm: utm });
    }

    // Called after history changes: a new path closes the old one's engaged time, then counts.
    function route(force) {
      const path = location.pathname;
      const changed = path !== currentPath;
      if (changed) {
        sendEngaged(currentPath); // attributed to the path we are leaving
        resetEngaged();
        currentPath = path;
      }
      if (changed || force) pageView();
    }

    // == engaged time: only while the tab is visible
    let engagedMs = 0;
    let visibleSince = null; // performance.now() when the visible stretch began; null = not counting
    let engagedTimer = 0;

    function tick() {
      if (visibleSince === null) return;
      const t = now();
      engagedMs += t - visibleSince;
      visibleSince = t;
    }
    function resetEngaged() {
      tick();
      engagedMs = 0;
    }
    function sendEngaged(path) {
      tick();
      const seconds = Math.round(engagedMs / 100) / 10;
      if (seconds <= 0) return; // keep a sub-0.05 s remainder for the next report
      engagedMs = 0;
      // Engaged time belongs to the path of the last page view, even if the URL just moved on.
      if (consent) record('engaged', { seconds: seconds }, path || currentPath);
    }
    function startClock() {
      if (visibleSince !== null || document.visibilityState !== 'visible') return;
      visibleSince = now();
      engagedTimer = setInterval(safe(() => sendEngaged()), ENGAGED_MS);
    }
    function stopClock() {
      sendEngaged(); // adds the visible time up to now, then the clock stops
      visibleSince = null;
      clearInterval(engagedTimer);
    }

    // == commands: leadq('consent' | 'identify' | 'page', ...)
    function identify(email, firstName, lastName) {
      if (!consent || !email) return;
      const data = { email: email };
      if (firstName) data.first_name = firstName;
      if (lastName) data.last_name = lastName;
      record('identify', data);
    }

    const run = safe(function (args) {
      const command = args[0];
      const value = args[1];
      if (command === 'consent') {
        if (value === true) grant();
        else if (value === false) withdraw();
      } else if (command === 'identify') {
        if (value && typeof value === 'object') {
          identify(text(value.email), text(value.first_name), text(value.last_name));
        }
      } else if (command === 'page') {
        // A 'page' queued before load is the load's own page view, which follows the queue.
        if (!booting) route(true);
      }
    });

    // Replace the stub, then replay the queue in order *before* the first page view, so that
    // a queued leadq('consent', true) makes that page view carry the visitor id.
    const stub = window.leadq;
    const queued = stub && Array.isArray(stub.q) ? stub.q.slice() : [];
    const leadq = function () {
      run(arguments);
    };
    // A stale reference to the stub does `leadq.q.push(arguments)`: run those calls right away.
    leadq.q = { push: run };
    window.leadq = leadq;

    // A GPC browser may still hold an id from before GPC: the signal works like a withdrawal.
    if (gpc) withdraw();
    // Consent the site collected itself (data-consent) or a Consent-Mode-like global flag.
    if (attr('data-consent') === 'granted' || window.leadqConsent === 'granted') grant();
    queued.forEach(run);
    booting = false;

    // == listeners
    // Single-page apps: wrap pushState/replaceState; the original's own errors still propagate.
    ['pushState', 'replaceState'].forEach((name) => {
      const original = history[name];
      if (typeof original !== 'function') return;
      history[name] = function () {
        const result = original.apply(this, arguments);
        safe(route)(false);
        return result;
      };
    });
    window.addEventListener('popstate', safe(() => route(false)));

    document.addEventListener('visibilitychange', safe(() => {
      if (document.visibilityState === 'visible') {
        startClock();
      } else {
        stopClock();
        flush(); // the tab may never come back
      }
    }));
    window.addEventListener('pagehide', safe(() => {
      stopClock();
      flush();
    }));
    // Back/forward cache: the page comes back without a reload, so the clock must restart.
    window.addEventListener('pageshow', safe(startClock));

    // Downloads: capture phase, so a link handler that stops propagation cannot hide the click.
    const DOWNLOAD_EXT = /\.(pdf|zip|docx?|xlsx?|pptx?|csv|epub)$/i;
    document.addEventListener('click', safe((e) => {
      if (!consent || !e.target || !e.target.closest) return;
      const link = e.target.closest('a');
      const href = link && link.getAttribute('href');
      if (!href) return;
      const url = new URL(href, document.baseURI);
      // data:/blob: URLs carry the file itself (e.g. an export), not an address: not reported.
      if (!/^https?:$/.test(url.protocol)) return;
      if (link.hasAttribute('download') || link.hasAttribute('data-leadq-download') ||
          DOWNLOAD_EXT.test(url.pathname)) {
        record('download', { url: cut(url.href, 1000) });
      }
    }), true);

    // Forms opt in with data-leadq; the page may navigate away, so flush at once.
    document.addEventListener('submit', safe((e) => {
      const form = e.target;
      if (!form || !form.matches || !form.matches('form[data-leadq]')) return;
      const field = (selector) => {
        const inputs = form.querySelectorAll(selector);
        for (let i = 0; i < inputs.length; i++) {
          const v = text(inputs[i].value);
          if (v) return v;
        }
        return '';
      };
      identify(field('input[type=email], input[name=email]'),
        field('input[name=first_name]'), field('input[name=last_name]'));
      flush();
    }), true);

    // Storage listener: another tab withdrew (removed the id), so this tab stops identifying too.
    window.addEventListener('storage', safe((e) => {
      if (consent && (e.key === VID_KEY || e.key === null) && !e.newValue) withdraw();
    }));

    // == the load's page view
    // A prerendered page (speculation rules) is counted only once the visitor actually sees it.
    const start = safe(() => {
      pageView();
      startClock();
    });
    if (document.prerendering) document.addEventListener('prerenderingchange', start, { once: true });
    else start();
  })();
})();
