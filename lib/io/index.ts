/** Reading and writing files: trained models (modele/) and atomic writes. */
export * from './atomic';
export * from './model';
export * from './weights-paths';
export * from './keras3';
