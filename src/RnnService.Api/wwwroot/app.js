// RnnService page: predict, explain, inspect the model, retrain. Plain JavaScript modules and SVG, no dependencies.
// Every API error (problem details) or network failure is shown in words in the role="alert" element of its section.

import { ApiError, api, showError } from './api.js';
import {
  barChart, binRange, colourLegend, dateTime, diverging, draw, el, epochCharts, fixed, forget, gridNavigation, inkOnSequential,
  percent, reliabilityDiagram, seconds, sequential, svg, title, widest, words,
} from './charts.js';

const TOP_BARS = 5;          // bars in the prediction chart
const TRACKED_PER_STEP = 3;  // languages per explain column that earn a row
const MAX_TRACKED = 8;       // rows in the explain chart at most
const DEBOUNCE_MS = 250;
const POLL_MS = 500;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------------
// Predict and explain

const nameInput = $('name');
const coverageSelect = $('coverage');
const priorSelect = $('prior');
let debounceTimer;
let sequence = 0;
let inFlight = null;
let explained = null;        // the name and model version the Explain view shows
let servedManifest = null;   // the manifest of the served version, for the prediction sets' test figures

nameInput.addEventListener('input', () => {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(predict, DEBOUNCE_MS);
});
$('predict-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(debounceTimer);
  predict();
});
// Another coverage changes only the prediction set: the Explain view keeps its state (and the heat map its focus).
coverageSelect.addEventListener('change', () => {
  clearTimeout(debounceTimer);
  predict({ reexplain: false });
});

// Another prior changes every probability, the explanation's too.
priorSelect.addEventListener('change', () => {
  clearTimeout(debounceTimer);
  predict();
});

async function predict({ reexplain = true } = {}) {
  const name = nameInput.value;
  inFlight?.abort();
  const run = ++sequence;
  if (name.trim() === '') {
    clearPrediction();
    return;
  }
  inFlight = new AbortController();
  const signal = inFlight.signal;
  const coverage = Number(coverageSelect.value);
  const prior = priorSelect.value;
  const explain = reexplain || explained?.name !== name;
  $('predict').setAttribute('aria-busy', 'true');
  const [prediction, explanation] = await Promise.allSettled([
    api('POST', '/api/predictions', { body: { name, top: TOP_BARS, coverage, prior }, signal }),
    explain ? api('POST', '/api/predictions/explain', { body: { name, top: 100, prior }, signal }) : null,
  ]);
  if (run !== sequence) return;  // a newer name is on its way
  $('predict').removeAttribute('aria-busy');

  if (prediction.status === 'rejected') {
    showError($('predict-error'), prediction.reason);
    nameInput.setAttribute('aria-invalid', String(prediction.reason?.problem?.code === 'validation'));
    clearResult();
    clearExplanation('Enter a valid name above to see how the RNN reads it.');
    return;
  }
  showError($('predict-error'), null);
  nameInput.removeAttribute('aria-invalid');
  renderPrediction(prediction.value);

  if (!explain && explained?.version === prediction.value.modelVersion) return;
  if (!explain) {
    predict();  // a new model version answered: explain the name with it too
  } else if (explanation.status === 'rejected') {
    showError($('explain-error'), explanation.reason);
    clearExplanation('');
  } else {
    showError($('explain-error'), null);
    renderExplanation(explanation.value);
    explained = { name, version: explanation.value.modelVersion };
  }
}

function clearPrediction() {
  showError($('predict-error'), null);
  nameInput.removeAttribute('aria-invalid');
  $('predict').removeAttribute('aria-busy');
  clearResult();
  showError($('explain-error'), null);
  clearExplanation('Type a name above to see how the RNN reads it.');
}

function clearResult() {
  for (const id of ['predict-summary', 'predict-reading']) $(id).textContent = '';
  for (const id of ['predict-uncertain', 'predict-facts', 'predict-chart']) $(id).replaceChildren();
  delete $('predict-summary').dataset.uncertain;
  forget('predict');
}

const REASONS = {
  low_confidence: (result) => ['Low confidence', `the top language has only ${percent(result.confidence)} probability, below 50%.`],
  unknown_characters: () => ['Unknown characters', 'a quarter or more of the characters never appeared in the training names.'],
  unsupported_script: () => ['Unsupported script', 'the name has letters outside the Latin alphabet, which the model cannot read ' +
    '(Cyrillic and Greek are romanised first; other scripts are not).'],
};

