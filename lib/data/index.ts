/** Data loading and preparation: the course's CSVs, IDX files, seeded split, tensors, DataFrames. */
export * from './classes';
export * from './images';
export * from './idx';
export * from './csv';
export * from './fashion';
export * from './folders';
export * from './mnist';
export * from './split';
export * from './tensors';
export * from './dataframe';
