/**
 * The page shell. Every URL is relative so the page works at any mount path; there is no inline
 * script or style, so a `default-src 'self'` Content-Security-Policy needs no exception. Text
 * marked `data-i18n` is replaced by the script's translations (English is the no-script fallback).
 * The empty icon stops the browser asking the host for /favicon.ico (a 404 is a console error);
 * the router's policy allows `img-src data:`.
 */
export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Cronkeeper</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/dashboard.css">
<script src="assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main" data-i18n="skip">Skip to content</a>
<header class="top">
  <h1><span class="brand">Cronkeeper</span> <span class="subtitle" data-i18n="title">Scheduled jobs</span></h1>
  <div class="top-tools">
    <span id="conn" class="conn" role="status">…</span>
    <div class="lang" role="group" aria-label="Language / Langue">
      <button type="button" data-lang="en" aria-pressed="true">EN</button>
      <button type="button" data-lang="fr" aria-pressed="false">FR</button>
    </div>
    <button type="button" id="refresh" data-i18n="refresh">Refresh</button>
  </div>
</header>
<div id="notice" class="notice info" role="status" aria-live="polite"></div>
<main id="main" tabindex="-1">
  <section aria-labelledby="h-overview">
    <h2 id="h-overview" data-i18n="overview">Overview</h2>
    <div id="kpis" class="kpis"></div>
  </section>
  <section aria-labelledby="h-jobs">
    <h2 id="h-jobs" data-i18n="jobs">Jobs</h2>
    <div id="jobs"></div>
  </section>
  <section aria-labelledby="h-scheduled">
    <h2 id="h-scheduled" data-i18n="scheduled">Scheduled one-off runs</h2>
    <div id="scheduled"></div>
  </section>
  <section aria-labelledby="h-executors">
    <h2 id="h-executors" data-i18n="executors">Executors</h2>
    <div id="executors"></div>
  </section>
  <section aria-labelledby="h-activity">
    <h2 id="h-activity" data-i18n="activity">Activity</h2>
    <div class="filters">
      <label class="field inline"><span class="label" data-i18n="filterJob">Job</span> <select id="f-target"></select></label>
      <label class="field inline"><span class="label" data-i18n="filterStatus">Status</span> <select id="f-status"></select></label>
    </div>
    <h3 data-i18n="timeline">Last 7 days</h3>
    <div id="timeline"></div>
    <h3 data-i18n="history">Run history</h3>
    <div id="history"></div>
  </section>
</main>
<dialog id="dlg" aria-labelledby="dlg-title"></dialog>
</body>
</html>
`;
