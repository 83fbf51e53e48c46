// RnnService page: predict, explain, inspect the model, retrain. Plain JavaScript and SVG, no dependencies.
// Every API error (problem details) or network failure is shown in words in the role="alert" element of its section.

const SVG_NS = 'http://www.w3.org/2000/svg';
const TOP_BARS = 5;          // bars in the prediction chart
const TRACKED_PER_STEP = 3;  // languages per explain column that earn a row
const MAX_TRACKED = 8;       // rows in the explain chart at most
const DEBOUNCE_MS = 250;
const POLL_MS = 500;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------------
// DOM and SVG helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attributes);
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}

const title = (text) => svg('title', { text });

/** The width a chart may use: its container's, or a sensible guess while the container is hidden. */
function widthOf(container, fallback = 640) {
  return Math.max(240, Math.floor(container.clientWidth || fallback));
}

// Charts whose layout depends on the width are redrawn when the window is resized.
const redraws = new Map();
function draw(key, render) {
  redraws.set(key, render);
  render();
}
let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => redraws.forEach((render) => render()), 150);
});

// ---------------------------------------------------------------------------------------------------------------
// Formatting

const percent = (p) => (p > 0 && p < 0.001 ? '<0.1%' : `${(p * 100).toFixed(1)}%`);
const fixed = (value, digits = 3) => (typeof value === 'number' ? value.toFixed(digits) : '–');
const dateTime = (text) => {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? String(text) : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
};
/** "00:01:02.5" (a .NET TimeSpan) → seconds. */
const seconds = (span) => {
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(String(span ?? ''));
  if (!match) return null;
  const [, days, hours, minutes, secs] = match;
  return (Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(secs);
};
const words = (camel) => camel.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

// ---------------------------------------------------------------------------------------------------------------
// API access: JSON in and out, problem details turned into sentences

class ApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, url, { body, key, signal } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key !== undefined) {
    if (!/^[\x20-\x7e]+$/.test(key)) throw new ApiError('The API key may only contain printable ASCII characters.', 0, null);
    headers['X-Api-Key'] = key;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError('Could not reach the service (network error). Check that it is running and try again.', 0, null);
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    if (response.ok) throw new ApiError('The service sent an answer the page cannot read.', response.status, null);
  }
  if (!response.ok) throw new ApiError(describeProblem(response, data), response.status, data);
  return data;
}

/** One sentence (or one per line) a person can act on, from an RFC 9457 problem. */
function describeProblem(response, problem) {
  const messages = [];
  if (problem && typeof problem.errors === 'object' && problem.errors !== null) {
    for (const [field, list] of Object.entries(problem.errors)) {
      for (const message of [].concat(list)) {
        messages.push(/could not be converted|is invalid JSON|JSON value/i.test(message)
          ? `The value of ${field.replace(/^\$\.?/, '') || 'the request'} is not valid.`
          : message);
      }
    }
  }
  if (messages.length > 0) return [...new Set(messages)].join('\n');
  switch (response.status) {
    case 401: return 'The API key is missing or wrong.';
    case 403: return 'This API key may not do that.';
    case 413: return 'The request is too large.';
    case 429: {
      const retry = response.headers.get('Retry-After');
      return `Too many requests; try again ${retry ? `in ${retry} s` : 'shortly'}.`;
    }
    default: {
      const text = [problem?.title, problem?.detail].filter(Boolean).join(' ');
      return text || `The service answered ${response.status} ${response.statusText}.`.replace(' .', '.');
    }
  }
}

