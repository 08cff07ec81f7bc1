/** The web app's HTML pages, in French; charts are plotly figures from lib/plot drawn by the bundled plotly.js. */
import { figureBox, fluidFigure, type Figure } from '../lib/plot/figures';

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A figure drawn by plotly.js in the element `id`, whose box is in the HTML (at its size from the first
 * paint, no shift when plotly draws) and never wider than the page: the figure's width at most, its
 * height, and a layout without width that plotly fits to the element (JSON escaped for a script tag).
 */
export function plotScript(id: string, figure: Figure): string {
  const { width, height } = figureBox(figure);
  const json = JSON.stringify(fluidFigure(figure)).replace(/</g, '\\u003c');
  return `<div id="${id}" class="chart" style="max-width:${width}px;height:${height}px"></div><script>drawFigure(${JSON.stringify(id)}, ${json});</script>`;
}

/** The pages' drawing function: a fluid figure (lib/plot fluidFigure) in its element, the box given when the HTML did not set it. */
const DRAW_FIGURE = `function drawFigure(id, figure, box) {
  var element = document.getElementById(id);
  if (box) { element.style.maxWidth = box.width + 'px'; element.style.height = box.height + 'px'; }
  return Plotly.react(element, figure.data, figure.layout, { displaylogo: false, responsive: true });
}`;

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header { background: #0b3d91; color: white; padding: 0.8rem 1.5rem; display: flex; gap: 2rem; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 1.2rem; margin: 0; }
nav a { color: white; margin-right: 1.2rem; text-decoration: none; }
nav a[aria-current] { text-decoration: underline; font-weight: bold; }
main { max-width: 980px; margin: 1.5rem auto; padding: 0 1rem; }
.notice { background: #fff3cd; border: 1px solid #e0c36c; padding: 0.8rem 1rem; border-radius: 6px; }
.error { background: #fde2e1; border: 1px solid #e5a3a0; padding: 0.8rem 1rem; border-radius: 6px; }
#drop { display: block; border: 2px dashed #7a8fb8; border-radius: 10px; padding: 2rem; text-align: center; background: white; cursor: pointer; }
#drop.over { background: #e8efff; }
.images { display: flex; gap: 2rem; align-items: flex-end; margin: 1rem 0; flex-wrap: wrap; }
.images figure { margin: 0; text-align: center; }
.images img { max-height: 224px; border: 1px solid #ccc; background: white; }
#input-image { image-rendering: pixelated; width: 168px; height: 168px; }
#verdict { font-size: 1.4rem; font-weight: bold; }
pre { background: white; border: 1px solid #ddd; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
table { border-collapse: collapse; } td, th { padding: 0.3rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
.chart { width: 100%; }
`;

/** The common frame of every page. */
export function layout(title: string, current: string, body: string): string {
  const link = (href: string, label: string) => `<a href="${href}"${href === current ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Analyse d'image</title><style>${STYLE}</style>
<script src="/static/plotly.min.js"></script><script>${DRAW_FIGURE}</script></head>
<body><header><h1>Analyse d'image</h1><nav>${link('/', 'Classer une image')}${link('/donnees', 'Les données')}${link('/modele', 'Le modèle')}${link('/dans-le-reseau', 'Dans le réseau')}</nav></header>
<main>${body}</main></body></html>`;
}

/** The notice shown when there is no usable model. */
export function noModelNotice(problem: string, howTo: string): string {
  return `<p class="notice" id="no-model"><strong>Pas de modèle entraîné.</strong> ${escapeHtml(problem)}<br>${escapeHtml(howTo)}</p>`;
}

/** "Classer une image": upload a photo, see its 28x28 input, the verdict and the ten probabilities. */
export function classifyPage(notice: string, limits: { maxUploadMB: number; maxMegapixels: number }): string {
  return layout(
    'Classer une image',
    '/',
    `${notice}
<h2>Classer une image</h2>
<p>Déposez la photo d'un vêtement (PNG, JPEG, WebP ou GIF, ${limits.maxUploadMB} Mo et ${limits.maxMegapixels} mégapixels au plus) :
cadrée au plus près, sur un fond clair et uni. Elle est préparée comme dans le notebook <code>test_model</code>.</p>
<label id="drop">Glissez une image ici, ou cliquez pour en choisir une.
<input id="file" type="file" accept="image/png,image/jpeg,image/webp,image/gif" hidden></label>
<p id="status" role="status"></p>
<section id="result" hidden>
  <p id="verdict"></p>
  <div class="images">
    <figure><img id="photo" alt="photo envoyée"><figcaption>La photo</figcaption></figure>
    <figure><img id="input-image" alt="entrée du modèle, 28 x 28"><figcaption>Ce que voit le modèle (28 x 28)</figcaption></figure>
  </div>
  <div id="probabilities" class="chart"></div>
</section>
<script>
const drop = document.getElementById('drop'), input = document.getElementById('file'), status = document.getElementById('status');
const percent = (p) => (p * 100).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + ' %';
async function classify(file) {
  status.textContent = 'Analyse de ' + file.name + '…';
  status.className = '';
  const form = new FormData();
  form.append('image', file, file.name);
  const response = await fetch('/api/predict?details=1', { method: 'POST', body: form });
  const answer = await response.json().catch(() => ({ error: 'réponse illisible du serveur (' + response.status + ').' }));
  if (!response.ok) { status.textContent = 'Erreur : ' + answer.error; status.className = 'error'; document.getElementById('result').hidden = true; return; }
  status.textContent = '';
  document.getElementById('photo').src = URL.createObjectURL(file);
  document.getElementById('input-image').src = answer.inputPng;
  document.getElementById('verdict').textContent = "Selon moi l'image est : " + answer.label + ' (' + percent(answer.probabilities[answer.classIndex]) + ')';
  document.getElementById('result').hidden = false;
  drawFigure('probabilities', answer.figure, answer.box);
}
input.addEventListener('change', () => input.files[0] && classify(input.files[0]));
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) classify(e.dataTransfer.files[0]); });
</script>`,
  );
}

/** "Les données": images per class in train and test, and sample images. */
export function dataPage(countsFigure: Figure, totals: { train: number; test: number }, samples: { width: number; height: number }): string {
  return layout(
    'Les données',
    '/donnees',
    `<h2>Les données : Fashion-MNIST</h2>
<p>${totals.train.toLocaleString('fr-FR')} images d'apprentissage et ${totals.test.toLocaleString('fr-FR')} images de test, en niveaux de gris, 28 x 28 pixels, réparties en dix catégories de vêtements.</p>
${plotScript('counts', countsFigure)}
<h3>Quelques images de test</h3>
<img src="/donnees/exemples.png" alt="exemples d'images de test avec leur catégorie" width="${samples.width}" height="${samples.height}" style="max-width:100%;height:auto">`,
  );
}

/** "Le modèle": summary, test figures, confusion matrix. */
export function modelPage(summary: string[], evaluation: { loss: number; accuracy: number; seconds: number }, confusion: Figure, modelDir: string): string {
  const number = (value: number) => value.toLocaleString('fr-FR', { maximumFractionDigits: 4 });
  return layout(
    'Le modèle',
    '/modele',
    `<h2>Le modèle</h2>
<p>Chargé depuis <code>${escapeHtml(modelDir)}</code>.</p>
<pre id="summary">${escapeHtml(summary.join('\n'))}</pre>
<h3>Sur les 10 000 images de test</h3>
<table><tr><th>Erreur</th><td id="test-loss">${number(evaluation.loss)}</td></tr>
<tr><th>Précision</th><td id="test-accuracy">${number(evaluation.accuracy)}</td></tr></table>
<p><small>Calculé par ce serveur au premier affichage (${number(evaluation.seconds)} s).</small></p>
${plotScript('confusion', confusion)}`,
  );
}

/** A page that only says what is wrong. */
export function messagePage(title: string, current: string, html: string): string {
  return layout(title, current, `<h2>${escapeHtml(title)}</h2>${html}`);
}
