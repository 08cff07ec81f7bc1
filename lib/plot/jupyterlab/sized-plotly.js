/**
 * A JupyterLab 4 extension (federated container written by hand, served as is: it runs in the
 * browser, where no TypeScript build step exists in this project) that makes jupyterlab-plotly
 * honour the size a figure's output carries.
 *
 * Why: jupyterlab-plotly (7.x) shows a plotly output's PNG in a bare <img>, ignoring the output's
 * `metadata['image/png']` width and height that JupyterLab's own image renderer and nbconvert
 * honour, so lib/plot's 2x PNG (1400 x 800 pixels for a 700 x 400 figure) was drawn at twice its
 * size and wider than the notebook; when the pointer entered it, the interactive chart replaced it
 * at the layout's 700 x 400 and the page below jumped. It also wrote its own screenshot over the
 * output's PNG, which changed the saved notebook.
 *
 * With this extension, for outputs that carry a CSS size (lib/plot's, nothing else is touched):
 *  - the PNG is drawn at that size, never wider than the output area (same proportions), and its
 *    box is known before the picture decodes (width/height attributes give the aspect ratio);
 *  - the interactive chart is drawn in exactly the box the PNG had, and follows the notebook's
 *    width afterwards;
 *  - the saved notebook keeps the kernel's PNG (no screenshot written over it);
 *  - a display updated while the chart is shown (live training curves) redraws the chart, where
 *    jupyterlab-plotly kept the first one.
 */
(function () {
  'use strict';

  var NAME = 'analyse-image-plots';
  var PLOTLY_EXTENSION = 'jupyterlab-plotly';
  var PLOTLY_MIME = 'application/vnd.plotly.v1+json';

  /** The CSS size the kernel gave a figure (output metadata `image/png`), or null. */
  function cssSize(metadata) {
    var meta = metadata && metadata['image/png'];
    var width = Number(meta && meta.width);
    var height = Number(meta && meta.height);
    return width > 0 && height > 0 ? { width: width, height: height } : null;
  }

  /** The box a figure of CSS size `size` takes in an output area `available` pixels wide: never wider, same proportions. */
  function fitBox(size, available) {
    var width = available > 0 ? Math.min(size.width, Math.floor(available)) : size.width;
    return { width: width, height: Math.round((size.height * width) / size.width) };
  }

  /** jupyterlab-plotly's renderer, drawing lib/plot's figures at their size (see the header). */
  function sizedRenderer(Base) {
    return class SizedPlotly extends Base {
      constructor(options) {
        super(options);
        this._analyseImageWidth = -1;
        if (typeof ResizeObserver === 'function') {
          // The chart has a fixed layout size, so it must be told when the notebook's width changes.
          this._analyseImageObserver = new ResizeObserver(() => this._analyseImageRefit());
          this._analyseImageObserver.observe(this.node);
        }
      }

      renderModel(model) {
        var size = cssSize(model.metadata);
        var img = this._img_el;
        if (!size || !img) return super.renderModel(model);
        // The attributes give the box before the picture decodes; the style keeps it inside the output area.
        img.width = size.width;
        img.height = size.height;
        img.style.maxWidth = '100%';
        img.style.height = 'auto';
        if (this.hasGraphElement()) {
          // An update of a shown chart (update_display_data): redraw it with the new data.
          this._model = model;
          return this.createGraph(model);
        }
        return super.renderModel(model);
      }

      createGraph(model) {
        var size = model && cssSize(model.metadata);
        if (!size) return super.createGraph(model);
        var spec = model.data[this._mimeType] || model.data[PLOTLY_MIME];
        var box = fitBox(size, this.node.clientWidth);
        this._analyseImageWidth = this.node.clientWidth;
        var layout = Object.assign({}, spec.layout, { width: box.width, height: box.height, autosize: false });
        var sized = Object.assign({}, spec, { layout: layout });
        var data = Object.assign({}, model.data);
        data[this._mimeType] = sized;
        // setData does nothing: the output keeps the kernel's PNG, and the notebook stays unchanged.
        var view = { data: data, metadata: model.metadata, trusted: model.trusted, setData: function () {} };
        return super.createGraph(view);
      }

      _analyseImageRefit() {
        var width = this.node.clientWidth;
        var Plotly = Base.Plotly;
        var size = this._model && cssSize(this._model.metadata);
        if (!size || !Plotly || width === this._analyseImageWidth || width <= 0 || !this.hasGraphElement()) return;
        this._analyseImageWidth = width;
        var box = fitBox(size, width);
        var layout = this.node.layout || {};
        if (layout.width !== box.width || layout.height !== box.height) Plotly.relayout(this.node, { width: box.width, height: box.height });
      }

      dispose() {
        if (this._analyseImageObserver) this._analyseImageObserver.disconnect();
        super.dispose();
      }
    };
  }

  var patch = null;

  /** Fetches jupyterlab-plotly's module (its container is loaded before any module is created). */
  function preparePatch() {
    var containers = typeof window !== 'undefined' ? window._JUPYTERLAB : undefined;
    var container = containers && containers[PLOTLY_EXTENSION];
    if (!container) return Promise.resolve(null);
    return container.get('./mimeExtension').then(function (factory) {
      var plotly = factory();
      var rendererFactory = plotly && plotly.rendererFactory;
      var Base = plotly && plotly.RenderedPlotly;
      if (!rendererFactory || typeof Base !== 'function' || typeof Base.prototype.createGraph !== 'function' || typeof Base.prototype.renderModel !== 'function') {
        console.warn(NAME + ': jupyterlab-plotly has changed (no RenderedPlotly with renderModel and createGraph): figures keep its own sizes.');
        return null;
      }
      var Sized = sizedRenderer(Base);
      return function () {
        // The same factory object is registered with every rendermime registry: replacing its method reaches them all.
        rendererFactory.createRenderer = function (options) {
          return new Sized(options);
        };
      };
    });
  }

  var plugin = {
    id: NAME + ':figure-sizes',
    description: "Draws lib/plot's figures (PNG, then the interactive chart) at the size their output carries.",
    autoStart: true,
    activate: function () {
      if (patch) patch();
      else console.warn(NAME + ': jupyterlab-plotly is not installed or not usable: nothing to do.');
    },
  };

  if (typeof window !== 'undefined') {
    window._JUPYTERLAB = window._JUPYTERLAB || {};
    window._JUPYTERLAB[NAME] = {
      init: function () {},
      get: function (module) {
        if (module !== './extension') return Promise.reject(new Error(NAME + ': no module ' + module));
        return preparePatch()
          .catch(function (error) {
            console.warn(NAME + ': could not load jupyterlab-plotly (' + error + ')');
            return null;
          })
          .then(function (prepared) {
            patch = prepared;
            return function () {
              return { __esModule: true, default: [plugin] };
            };
          });
      },
    };
  }
  if (typeof module === 'object' && module && module.exports) module.exports = { cssSize: cssSize, fitBox: fitBox, sizedRenderer: sizedRenderer, NAME: NAME };
})();