function showError(element, error) {
  element.textContent = error ? (error instanceof ApiError ? error.message : `Something went wrong: ${error.message ?? error}`) : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Colour scales

function mix(from, to, t) {
  const channel = (i) => Math.round(from[i] + (to[i] - from[i]) * t);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}
const WHITE = [255, 255, 255];
const BLUE = [33, 102, 172];
const RED = [178, 24, 43];
const NAVY = [16, 52, 120];
/** Diverging: −1 blue, 0 white, +1 red. */
const diverging = (value) => {
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(WHITE, BLUE, -v) : mix(WHITE, RED, v);
};
/** Sequential: 0 white, 1 navy. */
const sequential = (t) => mix(WHITE, NAVY, Math.max(0, Math.min(1, t)));

// ---------------------------------------------------------------------------------------------------------------
// Charts

/** Horizontal bars with a label and a value text each; `top` marks the first bar. */
function barChart(container, items, { ariaLabel, max = 1, dataName = 'label' } = {}) {
  const width = widthOf(container);
  const rowHeight = 30;
  const longest = Math.max(...items.map((item) => item.label.length), 4);
  const labelWidth = Math.min(Math.round(width * 0.4), longest * 8 + 12);
  const valueWidth = 64;
  const barSpace = Math.max(40, width - labelWidth - valueWidth);
  const height = items.length * rowHeight + 4;
  const chart = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': ariaLabel,
  });
  items.forEach((item, i) => {
    const y = i * rowHeight + 2;
    const barWidth = Math.max(item.value > 0 ? 2 : 0, (item.value / max) * barSpace);
    chart.append(svg('g', { class: 'bar-row', [`data-${dataName}`]: item.label, 'aria-hidden': 'true' },
      title(`${item.label}: ${item.text}`),
      svg('text', { x: labelWidth - 8, y: y + rowHeight / 2 + 5, 'text-anchor': 'end', text: item.label, class: i === 0 ? 'leader' : null }),
      svg('rect', { class: 'track', x: labelWidth, y: y + 5, width: barSpace, height: rowHeight - 10, rx: 3 }),
      svg('rect', { class: i === 0 ? 'bar top' : 'bar', x: labelWidth, y: y + 5, width: barWidth.toFixed(1), height: rowHeight - 10, rx: 3 }),
      svg('text', { x: labelWidth + barSpace + 8, y: y + rowHeight / 2 + 5, text: item.text, class: i === 0 ? 'leader' : null })));
  });
  container.replaceChildren(chart);
}

