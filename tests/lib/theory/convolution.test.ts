/** The hand convolution and pooling of lib/theory against TensorFlow's own operations. */
import { loadNativeTf } from '../../../lib/backend';
import { argMax, COURSE_EXAMPLE, convolveByHand, poolByHand, reluByHand, toMatrix, validOutputSize, type Matrix } from '../../../lib/theory';

const tf = loadNativeTf();

/** tf.conv2d of one grey image by one filter, as rows of numbers. */
function tfConv(image: Matrix, kernel: Matrix, stride: number): Matrix {
  return tf.tidy(() => {
    const x = tf.tensor4d(image.flat(), [1, image.length, image[0].length, 1]);
    const k = tf.tensor4d(kernel.flat(), [kernel.length, kernel[0].length, 1, 1]);
    const y = tf.conv2d(x, k, stride, 'valid');
    return toMatrix(y.dataSync(), y.shape[1], y.shape[2]);
  });
}

function tfPool(matrix: Matrix, size: number, stride: number, mode: 'max' | 'average'): Matrix {
  return tf.tidy(() => {
    const x = tf.tensor4d(matrix.flat(), [1, matrix.length, matrix[0].length, 1]);
    const y = mode === 'max' ? tf.maxPool(x, size, stride, 'valid') : tf.avgPool(x, size, stride, 'valid');
    return toMatrix(y.dataSync(), y.shape[1], y.shape[2]);
  });
}

/** A seeded generator, so a failing case can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

function randomMatrix(random: () => number, rows: number, columns: number): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: columns }, () => random() * 4 - 2));
}

function expectClose(actual: Matrix, expected: Matrix, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, r) => {
    expect(row.length).toBe(expected[r].length);
    row.forEach((value, c) => expect(Math.abs(value - expected[r][c])).toBeLessThanOrEqual(tolerance));
  });
}

describe('convolution by hand', () => {
  it("equals tf.conv2d exactly on the course's 5 x 5 example, the 8th window standing out", () => {
    const { image, kernel } = COURSE_EXAMPLE;
    const hand = convolveByHand(image, kernel);
    expect(hand.output).toEqual(tfConv(image, kernel, 1));
    expect(hand.output).toEqual([[-1, 1, -1], [2, 0, 0], [1, 5, 0]]);
    // Nine windows, numbered row by row; the 8th (third row, middle) is the exact match.
    expect(hand.steps.map((step) => step.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const best = hand.steps.reduce((a, b) => (b.sum > a.sum ? b : a));
    expect(best).toMatchObject({ index: 8, row: 2, column: 1, sum: 5 });
    expect(hand.steps.filter((step) => step.sum === 5)).toHaveLength(1);
    // Each step's products are pixel times filter value, and the sum is theirs.
    for (const step of hand.steps) {
      step.products.forEach((row, i) => row.forEach((product, j) => expect(product).toBe(image[step.row + i][step.column + j] * kernel[i][j])));
      expect(step.sum).toBe(step.products.flat().reduce((a, b) => a + b, 0));
    }
  });

  it('equals tf.conv2d on random images, filters and strides', () => {
    const random = generator(20240518);
    for (let trial = 0; trial < 40; trial++) {
      const size = 2 + Math.floor(random() * 4);
      const rows = size + Math.floor(random() * 12);
      const columns = size + Math.floor(random() * 12);
      const stride = 1 + Math.floor(random() * 3);
      const image = randomMatrix(random, rows, columns);
      const kernel = randomMatrix(random, size, size);
      const hand = convolveByHand(image, kernel, { stride });
      expect([hand.output.length, hand.output[0].length]).toEqual([validOutputSize(rows, size, stride), validOutputSize(columns, size, stride)]);
      expectClose(hand.output, tfConv(image, kernel, stride));
    }
  });

  it('adds the bias like a Conv2D layer, and ReLU keeps only the positive values', () => {
    const { image, kernel } = COURSE_EXAMPLE;
    expect(convolveByHand(image, kernel, { bias: 0.5 }).output[2][1]).toBe(5.5);
    const relu = reluByHand(convolveByHand(image, kernel).output);
    expect(relu).toEqual([[0, 1, 0], [2, 0, 0], [1, 5, 0]]);
    expect(relu).toEqual(tf.tidy(() => toMatrix(tf.relu(tf.tensor2d([[-1, 1, -1], [2, 0, 0], [1, 5, 0]])).dataSync(), 3, 3)));
    expect(Object.is(reluByHand([[-0]])[0][0], 0)).toBe(true);
  });

  it('refuses a filter larger than the image and an invalid stride', () => {
    expect(() => convolveByHand([[1, 2]], [[1], [2]])).toThrow(/does not fit/);
    expect(() => convolveByHand(COURSE_EXAMPLE.image, COURSE_EXAMPLE.kernel, { stride: 0 })).toThrow(/stride/);
    expect(() => convolveByHand([[1, 2], [3]], [[1]])).toThrow(/different lengths/);
  });
});

describe('pooling by hand', () => {
  const relu = [[0, 1, 0], [2, 0, 0], [1, 5, 0]];

  it("gives the course's 2 x 2 result with a 2 x 2 window and stride 1, as tf.maxPool and tf.avgPool", () => {
    const max = poolByHand(relu, { size: 2, stride: 1, mode: 'max' });
    expect(max.output).toEqual([[2, 1], [5, 5]]);
    expect(max.output).toEqual(tfPool(relu, 2, 1, 'max'));
    expect(max.steps.map((step) => step.chosen)).toEqual([{ row: 1, column: 0 }, { row: 0, column: 0 }, { row: 1, column: 1 }, { row: 1, column: 0 }]);
    const average = poolByHand(relu, { size: 2, stride: 1, mode: 'average' });
    expect(average.output).toEqual([[0.75, 0.25], [2, 1.25]]);
    expectClose(average.output, tfPool(relu, 2, 1, 'average'));
  });

  it('halves a map with stride 2 (the lab: 26 x 26 -> 13 x 13) and drops an odd last row and column', () => {
    const random = generator(7);
    for (const [rows, columns] of [[4, 4], [6, 8], [26, 26], [5, 7]]) {
      const matrix = randomMatrix(random, rows, columns);
      for (const mode of ['max', 'average'] as const) {
        const hand = poolByHand(matrix, { size: 2, stride: 2, mode });
        expect([hand.output.length, hand.output[0].length]).toEqual([Math.floor(rows / 2), Math.floor(columns / 2)]);
        expectClose(hand.output, tfPool(matrix, 2, 2, mode));
      }
    }
    // The default stride is the window's size, as in Keras' MaxPooling2D.
    expect(poolByHand([[1, 2], [3, 4]], { mode: 'max' }).output).toEqual([[4]]);
  });

  it('finds the largest value of a matrix', () => {
    expect(argMax([[-1, 1, -1], [2, 0, 0], [1, 5, 0]])).toEqual({ row: 2, column: 1, value: 5 });
  });
});
