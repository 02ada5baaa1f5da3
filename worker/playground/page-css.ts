/** The playground's stylesheet (served as /playground/app.css). Phone width: one column. */
export const PAGE_CSS = `
:root { --ink: #1d2330; --muted: #5d6677; --line: #d7dce5; --bg: #f6f7fa; --card: #fff;
  --accent: 37, 99, 235; --down: 234, 88, 12; --bad: #b42318; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
h1 { font-size: 1.5rem; margin: 16px 0 2px; } h1 span { color: rgb(var(--accent)); font-weight: 500; }
h2 { font-size: 1.15rem; margin: 0 0 10px; } h2 small { color: var(--muted); font-weight: 400; font-size: .8rem; margin-left: 6px; }
.lede, .hint { color: var(--muted); margin: 0 0 10px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 8px 0 12px; }
nav a { color: rgb(var(--accent)); text-decoration: none; }
.bar, .row { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; margin: 8px 0; }
label { display: flex; flex-direction: column; gap: 3px; font-size: .85rem; color: var(--muted); }
label.wide { display: flex; margin: 8px 0; }
input, select, textarea, button { font: inherit; color: var(--ink); }
input, select, textarea { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; background: #fff; }
textarea { width: 100%; resize: vertical; font-family: ui-monospace, monospace; font-size: .9rem; }
#api-key { min-width: 16em; } #clip-skip { width: 5em; }
button { background: rgb(var(--accent)); color: #fff; border: 0; border-radius: 6px; padding: 7px 16px; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin: 0 0 16px; }
.summary { color: var(--muted); margin: 6px 0; font-size: .9rem; }
.error { color: var(--bad); background: #fef3f2; border: 1px solid #fecdca; border-radius: 6px; padding: 8px 10px; margin: 8px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.error .at { font-family: ui-monospace, monospace; white-space: pre-wrap; display: block; margin-top: 6px; color: var(--ink); }
.error mark { background: var(--bad); color: #fff; border-radius: 2px; padding: 0 1px; }
.notice { background: #fffaeb; border: 1px solid #fedf89; border-radius: 6px; padding: 8px 10px; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.chip { --w: 0; font-family: ui-monospace, monospace; font-size: .85rem; padding: 2px 6px; border-radius: 5px;
  border: 1px solid rgba(var(--accent), .35); background: rgba(var(--accent), var(--w)); }
.chip.down { border-color: rgba(var(--down), .45); background: rgba(var(--down), var(--w)); }
.chip.strong { color: #fff; }
.chip.dropped { text-decoration: line-through; opacity: .55; background: #eee; border-style: dashed; }
.chip sub { font-size: .65rem; color: inherit; opacity: .8; margin-left: 2px; }
.marker { font-size: .72rem; font-weight: 600; letter-spacing: .04em; padding: 2px 6px; border-radius: 5px; }
.marker.boundary { flex-basis: 100%; border-top: 2px dashed var(--muted); color: var(--muted); border-radius: 0; padding-top: 3px; }
.marker.break { background: var(--ink); color: #fff; }
.marker.cut { flex-basis: 100%; border-top: 2px solid var(--bad); color: var(--bad); border-radius: 0; padding-top: 3px; }
.part { border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; margin: 6px 0; width: 100%; }
.part > h3, .member > h4 { margin: 0 0 4px; font-size: .8rem; color: var(--muted); font-weight: 600; }
.member { border-left: 3px solid rgba(var(--accent), .4); padding-left: 8px; margin: 4px 0; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
th { background: var(--bg); font-weight: 600; } td.label, th.label { text-align: left; }
.scroll { overflow-x: auto; max-width: 100%; }
.heat td { --c: 0; background: rgba(var(--accent), var(--c)); min-width: 4.2em; font-variant-numeric: tabular-nums; }
.heat td.strong { color: #fff; }
.heat th.label { max-width: 14em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.drop { border: 2px dashed var(--line); border-radius: 8px; padding: 18px; text-align: center; color: var(--muted); }
.drop.over { border-color: rgb(var(--accent)); background: rgba(var(--accent), .06); }
.pick { display: inline; color: rgb(var(--accent)); cursor: pointer; text-decoration: underline; font-size: inherit; }
.pick input { display: none; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.thumbs figure { margin: 0; font-size: .75rem; color: var(--muted); max-width: 96px; overflow-wrap: anywhere; }
.thumbs img, td img { width: 64px; height: 64px; object-fit: cover; border-radius: 6px; display: block; }
.aggregate { font-size: 1.05rem; margin: 8px 0; }
.bars { display: grid; gap: 4px; margin: 10px 0; }
.bars .bar-row { display: grid; grid-template-columns: minmax(6em, 14em) 1fr 4em; gap: 8px; align-items: center; font-size: .85rem; }
.bars .track { background: var(--bg); border-radius: 4px; height: 14px; overflow: hidden; }
.bars .fill { background: rgb(var(--accent)); height: 100%; width: 0; }
.bars .fill.best { background: #16a34a; }
.kv { max-width: 100%; } .kv th { text-align: left; } .kv td { overflow-wrap: anywhere; word-break: break-all; }
.thumbs button.remove { padding: 0 6px; margin-left: 4px; background: none; color: var(--bad); border: 1px solid var(--line); }
.download { display: inline-block; margin: 8px 0; font-weight: 600; color: rgb(var(--accent)); }
footer { color: var(--muted); padding-bottom: 24px; } footer a { color: inherit; }
@media (max-width: 640px) {
  header, main, footer { padding: 0 8px; }
  .panel { padding: 10px; border-radius: 8px; }
  .bar, .row { flex-direction: column; align-items: stretch; }
  #api-key { min-width: 0; }
  .bars .bar-row { grid-template-columns: 7em 1fr 3.5em; }
}
`;