function renderPrediction(result) {
  const best = result.languages[0];
  const name = result.name.trim();
  const summary = $('predict-summary');
  summary.textContent = result.uncertain
    ? `“${name}”: the best guess is ${best.language} (${percent(best.probability)}), but the answer is uncertain. Model version ${result.modelVersion}.`
    : `“${name}” most likely comes from ${best.language} (${percent(best.probability)}). Model version ${result.modelVersion}.`;
  summary.dataset.modelVersion = result.modelVersion;
  summary.dataset.uncertain = String(result.uncertain);

  $('predict-reading').textContent = result.transliterated
    ? `Read as “${result.normalizedName}” (romanised from ${scriptsOf(result.name)}).`
    : '';

  $('predict-uncertain').replaceChildren(...(result.uncertain ? [
    el('h3', { class: 'notice-title' }, el('span', { class: 'notice-icon', 'aria-hidden': 'true', text: '!' }), 'Uncertain: don’t trust this answer'),
    el('ul', {}, result.reasons.map((reason) => {
      const [label, text] = REASONS[reason]?.(result) ?? [words(reason.replaceAll('_', ' ')), 'the service flagged this answer.'];
      return el('li', { 'data-reason': reason }, el('strong', { text: `${label}:` }), ` ${text}`);
    })),
    el('p', { text: 'The probabilities are still shown below, for information only.' }),
  ] : []));

  const set = result.predictionSet;
  const level = `${Math.round(set.coverage * 100)}%`;
  const names = set.languages.map((language) => el('strong', { class: 'set-language', 'data-language': language, text: language }));
  const listed = names.flatMap((node, i) => (i === 0 ? [node] : [i === names.length - 1 ? ' or ' : ', ', node]));
  const calibration = servedManifest?.version === result.modelVersion ? servedManifest.calibration : null;
  const tested = (calibration?.priors?.find((p) => p.prior === result.prior) ?? calibration)?.predictionSets?.find((s) => s.coverage === set.coverage);
  $('predict-facts').replaceChildren(
    el('dt', { text: 'Confidence' }),
    el('dd', { id: 'predict-confidence', 'data-confidence': result.confidence },
      el('strong', { text: percent(result.confidence) }), ' (probability of the top language; below 50% counts as low)'),
    el('dt', { text: 'Prediction set' }),
    el('dd', { id: 'predict-set', 'data-coverage': set.coverage, 'data-size': set.languages.length },
      names.length === 1 ? `With ${level} confidence the language is ` : `With ${level} confidence the language is one of: `, listed, '.',
      tested ? el('span', { class: 'hint-inline', text: ` On the test names${result.prior === 'uniform' ? ', every language weighing alike' : ''}, ${level} sets held the true language ${percent(tested.testCoverage)} of the time.` }) : null));

  const items = result.languages.map((l) => ({ label: l.language, value: l.probability, text: percent(l.probability) }));
  draw('predict', () => barChart($('predict-chart'), items, {
    dataName: 'language',
    ariaLabel: `Language probabilities for ${name}: ${items.map((i) => `${i.label} ${i.text}`).join(', ')}.`,
  }));
}

/** The alphabets the service romanises that a name uses: "Cyrillic", "Greek" or both. */
function scriptsOf(name) {
  const scripts = [];
  if (/[\u0400-\u052f]/u.test(name)) scripts.push('Cyrillic');
  if (/[\u0370-\u03ff\u1f00-\u1fff]/u.test(name)) scripts.push('Greek');
  return scripts.length > 0 ? scripts.join(' and ') : 'Cyrillic or Greek';
}

function clearExplanation(message) {
  explained = null;
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
  const rows = trackedLanguages(result);
  // Both views share their columns, so a character's column lines up in the chart and the heat map.
  const layout = { labelW: Math.max(48, widest(rows, 13) + 16), colW: 60 };
  renderSteps(result, rows, layout);
  renderHeatmap(result, layout);
}

/** The languages worth a row: those among the top few after any character, most probable at the end first. */
function trackedLanguages(result) {
  const finalOrder = result.prediction.languages.map((l) => l.language);
  const tracked = new Set();
  for (const step of result.steps) for (const l of step.languages.slice(0, TRACKED_PER_STEP)) tracked.add(l.language);
  return [...tracked].sort((a, b) => finalOrder.indexOf(a) - finalOrder.indexOf(b)).slice(0, MAX_TRACKED);
}