/** A line chart over epochs: series of {name, points:[{x, y}], dashed}, x from 1 to xMax. */
function lineChart(container, { label, series, xMax, yMin = 0, yMax, format, marker }) {
  const width = widthOf(container, 360);
  const height = 220;
  const margin = { left: 48, right: 14, top: 30, bottom: 36 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y));
  const top = yMax ?? niceCeiling(Math.max(...values, 0.1));
  const xs = Math.max(2, xMax);
  const x = (epoch) => margin.left + ((epoch - 1) / (xs - 1)) * plotW;
  const y = (value) => margin.top + plotH - ((value - yMin) / (top - yMin)) * plotH;

  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': describeSeries(label, series, format) });
  for (let i = 0; i <= 4; i++) {
    const value = yMin + ((top - yMin) * i) / 4;
    chart.append(
      svg('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value) }),
      svg('text', { class: 'muted', x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end', 'font-size': 11, text: format(value, true) }));
  }
  const step = Math.max(1, Math.ceil(xs / Math.max(2, Math.floor(plotW / 40))));
  for (let epoch = 1; epoch <= xs; epoch += step) {
    chart.append(svg('text', { class: 'muted', x: x(epoch), y: height - margin.bottom + 16, 'text-anchor': 'middle', 'font-size': 11, text: epoch }));
  }
  chart.append(
    svg('line', { class: 'axis', x1: margin.left, x2: width - margin.right, y1: margin.top + plotH, y2: margin.top + plotH }),
    svg('line', { class: 'axis', x1: margin.left, x2: margin.left, y1: margin.top, y2: margin.top + plotH }),
    svg('text', { class: 'muted', x: margin.left + plotW / 2, y: height - 4, 'text-anchor': 'middle', 'font-size': 11, text: 'epoch' }));
  if (marker) {
    chart.append(svg('line', { x1: x(marker.x), x2: x(marker.x), y1: margin.top, y2: margin.top + plotH, stroke: '#1d6b35', 'stroke-dasharray': '2 3' },
      title(marker.label)));
  }

  let legendX = margin.left;
  for (const s of series) {
    const points = s.points.filter((p) => Number.isFinite(p.y));
    const group = svg('g', { class: 'series', 'data-series': s.name });
    if (points.length > 1) {
      group.append(svg('polyline', {
        points: points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' '),
        fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '6 4' : null,
      }));
    }
    for (const p of points) {
      group.append(svg('circle', { cx: x(p.x), cy: y(p.y), r: 3, fill: s.color }, title(`${s.name}, epoch ${p.x}: ${format(p.y)}`)));
    }
    chart.append(group);
    chart.append(
      svg('line', { x1: legendX, x2: legendX + 22, y1: 12, y2: 12, stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '6 4' : null }),
      svg('text', { x: legendX + 28, y: 16, 'font-size': 12, text: s.name }));
    legendX += 28 + s.name.length * 7 + 18;
  }
  container.replaceChildren(chart);
}

function describeSeries(label, series, format) {
  const parts = series.map((s) => {
    const last = s.points.at(-1);
    return last ? `${s.name} ${format(last.y)} at epoch ${last.x}` : `${s.name}: no data yet`;
  });
  return `${label}: ${parts.join('; ')}.`;
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** Loss and accuracy charts for a list of epoch reports. */
function epochCharts(container, key, epochs, xMax, bestEpoch) {
  if (container.children.length !== 2) {
    container.replaceChildren(
      el('figure', {}, el('figcaption', { text: 'Loss' }), el('div', { class: 'chart loss' })),
      el('figure', {}, el('figcaption', { text: 'Accuracy' }), el('div', { class: 'chart accuracy' })));
  }
  const marker = bestEpoch ? { x: bestEpoch, label: `best epoch ${bestEpoch} (weights kept)` } : null;
  const line = (name, field, color, dashed) => ({ name, color, dashed, points: epochs.map((e) => ({ x: e.epoch, y: e[field] })) });
  draw(key, () => {
    lineChart(container.querySelector('.loss'), {
      label: 'Loss per epoch', xMax, marker, format: (v) => v.toFixed(3),
      series: [line('training', 'trainingLoss', '#1f5fbf', false), line('validation', 'validationLoss', '#b3541e', true)],
    });
    lineChart(container.querySelector('.accuracy'), {
      label: 'Accuracy per epoch', xMax, yMax: 1, marker, format: (v, axis) => (axis ? `${Math.round(v * 100)}%` : percent(v)),
      series: [line('training', 'trainingAccuracy', '#1f5fbf', false), line('validation', 'validationAccuracy', '#b3541e', true)],
    });
  });
}

/**
 * Arrow-key navigation over a grid of SVG cells with a roving tabindex: only one cell is in the tab order; the arrow
 * keys, Home/End and PageUp/PageDown move focus. Hovering or focusing a cell calls `show` with it.
 */
function gridNavigation(root, cells, show) {
  const rows = cells.length;
  const cols = rows > 0 ? cells[0].length : 0;
  let current = [0, 0];
  const focus = (r, c) => {
    const [pr, pc] = current;
    cells[pr][pc].setAttribute('tabindex', '-1');
    current = [r, c];
    cells[r][c].setAttribute('tabindex', '0');
    cells[r][c].focus();
  };
  root.addEventListener('keydown', (event) => {
    const [r, c] = current;
    const moves = {
      ArrowUp: [r - 1, c], ArrowDown: [r + 1, c], ArrowLeft: [r, c - 1], ArrowRight: [r, c + 1],
      Home: [r, 0], End: [r, cols - 1], PageUp: [r - 8, c], PageDown: [r + 8, c],
    };
    const target = moves[event.key];
    if (!target) return;
    event.preventDefault();
    focus(Math.max(0, Math.min(rows - 1, target[0])), Math.max(0, Math.min(cols - 1, target[1])));
  });
  const cellOf = (target) => (target instanceof SVGElement && target.classList.contains('cell') ? target : null);
  root.addEventListener('focusin', (event) => {
    const cell = cellOf(event.target);
    if (!cell) return;
    const r = Number(cell.dataset.row);
    const c = Number(cell.dataset.col);
    if (r !== current[0] || c !== current[1]) {
      cells[current[0]][current[1]].setAttribute('tabindex', '-1');
      current = [r, c];
      cell.setAttribute('tabindex', '0');
    }
    show(cell);
  });
  root.addEventListener('mouseover', (event) => {
    const cell = cellOf(event.target);
    if (cell) show(cell);
  });
  if (rows > 0 && cols > 0) cells[0][0].setAttribute('tabindex', '0');
}

// ---------------------------------------------------------------------------------------------------------------
// Predict and explain

const nameInput = $('name');
let debounceTimer;
let sequence = 0;
let inFlight = null;

nameInput.addEventListener('input', () => {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(predict, DEBOUNCE_MS);
});
$('predict-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(debounceTimer);
  predict();
});

async function predict() {
  const name = nameInput.value;
  inFlight?.abort();
  const run = ++sequence;
  if (name.trim() === '') {
    clearPrediction();
    return;
  }
  inFlight = new AbortController();
  const signal = inFlight.signal;
  $('predict').setAttribute('aria-busy', 'true');
  const [prediction, explanation] = await Promise.allSettled([
    api('POST', '/api/predictions', { body: { name, top: TOP_BARS }, signal }),
    api('POST', '/api/predictions/explain', { body: { name, top: 100 }, signal }),
  ]);
  if (run !== sequence) return;  // a newer name is on its way
  $('predict').removeAttribute('aria-busy');

  if (prediction.status === 'rejected') {
    showError($('predict-error'), prediction.reason);
    nameInput.setAttribute('aria-invalid', String(prediction.reason?.status === 400));
    $('predict-summary').textContent = '';
    $('predict-chart').replaceChildren();
    redraws.delete('predict');
    clearExplanation('Enter a valid name above to see how the RNN reads it.');
    return;
  }
  showError($('predict-error'), null);
  nameInput.removeAttribute('aria-invalid');
  renderPrediction(prediction.value);

  if (explanation.status === 'rejected') {
    showError($('explain-error'), explanation.reason);
    clearExplanation('');
  } else {
    showError($('explain-error'), null);
    renderExplanation(explanation.value);
  }
}

function clearPrediction() {
  showError($('predict-error'), null);
  nameInput.removeAttribute('aria-invalid');
  $('predict').removeAttribute('aria-busy');
  $('predict-summary').textContent = '';
  $('predict-chart').replaceChildren();
  redraws.delete('predict');
  showError($('explain-error'), null);
  clearExplanation('Type a name above to see how the RNN reads it.');
}

function renderPrediction(result) {
  const best = result.languages[0];
  $('predict-summary').textContent =
    `“${result.name.trim()}” most likely comes from ${best.language} (${percent(best.probability)}). Model version ${result.modelVersion}.`;
  $('predict-summary').dataset.modelVersion = result.modelVersion;
  const items = result.languages.map((l) => ({ label: l.language, value: l.probability, text: percent(l.probability) }));
  draw('predict', () => barChart($('predict-chart'), items, {
    dataName: 'language',
    ariaLabel: `Language probabilities for ${result.name.trim()}: ${items.map((i) => `${i.label} ${i.text}`).join(', ')}.`,
  }));
}

function clearExplanation(message) {
  $('explain-summary').textContent = message;
  for (const node of document.querySelectorAll('.when-explained')) node.hidden = true;
  $('explain-steps').replaceChildren();
  $('explain-heatmap').replaceChildren();
  $('heatmap-readout').textContent = '';
}

function renderExplanation(result) {
  const steps = result.steps;
  const hiddenSize = steps[0]?.hidden.length ?? 0;
  const final = result.prediction.languages[0];
  const unseen = steps.filter((s) => !s.known).map((s) => `“${s.character}”`);
  $('explain-summary').textContent =
    `Read as “${result.normalizedName}”: ${steps.length} character${steps.length === 1 ? '' : 's'}, ${hiddenSize} hidden units, ` +
    `model version ${result.modelVersion}. After the last character: ${final.language} (${percent(final.probability)}).` +
    (unseen.length ? ` Not seen in training, read as unknown: ${[...new Set(unseen)].join(', ')}.` : '');
  for (const node of document.querySelectorAll('.when-explained')) node.hidden = false;
  renderSteps(result);
  renderHeatmap(result);
}

/** One column per character: the tracked languages' probabilities after reading it, as small bars. */
function renderSteps(result) {
  const steps = result.steps;
  const finalOrder = result.prediction.languages.map((l) => l.language);
  const tracked = new Set();
  for (const step of steps) for (const l of step.languages.slice(0, TRACKED_PER_STEP)) tracked.add(l.language);
  const rows = [...tracked].sort((a, b) => finalOrder.indexOf(a) - finalOrder.indexOf(b)).slice(0, MAX_TRACKED);
  const probabilities = steps.map((step) => new Map(step.languages.map((l) => [l.language, l.probability])));

  const labelW = 92;
  const colW = 60;
  const headH = 44;
  const rowH = 30;
  const normH = 24;
  const width = labelW + steps.length * colW + 8;
  const height = headH + rows.length * rowH + normH + 4;
  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'list', 'aria-labelledby': 'steps-title' });

  rows.forEach((language, r) => chart.append(svg('text', {
    x: labelW - 8, y: headH + r * rowH + 18, 'text-anchor': 'end', 'font-size': 13, 'aria-hidden': 'true', text: language,
  })));
  chart.append(svg('text', { x: labelW - 8, y: headH + rows.length * rowH + 16, 'text-anchor': 'end', 'font-size': 12, class: 'muted', 'aria-hidden': 'true', text: '‖h‖' }));

  steps.forEach((step, t) => {
    const x = labelW + t * colW;
    const leader = step.languages[0];
    const spoken = rows.map((language) => `${language} ${percent(probabilities[t].get(language) ?? 0)}`).join(', ');
    const column = svg('g', {
      class: 'step', role: 'listitem', 'data-position': step.position, 'data-character': step.character,
      'aria-label': `After “${step.character}” (character ${step.position}${step.known ? '' : ', unseen'}): ${spoken}; leading ${leader.language}.`,
    });
    column.append(
      svg('rect', { x: x + 2, y: 2, width: colW - 4, height: headH - 8, rx: 4, fill: step.known ? '#eef1f6' : '#fbe9dc' }),
      svg('text', {
        x: x + colW / 2, y: 26, 'text-anchor': 'middle', 'font-size': 20, 'font-family': 'ui-monospace, Menlo, Consolas, monospace',
        class: step.known ? null : 'unknown', 'aria-hidden': 'true', text: step.character === ' ' ? '␣' : step.character,
      }),
      svg('text', { x: x + colW / 2, y: 38, 'text-anchor': 'middle', 'font-size': 10, class: 'muted', 'aria-hidden': 'true', text: step.known ? step.position : `${step.position} · new` }));
    rows.forEach((language, r) => {
      const p = probabilities[t].get(language) ?? 0;
      const y = headH + r * rowH;
      const isLeader = language === leader.language;
      column.append(svg('g', { 'aria-hidden': 'true' },
        title(`After “${step.character}” (${step.position}): ${language} ${percent(p)}`),
        svg('text', { x: x + colW / 2, y: y + 13, 'text-anchor': 'middle', 'font-size': 11, class: isLeader ? 'leader' : 'muted', text: percent(p) }),
        svg('rect', { class: 'track', x: x + 6, y: y + 17, width: colW - 12, height: 8, rx: 2 }),
        svg('rect', { class: isLeader ? 'bar top' : 'bar', x: x + 6, y: y + 17, width: ((colW - 12) * p).toFixed(1), height: 8, rx: 2 })));
    });
    column.append(svg('text', {
      x: x + colW / 2, y: headH + rows.length * rowH + 16, 'text-anchor': 'middle', 'font-size': 11, class: 'muted', 'aria-hidden': 'true', text: step.norm.toFixed(2),
    }, title(`‖h‖ after “${step.character}”: ${step.norm.toFixed(4)}`)));
    chart.append(column);
  });
  $('explain-steps').replaceChildren(chart);
}

