// Small SVG charts and DOM helpers for the RnnService page: bars, lines, heat-map navigation, colour scales, formatting.

const SVG_NS = 'http://www.w3.org/2000/svg';

// ---------------------------------------------------------------------------------------------------------------
// DOM and SVG helpers

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

export function svg(tag, attributes = {}, ...children) {
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

export const title = (text) => svg('title', { text });

/** The width a chart may use: its container's, or a sensible guess while the container is hidden. */
export function widthOf(container, fallback = 640) {
  return Math.max(240, Math.floor(container.clientWidth || fallback));
}

const measuring = document.createElement('canvas').getContext('2d');
/** The width of a text in the page's font, so labels get the room they need. */
export function textWidth(text, size, bold = false) {
  measuring.font = `${bold ? 700 : 400} ${size}px ${getComputedStyle(document.body).fontFamily}`;
  return measuring.measureText(String(text)).width;
}
export const widest = (texts, size, bold = false) => Math.ceil(Math.max(0, ...texts.map((text) => textWidth(text, size, bold))));

// Charts whose layout depends on the width are redrawn when the window is resized.
const redraws = new Map();
export function draw(key, render) {
  redraws.set(key, render);
  render();
}
export const forget = (key) => redraws.delete(key);
let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => redraws.forEach((render) => render()), 150);
});

// ---------------------------------------------------------------------------------------------------------------
// Formatting

export const percent = (p) => (p > 0 && p < 0.0005 ? '<0.1%' : `${(Math.round(p * 1000) / 10).toFixed(1)}%`);
export const fixed = (value, digits = 3) => (typeof value === 'number' ? value.toFixed(digits) : '–');
export const dateTime = (text) => {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? String(text) : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
};
/** "00:01:02.5" (a .NET TimeSpan) → seconds. */
export const seconds = (span) => {
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(String(span ?? ''));
  if (!match) return null;
  const [, days, hours, minutes, secs] = match;
  return (Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(secs);
};
export const words = (camel) => camel.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());


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
export const diverging = (value) => {
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(WHITE, BLUE, -v) : mix(WHITE, RED, v);
};
/** Sequential: 0 white, 1 navy. */
export const sequential = (t) => mix(WHITE, NAVY, Math.max(0, Math.min(1, t)));
/**
 * Black or white, whichever reads on sequential(t): relative luminance 0.183 is where both have at least 4.5:1
 * contrast (WCAG AA).
 */
export const inkOnSequential = (t) => {
  const linear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = mix(WHITE, NAVY, Math.max(0, Math.min(1, t))).match(/\d+/g).map((c) => linear(Number(c) / 255));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.183 ? '#000' : '#fff';
};

// ---------------------------------------------------------------------------------------------------------------
// Charts

/** Horizontal bars with a label and a value text each; `top` marks the first bar. */
export function barChart(container, items, { ariaLabel, max = 1, dataName = 'label' } = {}) {
  const width = widthOf(container);
  const rowHeight = 30;
  const labelWidth = Math.min(Math.round(width * 0.4), widest(items.map((item) => item.label), 14, true) + 14);
  const valueWidth = widest(items.map((item) => item.text), 14, true) + 14;
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
      svg('text', { x: labelWidth - 8, y: y + rowHeight / 2 + 5, 'text-anchor': 'end', 'font-size': 14, text: item.label, class: i === 0 ? 'leader' : null }),
      svg('rect', { class: 'track', x: labelWidth, y: y + 5, width: barSpace, height: rowHeight - 10, rx: 3 }),
      svg('rect', { class: i === 0 ? 'bar top' : 'bar', x: labelWidth, y: y + 5, width: barWidth.toFixed(1), height: rowHeight - 10, rx: 3 }),
      svg('text', { x: labelWidth + barSpace + 8, y: y + rowHeight / 2 + 5, 'font-size': 14, text: item.text, class: i === 0 ? 'leader' : null })));
  });
  container.replaceChildren(chart);
}

