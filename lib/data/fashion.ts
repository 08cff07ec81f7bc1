/** The Fashion-MNIST files the course uses, and how to load them. */
import { join } from 'node:path';
import { dataDir } from '../paths';
import { readImageCsv } from './csv';
import type { LabelledImages } from './images';

/** What identifies one part (train or test) of Fashion-MNIST: its CSV and the official IDX files it is built from. */
export interface FashionPart {
  /** CSV file name in datas/, as in the course. */
  readonly csv: string;
  /** Number of images. */
  readonly rows: number;
  /** Official IDX file names (without `.gz`). */
  readonly imagesIdx: string;
  readonly labelsIdx: string;
  /** SHA-256 of the uncompressed official IDX files. */
  readonly imagesSha256: string;
  readonly labelsSha256: string;
  /** SHA-256 of the CSV this project writes from them (the conversion is deterministic). */
  readonly csvSha256: string;
}

/** Train (60 000 images) and test (10 000 images) parts of Fashion-MNIST. */
export const FASHION_MNIST: Readonly<Record<'train' | 'test', FashionPart>> = {
  train: {
    csv: 'fashion-mnist_train.csv',
    rows: 60000,
    imagesIdx: 'train-images-idx3-ubyte',
    labelsIdx: 'train-labels-idx1-ubyte',
    imagesSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    labelsSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    csvSha256: '9b4c3051424ce1d78ff509d54017e2673b27260ea874c5ae9b364c0c1dc8a1b1',
  },
  test: {
    csv: 'fashion-mnist_test.csv',
    rows: 10000,
    imagesIdx: 't10k-images-idx3-ubyte',
    labelsIdx: 't10k-labels-idx1-ubyte',
    imagesSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    labelsSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    csvSha256: 'a269a18ad7ac639afde1ab2e65f83dd38a4fc321d057cf7039df1e5cff241e91',
  },
};

/** Path of a Fashion-MNIST CSV in the data folder. */
export function fashionCsvPath(part: 'train' | 'test'): string {
  return join(dataDir(), FASHION_MNIST[part].csv);
}

/** Loads `datas/fashion-mnist_{train,test}.csv` as bytes (labels + pixels), the fast way. */
export function loadFashionMnist(part: 'train' | 'test'): LabelledImages {
  return readImageCsv(fashionCsvPath(part));
}