/** h_t as a heat map: one row per hidden unit, one column per character, diverging colours for [−1, 1]. */
function renderHeatmap(result) {
  const steps = result.steps;
  const units = steps[0]?.hidden.length ?? 0;
  const labelW = 44;
  const colW = 36;
  const headH = 26;
  const rowH = Math.max(3, Math.min(10, Math.floor(512 / Math.max(1, units))));
  const labelEvery = Math.max(1, Math.ceil(14 / rowH));
  const width = labelW + steps.length * colW + 4;
  const height = headH + units * rowH + 4;

  const legend = colourLegend();
  const map = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'heatmap', role: 'group',
    'aria-label': `Hidden state: ${units} units by ${steps.length} characters. Use the arrow keys to move between cells.`,
  });
  steps.forEach((step, t) => map.append(svg('text', {
    x: labelW + t * colW + colW / 2, y: 17, 'text-anchor': 'middle', 'font-size': 14, 'font-family': 'ui-monospace, Menlo, Consolas, monospace',
    class: step.known ? null : 'unknown', 'aria-hidden': 'true', text: step.character === ' ' ? '␣' : step.character,
  })));
  for (let u = 0; u < units; u += labelEvery) {
    map.append(svg('text', { x: labelW - 6, y: headH + u * rowH + rowH / 2 + 4, 'text-anchor': 'end', 'font-size': 10, class: 'muted', 'aria-hidden': 'true', text: u + 1 }));
  }
  const cells = [];
  for (let u = 0; u < units; u++) {
    const row = [];
    steps.forEach((step, t) => {
      const value = step.hidden[u];
      const cell = svg('rect', {
        class: 'cell', x: labelW + t * colW, y: headH + u * rowH, width: colW, height: rowH, fill: diverging(value),
        tabindex: '-1', role: 'img', 'data-row': u, 'data-col': t, 'data-value': value,
      }, title(`Unit ${u + 1} after “${step.character}” (character ${step.position}): ${value.toFixed(4)}`));
      map.append(cell);
      row.push(cell);
    });
    cells.push(row);
  }
  gridNavigation(map, cells, (cell) => {
    $('heatmap-readout').textContent = cell.firstChild.textContent;
  });
  $('heatmap-readout').textContent = '';
  $('explain-heatmap').replaceChildren(legend, map);
}

