// The site page's HTML: a shell that site.js fills from /api/site/events. Everything it loads comes
// from the agent itself (site.css, site.js, a data: favicon so the browser asks for no /favicon.ico),
// and the Content-Security-Policy of routes.ts forbids anything else. No form: the page is read-only.
export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>gridkeeper</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="site.css">
<script src="site.js" defer></script>
</head>
<body>
<header>
  <h1 id="title">gridkeeper</h1>
  <p id="subtitle">connecting to the agent&hellip;</p>
</header>
<div id="banner" role="status" aria-live="polite"></div>
<main>
  <section id="agents"><h2>Agents</h2><div class="body"></div></section>
  <section id="devices"><h2>Devices</h2><div class="body"></div></section>
  <section id="setpoints" hidden><h2>Held setpoints</h2><div class="body"></div></section>
  <section id="commands"><h2>Pending commands</h2><div class="body"></div></section>
  <section id="results"><h2>Recent results</h2><div class="body"></div></section>
</main>
<footer>
  <p>Read-only. The same data as JSON: <a href="api/site">/api/site</a>; health: <a href="healthz">/healthz</a>; metrics: <a href="metrics">/metrics</a>.</p>
</footer>
<noscript><p>This page needs JavaScript to show the site; <a href="api/site">/api/site</a> has the same data as JSON.</p></noscript>
</body>
</html>
`;
