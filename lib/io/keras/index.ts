/** Keras 3 saves read and written without Python: JSON description + .weights.h5, and .keras files. */
export * from './config';
export * from './h5';
export * from './load';
export * from './save';
export * from './zip';
