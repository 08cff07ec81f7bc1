/** Reading and writing files: trained models (modele/: this project's format and Keras 3's) and atomic writes. */
export * from './atomic';
export * from './model';
export * from './weights-paths';
export * from './keras3';
export { saveKerasModel, KERAS_FORMAT_VERSION, type SaveKerasOptions, type SavedKerasFiles } from './keras/save';