/** A line chart over epochs: series of {name, points:[{x, y}], dashed}, x from 1 to xMax. */
export function lineChart(container, { label, series, xMax, yMin = 0, yMax, format, marker }) {
  const width = widthOf(container, 360);
  const height = 220;
  const margin = { left: 48, right: 14, top: 30, bottom: 36 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y));
  const yStep = niceStep(((yMax ?? Math.max(...values, 0.1)) - yMin) / 4);
  const top = yMax ?? yMin + Math.ceil((Math.max(...values, 0.1) - yMin) / yStep - 1e-9) * yStep;
  const xs = Math.max(2, xMax);
  const x = (epoch) => margin.left + ((epoch - 1) / (xs - 1)) * plotW;
  const y = (value) => margin.top + plotH - ((value - yMin) / (top - yMin)) * plotH;

  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': describeSeries(label, series, format) });
  for (let value = yMin; value <= top + yStep / 1000; value += yStep) {
    chart.append(
      svg('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value) }),
      svg('text', { class: 'muted', x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end', 'font-size': 11, text: format(value, true) }));
  }
  const rawStep = xs / Math.max(2, Math.floor(plotW / 44));
  const step = [1, 2, 5, 10, 20, 25, 50, 100].find((candidate) => candidate >= rawStep) ?? 100;
  const ticks = [1];
  for (let epoch = step; epoch <= xs; epoch += step) if (epoch - 1 >= step / 2) ticks.push(epoch);
  for (const epoch of ticks) {
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

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`. */
function niceStep(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((step) => step >= value - 1e-12);
}

/** Loss and accuracy charts for a list of epoch reports. */
export function epochCharts(container, key, epochs, xMax, bestEpoch) {
  if (container.children.length !== 2) {
    container.replaceChildren(
      el('figure', {}, el('figcaption', { text: 'Loss' }), el('div', { class: 'chart loss' })),
      el('figure', {}, el('figcaption', { text: 'Accuracy' }), el('div', { class: 'chart accuracy' })));
  }
  const marker = bestEpoch ? { x: bestEpoch, label: `best epoch ${bestEpoch} (weights kept)` } : null;
  const line = (name, field, color, dashed) => ({ name, color, dashed, points: epochs.map((e) => ({ x: e.epoch, y: e[field] })) });
  draw(key, () => {
    lineChart(container.querySelector('.loss'), {
      label: 'Loss per epoch', xMax, marker, format: (v, axis) => (axis ? String(Number(v.toFixed(3))) : v.toFixed(3)),
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
export function gridNavigation(root, cells, show) {
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


export function colourLegend(left) {
  const width = left + 200;
  const legend = svg('svg', { width, height: 34, viewBox: `0 0 ${width} 34`, class: 'legend', role: 'img', 'aria-label': 'Colour scale: −1 blue, 0 white, +1 red.' });
  const gradient = svg('linearGradient', { id: 'diverging-gradient' },
    svg('stop', { offset: '0%', 'stop-color': diverging(-1) }),
    svg('stop', { offset: '50%', 'stop-color': diverging(0) }),
    svg('stop', { offset: '100%', 'stop-color': diverging(1) }));
  legend.append(
    svg('defs', {}, gradient),
    svg('rect', { x: left, y: 4, width: 160, height: 12, fill: 'url(#diverging-gradient)', stroke: '#8a8f99' }),
    svg('text', { x: left, y: 30, 'text-anchor': 'middle', 'font-size': 11, text: '−1' }),
    svg('text', { x: left + 80, y: 30, 'text-anchor': 'middle', 'font-size': 11, text: '0' }),
    svg('text', { x: left + 160, y: 30, 'text-anchor': 'middle', 'font-size': 11, text: '+1' }));
  return legend;
}

/** "93–100%": a confidence bin's range in whole percent. */
export const binRange = (bin) => `${Math.round(bin.lower * 100)}–${Math.round(bin.upper * 100)}%`;

/**
 * A reliability diagram: one bar per non-empty confidence bin, as high as the share of its names the top language got
 * right, a tick at the bin's mean confidence, and the diagonal of perfect calibration. The bars are a one-row grid for
 * gridNavigation (hover, or focus and the arrow keys), which calls `show` with the bar.
 */
export function reliabilityDiagram(container, bins, { label, show }) {
  const width = Math.min(widthOf(container, 360), 460);
  const margin = { left: 50, right: 14, top: 10, bottom: 42 };
  const plotW = width - margin.left - margin.right;
  const plotH = Math.round(Math.min(plotW, 300));
  const height = margin.top + plotH + margin.bottom;
  const x = (p) => margin.left + p * plotW;
  const y = (a) => margin.top + (1 - a) * plotH;

  const chart = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'reliability', role: 'group',
    'aria-label': `${label} Use the arrow keys to move between bins.`,
  });
  for (let tick = 0; tick <= 5; tick++) {
    const v = tick / 5;
    chart.append(
      svg('line', { class: 'grid', x1: x(0), x2: x(1), y1: y(v), y2: y(v) }),
      svg('line', { class: 'grid', x1: x(v), x2: x(v), y1: y(0), y2: y(1) }),
      svg('text', { class: 'muted', x: x(0) - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, 'aria-hidden': 'true', text: `${tick * 20}%` }),
      svg('text', { class: 'muted', x: x(v), y: y(0) + 16, 'text-anchor': 'middle', 'font-size': 11, 'aria-hidden': 'true', text: `${tick * 20}%` }));
  }
  chart.append(
    svg('line', { class: 'axis', x1: x(0), x2: x(1), y1: y(0), y2: y(0) }),
    svg('line', { class: 'axis', x1: x(0), x2: x(0), y1: y(0), y2: y(1) }),
    svg('text', { class: 'muted', x: x(0.5), y: height - 6, 'text-anchor': 'middle', 'font-size': 12, 'aria-hidden': 'true', text: 'confidence (top probability) →' }),
    svg('text', {
      class: 'muted', x: 13, y: y(0.5), 'text-anchor': 'middle', 'font-size': 12, 'aria-hidden': 'true', transform: `rotate(-90 13 ${y(0.5)})`, text: 'accuracy →',
    }));

  const bars = [];
  const ticks = svg('g', { class: 'confidence-ticks', 'aria-hidden': 'true' });
  bins.forEach((bin, i) => {
    const left = x(bin.lower) + 1.5;
    const barW = Math.max(1, x(bin.upper) - x(bin.lower) - 3);
    const top = Math.min(y(bin.accuracy), y(0) - 2);
    const bar = svg('rect', {
      class: 'cell bin', x: left.toFixed(1), y: top.toFixed(1), width: barW.toFixed(1), height: (y(0) - top).toFixed(1),
      tabindex: '-1', role: 'img', 'data-row': 0, 'data-col': i, 'data-count': bin.count,
    }, title(`Confidence ${binRange(bin)}: ${bin.count} test names, mean confidence ${percent(bin.confidence)}, accuracy ${percent(bin.accuracy)}`));
    ticks.append(svg('line', { class: 'confidence-tick', x1: (left - 1).toFixed(1), x2: (left + barW + 1).toFixed(1), y1: y(bin.confidence).toFixed(1), y2: y(bin.confidence).toFixed(1) }));
    chart.append(bar);
    bars.push(bar);
  });
  chart.append(ticks, svg('line', { class: 'diagonal', x1: x(0), y1: y(0), x2: x(1), y2: y(1), 'aria-hidden': 'true' }));
  if (bars.length > 0) gridNavigation(chart, [bars], show);
  container.replaceChildren(chart);
}