function colourLegend() {
  const width = 220;
  const legend = svg('svg', { width, height: 34, viewBox: `0 0 ${width} 34`, class: 'legend', role: 'img', 'aria-label': 'Colour scale: −1 blue, 0 white, +1 red.' });
  const gradient = svg('linearGradient', { id: 'diverging-gradient' },
    svg('stop', { offset: '0%', 'stop-color': diverging(-1) }),
    svg('stop', { offset: '50%', 'stop-color': diverging(0) }),
    svg('stop', { offset: '100%', 'stop-color': diverging(1) }));
  legend.append(
    svg('defs', {}, gradient),
    svg('rect', { x: 30, y: 4, width: 160, height: 12, fill: 'url(#diverging-gradient)', stroke: '#8a8f99' }),
    svg('text', { x: 30, y: 30, 'text-anchor': 'middle', 'font-size': 11, text: '−1' }),
    svg('text', { x: 110, y: 30, 'text-anchor': 'middle', 'font-size': 11, text: '0' }),
    svg('text', { x: 190, y: 30, 'text-anchor': 'middle', 'font-size': 11, text: '+1' }));
  return legend;
}

// ---------------------------------------------------------------------------------------------------------------
// Model: current manifest, metrics, confusion matrix, versions

async function loadModel() {
  const [current, versions] = await Promise.allSettled([api('GET', '/api/models/current'), api('GET', '/api/models')]);
  if (current.status === 'fulfilled') {
    showError($('model-error'), null);
    renderModel(current.value);
  } else {
    showError($('model-error'), current.reason);
  }
  if (versions.status === 'fulfilled') {
    showError($('versions-error'), null);
    renderVersions(versions.value);
  } else {
    showError($('versions-error'), versions.reason);
  }
}

