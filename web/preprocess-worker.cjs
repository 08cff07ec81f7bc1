// Entry of a preprocessing worker thread: workers start as plain Node, so TypeScript support is
// registered here before the worker's TypeScript body is loaded.
require('tsx/cjs');
require('./preprocess-worker.ts');
