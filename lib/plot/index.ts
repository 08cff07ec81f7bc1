/**
 * Plots that render everywhere: interactive in JupyterLab (plotly JSON), as a PNG where no
 * JavaScript runs (nbconvert HTML, GitHub). Images of garments are PNG grids.
 * The web app imports `./figures` alone (no Node dependency) and draws the same specs with plotly.js.
 */
export * from './figures';
export { niceTicks, renderSvg, colorAt } from './svg';
export { DEFAULT_SCALE, cssSize, fontsAvailable, imageGridLayout, imageGridPng, renderPng, type GreyImage, type ImageGridLayout, type ImageGridOptions } from './raster';
export { liveFigure, liveTrainingCurves, mimeBundle, show, tslabDisplayWriter, type DisplayContent, type DisplayWriter, type EpochLogs, type LiveFigure, type ShowOptions } from './display';
export { FONT_FAMILY, textWidth } from './text';
export { showTable, tableHtml, tableText, type TableColumn, type TableValue } from './table';
