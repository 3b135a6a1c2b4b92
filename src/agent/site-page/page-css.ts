// The site page's style sheet: one column on a phone, a grid of device cards on a laptop, light or
// dark as the system prefers; wide tables scroll sideways instead of widening the page.
export const PAGE_CSS = String.raw`
:root {
  --bg: #f6f7f9; --fg: #1d2330; --muted: #5c6679; --card: #ffffff; --line: #dde1e8;
  --ok: #1a7f37; --error: #c62828; --pending: #6b7280; --standby: #1f5fbf; --warn-bg: #fff4d6; --warn-fg: #6b4b00;
  --bad-bg: #fde4e4; --bad-fg: #7f1d1d; --me: #eef4ff; --chart: #1f5fbf;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --fg: #e6e9ef; --muted: #9aa3b2; --card: #1d2128; --line: #323844;
    --ok: #4cc26b; --error: #ff6b6b; --pending: #9aa3b2; --standby: #7aa7ff; --warn-bg: #3a3012; --warn-fg: #f3d58a;
    --bad-bg: #421c1c; --bad-fg: #ffc9c9; --me: #1f2a3d; --chart: #7aa7ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header, main, footer, #banner { max-width: 1400px; margin: 0 auto; padding: 0 12px; }
header { padding-top: 12px; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 18px 0 8px; }
#subtitle, footer, .muted { color: var(--muted); }
#subtitle { margin: 2px 0 8px; }
footer { font-size: 0.85rem; padding-bottom: 24px; }
a { color: var(--standby); }
#banner:empty { display: none; }
#banner p { margin: 6px 0; padding: 8px 12px; border-radius: 6px; background: var(--warn-bg); color: var(--warn-fg); }
#banner p.bad { background: var(--bad-bg); color: var(--bad-fg); font-weight: 600; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; white-space: nowrap; }
tr:last-child td { border-bottom: none; }
th { font-weight: 600; color: var(--muted); font-size: 0.85rem; }
td.wrap { white-space: normal; min-width: 12em; }
tr.me td { background: var(--me); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.pill { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 0.8rem; font-weight: 600; color: #fff; background: var(--pending); }
.pill.ok, .pill.applied, .pill.connected { background: var(--ok); }
.pill.error, .pill.failed, .pill.rejected, .pill.lost { background: var(--error); }
.pill.standby, .pill.leader { background: var(--standby); }
.pill.expired, .pill.suspended, .pill.connecting, .pill.stale { background: #b7791f; }
.badge { display: inline-block; margin-left: 6px; padding: 0 6px; border: 1px solid var(--line); border-radius: 4px; font-size: 0.75rem; color: var(--muted); }
.cards { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 420px), 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.card.status-error { border-color: var(--error); }
.card-head { padding: 8px 10px; border-bottom: 1px solid var(--line); }
.card-head h3 { display: inline; font-size: 1rem; margin: 0 8px 0 0; }
.card-head .meta { font-size: 0.85rem; color: var(--muted); }
.card-head .error-text { margin: 4px 0 0; color: var(--error); white-space: pre-wrap; word-break: break-word; }
.card .table-wrap { border: none; border-radius: 0; }
.value { font-variant-numeric: tabular-nums; }
.not-implemented { color: var(--muted); font-style: italic; }
svg.chart { display: block; width: 140px; height: 32px; }
svg.chart polyline { fill: none; stroke: var(--chart); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg.chart circle { fill: var(--chart); }
.empty { padding: 8px 10px; color: var(--muted); }
@media (max-width: 600px) {
  body { font-size: 14px; }
  svg.chart { width: 90px; }
  th, td { padding: 4px 6px; }
  /* Long point names (SunSpec m-names) wrap rather than push the chart off a phone's screen. */
  .card td:first-child { white-space: normal; overflow-wrap: anywhere; }
}
`;