/** One column per character: the tracked languages' probabilities after reading it, as small bars. */
function renderSteps(result, rows, { labelW, colW }) {
  const steps = result.steps;
  const probabilities = steps.map((step) => new Map(step.languages.map((l) => [l.language, l.probability])));
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
function renderHeatmap(result, { labelW, colW }) {
  const steps = result.steps;
  const units = steps[0]?.hidden.length ?? 0;
  const headH = 26;
  const rowH = Math.max(3, Math.min(10, Math.floor(512 / Math.max(1, units))));
  const labelEvery = Math.max(1, Math.ceil(14 / rowH));
  const width = labelW + steps.length * colW + 4;
  const height = headH + units * rowH + 4;

  const legend = colourLegend(labelW);
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


// ---------------------------------------------------------------------------------------------------------------
// Model: current manifest, metrics, confusion matrix, versions

async function loadModel() {
  const [current, versions] = await Promise.allSettled([api('GET', '/api/models/current'), api('GET', '/api/models')]);
  if (current.status === 'fulfilled') {
    showError($('model-error'), null);
    servedManifest = current.value;
    // A format-1 version answers only with the data prior.
    const uniform = priorSelect.querySelector('option[value="uniform"]');
    uniform.disabled = !current.value.prior;
    if (uniform.disabled && priorSelect.value !== 'data') priorSelect.value = 'data';
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
      el('li', {}, el('span', { class: 'value', text: value }), el('span', { class: 'label', text: label }))),
    el('p', { class: 'card-links' },
      'Intended use, limitations and figures of this version: ',
      el('a', { id: 'model-card-link', href: `/api/models/${manifest.version}/card?format=markdown`, text: 'Model card' }),
      ' (', el('a', { id: 'model-card-json', href: `/api/models/${manifest.version}/card`, 'aria-label': 'Model card as JSON', text: 'as JSON' }), ').')));

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
  renderCalibration(manifest.calibration);
  epochCharts($('model-history'), 'history', manifest.metrics.history, Math.max(2, manifest.metrics.history.length), manifest.metrics.bestEpoch);
}

function renderConfusion(languages, matrix) {
  const n = languages.length;
  const cell = 28;
  const labelW = widest(languages, 11) + 30;
  const headH = Math.ceil(widest(languages, 11) * Math.sin((55 * Math.PI) / 180)) + 26;
  const width = labelW + n * cell + 30;
  const height = headH + n * cell + 8;
  const map = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'confusion', role: 'group',
    'aria-label': `Confusion matrix, ${n} by ${n}: rows are the true language, columns the predicted one. Use the arrow keys to move between cells.`,
  });
  map.append(
    svg('text', { x: labelW, y: 12, 'font-size': 12, class: 'muted', 'aria-hidden': 'true', text: 'predicted language →' }),
    svg('text', { x: 12, y: headH + 4, 'text-anchor': 'end', 'font-size': 12, class: 'muted', 'aria-hidden': 'true', transform: `rotate(-90 12 ${headH + 4})`, text: '← true language' }));
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
          class: inkOnSequential(share) === '#fff' ? 'ink-light' : 'ink-dark', text: count,
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

const PRIORS = { data: 'As in the data', uniform: 'All alike' };

