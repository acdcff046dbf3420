// drift-report.html: the drift report for a person. One self-contained page: the verdict, Model Monitor's
// verdict when the run had one, the per-feature table, and per feature a small inline SVG of reference
// against current (./histogram.ts). No scripts, no external assets; styles are inline. Every piece of text
// from the data (feature and category names, notes, URIs) is escaped, and characters XML forbids are
// replaced, so the page and each SVG stay well-formed whatever the data holds.
import type { FeatureHistogram } from './histogram';
import type { DriftStageReport, ReportedFeature } from './stage-report';

const REFERENCE_COLOUR = '#9aa5b1';
const CURRENT_COLOUR = '#d9480f';

/** Text for HTML and SVG: markup characters escaped, C0 controls (other than tab and newlines) replaced. */
export function escapeHtml(text: string): string {
  return (
    text
      // XML forbids these characters even as references; the page must stay well-formed.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

/** Numbers as a table shows them: 4 significant digits, scientific when tiny or huge, a dash when absent. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (x === Infinity) return '∞';
  if (x === -Infinity) return '−∞';
  if (x === 0) return '0';
  const magnitude = Math.abs(x);
  if (magnitude < 1e-3 || magnitude >= 1e6) return x.toExponential(2);
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

const VERDICT_WORDS: Record<string, string> = {
  drift: 'drift',
  no_drift: 'no drift',
  insufficient_data: 'insufficient data',
  missing_column: 'missing column',
  not_computable: 'not computable',
  not_compared: 'not compared',
};

export function driftReportHtml(report: DriftStageReport): string {
  const e = escapeHtml;
  const verdict = VERDICT_WORDS[report.verdict] ?? report.verdict;
  const tested = report.features.filter((f) => f.verdict === 'drift' || f.verdict === 'no_drift').length;
  const baseline =
    report.baseline.kind === 'model-monitor'
      ? `Model Monitor baseline: <code>${e(report.baseline.statisticsUri)}</code> and <code>${e(report.baseline.constraintsUri)}</code> (${report.baseline.rows} rows)`
      : `the champion's training data, dataset version <code>${e(String(report.baseline.datasetVersion))}</code> (${report.referenceCount} rows)${
          report.baseline.keptProfile?.reused ? `, profiled by an earlier run and kept at <code>${e(report.baseline.keptProfile.uri)}</code>` : ''
        }`;
  const mode = report.mode === 'model-monitor' ? "Model Monitor's checks (model-monitor mode)" : 'a method per feature (default mode)';
  const lines = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Drift report: ${e(report.model)}: ${e(verdict)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>Drift report: ${e(report.model)}</h1>`,
    `<p class="verdict v-${e(report.verdict)}">${e(verdict)}</p>`,
    '<dl class="facts">',
    `<dt>Score</dt><dd>${formatNumber(report.score)}: ${report.driftedFeatures.length} of ${tested} tested feature${tested === 1 ? '' : 's'} drifted (drift at a share of ${formatNumber(report.options.driftShare)})</dd>`,
    `<dt>Drifted features</dt><dd>${report.driftedFeatures.length ? report.driftedFeatures.map((f) => `<code>${e(f)}</code>`).join(', ') : 'none'}</dd>`,
    `<dt>Window</dt><dd>${e(report.window.from)} to ${e(report.window.to)}: ${report.currentCount} rows captured at <code>${e(report.endpoint)}</code> / <code>${e(report.variant)}</code></dd>`,
    `<dt>Baseline</dt><dd>${baseline}</dd>`,
    `<dt>Compared by</dt><dd>${mode}</dd>`,
    '</dl>',
  ];
  if (report.verdict === 'insufficient_data') {
    lines.push(`<p class="note">Fewer than ${report.options.minSamples} captured rows, or no feature could be tested: the stage does not call this "no drift".</p>`);
  }
  if (report.modelMonitor) {
    const mm = report.modelMonitor;
    lines.push('<h2>Model Monitor\'s verdict</h2>', `<p>${e(mm.summary)}.</p>`, '<ul>');
    for (const [check, features] of Object.entries(mm.byCheck)) lines.push(`<li><code>${e(check)}</code>: ${features.map((f) => `<code>${e(f)}</code>`).join(', ')}</li>`);
    lines.push('</ul>', `<p class="small">From <code>${e(mm.violationsUri)}</code>${mm.notInSchema.length ? `; not among this pipeline's features: ${mm.notInSchema.map((f) => `<code>${e(f)}</code>`).join(', ')}` : ''}.</p>`);
  }
  if (report.modelMonitorChecks && report.modelMonitorChecks.violationCount > 0) {
    lines.push('<h2>Model Monitor checks on this window</h2>', '<ul>');
    for (const [check, features] of Object.entries(report.modelMonitorChecks.byCheck)) lines.push(`<li><code>${e(check)}</code>: ${features.map((f) => `<code>${e(f)}</code>`).join(', ')}</li>`);
    lines.push('</ul>', '<p class="small">Only <code>baseline_drift_check</code> decides the verdict; the others are data-quality findings.</p>');
  }
  lines.push(
    '<h2>Features</h2>',
    `<p class="legend"><span class="swatch" style="background:${REFERENCE_COLOUR}"></span>reference <span class="swatch" style="background:${CURRENT_COLOUR}"></span>current (share of each side's present values)</p>`,
    '<table>',
    '<thead><tr><th>Feature</th><th>Method</th><th>Statistic</th><th>p-value</th><th>Threshold</th><th>Verdict</th><th>Reference n</th><th>Current n</th><th>Reference against current</th></tr></thead>',
    '<tbody>',
  );
  for (const feature of report.features) lines.push(featureRow(feature));
  lines.push(
    '</tbody>',
    '</table>',
    '<h2>Files</h2>',
    '<ul class="files">',
    `<li>statistics.json (the window, Model Monitor's format): <code>${e(report.statisticsUri)}</code></li>`,
    `<li>constraint_violations.json (Model Monitor's format): <code>${e(report.violationsUri)}</code></li>`,
    `<li>this page: <code>${e(report.htmlReportUri)}</code></li>`,
    '</ul>',
    '</body>',
    '</html>',
    '',
  );
  return lines.join('\n');
}

function featureRow(f: ReportedFeature): string {
  const e = escapeHtml;
  const bound = f.errorBound ? `<div class="small">in [${formatNumber(f.errorBound.statistic[0])}, ${formatNumber(f.errorBound.statistic[1])}]</div>` : '';
  const notes = [
    f.note,
    f.violations?.length ? `Model Monitor checks failed here: ${f.violations.join(', ')}` : undefined,
    f.modelMonitorFlagged?.length ? `Model Monitor's execution flagged: ${f.modelMonitorFlagged.join(', ')}` : undefined,
    f.unseenCategories?.length ? `categories the reference never had: ${f.unseenCategories.join(', ')}` : undefined,
  ].filter((n): n is string => Boolean(n));
  return [
    `<tr class="v-${e(f.verdict)}">`,
    `<th scope="row"><code>${e(f.name)}</code><div class="small">${e(f.type)}</div></th>`,
    `<td>${e(f.method)}<div class="small">${f.yields === 'p_value' ? 'p-value' : 'distance'}${f.basis ? `, ${e(f.basis)}` : ''}</div></td>`,
    `<td>${formatNumber(f.statistic)}${bound}</td>`,
    `<td>${f.yields === 'p_value' ? formatNumber(f.pValue) : '—'}</td>`,
    `<td>${formatNumber(f.threshold)}</td>`,
    `<td class="verdict-cell">${e(VERDICT_WORDS[f.verdict] ?? f.verdict)}</td>`,
    `<td>${f.referenceCount}</td>`,
    `<td>${f.currentCount}</td>`,
    `<td class="chart">${histogramSvg(f.name, f.histogram)}${notes.map((n) => `<div class="small">${e(n)}</div>`).join('')}</td>`,
    '</tr>',
  ].join('');
}

const WIDTH = 280;

/** One SVG per feature: bars for bins, rows of bars for categories, or a line saying there is nothing to draw. */
export function histogramSvg(feature: string, histogram: FeatureHistogram | null): string {
  const label = `Reference against current for ${feature}`;
  if (!histogram) return svg(label, 24, `<text x="4" y="16" class="axis">no values to draw</text>`);
  return histogram.kind === 'bins' ? binsSvg(label, histogram) : categoriesSvg(label, histogram);
}

function svg(label: string, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${body}</svg>`;
}

const coordinate = (x: number) => String(Math.round(x * 100) / 100);

function binsSvg(label: string, h: Extract<FeatureHistogram, { kind: 'bins' }>): string {
  const top = 6;
  const plot = 60;
  const left = 4;
  const span = WIDTH - 2 * left;
  const bins = h.reference.length;
  const tallest = Math.max(...h.reference, ...h.current, 1e-12);
  const slot = span / bins;
  const bar = Math.max(1, slot / 2 - 0.5);
  const parts: string[] = [];
  for (let i = 0; i < bins; i++) {
    const range = `[${formatNumber(h.edges[i]!)}, ${formatNumber(h.edges[i + 1]!)}${i === bins - 1 ? ']' : ')'}`;
    for (const [side, share, x, colour] of [
      ['reference', h.reference[i]!, left + i * slot, REFERENCE_COLOUR],
      ['current', h.current[i]!, left + i * slot + bar, CURRENT_COLOUR],
    ] as const) {
      const height = (share / tallest) * plot;
      parts.push(
        `<rect x="${coordinate(x)}" y="${coordinate(top + plot - height)}" width="${coordinate(bar)}" height="${coordinate(height)}" fill="${colour}"><title>${escapeHtml(`${side} ${percent(share)} in ${range}`)}</title></rect>`,
      );
    }
  }
  const baseline = top + plot;
  parts.push(`<line x1="${left}" y1="${baseline}" x2="${WIDTH - left}" y2="${baseline}" stroke="#52606d" stroke-width="0.5"/>`);
  const low = `${h.clipped.below ? '≤ ' : ''}${formatNumber(h.edges[0]!)}`;
  const high = `${h.clipped.above ? '≥ ' : ''}${formatNumber(h.edges[h.edges.length - 1]!)}`;
  parts.push(`<text x="${left}" y="${baseline + 12}" class="axis">${escapeHtml(low)}</text>`);
  parts.push(`<text x="${WIDTH - left}" y="${baseline + 12}" class="axis" text-anchor="end">${escapeHtml(high)}</text>`);
  if (h.basis === 'sketch') parts.push(`<text x="${WIDTH / 2}" y="${baseline + 12}" class="axis" text-anchor="middle">from sketches</text>`);
  return svg(label, baseline + 16, parts.join(''));
}

function categoriesSvg(label: string, h: Extract<FeatureHistogram, { kind: 'categories' }>): string {
  const row = 16;
  const labelWidth = 96;
  const span = WIDTH - labelWidth - 44;
  const tallest = Math.max(...h.reference, ...h.current, 1e-12);
  const parts: string[] = [];
  h.labels.forEach((name, i) => {
    const y = 2 + i * row;
    const shown = name.length > 14 ? `${name.slice(0, 13)}…` : name;
    const other = i === h.labels.length - 1 && (h.otherCategories > 0 || h.pooled);
    const full = other ? `${name}: ${h.otherCategories} more categories${h.pooled ? ' and values pooled past the category cap' : ''}` : name;
    parts.push(`<text x="0" y="${y + 11}" class="axis"><title>${escapeHtml(full)}</title>${escapeHtml(shown)}</text>`);
    for (const [side, share, dy, colour] of [
      ['reference', h.reference[i]!, 0, REFERENCE_COLOUR],
      ['current', h.current[i]!, 7, CURRENT_COLOUR],
    ] as const) {
      const width = (share / tallest) * span;
      parts.push(
        `<rect x="${labelWidth}" y="${y + dy}" width="${coordinate(width)}" height="6" fill="${colour}"><title>${escapeHtml(`${side} ${percent(share)}: ${full}`)}</title></rect>`,
      );
    }
    parts.push(`<text x="${WIDTH}" y="${y + 11}" class="axis" text-anchor="end">${percent(h.current[i]!)}</text>`);
  });
  return svg(label, 4 + h.labels.length * row, parts.join(''));
}

const STYLE = [
  'body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:2rem auto;max-width:78rem;padding:0 1rem}',
  'h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:1.75rem 0 .5rem}',
  'code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f4f8;padding:0 .2em;border-radius:3px;word-break:break-all}',
  '.verdict{display:inline-block;font-weight:600;font-size:1.1rem;padding:.2rem .7rem;border-radius:4px;color:#fff;background:#7b8794;margin:.25rem 0 1rem}',
  '.verdict.v-drift{background:#c92a2a}.verdict.v-no_drift{background:#2b8a3e}.verdict.v-insufficient_data{background:#7b8794}',
  '.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}.facts dt{font-weight:600}.facts dd{margin:0}',
  'table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;border-bottom:1px solid #e4e7eb}',
  'thead th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#52606d}',
  'tr.v-drift .verdict-cell{color:#c92a2a;font-weight:600}tr.v-no_drift .verdict-cell{color:#2b8a3e}',
  'tr.v-missing_column .verdict-cell,tr.v-not_computable .verdict-cell,tr.v-not_compared .verdict-cell,tr.v-insufficient_data .verdict-cell{color:#a61e4d}',
  '.small{font-size:12px;color:#52606d}.note{background:#fff9db;padding:.5rem .75rem;border-radius:4px}',
  '.chart svg{display:block}.axis{font:10px system-ui,sans-serif;fill:#52606d}',
  '.legend .swatch{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em;vertical-align:-.1em}.legend .swatch:first-child{margin-left:0}',
].join('');
