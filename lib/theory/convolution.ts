/**
 * The course's theory computed by hand, on plain arrays of numbers: a convolution window by window
 * (each window's products and their sum), ReLU, max and average pooling. No TensorFlow here: the
 * point is to see every number; tests check the results against tf.conv2d, tf.maxPool, tf.avgPool.
 */

/** A small picture or filter as rows of numbers (row-major, `matrix[row][column]`). */
export type Matrix = number[][];

/** One position of the filter on the image: what is multiplied and what the sum gives. */
export interface ConvolutionStep {
  /** Number of the step, from 1, row by row (the course's "convolution n° 8"). */
  readonly index: number;
  /** Top-left corner of the window in the image. */
  readonly row: number;
  readonly column: number;
  /** The image pixels under the filter. */
  readonly window: Matrix;
  /** Each image pixel times the filter value at the same place. */
  readonly products: Matrix;
  /** The sum of the products (plus the bias): the value written in the output. */
  readonly sum: number;
}

/** A convolution done by hand: the output and every step that produced it. */
export interface HandConvolution {
  readonly output: Matrix;
  readonly steps: ConvolutionStep[];
}

/** One position of a pooling window and the value it keeps. */
export interface PoolingStep {
  readonly index: number;
  readonly row: number;
  readonly column: number;
  readonly window: Matrix;
  /** The value written in the output (the maximum or the mean of the window). */
  readonly value: number;
  /** For max pooling: where the maximum is in the window (first one on ties). */
  readonly chosen?: { row: number; column: number };
}

/** A pooling done by hand: the output and every window. */
export interface HandPooling {
  readonly output: Matrix;
  readonly steps: PoolingStep[];
}

function checkMatrix(matrix: Matrix, name: string): { rows: number; columns: number } {
  const rows = matrix.length;
  const columns = rows ? matrix[0].length : 0;
  if (rows === 0 || columns === 0) throw new RangeError(`${name} is empty`);
  if (matrix.some((row) => row.length !== columns)) throw new RangeError(`${name} has rows of different lengths`);
  return { rows, columns };
}

/** Output size along one axis of a 'valid' window slide (no padding): floor((size - window) / stride) + 1. */
export function validOutputSize(size: number, window: number, stride: number): number {
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`stride must be a positive integer, got ${stride}`);
  if (window > size) throw new RangeError(`a window of ${window} does not fit in ${size}`);
  return Math.floor((size - window) / stride) + 1;
}

function windowAt(matrix: Matrix, row: number, column: number, height: number, width: number): Matrix {
  return matrix.slice(row, row + height).map((line) => line.slice(column, column + width));
}

/**
 * Slides `kernel` over `image` with `stride` (no padding, as Keras' default 'valid'), multiplying
 * each pixel under the filter by the filter's value and summing: the same operation as tf.conv2d
 * (a cross-correlation: the filter is not flipped).
 */
export function convolveByHand(image: Matrix, kernel: Matrix, options: { stride?: number; bias?: number } = {}): HandConvolution {
  const stride = options.stride ?? 1;
  const bias = options.bias ?? 0;
  const size = checkMatrix(image, 'image');
  const filter = checkMatrix(kernel, 'kernel');
  const outRows = validOutputSize(size.rows, filter.rows, stride);
  const outColumns = validOutputSize(size.columns, filter.columns, stride);
  const output: Matrix = [];
  const steps: ConvolutionStep[] = [];
  for (let r = 0; r < outRows; r++) {
    const line: number[] = [];
    for (let c = 0; c < outColumns; c++) {
      const window = windowAt(image, r * stride, c * stride, filter.rows, filter.columns);
      const products = window.map((values, i) => values.map((value, j) => value * kernel[i][j]));
      const sum = products.flat().reduce((total, value) => total + value, bias);
      line.push(sum);
      steps.push({ index: steps.length + 1, row: r * stride, column: c * stride, window, products, sum });
    }
    output.push(line);
  }
  return { output, steps };
}

/** ReLU on every value: negatives become 0, the rest is kept. */
export function reluByHand(matrix: Matrix): Matrix {
  // `+ 0` turns -0 into 0, so a printed matrix never shows "-0".
  return matrix.map((row) => row.map((value) => Math.max(0, value) + 0));
}

/** Slides a `size` x `size` window with `stride` (no padding) and keeps the maximum or the mean of each window, as tf.maxPool / tf.avgPool. */
export function poolByHand(matrix: Matrix, options: { size?: number; stride?: number; mode: 'max' | 'average' }): HandPooling {
  const size = options.size ?? 2;
  const stride = options.stride ?? size;
  const shape = checkMatrix(matrix, 'matrix');
  const outRows = validOutputSize(shape.rows, size, stride);
  const outColumns = validOutputSize(shape.columns, size, stride);
  const output: Matrix = [];
  const steps: PoolingStep[] = [];
  for (let r = 0; r < outRows; r++) {
    const line: number[] = [];
    for (let c = 0; c < outColumns; c++) {
      const window = windowAt(matrix, r * stride, c * stride, size, size);
      const values = window.flat();
      let value: number;
      let chosen: { row: number; column: number } | undefined;
      if (options.mode === 'max') {
        value = Math.max(...values);
        const at = values.indexOf(value);
        chosen = { row: Math.floor(at / size), column: at % size };
      } else {
        value = values.reduce((total, v) => total + v, 0) / values.length;
      }
      line.push(value);
      steps.push({ index: steps.length + 1, row: r * stride, column: c * stride, window, value, ...(chosen ? { chosen } : {}) });
    }
    output.push(line);
  }
  return { output, steps };
}

/** The rows of a flat row-major array (e.g. a tensor's dataSync()) of `rows` x `columns`. */
export function toMatrix(values: ArrayLike<number>, rows: number, columns: number): Matrix {
  if (values.length !== rows * columns) throw new RangeError(`expected ${rows * columns} values for ${rows} x ${columns}, got ${values.length}`);
  return Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => values[r * columns + c]));
}

/** The position of the largest value (first one on ties), from 0. */
export function argMax(matrix: Matrix): { row: number; column: number; value: number } {
  let best = { row: 0, column: 0, value: -Infinity };
  matrix.forEach((line, row) => line.forEach((value, column) => value > best.value && (best = { row, column, value })));
  return best;
}

/**
 * The course's kind of example: a 5 x 5 image and a 3 x 3 filter with black pixels 1, white 0 and
 * grey -1. The filter is a small cross on a grey background; the image holds that cross at the
 * bottom middle, so the 8th window (third row, middle) matches it exactly and gives the largest sum.
 */
export const COURSE_EXAMPLE: { readonly image: Matrix; readonly kernel: Matrix } = {
  image: [
    [1, 0, 0, 0, -1],
    [0, 1, 0, -1, 0],
    [0, 0, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [-1, 0, 1, 0, 0],
  ],
  kernel: [
    [-1, 1, -1],
    [1, 1, 1],
    [-1, 1, -1],
  ],
};