/** Temperature, NLL and ECE before and after it, the reliability diagram, each prior's figures and the prediction sets' coverage. */
function renderCalibration(calibration) {
  const panel = $('calibration');
  if (!calibration) {
    forget('reliability');
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const figures = [
    ['temperature', fixed(calibration.temperature), 'Temperature T'],
    ['nll', `${fixed(calibration.testNllBefore, 4)} → ${fixed(calibration.testNllAfter, 4)}`, 'Test NLL, before → after T'],
    ['ece', `${fixed(calibration.testEceBefore)} → ${fixed(calibration.testEceAfter)}`, 'Test ECE, before → after T'],
  ];
  $('calibration-figures').replaceChildren(...figures.map(([key, value, label]) =>
    el('li', { 'data-figure': key }, el('span', { class: 'value', text: value }), el('span', { class: 'label', text: label }))));

  const bins = (calibration.testReliability ?? []).filter((bin) => bin.count > 0);
  const names = bins.reduce((sum, bin) => sum + bin.count, 0);
  const describe = (bin) => `${binRange(bin)}: ${bin.count} names, mean confidence ${percent(bin.confidence)}, accuracy ${percent(bin.accuracy)}`;
  $('reliability-readout').textContent = '';
  draw('reliability', () => reliabilityDiagram($('model-reliability'), bins, {
    label: `Reliability diagram of ${names} test names in ${bins.length} confidence bins: ${bins.map(describe).join('; ')}.`,
    show: (bar) => { $('reliability-readout').textContent = bar.firstChild.textContent; },
  }));
  $('reliability-table').tBodies[0].replaceChildren(...bins.map((bin) => el('tr', {},
    el('th', { scope: 'row', text: binRange(bin) }),
    el('td', { text: bin.count }),
    el('td', { text: percent(bin.confidence) }),
    el('td', { text: percent(bin.accuracy) }))));

  const priors = calibration.priors ?? [];
  $('prior-none').hidden = priors.length > 0;
  $('prior-table').hidden = priors.length === 0;
  $('prior-table').tBodies[0].replaceChildren(...priors.map((answered) => el('tr', { 'data-prior': answered.prior },
    el('th', { scope: 'row', text: PRIORS[answered.prior] ?? answered.prior }),
    el('td', { text: answered.testAnswers ? `${percent(answered.testAnswers.accuracy)} / ${percent(answered.testAnswers.balancedAccuracy)}` : '–' }),
    el('td', { text: `${fixed(answered.testEce)} (${fixed(answered.testEceIfCalibrated)})` }),
    el('td', { text: answered.predictionSets.map((set) => percent(set.testCoverage)).join(' / ') }))));

  $('coverage-table').tBodies[0].replaceChildren(...(calibration.predictionSets ?? []).map((set) => el('tr', { 'data-coverage': set.coverage },
    el('th', { scope: 'row', text: `${Math.round(set.coverage * 100)}%` }),
    el('td', { text: percent(set.testCoverage) }),
    el('td', { text: fixed(set.testAverageSize, 2) }),
    // Format 2 has a threshold per language (in the model card); one for all languages only in format 1.
    el('td', { text: set.languages ? 'per language' : `≥ ${percent(set.threshold)}` }))));
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
  { name: 'members', label: 'Ensemble members', integer: true },
  { name: 'epochs', label: 'Epochs per member', integer: true },
  { name: 'batchSize', label: 'Batch size', integer: true },
  { name: 'learningRate', label: 'Learning rate', integer: false },
  { name: 'seed', label: 'Seed', integer: true },
];
const FINISHED = new Set(['Succeeded', 'Failed', 'Cancelled']);
let watchedJob = null;
let pollTimer;
let lastStatus = '';

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
    if (error.problem?.code === 'training-job-active') {
      watch({ id: error.problem.jobId });
    } else {
      $('train-start').disabled = false;
    }
  }
});

/** Validation messages name settings by their JSON names ("hiddenSize must be …"); the form shows its labels instead. */
function trainingError(error) {
  if (!(error instanceof ApiError) || error.problem?.code !== 'validation') return error;
  const messages = Object.entries(error.problem.errors ?? {}).flatMap(([key, list]) => {
    const field = FIELDS.find((f) => f.name === key);
    return list.map((message) => (field ? message.replace(key, field.label) : message));
  });
  return new ApiError(messages.join('\n'), error.status, error.problem);
}

function markInvalidFields(error) {
  if (error.problem?.code === 'api-key-missing' || error.problem?.code === 'api-key-invalid') {
    $('train-key').setAttribute('aria-invalid', 'true');
  }
  for (const key of Object.keys(error.problem?.errors ?? {})) {
    const field = FIELDS.find((f) => f.name === key);
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
    if (error.problem?.code !== 'training-job-finished') $('train-cancel').disabled = false;
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
    if (error.problem?.code === 'not-found') {
      $('train-start').disabled = false;
      $('train-cancel').disabled = true;
    } else {
      pollTimer = setTimeout(() => poll(id), POLL_MS * 4);
    }
  }
}

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
      outcome.textContent = job.promoted
        ? `Training succeeded: version ${job.modelVersion} is now served, because ${job.promotionNote}.`
        : `Training succeeded, but version ${job.modelVersion} is not served, because ${job.promotionNote}; activate it below to serve it anyway.`;
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