function renderModel(manifest) {
  const test = manifest.metrics.test;
  const validation = manifest.metrics.validation;
  const headline = [
    ['Version', manifest.version],
    ['Test accuracy', percent(test.accuracy)],
    ['Test macro-F1', fixed(test.macroF1)],
    ['Validation macro-F1', fixed(validation.macroF1)],
    ['Languages', manifest.languages.length],
    ['Hidden units', manifest.architecture.hiddenSize],
  ];
  $('model-current').replaceChildren(
    el('p', { class: 'summary', id: 'model-summary', 'data-version': manifest.version },
      `Serving version ${manifest.version}, created ${dateTime(manifest.createdAt)}; best epoch ${manifest.metrics.bestEpoch} of ${manifest.metrics.history.length}, ` +
      `${test.count} test names.`),
    el('ul', { class: 'headline' }, headline.map(([label, value]) =>
      el('li', {}, el('span', { class: 'value', text: value }), el('span', { class: 'label', text: label })))));

  const config = { ...manifest.training };
  $('model-config').replaceChildren(...Object.entries(config).flatMap(([key, value]) => [
    el('dt', { text: words(key) }), el('dd', { text: typeof value === 'boolean' ? (value ? 'yes' : 'no') : value }),
  ]));

  const scores = [...test.languages].sort((a, b) => b.f1 - a.f1);
  draw('f1', () => barChart($('model-f1'), scores.map((s) => ({ label: s.language, value: s.f1, text: fixed(s.f1, 2) })), {
    dataName: 'language',
    ariaLabel: `Test F1 per language: ${scores.map((s) => `${s.language} ${fixed(s.f1, 2)} (precision ${fixed(s.precision, 2)}, recall ${fixed(s.recall, 2)}, ${s.support} names)`).join('; ')}.`,
  }));
  renderConfusion(manifest.languages, test.confusionMatrix);
  epochCharts($('model-history'), 'history', manifest.metrics.history, Math.max(2, manifest.metrics.history.length), manifest.metrics.bestEpoch);
}

function renderConfusion(languages, matrix) {
  const n = languages.length;
  const cell = 28;
  const labelW = 96;
  const headH = 96;
  const width = labelW + n * cell + 30;
  const height = headH + n * cell + 8;
  const map = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'confusion', role: 'group',
    'aria-label': `Confusion matrix, ${n} by ${n}: rows are the true language, columns the predicted one. Use the arrow keys to move between cells.`,
  });
  map.append(
    svg('text', { x: labelW + (n * cell) / 2, y: 12, 'text-anchor': 'middle', 'font-size': 12, class: 'muted', 'aria-hidden': 'true', text: 'predicted →' }),
    svg('text', { x: 12, y: headH + (n * cell) / 2, 'text-anchor': 'middle', 'font-size': 12, class: 'muted', 'aria-hidden': 'true', transform: `rotate(-90 12 ${headH + (n * cell) / 2})`, text: 'true →' }));
  languages.forEach((language, k) => {
    const cx = labelW + k * cell + cell / 2;
    map.append(
      svg('text', { x: cx, y: headH - 6, 'font-size': 11, transform: `rotate(-55 ${cx} ${headH - 6})`, 'aria-hidden': 'true', class: 'column-label', text: language }),
      svg('text', { x: labelW - 6, y: headH + k * cell + cell / 2 + 4, 'text-anchor': 'end', 'font-size': 11, 'aria-hidden': 'true', class: 'row-label', text: language }));
  });
  const cells = [];
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cellsOfRow = [];
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      const x = labelW + j * cell;
      const y = headH + i * cell;
      const label = `True ${languages[i]}, predicted ${languages[j]}: ${count} of ${total} (${percent(share)})`;
      const rect = svg('rect', {
        class: 'cell', x, y, width: cell, height: cell, fill: sequential(share), stroke: i === j ? '#1b1b1f' : '#e3e5ea', 'stroke-width': i === j ? 1 : 0.5,
        tabindex: '-1', role: 'img', 'data-row': i, 'data-col': j, 'data-count': count,
      }, title(label));
      map.append(rect);
      if (count > 0) {
        map.append(svg('text', {
          x: x + cell / 2, y: y + cell / 2 + 4, 'text-anchor': 'middle', 'font-size': 10, 'pointer-events': 'none', 'aria-hidden': 'true',
          fill: share > 0.5 ? '#fff' : '#1b1b1f', style: `fill: ${share > 0.5 ? '#fff' : '#1b1b1f'}`, text: count,
        }));
      }
      cellsOfRow.push(rect);
    });
    cells.push(cellsOfRow);
  });
  gridNavigation(map, cells, (rect) => {
    $('confusion-readout').textContent = rect.firstChild.textContent;
  });
  $('model-confusion').replaceChildren(map);
}

