/**
 * The page's stylesheet, served at `assets/dashboard.css`. System fonts only (no network), light and
 * dark schemes, visible focus rings, and tables that turn into stacked cards below 760 px so the page
 * has no horizontal scroll at 360 px.
 */
export const dashboardCss = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1c2430; --muted: #5b6675; --line: #d9dee5;
  --accent: #2156c9; --accent-text: #ffffff; --focus: #ff9f1c;
  --ok: #1f8a4c; --bad: #c62828; --warn: #c76a00; --grey: #7b8794; --run: #2156c9; --wait: #8a6d00;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 15px; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11151b; --panel: #1a2029; --text: #e6eaf0; --muted: #9aa5b4; --line: #2d3642;
    --accent: #6b9bff; --accent-text: #0b1020; --ok: #4cc38a; --bad: #ff6b6b; --warn: #ffa94d;
    --grey: #9aa5b4; --run: #6b9bff; --wait: #e0c054;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
  padding: .75rem 1rem; background: var(--panel); border-bottom: 1px solid var(--line); }
.top h1 { font-size: 1.2rem; margin: 0; }
.subtitle { color: var(--muted); font-weight: normal; }
.top-tools { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.conn { font-size: .85rem; color: var(--muted); }
.conn.on::before { content: "● "; color: var(--ok); }
.conn.off::before { content: "● "; color: var(--warn); }
.lang { display: inline-flex; }
.lang button[aria-pressed="true"] { background: var(--accent); color: var(--accent-text); border-color: var(--accent); }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
main:focus { outline: none; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem 1rem; margin-bottom: 1rem; }
h2 { font-size: 1.05rem; margin: .25rem 0 .75rem; }
h3 { font-size: .95rem; margin: 1rem 0 .5rem; }
button { font: inherit; padding: .35rem .7rem; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: var(--text); cursor: pointer; min-height: 2.25rem; }
button:hover:not(:disabled) { border-color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger { color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .5; cursor: not-allowed; }
button[aria-busy="true"] { opacity: .7; cursor: progress; }
input, select, textarea { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line);
  border-radius: 6px; padding: .35rem .5rem; max-width: 100%; }
.notice { margin: .5rem 1rem 0; padding: 0; border-radius: 6px; }
.notice:not(:empty) { padding: .5rem .75rem; }
.notice.ok:not(:empty) { background: color-mix(in srgb, var(--ok) 15%, transparent); }
.notice.error:not(:empty) { background: color-mix(in srgb, var(--bad) 15%, transparent); }
.notice.info:not(:empty) { background: color-mix(in srgb, var(--accent) 12%, transparent); }
.muted { color: var(--muted); }
.small { font-size: .85rem; }
.error { color: var(--bad); }
.warn { color: var(--warn); }
.empty { color: var(--muted); margin: .25rem 0; }
.tag { display: inline-block; margin-left: .4rem; padding: 0 .35rem; border-radius: 4px; font-size: .75rem;
  border: 1px solid var(--line); color: var(--muted); }
.name { overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85rem; }
.clip { display: inline-block; max-width: 22rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .75rem; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
.kpi-label { color: var(--muted); font-size: .85rem; }
.kpi-value { font-size: 1.6rem; font-weight: 600; }
.kpi-note { color: var(--muted); font-size: .8rem; }
.kpi.bad .kpi-value { color: var(--bad); }
.kpi.busy .kpi-value { color: var(--run); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600;
  border: 1px solid currentColor; white-space: nowrap; }
.badge.s-succeeded { color: var(--ok); } .badge.s-failed { color: var(--bad); } .badge.s-running { color: var(--run); }
.badge.s-pending { color: var(--wait); } .badge.s-cancelled, .badge.s-skipped, .badge.s-idle { color: var(--grey); }
.badge.s-paused { color: var(--warn); }
.countdown { font-variant-numeric: tabular-nums; font-weight: 600; }
.countdown.soon { color: #fff; background: var(--warn); padding: 0 .4rem; border-radius: 999px; }
.table-wrap { overflow-x: auto; }
table.grid { border-collapse: collapse; width: 100%; }
.grid th, .grid td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-bottom: 1px solid var(--line); }
.grid th { font-size: .8rem; color: var(--muted); font-weight: 600; white-space: nowrap; }
.actions { display: flex; flex-wrap: wrap; gap: .35rem; }
.row-msg { margin: .35rem 0 0; font-size: .85rem; max-width: 26rem; }
.row-msg.error { color: var(--bad); }
.describe { font-weight: 500; }
.more { margin-top: .5rem; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; }
.field { display: flex; flex-direction: column; gap: .25rem; margin-bottom: .75rem; }
.field.inline { flex-direction: row; align-items: center; margin: 0; }
.field .label { font-weight: 600; font-size: .9rem; }
.field .hint { color: var(--muted); font-size: .8rem; }
.timeline { display: grid; grid-template-columns: repeat(7, 1fr); gap: .5rem; align-items: end; }
.day { display: flex; flex-direction: column; align-items: center; min-width: 0; }
.bar { height: 140px; width: 100%; max-width: 56px; display: flex; flex-direction: column-reverse;
  background: color-mix(in srgb, var(--line) 35%, transparent); border-radius: 4px; overflow: hidden; }
.seg { width: 100%; }
.s-succeeded.seg, .swatch.s-succeeded { background: var(--ok); }
.s-failed.seg, .swatch.s-failed { background: var(--bad); }
.s-cancelled.seg, .swatch.s-cancelled { background: var(--grey); }
.s-skipped.seg, .swatch.s-skipped { background: color-mix(in srgb, var(--grey) 45%, transparent); }
.day-label { font-size: .72rem; color: var(--muted); text-align: center; white-space: nowrap; overflow: hidden; max-width: 100%; }
.day-total { font-size: .8rem; font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: .75rem; list-style: none; padding: 0; margin: .5rem 0 0; font-size: .85rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
dialog { border: 1px solid var(--line); border-radius: 10px; background: var(--panel); color: var(--text);
  width: min(40rem, calc(100vw - 1.5rem)); max-height: calc(100vh - 2rem); padding: 1rem; }
dialog::backdrop { background: rgb(0 0 0 / .45); }
dialog h2 { margin-top: 0; overflow-wrap: anywhere; }
.dialog-actions { display: flex; justify-content: flex-end; gap: .5rem; margin-top: .75rem; }
.shortcuts { display: flex; flex-wrap: wrap; gap: .35rem; margin-bottom: .75rem; }
.checks { margin: 0; padding-left: 1.2rem; font-size: .85rem; }
.form-error { color: var(--bad); margin: .5rem 0 0; }
.form-error:empty { display: none; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .75rem; margin: 0; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; overflow-wrap: anywhere; }
.tasks { padding-left: 1.2rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg); border: 1px solid var(--line);
  border-radius: 6px; padding: .5rem; max-height: 18rem; overflow: auto; }

/* Narrow screens: each table row becomes a card, each cell a "label: value" line. */
@media (max-width: 760px) {
  main { padding: .5rem; }
  section { padding: .5rem .6rem .75rem; }
  .grid thead { display: none; }
  .grid, .grid tbody, .grid tr, .grid td { display: block; width: 100%; }
  .grid tr { border: 1px solid var(--line); border-radius: 8px; margin-bottom: .6rem; padding: .25rem .5rem; }
  .grid td { border: 0; padding: .2rem 0; display: grid; grid-template-columns: 7.5rem 1fr; gap: .5rem; }
  .grid td::before { content: attr(data-label); color: var(--muted); font-size: .8rem; }
  .grid td > * { min-width: 0; }
  .clip { max-width: 100%; }
  .kpis { grid-template-columns: repeat(2, 1fr); }
  .kpi-value { font-size: 1.3rem; }
  .field.inline { flex-direction: column; align-items: stretch; }
}
.schedule-preview { margin: -0.25rem 0 0.75rem; min-height: 2.6em; overflow-wrap: anywhere; }
.change-list { margin: 0; padding-left: 1.25rem; max-height: 60vh; overflow: auto; }
.change-list li { margin-bottom: 0.6rem; overflow-wrap: anywhere; }
`;