function renderVersions(versions) {
  const body = $('versions').tBodies[0];
  body.replaceChildren(...[...versions].reverse().map((v) => {
    const button = el('button', {
      type: 'button', class: 'secondary', 'data-version': v.version, 'aria-label': `Activate version ${v.version}`, disabled: v.current, text: v.current ? 'Serving' : 'Activate',
    });
    button.addEventListener('click', () => activate(v.version, button));
    return el('tr', { class: v.current ? 'current' : null, 'data-version': v.version },
      el('th', { scope: 'row' }, String(v.version), v.current ? el('span', { class: 'badge', text: 'current' }) : null),
      el('td', { text: dateTime(v.createdAt) }),
      el('td', { text: v.hiddenSize }),
      el('td', { text: v.epochs }),
      el('td', { text: percent(v.testAccuracy) }),
      el('td', { text: fixed(v.testMacroF1) }),
      el('td', { text: fixed(v.validationMacroF1) }),
      el('td', {}, button));
  }));
}

async function activate(version, button) {
  const key = $('train-key').value;
  $('versions-status').textContent = '';
  if (key === '') {
    showError($('versions-error'), new ApiError('Enter the API key in the Train form to activate a version.', 0, null));
    return;
  }
  button.disabled = true;
  try {
    await api('POST', `/api/models/${version}/activate`, { key });
    showError($('versions-error'), null);
    $('versions-status').textContent = `Version ${version} is now served.`;
    await loadModel();
    if (nameInput.value.trim() !== '') predict();
  } catch (error) {
    button.disabled = false;
    showError($('versions-error'), error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Train: start, watch, cancel

const FIELDS = [
  { name: 'hiddenSize', label: 'Hidden units', integer: true },
  { name: 'epochs', label: 'Epochs', integer: true },
  { name: 'batchSize', label: 'Batch size', integer: true },
  { name: 'learningRate', label: 'Learning rate', integer: false },
  { name: 'seed', label: 'Seed', integer: true },
];
const FINISHED = new Set(['Succeeded', 'Failed', 'Cancelled']);
let watchedJob = null;
let pollTimer;

$('train-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {};
  const problems = [];
  for (const field of FIELDS) {
    const input = $(`train-${field.name}`);
    input.removeAttribute('aria-invalid');
    if (input.validity.badInput) {
      problems.push([input, `${field.label} must be a number.`]);
    } else if (input.value.trim() !== '') {
      const value = Number(input.value);
      if (field.integer && !Number.isInteger(value)) problems.push([input, `${field.label} must be a whole number.`]);
      else body[field.name] = value;
    }
  }
  const key = $('train-key').value;
  $('train-key').removeAttribute('aria-invalid');
  if (key === '') problems.push([$('train-key'), 'Enter the API key to start training.']);
  if (problems.length > 0) {
    for (const [input] of problems) input.setAttribute('aria-invalid', 'true');
    showError($('train-error'), new ApiError(problems.map(([, message]) => message).join('\n'), 0, null));
    return;
  }

  $('train-start').disabled = true;
  try {
    const job = await api('POST', '/api/training', { body, key });
    showError($('train-error'), null);
    watch(job);
  } catch (error) {
    showError($('train-error'), trainingError(error));
    markInvalidFields(error);
    if (error.status === 409 && error.problem?.jobId) {
      watch({ id: error.problem.jobId });
    } else {
      $('train-start').disabled = false;
    }
  }
});

/** Validation messages name settings the way the API does ("HiddenSize must be …"); use the form's labels instead. */
function trainingError(error) {
  if (!(error instanceof ApiError)) return error;
  let message = error.message;
  for (const field of FIELDS) {
    const pascal = field.name[0].toUpperCase() + field.name.slice(1);
    message = message.replaceAll(new RegExp(`\\b${pascal}\\b`, 'g'), field.label);
  }
  return new ApiError(message, error.status, error.problem);
}

function markInvalidFields(error) {
  if (error.status === 401) $('train-key').setAttribute('aria-invalid', 'true');
  const errors = error.problem?.errors ?? {};
  for (const key of Object.keys(errors)) {
    const field = FIELDS.find((f) => f.name.toLowerCase() === key.replace(/^\$\.?/, '').toLowerCase());
    if (field) $(`train-${field.name}`).setAttribute('aria-invalid', 'true');
  }
}

$('train-cancel').addEventListener('click', async () => {
  if (!watchedJob) return;
  const key = $('train-key').value;
  if (key === '') {
    showError($('train-error'), new ApiError('Enter the API key to cancel training.', 0, null));
    return;
  }
  $('train-cancel').disabled = true;
  try {
    await api('DELETE', `/api/training/${watchedJob}`, { key });
    showError($('train-error'), null);
    $('train-status').textContent = 'Cancellation requested; the job stops at its next minibatch.';
  } catch (error) {
    showError($('train-error'), error);
    if (error.status !== 409) $('train-cancel').disabled = false;
  }
});

function watch(job) {
  clearTimeout(pollTimer);
  watchedJob = job.id;
  $('train-job').hidden = false;
  $('train-outcome').textContent = '';
  $('train-outcome').className = 'outcome';
  $('train-charts').replaceChildren();
  lastStatus = '';
  if (job.state) renderJob(job);
  if (!FINISHED.has(job.state)) poll(job.id);
}

async function poll(id) {
  try {
    const job = await api('GET', `/api/training/${id}`);
    if (id !== watchedJob) return;
    if ($('train-error').dataset.polling) {
      showError($('train-error'), null);
      delete $('train-error').dataset.polling;
    }
    renderJob(job);
    if (!FINISHED.has(job.state)) pollTimer = setTimeout(() => poll(id), POLL_MS);
  } catch (error) {
    if (id !== watchedJob) return;
    showError($('train-error'), new ApiError(`Lost track of the training job: ${error.message}`, error.status, error.problem));
    $('train-error').dataset.polling = 'true';
    if (error.status === 404) {
      $('train-start').disabled = false;
      $('train-cancel').disabled = true;
    } else {
      pollTimer = setTimeout(() => poll(id), POLL_MS * 4);
    }
  }
}

let lastStatus = '';
function renderJob(job) {
  const total = job.config.epochs;
  const done = job.epochs.length;
  const last = job.epochs.at(-1);
  const finished = FINISHED.has(job.state);
  const elapsed = last ? seconds(last.elapsed) : null;
  const status = `Job ${job.id.slice(0, 8)}: ${job.state.toLowerCase()}` +
    (done > 0 ? `, epoch ${done} of ${total}` : `, ${total} epochs planned`) +
    (last ? ` (validation accuracy ${percent(last.validationAccuracy)}${elapsed !== null ? `, ${elapsed.toFixed(1)} s` : ''})` : '') + '.';
  if (status !== lastStatus) {
    $('train-status').textContent = status;
    lastStatus = status;
  }
  const section = $('train');
  section.dataset.jobState = job.state;
  $('train-progress').max = total;
  $('train-progress').value = finished && job.state === 'Succeeded' ? total : done;
  epochCharts($('train-charts'), 'training', job.epochs, total, null);

  $('train-cancel').disabled = finished;
  $('train-start').disabled = !finished;
  if (finished) {
    renderOutcome(job);
    loadModel();
    if (job.promoted && nameInput.value.trim() !== '') predict();
  }
}

function renderOutcome(job) {
  const outcome = $('train-outcome');
  outcome.className = `outcome ${job.state.toLowerCase()}`;
  switch (job.state) {
    case 'Succeeded':
      outcome.textContent = `Training succeeded: version ${job.modelVersion} was published and ` +
        (job.promoted ? 'is now served.' : 'was not promoted.') + (job.promotionNote ? ` ${job.promotionNote}` : '');
      break;
    case 'Failed':
      outcome.textContent = `Training failed: ${job.error ?? 'no reason given.'}`;
      break;
    default:
      outcome.textContent = 'Training was cancelled; nothing was published.';
  }
}

/** A job started elsewhere (another tab, curl) that is still running is shown too. */
async function resumeActiveJob() {
  try {
    const jobs = await api('GET', '/api/training');
    const active = jobs.find((job) => !FINISHED.has(job.state));
    if (active && !watchedJob) watch(active);
  } catch {
    // Not essential: the form still works, and starting a job reports any problem.
  }
}

// ---------------------------------------------------------------------------------------------------------------

loadModel();
resumeActiveJob();
if (nameInput.value.trim() !== '') predict();
document.body.dataset.ready = 'true';
